use profiler_runtime::profile;

#[profile(kind = "computation", alloc = "global")]
fn solve() {}

fn main() {
    solve();
}
