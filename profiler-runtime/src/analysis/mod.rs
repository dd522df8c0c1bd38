//! Analysis of a [`Profile`](crate::Profile): fits, series, bottlenecks and recommendations,
//! energy and power, convergence. Every function here is a pure function of a `&Profile`: it
//! reads no clock, no machine and no profiler handle ([`BottleneckAnalyzer::new`] takes any
//! [`ProfileSource`](crate::model::profile::ProfileSource) and snapshots it per analysis).
//! [`report`](crate::report) renders what it finds.
//!
//! The entry point is [`BottleneckAnalyzer`]; the other modules are the parts the analyzer
//! combines, public for tools that need one of them alone.

mod bottleneck;
mod categories;
mod compute;
mod convergence;
mod cpu_energy;
mod energy;
mod fit;
mod hardware;
mod heap_usage;
mod io;
mod machine;
mod memory;
mod memory_findings;
mod processes;
mod recommend;
mod scan;
mod series;
mod severity;
mod solver_findings;
mod trend;

pub use bottleneck::{
    AnalysisSummary, BottleneckAnalysis, BottleneckAnalyzer, OperationFailures,
    OptimizationAnalysis, SlowOperation, TOP_OPERATIONS,
};
pub use categories::{KindShare, TypeAnalysis};
pub use compute::{
    Bound, ComplexityFit, ComputeAnalysis, Intensity, RepeatedCall, DEFAULT_MACHINE_BALANCE,
    TOP_REPEATS,
};
pub use convergence::{
    ConvergenceAnalysis, FailedSolve, RunSummary, Spread, Stability, DEFAULT_TARGET_RESIDUAL,
    MAX_BITS,
};
pub use cpu_energy::{cpu_energy, modelled_cpu_energy};
pub use energy::{
    ComponentEnergy, EnergyAnalysis, EnergyPoint, KindEnergy, OperationEnergy, SpanEnergy,
    TemperatureDependence, UNATTRIBUTED,
};
pub use fit::{fit_power_law, median, PowerLawFit};
pub use hardware::{
    DeviceLoad, HardwareAnalysis, Imbalance, TransferStats, IMBALANCE_RATIO, MANY_TRANSFERS,
    SMALL_TRANSFER_BYTES,
};
pub use heap_usage::{
    Fragmentation, SizeProfile, POOL_MAX_CLASS, POOL_MIN_ALLOCATIONS, POOL_MIN_SHARE,
};
pub use io::{IoAnalysis, SerialisationOp, SERIALISATION_HINTS};
pub use machine::{BackgroundLoad, MachineAnalysis, SessionCounters};
pub use memory::{
    Allocator, LeakSuspect, MemoryAnalysis, LEAK_FREED_BY_CALLERS, LEAK_MIN_BYTES_PER_CALL,
    LEAK_MIN_CALLS, LEAK_MIN_HEAP_GROWTH, LEAK_MIN_LATE_GROWTH, LEAK_MIN_R_SQUARED, TOP_ALLOCATORS,
};
pub use processes::{process_shares, process_total, ProcessShare};
pub use recommend::{MAX_HOTSPOTS, MIN_LISTED_SHARE};
pub use scan::{is_output_metric, TIMELINE_BINS, TOP_SPANS};
pub use series::{
    convergence_runs, energy_by_component, energy_by_operation, scaling_series, ConvergencePoint,
    ConvergenceRun, RunOutcome, ScalingPoint, ScalingSeries,
};
pub(crate) use severity::share;
pub use severity::{
    severity_cap, Basis, Bottleneck, Category, Severity, CRITICAL_SHARE, HIGH_SHARE, MEDIUM_SHARE,
};
pub use trend::{find_trend_break, TrendBreak, BREAK_TOLERANCE};
