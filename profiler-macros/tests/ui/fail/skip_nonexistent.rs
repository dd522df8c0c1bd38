use profiler_runtime::profile;

#[profile(skip(g, rows))]
fn program(g: &[f64], cols: usize) -> usize {
    g.len() + cols
}

fn main() {
    program(&[], 1);
}
