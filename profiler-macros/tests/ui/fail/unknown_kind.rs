use profiler_runtime::profile;

#[profile(kind = "hardware_acess")]
fn program() {}

fn main() {
    program();
}
