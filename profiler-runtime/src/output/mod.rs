//! Everything the profiler writes: versioned JSON profiles (`persist`), traces and folded
//! stacks (`export`), flame graphs and charts (`plot`), the crash-safe journal (`journal`), a
//! Prometheus endpoint (`prometheus`) and OpenTelemetry export (`otlp`); every file goes
//! through the one safe writer ([`write`](mod@write)).

#[cfg(feature = "export")]
pub mod export;
#[cfg(feature = "persist")]
pub mod journal;
#[cfg(any(feature = "prometheus", feature = "otlp"))]
pub mod metric_families;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "persist")]
pub mod persist;
#[cfg(feature = "plot")]
pub mod plot;
#[cfg(feature = "prometheus")]
pub mod prometheus;
pub mod write;
