use profiler_runtime::profile;

#[profile(crate = "profiler runtime")]
fn program() {}

fn main() {
    program();
}
