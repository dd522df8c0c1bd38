//! # profiler-runtime
//!
//! The runtime half of rram-profiler: a [`tracing_subscriber::Layer`] that turns closed spans into
//! [`ProfileEvent`]s with timing, memory and energy; exact streaming aggregates per operation;
//! sessions; the [`PerformanceProfiler`] API; a background monitor; analysis, reports, charts and
//! exports; and the hardware profiler for any `RramDevice`.
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
//! profiler.in_scope(|| {
//!     profiler.start_profiling("demo");
//!     work(1000);
//!     let results = profiler.stop_profiling("demo").unwrap();
//!     assert_eq!(results.events_count, 1);
//!     assert_eq!(results.events[0].metric("flops"), Some(2000.0));
//! });
//! ```
//!
//! ## Layout
//!
//! | module | what | feature |
//! |---|---|---|
//! | [`record`] | the hot path: layer, per-thread slot, frames, staging, ring, collector, fold, clock, counting allocator | always |
//! | [`model`] | plain data: events, stats, profiles, sessions, samples, system info | always |
//! | [`contract`] | the names shared with the macro and `rram-sim`: fields, targets, metric keys, kinds | always |
//! | [`profiler`] | the [`PerformanceProfiler`] handle and its builder | always |
//! | [`sys`] | monitor, machine description, CPU clocks, RAPL | `monitor` for the monitor thread |
//! | `analysis`, `report` | pure functions of a `&Profile`, and their rendering | `analysis` |
//! | [`output`] | versioned JSON, traces, folded stacks, flame graphs, charts | `persist`, `export`, `flamegraph`, `plot` |
//! | `hardware` | `RramDevice` and `HardwarePerformanceProfiler` | `hardware` |
//!
//! `--no-default-features` keeps the macro, the layer, the collector, sessions, snapshots,
//! `record_event`, `profile_function` and the counting allocator.
#![warn(missing_docs)]

pub mod contract;
pub mod error;
mod macro_support;
mod metrics_macro;
pub mod model;
pub mod output;
pub mod profiler;
pub mod record;
pub mod sys;

#[cfg(feature = "analysis")]
pub mod analysis;
#[cfg(feature = "hardware")]
pub mod hardware;
#[cfg(feature = "analysis")]
pub mod report;

#[doc(hidden)]
pub mod __macro_support {
    pub use crate::macro_support::*;
}

pub use error::ProfileError;
pub use model::event::{AllocStats, EventKind, Name, PerformanceMetric, ProfileEvent};
pub use model::profile::{Profile, ProfileSource, SessionRecord, ThreadInfo, FORMAT_VERSION};
pub use model::sample::MonitorSample;
pub use model::session::{MetricsSummary, SessionResults};
pub use model::stats::{DurationHistogram, MetricAggregate, OperationStats};
pub use model::system::SystemInfo;
pub use profiler::{
    AlgorithmResults, FunctionMetrics, MemorySource, PerformanceProfiler, ProfilerBuilder,
    DEFAULT_MAX_OPERATIONS, DEFAULT_MONITOR_INTERVAL, DEFAULT_RAW_CAPACITY,
};
pub use profiler_macros::profile;
pub use record::alloc::CountingAllocator;
pub use record::layer::ProfilerLayer;

#[cfg(feature = "analysis")]
pub use analysis::{BottleneckAnalyzer, OptimizationAnalysis, Severity};
#[cfg(feature = "hardware")]
pub use hardware::{
    DeviceCost, DeviceOutput, HardwareOperation, HardwareOperationResult, HardwareOperationStats,
    HardwarePerformanceProfiler, HardwarePerformanceSummary, MatrixOp, RramDevice,
};
#[cfg(feature = "plot")]
pub use output::plot::PlotType;
#[cfg(feature = "analysis")]
pub use profiler::{ScalingResults, ScalingStudy};
#[cfg(feature = "analysis")]
pub use report::PerformanceReport;
