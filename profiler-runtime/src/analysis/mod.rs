//! Analysis of a [`Profile`](crate::Profile): fits, series, bottlenecks and recommendations,
//! energy and power, scaling studies, convergence.
//!
//! The entry point is [`BottleneckAnalyzer`]; [`ScalingStudy`] runs a workload over problem
//! sizes; the other modules are the parts the analyzer combines, public for tools that need
//! one of them alone.

mod bottleneck;
mod categories;
mod compute;
mod convergence;
mod cputime;
mod doc;
mod energy;
mod fit;
mod hardware;
mod io;
mod memory;
mod power;
mod recommend;
mod render;
mod render_report;
mod scaling;
mod scan;
mod series;
mod severity;
mod trend;

pub use bottleneck::{
    AnalysisSummary, BottleneckAnalysis, BottleneckAnalyzer, OptimizationAnalysis, SlowOperation,
    TOP_OPERATIONS,
};
pub use categories::{KindShare, TypeAnalysis};
pub use compute::{
    Bound, ComplexityFit, ComputeAnalysis, Intensity, RepeatedCall, DEFAULT_MACHINE_BALANCE,
    TOP_REPEATS,
};
pub use convergence::{
    ConvergenceAnalysis, RunSummary, Spread, Stability, DEFAULT_TARGET_RESIDUAL, MAX_BITS,
};
pub(crate) use cputime::process_cpu_ns;
pub use cputime::{thread_cpu_ns, ScalingClock};
pub use energy::{
    ComponentEnergy, EnergyAnalysis, EnergyPoint, KindEnergy, OperationEnergy, SpanEnergy,
    TemperatureDependence, UNATTRIBUTED,
};
pub use fit::{fit_power_law, PowerLawFit};
pub use hardware::{
    DeviceLoad, HardwareAnalysis, Imbalance, TransferStats, IMBALANCE_RATIO, MANY_TRANSFERS,
    SMALL_TRANSFER_BYTES,
};
pub use io::{IoAnalysis, SerialisationOp, SERIALISATION_HINTS};
pub use memory::{
    Allocator, LeakSuspect, MemoryAnalysis, LEAK_MIN_BYTES_PER_CALL, LEAK_MIN_CALLS,
    LEAK_MIN_R_SQUARED, TOP_ALLOCATORS,
};
pub use power::{
    modelled_cpu_energy, process_cpu_seconds, CpuEnergy, CpuEnergyMeter, EnergySource, RaplReader,
    DEFAULT_WATTS_PER_CORE, POWERCAP_DIR,
};
pub use recommend::{MAX_HOTSPOTS, MIN_LISTED_SHARE};
pub use scaling::{
    ScalingMeasurement, ScalingOutcome, ScalingResults, ScalingStudy, SeriesFit, StudyRun,
    ThreadScaling,
};
pub use scan::{
    is_output_metric, BYTES_KEY, DEVICE_KEYS, FLOPS_KEY, TEMPERATURE_KEY, TIMELINE_BINS, TOP_SPANS,
    UTILIZATION_KEY,
};
pub use series::{
    component_of, convergence_runs, energy_by_component, energy_by_operation, scaling_series,
    ConvergencePoint, ConvergenceRun, ScalingPoint, ScalingSeries, COMPONENT_PREFIX,
    COMPONENT_SUFFIX, ENERGY_KEY, ITERATION_KEY, RESIDUAL_KEY, SIZE_KEY,
};
pub use severity::{Bottleneck, Category, Severity, CRITICAL_SHARE, HIGH_SHARE, MEDIUM_SHARE};
pub use trend::{find_trend_break, TrendBreak, BREAK_TOLERANCE};
