use profiler_runtime::profile;

#[profile(kind = "computation", err, kind = "io_operation")]
fn load() -> Result<(), String> {
    Ok(())
}

fn main() {
    let _ = load();
}
