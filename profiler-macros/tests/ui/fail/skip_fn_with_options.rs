use profiler_runtime::profile;

struct Crossbar;

#[profile(kind = "hardware_access")]
impl Crossbar {
    fn program(&self) {}

    #[profile(skip_fn, ret)]
    fn rows(&self) -> usize {
        8
    }
}

fn main() {
    Crossbar.program();
    let _ = Crossbar.rows();
}
