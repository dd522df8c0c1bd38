use profiler_runtime::profile;

#[profile(kind = "hardware_access")]
struct Crossbar {
    cells: Vec<f64>,
}

fn main() {
    let _ = Crossbar { cells: Vec::new() }.cells;
}
