use profiler_runtime::profile;

#[profile(level = "verbose")]
fn work() {}

fn main() {
    work();
}
