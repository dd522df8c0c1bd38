//! Items the `#[profile]` and `metrics!` expansions refer to. Not a public API: names here may
//! change between versions without notice.
//!
//! # The contract between `#[profile]` and [`ProfilerLayer`](crate::ProfilerLayer)
//!
//! The attribute expands to a `tracing` span (through the re-export below, so users never depend
//! on `tracing` directly) whose **static metadata** tells the layer what it needs, so nothing is
//! parsed per call:
//!
//! - one empty marker field after the recorded arguments, named by
//!   [`contract::span_marker`] (`profile.span.<kind>[.sync][.process][.args]`, written
//!   `{ contract::span_marker(contract::EventKind::Computation, contract::MARKER_SYNC) } = Empty`,
//!   so no name is spelt in the macro): the kind, and the options. [`contract::MARKER_SYNC`],
//!   set when the function is not `async`, is a promise that the span is created, entered once,
//!   exited and closed on one thread, which lets the layer keep its per-span state in a
//!   thread-local stack instead of the registry's extensions;
//!   [`contract::MARKER_PROCESS_ALLOC`] comes with `alloc = "process"`;
//!   [`contract::MARKER_ARGS_RECORDED`] when every argument is recorded. (Hand-written spans may
//!   use the separate markers instead: [`contract::SYNC_FIELD`], [`contract::kind_field`], ...);
//! - numeric and bool fields (function arguments of primitive type and `fields(..)` entries),
//!   recorded as their own types for other layers, become the event's metrics;
//! - a sync span with recorded arguments also hands the first [`INLINE_ARGS`] of them, as
//!   `f64`, to [`stage_args`] right after its creation (when it is enabled): its first enter
//!   takes them from there, and the layer skips those fields when it reads the span's
//!   (`record::args` says why). The marker's sync option is the promise that this is done.
//!
//! Inside the span, `metrics!` hands its values straight to the layer ([`add_metrics`], past any
//! filter), which sums them into the span; an event with target [`METRICS_TARGET`] does the
//! same for its numeric fields (for hand-written events). `err` calls [`record_error`] (or
//! [`record_error_debug`]) while the span is entered, and `ret` adds a numeric return value as
//! the metric [`contract::RETURN`] through [`add_metrics`]: both past any filter. Their log
//! events keep the function's own target, for other layers.

pub use tracing;

pub use crate::contract;
pub use crate::contract::{KIND_FIELD_PREFIX, METRICS_TARGET, SYNC_FIELD};
pub use crate::record::args::INLINE_ARGS;
pub use crate::record::metrics::{add_metrics, metrics_enabled, record_error, record_error_debug};
pub use crate::record::notes::DisabledNote;

/// Stages the first [`INLINE_ARGS`] recorded arguments of a sync `#[profile]` span just
/// created (`vals[j]` is the `j`-th one as [`metric_value`] converts it, 0 past the last), for
/// the span's first enter on this thread. Nothing for a disabled span.
#[inline(always)]
pub fn stage_args(span: &tracing::Span, vals: [f64; INLINE_ARGS]) {
    if let Some(id) = span.id() {
        crate::record::args::stage(id.into_u64(), vals);
    }
}
/// Converts a metric value of any primitive numeric type to `f64`.
pub trait MetricValue {
    /// The value as `f64`.
    fn metric_value(self) -> f64;
}

macro_rules! impl_metric_value {
    ($($t:ty),*) => {$(
        impl MetricValue for $t {
            #[inline(always)]
            #[allow(clippy::cast_lossless, clippy::cast_precision_loss)]
            fn metric_value(self) -> f64 { self as f64 }
        }
        impl MetricValue for &$t {
            #[inline(always)]
            #[allow(clippy::cast_lossless, clippy::cast_precision_loss)]
            fn metric_value(self) -> f64 { *self as f64 }
        }
    )*};
}
impl_metric_value!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

impl MetricValue for bool {
    #[inline(always)]
    fn metric_value(self) -> f64 {
        if self {
            1.0
        } else {
            0.0
        }
    }
}

impl MetricValue for &bool {
    #[inline(always)]
    fn metric_value(self) -> f64 {
        (*self).metric_value()
    }
}

/// `metrics_value(x)`: the function form used by `metrics!`.
#[inline(always)]
pub fn metric_value<T: MetricValue>(v: T) -> f64 {
    v.metric_value()
}
