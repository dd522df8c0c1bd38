//! The names shared by the `#[profile]` expansion, the recorder, the analysis and the code
//! under profile (`rram-sim`): field and target names, the reserved metric keys, and the kinds.
//!
//! Each is defined once, here. The macro's expansion refers to these constants by path
//! (tracing's `{ CONST } = value` field syntax), so no name is spelt twice across the
//! proc-macro boundary; the macro's own list of kind strings (which it needs at compile time,
//! to point at a bad one) is checked against [`EventKind::ALL`] by a test.
//!
//! # Reserved metric keys
//!
//! The analysis reads only the keys below; any other metric is the user's own and is never
//! interpreted. A key is *reported* by `metrics!` or a `fields(..)` entry of `#[profile]`;
//! a function argument that happens to have a reserved name is recorded as `arg.<name>`
//! ([`ARG_KEYS`]), so a `tile: usize` argument is not a tile index and an `n: usize` argument
//! is not a problem size unless the function says so: `#[profile(fields(n = n))]`. (Other
//! layers still see the argument under its own name.)
//!
//! | key | meaning | read by |
//! |---|---|---|
//! | [`ENERGY_PJ`] `energy_pj` | energy of the span's own work, picojoules | energy analysis, reports, charts |
//! | `energy.<component>_pj` ([`COMPONENT_PREFIX`], [`COMPONENT_SUFFIX`]) | the same, split by circuit component (`adc`, `dac`, `array`, ...) | energy by component |
//! | [`SIZE`] `n` | problem size (matrix order) | scaling fits |
//! | [`ITERATION`] `k` | iteration index within a solve | convergence |
//! | [`RESIDUAL`] `residual` | relative residual after the iteration | convergence |
//! | [`TILE`] `tile` (also `device`, `array`: [`DEVICE_KEYS`]) | index of the array (tile) the operation ran on | hardware load balance |
//! | [`BYTES`] `bytes` | bytes moved by the operation | throughput, transfers |
//! | [`FLOPS`] `flops` | floating-point operations done | compute intensity |
//! | [`TEMPERATURE_K`] `temperature_k` | device temperature, kelvin | temperature dependence |
//! | [`UTILIZATION`] `utilization` | fraction of an array's cells in use, 0..1 | hardware utilisation |
//! | [`RETURN`] `return` | a numeric return value (`#[profile(ret)]`) | nothing (shown as recorded) |
//! | [`CONVERGED`] `converged` | a solver's verdict on its run, 1 or 0 (0: a failed solve) | convergence, findings |
//! | [`DIVERGED`] `diverged` | 1 when the solver found its iteration diverging | convergence, findings |

pub use crate::model::event::EventKind;

/// Name of the empty marker field of spans whose whole life is on one thread (created, entered
/// once, exited and closed on the same thread): their state lives on that thread's stack.
pub const SYNC_FIELD: &str = "profile.sync";

/// Name of the empty marker field of spans that count every thread's allocations while open
/// (`#[profile(alloc = "process")]`).
pub const PROCESS_ALLOC_FIELD: &str = "profile.alloc.process";

/// Name of the empty marker field of `#[profile]` spans whose every function argument is
/// recorded as a field (all of them numbers or bools, none skipped, no `self`): only for those
/// do equal fields mean equal arguments, which repeated-call detection needs.
pub const ARGS_RECORDED_FIELD: &str = "profile.args.recorded";

/// Prefix of the empty marker field that carries a span's kind: `profile.kind.<kind>`.
pub const KIND_FIELD_PREFIX: &str = "profile.kind.";

/// The kind marker field of `function_call` spans.
pub const KIND_FUNCTION_CALL: &str = "profile.kind.function_call";
/// The kind marker field of `memory_usage` spans.
pub const KIND_MEMORY_USAGE: &str = "profile.kind.memory_usage";
/// The kind marker field of `computation` spans.
pub const KIND_COMPUTATION: &str = "profile.kind.computation";
/// The kind marker field of `io_operation` spans.
pub const KIND_IO_OPERATION: &str = "profile.kind.io_operation";
/// The kind marker field of `hardware_access` spans.
pub const KIND_HARDWARE_ACCESS: &str = "profile.kind.hardware_access";
/// The kind marker field of `algorithm_step` spans.
pub const KIND_ALGORITHM_STEP: &str = "profile.kind.algorithm_step";

/// The kind marker field of `kind`.
pub const fn kind_field(kind: EventKind) -> &'static str {
    match kind {
        EventKind::FunctionCall => KIND_FUNCTION_CALL,
        EventKind::MemoryUsage => KIND_MEMORY_USAGE,
        EventKind::Computation => KIND_COMPUTATION,
        EventKind::IoOperation => KIND_IO_OPERATION,
        EventKind::HardwareAccess => KIND_HARDWARE_ACCESS,
        EventKind::AlgorithmStep => KIND_ALGORITHM_STEP,
    }
}

/// Prefix of the one marker field of a `#[profile]` span, which carries its kind and options
/// in its name: `profile.span.<kind>[.sync][.process][.args]` ([`span_marker`]). The fields
/// before it are the function's recorded arguments, the fields after it the `fields(..)`
/// entries.
///
/// One empty field instead of one per marker ([`SYNC_FIELD`], [`kind_field`], ...; still
/// understood, for hand-written spans): every field is visited on every call, markers too.
pub const SPAN_MARKER_PREFIX: &str = "profile.span.";

/// [`span_marker`] option: the span's whole life is on one thread (as [`SYNC_FIELD`]).
pub const MARKER_SYNC: u8 = 1;
/// [`span_marker`] option: count every thread's allocations (as [`PROCESS_ALLOC_FIELD`]).
pub const MARKER_PROCESS_ALLOC: u8 = 2;
/// [`span_marker`] option: every argument is recorded (as [`ARGS_RECORDED_FIELD`]).
pub const MARKER_ARGS_RECORDED: u8 = 4;

/// Every combination of a kind's marker and the options, in the order [`span_marker`] indexes.
macro_rules! span_markers {
    ($($kind:literal),*) => {
        [$(
            concat!("profile.span.", $kind),
            concat!("profile.span.", $kind, ".sync"),
            concat!("profile.span.", $kind, ".process"),
            concat!("profile.span.", $kind, ".sync.process"),
            concat!("profile.span.", $kind, ".args"),
            concat!("profile.span.", $kind, ".sync.args"),
            concat!("profile.span.", $kind, ".process.args"),
            concat!("profile.span.", $kind, ".sync.process.args"),
        )*]
    };
}

/// The marker names, by `kind * 8 + options`.
const SPAN_MARKERS: [&str; 48] = span_markers!(
    "function_call",
    "memory_usage",
    "computation",
    "io_operation",
    "hardware_access",
    "algorithm_step"
);

/// The name of the one marker field of a `#[profile]` span of `kind` with `options` (a sum
/// of [`MARKER_SYNC`], [`MARKER_PROCESS_ALLOC`], [`MARKER_ARGS_RECORDED`]; other bits are
/// ignored). A `const fn`, so the expansion names the field with a constant:
/// `{ contract::span_marker(EventKind::Computation, MARKER_SYNC) } = Empty`.
///
/// ```
/// use profiler_runtime::contract::{span_marker, EventKind, MARKER_SYNC};
/// assert_eq!(
///     span_marker(EventKind::Computation, MARKER_SYNC),
///     "profile.span.computation.sync"
/// );
/// ```
pub const fn span_marker(kind: EventKind, options: u8) -> &'static str {
    SPAN_MARKERS[kind as usize * 8 + (options & 7) as usize]
}

/// The kind and options a [`span_marker`] name carries; `None` for any other name.
pub fn parse_span_marker(name: &str) -> Option<(EventKind, u8)> {
    let rest = name.strip_prefix(SPAN_MARKER_PREFIX)?;
    let mut parts = rest.split('.');
    let kind: EventKind = parts.next()?.parse().ok()?;
    let mut options = 0;
    for p in parts {
        options |= match p {
            "sync" => MARKER_SYNC,
            "process" => MARKER_PROCESS_ALLOC,
            "args" => MARKER_ARGS_RECORDED,
            _ => return None,
        };
    }
    Some((kind, options))
}

/// Target of hand-written events whose numeric fields are metrics of the enclosing span (the
/// `metrics!` macro does not use an event: it calls the profiler directly).
pub const METRICS_TARGET: &str = "profiler::metrics";

/// Name of the operation that holds metrics recorded outside any span.
pub const STANDALONE_METRICS: &str = "metrics";

/// Energy of the span's own work, picojoules.
pub const ENERGY_PJ: &str = "energy_pj";
/// Prefix of a per-component energy key: `energy.<component>_pj`.
pub const COMPONENT_PREFIX: &str = "energy.";
/// Suffix of a per-component energy key.
pub const COMPONENT_SUFFIX: &str = "_pj";
/// Problem size (matrix order).
pub const SIZE: &str = "n";
/// Iteration index within a solve.
pub const ITERATION: &str = "k";
/// Relative residual after an iteration.
pub const RESIDUAL: &str = "residual";
/// Index of the array (tile) an operation ran on.
pub const TILE: &str = "tile";
/// Bytes moved by the operation.
pub const BYTES: &str = "bytes";
/// Floating-point operations done.
pub const FLOPS: &str = "flops";
/// Device temperature, kelvin.
pub const TEMPERATURE_K: &str = "temperature_k";
/// Fraction of an array's cells in use, 0..1.
pub const UTILIZATION: &str = "utilization";
/// A numeric return value recorded by `#[profile(ret)]`.
pub const RETURN: &str = "return";
/// A solver's verdict on its own run, reported on the solver's span: 1 when the solve met its
/// tolerance, 0 when it stopped (or failed) without. A 0 is a failed solve.
pub const CONVERGED: &str = "converged";
/// 1 when the solver found its iteration diverging (the error grows each step).
pub const DIVERGED: &str = "diverged";
/// Keys naming the array an operation ran on, most preferred first (the hardware analysis
/// groups by the first one an event reports).
pub const DEVICE_KEYS: [&str; 3] = [TILE, "device", "array"];

/// Every reserved metric key that is a single name (the per-component energy keys are a
/// pattern: [`is_component_energy`]).
pub const RESERVED_KEYS: [&str; 14] = [
    ENERGY_PJ,
    SIZE,
    ITERATION,
    RESIDUAL,
    TILE,
    DEVICE_KEYS[1],
    DEVICE_KEYS[2],
    BYTES,
    FLOPS,
    TEMPERATURE_K,
    UTILIZATION,
    RETURN,
    CONVERGED,
    DIVERGED,
];

/// Name of the empty marker field that ends a `#[profile]` function's recorded arguments: the
/// fields between the markers and it are arguments. An argument whose name is a reserved key
/// is recorded as [`ARG_KEYS`]`[i]` (`arg.<name>`): a `tile: usize` argument is not a tile
/// index unless the function reports one (`fields(tile = tile)` or `metrics!`).
pub const ARGS_END_FIELD: &str = "profile.args_end";

/// The metric key an argument named [`RESERVED_KEYS`]`[i]` is recorded under.
pub const ARG_KEYS: [&str; RESERVED_KEYS.len()] = [
    "arg.energy_pj",
    "arg.n",
    "arg.k",
    "arg.residual",
    "arg.tile",
    "arg.device",
    "arg.array",
    "arg.bytes",
    "arg.flops",
    "arg.temperature_k",
    "arg.utilization",
    "arg.return",
    "arg.converged",
    "arg.diverged",
];

/// The index of `key` in [`RESERVED_KEYS`].
pub fn reserved_index(key: &str) -> Option<usize> {
    RESERVED_KEYS.iter().position(|k| *k == key)
}

/// The component of a per-component energy key (`energy.adc_pj` -> `adc`).
///
/// ```
/// use profiler_runtime::contract::component_of;
/// assert_eq!(component_of("energy.adc_pj"), Some("adc"));
/// assert_eq!(component_of("energy_pj"), None);
/// ```
pub fn component_of(key: &str) -> Option<&str> {
    key.strip_prefix(COMPONENT_PREFIX)?
        .strip_suffix(COMPONENT_SUFFIX)
        .filter(|c| !c.is_empty())
}

/// Whether `key` is a per-component energy key.
pub fn is_component_energy(key: &str) -> bool {
    component_of(key).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reserved_key_has_its_argument_key() {
        for (k, a) in RESERVED_KEYS.iter().zip(ARG_KEYS) {
            assert_eq!(a, format!("arg.{k}"));
        }
    }

    #[test]
    fn every_span_marker_names_its_kind_and_options() {
        for k in EventKind::ALL {
            for options in 0..8u8 {
                let name = span_marker(k, options);
                let mut want = format!("{SPAN_MARKER_PREFIX}{}", k.as_str());
                for (bit, word) in [
                    (MARKER_SYNC, ".sync"),
                    (MARKER_PROCESS_ALLOC, ".process"),
                    (MARKER_ARGS_RECORDED, ".args"),
                ] {
                    if options & bit != 0 {
                        want.push_str(word);
                    }
                }
                assert_eq!(name, want);
                assert_eq!(parse_span_marker(name), Some((k, options)));
            }
        }
        for other in [
            "profile.span.",
            "profile.span.bogus",
            "profile.span.computation.fast",
            "profile.kind.computation",
            "x",
        ] {
            assert_eq!(parse_span_marker(other), None, "{other}");
        }
    }

    #[test]
    fn every_kind_has_its_marker_field() {
        for k in EventKind::ALL {
            assert_eq!(kind_field(k), format!("{KIND_FIELD_PREFIX}{}", k.as_str()));
        }
    }
}
