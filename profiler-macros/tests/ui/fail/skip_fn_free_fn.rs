use profiler_runtime::profile;

#[profile(skip_fn)]
fn program() {}

fn main() {
    program();
}
