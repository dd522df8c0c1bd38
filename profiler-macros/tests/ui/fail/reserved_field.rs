use profiler_runtime::profile;

#[profile(fields(profile.kind.computation = 1))]
fn work() {}

fn main() {
    work();
}
