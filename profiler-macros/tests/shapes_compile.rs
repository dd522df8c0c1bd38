//! Every function shape `#[profile]` accepts, compiled as part of the test suite (so that
//! `cargo clippy --all-targets -- -D warnings` also lints the expansions) and run once.
//! The same file is the trybuild pass case in `macro_ui.rs` beside this one.

#[path = "ui/pass/shapes.rs"]
mod shapes;

#[test]
fn every_profiled_shape_compiles_and_runs() {
    shapes::main();
}
