use profiler_runtime::profile;

#[profile]
const fn cells(rows: usize, cols: usize) -> usize {
    rows * cols
}

fn main() {
    let _ = cells(2, 3);
}
