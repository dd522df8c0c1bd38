//! # profiler-runtime
//!
//! The runtime half of rram-profiler: a [`tracing_subscriber::Layer`] that turns closed spans into
//! [`ProfileEvent`]s with timing, memory and energy; exact streaming aggregates per operation;
//! sessions; the [`PerformanceProfiler`] API; a background monitor; analysis, reports, charts and
//! exports; and the hardware profiler for any [`RramDevice`].
//!
//! ```
//! use profiler_runtime::{metrics, profile, PerformanceProfiler};
//!
//! #[profile(kind = "computation")]
//! fn work(n: usize) -> u64 {
//!     metrics!(flops = 2 * n);
//!     (0..n as u64).sum()
//! }
//!
//! let profiler = PerformanceProfiler::new();
//! let subscriber = profiler.subscriber();
//! profiler_runtime::__macro_support::tracing::subscriber::with_default(subscriber, || {
//!     profiler.start_profiling("demo");
//!     work(1000);
//!     let results = profiler.stop_profiling("demo").unwrap();
//!     assert_eq!(results.events_count, 1);
//!     assert_eq!(results.events[0].metric("flops"), Some(2000.0));
//! });
//! ```
#![warn(missing_docs)]

mod accum;
pub mod alloc;
pub mod analysis;
mod clock;
mod collector;
pub mod contract;
pub mod diff;
pub mod error;
pub mod event;
pub mod export;
mod fold;
mod frame;
pub mod hardware;
mod layer;
mod local;
mod metrics_macro;
pub mod monitor;
pub mod persist;
pub mod plot;
pub mod profile;
mod profile_merge;
pub mod profiler;
mod raw;
pub mod report;
mod ring;
pub mod session;
mod span_metrics;
mod stage;
pub mod stats;
pub mod system;

#[doc(hidden)]
pub mod __macro_support {
    pub use crate::macro_support::*;
}
mod macro_support;

pub use alloc::CountingAllocator;
pub use analysis::{
    BottleneckAnalyzer, OptimizationAnalysis, ScalingResults, ScalingStudy, Severity,
};
pub use error::ProfileError;
pub use event::{AllocStats, EventKind, Name, PerformanceMetric, ProfileEvent};
pub use layer::ProfilerLayer;
pub use macro_support::MetricValue;
pub use monitor::MonitorSample;
pub use plot::PlotType;
pub use profile::{Profile, SessionRecord, ThreadInfo, FORMAT_VERSION};
pub use profiler::{
    AlgorithmResults, FunctionMetrics, MemorySource, PerformanceProfiler, ProfilerBuilder,
    DEFAULT_MONITOR_INTERVAL, DEFAULT_RAW_CAPACITY,
};
pub use profiler_macros::profile;
pub use report::PerformanceReport;
pub use session::{MetricsSummary, SessionResults};
pub use stats::{DurationHistogram, MetricAggregate, OperationStats};
pub use system::SystemInfo;
// hardware (filled by the hardware module's owner):
pub use hardware::*;
