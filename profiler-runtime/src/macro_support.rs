//! Items the `#[profile]` and `metrics!` expansions refer to. Not a public API: names here may
//! change between versions without notice.
//!
//! # The contract between `#[profile]` and [`ProfilerLayer`](crate::ProfilerLayer)
//!
//! The attribute expands to a `tracing` span (through the re-export below, so users never depend
//! on `tracing` directly) whose **static metadata** tells the layer what it needs, so nothing is
//! parsed per call:
//!
//! - the kind, as an empty field named `profile.kind.<kind>` (e.g. `profile.kind.hardware_access`);
//! - `profile.sync`, an empty field present when the function is not `async`: a promise that the
//!   span is created, entered once, exited and closed on one thread, which lets the layer keep its
//!   per-span state in a thread-local stack instead of the registry's extensions;
//! - numeric fields (function arguments of primitive numeric type and `fields(..)` entries) become
//!   the event's metrics.
//!
//! Inside the span, `metrics!` hands its values straight to the layer ([`add_metrics`], past any
//! filter), which sums them into the span; an event with target [`METRICS_TARGET`] does the
//! same for its numeric fields (for hand-written events). `err` emits an event with target
//! [`ERROR_TARGET`] and an `error` field (the event's error text); `ret` one with target
//! [`RETURN_TARGET`] and a `return` field, a number where the return type is a primitive number
//! or `bool` (the event's metric `return`), else the value's `Debug`/`Display` form (for other
//! layers; the profiler ignores it).

pub use tracing;

pub use crate::contract;
pub use crate::contract::{KIND_FIELD_PREFIX, METRICS_TARGET, SYNC_FIELD};
pub use crate::record::metrics::{add_metrics, metrics_enabled, record_error, record_error_debug};
/// Target of the event `#[profile(err)]` emits on an `Err` return.
pub const ERROR_TARGET: &str = "profiler::error";
/// Target of the event `#[profile(ret)]` emits with the return value.
pub const RETURN_TARGET: &str = "profiler::ret";

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
