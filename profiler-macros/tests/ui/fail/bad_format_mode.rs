use profiler_runtime::profile;

#[profile(err(Pretty))]
fn load() -> Result<(), String> {
    Ok(())
}

fn main() {
    let _ = load();
}
