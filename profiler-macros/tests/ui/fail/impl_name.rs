use profiler_runtime::profile;

struct Crossbar;

#[profile(name = "xbar")]
impl Crossbar {
    fn read(&self) -> f64 {
        0.0
    }
}

fn main() {
    let _ = Crossbar.read();
}
