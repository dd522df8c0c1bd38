//! Every function shape and option `#[profile]` accepts, compiled as part of the test suite (so
//! that `cargo clippy --all-targets -- -D warnings` also lints the expansions) and run once.
//! The same files are the trybuild pass cases in `macro_ui.rs` beside this one.

#[path = "ui/pass/shapes.rs"]
mod shapes;

#[path = "ui/pass/options.rs"]
mod options;

#[test]
fn every_profiled_shape_compiles_and_runs() {
    shapes::main();
}

#[test]
fn every_option_compiles_and_runs() {
    options::main();
}
