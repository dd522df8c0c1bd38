use profiler_runtime::profile;

#[profile(skip(a), skip_all)]
fn work(a: u32) -> u32 {
    a
}

fn main() {
    let _ = work(1);
}
