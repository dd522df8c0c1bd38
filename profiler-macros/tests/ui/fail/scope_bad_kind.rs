use profiler_macros::profile_scope;

fn solve() {
    profile_scope!("solve.factorise", kind = "factorisation");
}

fn main() {
    solve();
}
