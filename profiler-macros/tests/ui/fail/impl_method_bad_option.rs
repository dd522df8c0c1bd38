use profiler_runtime::profile;

struct Crossbar;

#[profile(kind = "hardware_access")]
impl Crossbar {
    fn read(&self) -> f64 {
        0.0
    }

    #[profile(kind = "io")]
    fn write(&mut self) {}
}

fn main() {
    let _ = Crossbar.read();
    Crossbar.write();
}
