//! The macro's own list of kinds (which it needs at compile time, to point at a bad
//! `kind = ".."` and list the good ones) against the runtime's `EventKind`: the same strings in
//! the same order, so neither side can change alone.

use profiler_runtime::EventKind;

#[test]
fn the_macro_accepts_exactly_the_runtimes_kinds() {
    let from_macro: &[&str] = &profiler_macros::__kinds!();
    let from_runtime: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(from_macro, from_runtime.as_slice());
}

#[test]
fn the_default_kind_is_the_runtimes_default() {
    let from_macro: &[&str] = &profiler_macros::__kinds!();
    assert_eq!(from_macro.first(), Some(&EventKind::FunctionCall.as_str()));
}
