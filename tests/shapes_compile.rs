//! Every function shape `#[profile]` accepts, compiled as part of the test suite (so that
//! `cargo clippy --all-targets -- -D warnings` also lints the expansions) and run once.
//! The same file is the trybuild pass case in `tests/macro_ui.rs`.

#[path = "ui/pass/shapes.rs"]
mod shapes;

#[test]
fn every_profiled_shape_compiles_and_runs() {
    shapes::main();
}
