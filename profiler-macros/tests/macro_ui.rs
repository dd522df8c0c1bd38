//! Compile tests of `#[profile]`: the shapes it must accept (warning-free under
//! `#![deny(warnings)]`) and the misuses it must reject with a pointed error.
//!
//! The `.stderr` files are pinned; after an intended change to a message, regenerate them with
//! `TRYBUILD=overwrite cargo test -p profiler-macros --test macro_ui` and review the diff.

#[test]
fn profile_attribute_ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
