//! # profiler-runtime
//!
//! The runtime of rram-profiler: a `tracing` layer that turns the spans of `#[profile]`
//! functions into [`ProfileEvent`]s with timing, memory and energy; exact per-operation
//! aggregates that never lose data; sessions; the [`PerformanceProfiler`] API; a background
//! monitor; bottleneck analysis, reports, charts and exports; and a hardware profiler for any
//! `RramDevice`.
//!
//! ## From zero to a report
//!
//! Three steps: annotate functions, install the profiler at start-up, read what it found.
//!
//! ```
//! use profiler_runtime::{metrics, profile, BottleneckAnalyzer, CountingAllocator, PerformanceProfiler};
//!
//! // Optional: per-span heap bytes (without it, memory per span is reported as unknown).
//! #[global_allocator]
//! static ALLOC: CountingAllocator = CountingAllocator::system();
//!
//! #[profile(kind = "hardware_access")]
//! fn program_tile(cells: usize) -> Vec<f64> {
//!     // Numbers for the current span: energy by component, bytes moved, ...
//!     metrics!(energy_pj = cells as f64 * 3.3, bytes = cells * 8);
//!     vec![0.0; cells]
//! }
//!
//! #[profile(kind = "algorithm_step", name = "solver.iteration", fields(k = k))]
//! fn iterate(k: usize) -> f64 {
//!     let tile = program_tile(64);
//!     metrics!(residual = 2f64.powi(-3 * k as i32));
//!     tile.len() as f64
//! }
//!
//! # fn main() -> Result<(), profiler_runtime::ProfileError> {
//! // 1. Install once, at start-up (the profiler's own subscriber as the global default).
//! let profiler = PerformanceProfiler::new();
//! profiler.install()?;
//!
//! // 2. Run the workload, in a named session if you want its figures apart.
//! profiler.start_profiling("solve");
//! for k in 0..8 {
//!     iterate(k);
//! }
//! let run = profiler.stop_profiling("solve")?;
//! assert_eq!(run.events_count, 16);
//!
//! // 3. Read: per-operation statistics, ranked bottlenecks with advice, and a file the
//! //    `rram-prof` CLI reads (`rram-prof report profile.json`, `rram-prof analyze ...`).
//! println!("{}", profiler.get_performance_report());
//! let analyzer = BottleneckAnalyzer::new(&profiler);
//! println!("{}", analyzer.generate_optimization_report());
//! let dir = tempfile::tempdir().expect("a temporary directory");
//! profiler.save_profile_data(dir.path().join("profile.json"))?;
//! # Ok(())
//! # }
//! ```
//!
//! Then, from a shell: `rram-prof report profile.json`, `rram-prof analyze profile.json`,
//! `rram-prof export profile.json --format chrome -o trace.json` (open it in
//! <https://ui.perfetto.dev>).
//!
//! ## Keeping your other layers and filters
//!
//! [`install`](PerformanceProfiler::install) makes the profiler the only subscriber. To keep a
//! `fmt` layer, an `EnvFilter` or `tracing-opentelemetry`, compose the profiler's
//! [`layer`](PerformanceProfiler::layer) into your own registry, and give filters to the layers
//! they are for (per-layer filtering), so that a log filter never hides `#[profile]` spans from
//! the profiler:
//!
//! ```
//! use profiler_runtime::PerformanceProfiler;
//! use tracing_subscriber::{fmt, layer::SubscriberExt, filter::LevelFilter, Layer};
//!
//! let profiler = PerformanceProfiler::new();
//! let subscriber = tracing_subscriber::registry()
//!     .with(profiler.layer())                                   // sees every span
//!     .with(fmt::layer().with_filter(LevelFilter::WARN));       // logs only warnings
//! tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
//! ```
//!
//! A filter added with `.with(filter)` on the whole registry (a global filter) filters the
//! profiler's spans too: `#[profile]` spans are `INFO` unless `level = ".."` says otherwise.
//! `metrics!` values and `err`/`ret` results go straight to the profiler and no filter drops
//! them while their span survives.
//!
//! ## Names the analysis reads
//!
//! Metrics are numbers attached to a span: numeric and bool arguments of a `#[profile]`
//! function, `fields(..)` entries, and `metrics!` values. The analysis interprets only the
//! reserved keys of [`contract`] (`energy_pj`, `energy.<component>_pj`, `n`, `k`, `residual`,
//! `tile`, `bytes`, `flops`, `temperature_k`, `utilization`; the table is in [`contract`]'s
//! documentation); every other metric is shown as recorded and never interpreted.
//!
//! ## `#[profile]`
//!
//! Any function shape `#[tracing::instrument]` accepts (methods, generics, `async fn`, trait
//! impls), and `impl` blocks. [`profile_scope!`] opens a span for the rest of a block.
//!
#![doc = include_str!("../../profiler-macros/src/options.md")]
//!
//! ## Debug builds
//!
//! Charts are drawn by plotters, which is about 100x slower unoptimised. In a project that
//! draws charts from debug builds (tests, examples), optimise just those crates:
//!
//! ```toml
//! [profile.dev.package.plotters]
//! opt-level = 2
//! [profile.dev.package.png]
//! opt-level = 2
//! ```
//!
//! ## Layout
//!
//! | module | what | feature |
//! |---|---|---|
//! | [`record`] | the hot path: layer, per-thread slot, frames, staging, ring, collector, fold, clock, counting allocator | always |
//! | [`model`] | plain data: events, stats, profiles, sessions, samples, system info | always |
//! | [`contract`] | the names shared with the macro and `rram-sim`: fields, metric keys, kinds | always |
//! | [`profiler`] | the [`PerformanceProfiler`] handle and its builder | always |
//! | [`sys`] | monitor, machine description, CPU clocks, RAPL | `monitor` for the monitor thread |
//! | `analysis`, `report` | pure functions of a `&Profile`, and their rendering | `analysis` |
//! | [`output`] | versioned JSON, traces, folded stacks, flame graphs, charts; a Prometheus `/metrics` endpoint and OpenTelemetry (OTLP/HTTP) export | `persist`, `export`, `flamegraph`, `plot`; `prometheus`, `otlp` (not default) |
//! | `hardware` | `RramDevice` and `HardwarePerformanceProfiler` | `hardware` |
//!
//! `--no-default-features` keeps the macro, the layer, the collector, sessions, snapshots,
//! `record_event`, `profile_function` and the counting allocator.
#![warn(missing_docs)]

// Lets `#[profile]` inside this crate's own examples of itself name it as users do.
extern crate self as profiler_runtime;

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
pub use model::otlp_status::OtlpStatus;
pub use model::process::{ProcessRecord, ProcessTotals};
pub use model::profile::{Profile, ProfileSource, SessionRecord, ThreadInfo, FORMAT_VERSION};
pub use model::sample::MonitorSample;
pub use model::session::{MetricsSummary, SessionResults};
pub use model::stats::{DurationHistogram, MetricAggregate, OperationStats};
pub use model::system::SystemInfo;
pub use profiler::{
    AlgorithmResults, FunctionMetrics, MemorySource, PerformanceProfiler, ProfilerBuilder,
    DEFAULT_MAX_OPERATIONS, DEFAULT_MONITOR_INTERVAL, DEFAULT_RAW_CAPACITY,
};
pub use profiler_macros::{profile, profile_scope};
pub use record::alloc::CountingAllocator;
pub use record::layer::ProfilerLayer;

#[cfg(feature = "analysis")]
pub use analysis::{BottleneckAnalyzer, OptimizationAnalysis, Severity};
#[cfg(feature = "hardware")]
pub use hardware::{
    DeviceCost, DeviceOutput, HardwareOperation, HardwareOperationResult, HardwareOperationStats,
    HardwarePerformanceProfiler, HardwarePerformanceSummary, MatrixOp, RramDevice,
};
#[cfg(feature = "otlp")]
pub use output::otlp::{OtlpExport, OtlpOptions};
#[cfg(feature = "plot")]
pub use output::plot::PlotType;
#[cfg(feature = "prometheus")]
pub use output::prometheus::MetricsServer;
#[cfg(feature = "persist")]
pub use profiler::SaveOnDrop;
#[cfg(feature = "analysis")]
pub use profiler::{ScalingResults, ScalingStudy};
#[cfg(feature = "analysis")]
pub use report::PerformanceReport;
