use profiler_runtime::profile;

#[profile(kind = "computation", target = "x")]
fn work() {}

fn main() {
    work();
}
