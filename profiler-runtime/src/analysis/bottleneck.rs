//! [`BottleneckAnalyzer`]: what is slow, what allocates, what burns energy, what scales badly,
//! and what to do about it.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ProfileError;
use crate::model::event::EventKind;
use crate::model::profile::Profile;
use crate::model::profile::ProfileSource;

use super::categories::TypeAnalysis;
use super::compute::{ComputeAnalysis, DEFAULT_MACHINE_BALANCE};
use super::convergence::{ConvergenceAnalysis, DEFAULT_TARGET_RESIDUAL};
use super::cpu_energy::cpu_energy;
use super::energy::EnergyAnalysis;
use super::hardware::HardwareAnalysis;
use super::io::IoAnalysis;
use super::machine::MachineAnalysis;
use super::memory::MemoryAnalysis;
use super::recommend;
use super::scan::scan;
use super::severity::{share, Bottleneck, Severity};
use crate::model::energy::{CpuEnergy, DEFAULT_WATTS_PER_CORE};

/// How many operations the slowest-operation lists keep.
pub const TOP_OPERATIONS: usize = 20;

/// One operation, ranked by time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowOperation {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: EventKind,
    /// Calls (exact).
    pub count: u64,
    /// Total wall time, inclusive of child spans.
    pub execution_time: Duration,
    /// Total self time: its own code, child spans excluded.
    pub self_time: Duration,
    /// Mean wall time per call, ns.
    pub mean_ns: f64,
    /// Median wall time, ns.
    pub p50_ns: u64,
    /// 99th percentile wall time, ns.
    pub p99_ns: u64,
    /// Self time over all profiled self time, in `[0, 1]`.
    pub time_share: f64,
    /// Inclusive time over all profiled self time (may exceed the self share; capped at 1).
    pub inclusive_share: f64,
    /// Severity of its self-time share (see [`Severity`]).
    pub severity: Severity,
    /// Energy it reported, pJ, where it did.
    pub energy_pj: Option<f64>,
}

/// The bottleneck part of an analysis (names fixed by the API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BottleneckAnalysis {
    /// Operations by [`execution_time`](SlowOperation::execution_time) (inclusive wall time),
    /// largest first (at most [`TOP_OPERATIONS`]): the order the original module printed them
    /// in.
    pub slowest_operations: Vec<SlowOperation>,
    /// Operations by [`self_time`](SlowOperation::self_time) (their own code, child spans
    /// excluded), largest first (at most [`TOP_OPERATIONS`]): where time is spent.
    pub slowest_by_self_time: Vec<SlowOperation>,
    /// Time and energy by kind.
    pub type_analysis: TypeAnalysis,
    /// Allocators, allocation rate, leak suspects.
    pub memory_analysis: MemoryAnalysis,
    /// Hardware time, energy, transfers, utilisation.
    pub hardware_analysis: HardwareAnalysis,
    /// Blocking I/O and serialisation.
    pub io_analysis: IoAnalysis,
    /// Repeated calls, complexity, compute- against memory-bound.
    pub compute_analysis: ComputeAnalysis,
    /// Every finding, most severe first.
    pub bottlenecks: Vec<Bottleneck>,
    /// One line of advice per finding, in the same order.
    pub recommendations: Vec<String>,
}

/// Headline figures of the analysed profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisSummary {
    /// Events (exact).
    pub total_events: u64,
    /// Raw events kept (the per-event analyses read these).
    pub kept_events: usize,
    /// Raw events the bounded buffer dropped.
    pub dropped_events: u64,
    /// Length of the profile, ns.
    pub profile_duration_ns: u64,
    /// Sum of self times, ns.
    pub total_self_ns: u64,
    /// Reported energy, pJ.
    pub total_energy_pj: f64,
    /// Whether per-span memory is known.
    pub alloc_tracking: bool,
    /// Per-process figures of a profile of several processes ([`Profile::merge`]); empty
    /// for one process.
    #[serde(default)]
    pub processes: Vec<super::ProcessShare>,
    /// Operations with calls that returned an error or panicked (exact counts from the
    /// aggregates), most failures first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<OperationFailures>,
    /// What the profiler could not see (the profile's warnings, and a note when it has no
    /// events): an analysis of an empty or filtered profile says so instead of "no bottleneck".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Calls of one operation that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationFailures {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: EventKind,
    /// Calls (exact).
    pub calls: u64,
    /// Calls that returned an error (`#[profile(err)]`, `record_error`).
    pub errors: u64,
    /// Calls that panicked.
    pub panics: u64,
}

impl OperationFailures {
    /// Every operation of `p` with a failed call, most failures first.
    pub(crate) fn of(p: &Profile) -> Vec<OperationFailures> {
        let mut v: Vec<OperationFailures> = p
            .operations
            .iter()
            .filter(|o| o.errors > 0 || o.panics > 0)
            .map(|o| OperationFailures {
                name: o.name.to_string(),
                kind: o.kind,
                calls: o.count,
                errors: o.errors,
                panics: o.panics,
            })
            .collect();
        v.sort_by(|a, b| {
            (b.errors.saturating_add(b.panics))
                .cmp(&a.errors.saturating_add(a.panics))
                .then_with(|| a.name.cmp(&b.name))
        });
        v
    }
}

/// Everything [`BottleneckAnalyzer::analyze_bottlenecks`] finds. Serialises as JSON; renders as
/// text ([`to_text`](Self::to_text)) and Markdown ([`to_markdown`](Self::to_markdown)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizationAnalysis {
    /// Headline figures.
    pub summary: AnalysisSummary,
    /// Slowest operations, per-category analyses, bottlenecks and recommendations.
    pub bottleneck_analysis: BottleneckAnalysis,
    /// Energy and power.
    pub energy: EnergyAnalysis,
    /// Convergence of iterative solvers.
    pub convergence: ConvergenceAnalysis,
    /// The machine around the profile: other processes' load, steal, hardware counters.
    #[serde(default)]
    pub machine: MachineAnalysis,
}

impl OptimizationAnalysis {
    /// The analysis as pretty JSON.
    pub fn to_json(&self) -> Result<String, ProfileError> {
        serde_json::to_string_pretty(self).map_err(|e| ProfileError::Render {
            what: "analysis as JSON".to_owned(),
            reason: e.to_string(),
        })
    }

    /// Reads an analysis back from JSON.
    pub fn from_json(s: &str) -> Result<Self, ProfileError> {
        serde_json::from_str(s)
            .map_err(|e| ProfileError::InvalidInput(format!("analysis JSON: {e}")))
    }
}

/// Analyses a profile for bottlenecks.
///
/// ```
/// use profiler_runtime::{profile, BottleneckAnalyzer, PerformanceProfiler};
///
/// #[profile]
/// fn slow() { std::thread::sleep(std::time::Duration::from_millis(5)); }
/// #[profile]
/// fn fast() {}
///
/// let profiler = PerformanceProfiler::new();
/// profiler.in_scope(|| { slow(); fast(); });
/// let analyzer = BottleneckAnalyzer::new(&profiler);
/// let analysis = analyzer.analyze_bottlenecks();
/// assert_eq!(analysis.bottleneck_analysis.slowest_operations[0].name, "slow");
/// assert_eq!(analysis.bottleneck_analysis.slowest_by_self_time[0].name, "slow");
/// let text = analyzer.generate_optimization_report();
/// assert!(text.contains("slow"));
/// ```
#[derive(Debug, Clone)]
pub struct BottleneckAnalyzer<'a> {
    source: Source<'a>,
    target_residual: f64,
    machine_balance: f64,
    /// `None`: the profile's own setting, else the default.
    watts_per_core: Option<f64>,
    cpu_energy: Option<CpuEnergy>,
}

/// What an analyzer reads: a profile it was given, or a live source it snapshots at each
/// analysis.
#[derive(Clone)]
enum Source<'a> {
    Profile(&'a Profile),
    Live(Arc<dyn ProfileSource + Send + Sync>),
}

impl std::fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Profile(p) => write!(f, "Profile({} events)", p.total_events()),
            Source::Live(_) => f.write_str("Live"),
        }
    }
}

impl BottleneckAnalyzer<'static> {
    /// An analyzer of a live source (a [`PerformanceProfiler`](crate::PerformanceProfiler)): each
    /// [`analyze_bottlenecks`](Self::analyze_bottlenecks) call analyses the source's data as it
    /// is at that moment, so events recorded after the analyzer was built are seen.
    pub fn new<S>(source: &S) -> Self
    where
        S: ProfileSource + Clone + Send + Sync + 'static,
    {
        BottleneckAnalyzer::with_source(Source::Live(Arc::new(source.clone())))
    }
}

impl<'a> BottleneckAnalyzer<'a> {
    /// Analyses `profile` (borrowed, not copied).
    pub fn from_profile(profile: &'a Profile) -> Self {
        BottleneckAnalyzer::with_source(Source::Profile(profile))
    }

    fn with_source(source: Source<'a>) -> Self {
        BottleneckAnalyzer {
            source,
            target_residual: DEFAULT_TARGET_RESIDUAL,
            machine_balance: DEFAULT_MACHINE_BALANCE,
            watts_per_core: None,
            cpu_energy: None,
        }
    }

    /// The profile analysed: the one given, or a snapshot of the live source taken now.
    pub fn profile(&self) -> Cow<'_, Profile> {
        match &self.source {
            Source::Profile(p) => Cow::Borrowed(*p),
            Source::Live(s) => Cow::Owned(s.snapshot()),
        }
    }

    /// Target relative residual for time- and energy-to-precision (default 2^-24).
    pub fn target_residual(mut self, r: f64) -> Self {
        self.target_residual = r;
        self
    }

    /// Machine balance in flops per byte (default [`DEFAULT_MACHINE_BALANCE`]).
    pub fn machine_balance(mut self, flops_per_byte: f64) -> Self {
        if flops_per_byte.is_finite() && flops_per_byte > 0.0 {
            self.machine_balance = flops_per_byte;
        }
        self
    }

    /// Power of one busy core for the modelled CPU energy, W (default: the profile's own
    /// [`cpu_watts_per_core`](Profile::cpu_watts_per_core), else [`DEFAULT_WATTS_PER_CORE`]).
    /// Used only where the profile has no RAPL readings.
    pub fn watts_per_core(mut self, w: f64) -> Self {
        self.watts_per_core = Some(w);
        self
    }

    /// A measured CPU energy for the profile's window (e.g. from a
    /// [`CpuEnergyMeter`](crate::sys::CpuEnergyMeter) around the run); without one the
    /// analysis models it and says so.
    pub fn cpu_energy(mut self, e: CpuEnergy) -> Self {
        self.cpu_energy = Some(e);
        self
    }

    /// Runs every analysis: one scan of the events (each event's metrics read once), then
    /// work proportional to the operations, the sized events and the solver steps.
    pub fn analyze_bottlenecks(&self) -> OptimizationAnalysis {
        let profile = self.profile();
        let p: &Profile = &profile;
        let mut sc = scan(p);
        let type_analysis = TypeAnalysis::from_profile(p);
        let total_self = type_analysis.total_self_ns;
        let total_energy = type_analysis.total_energy_pj;
        let (by_self, by_incl) = slowest(p, total_self);
        let watts = self
            .watts_per_core
            .or(p.cpu_watts_per_core)
            .unwrap_or(DEFAULT_WATTS_PER_CORE);
        let cpu = self
            .cpu_energy
            .clone()
            .unwrap_or_else(|| cpu_energy(p, watts));
        let energy = EnergyAnalysis::build(p, &sc, cpu);
        let convergence = ConvergenceAnalysis::from_scan(p, &sc, self.target_residual);
        let machine = MachineAnalysis::from_profile(p);
        let mut ba = BottleneckAnalysis {
            slowest_operations: by_incl,
            slowest_by_self_time: by_self,
            memory_analysis: MemoryAnalysis::build(p, &sc),
            hardware_analysis: HardwareAnalysis::build(p, &sc, total_self, total_energy),
            io_analysis: IoAnalysis::build(p, &sc, total_self),
            compute_analysis: ComputeAnalysis::build(p, &mut sc, total_self, self.machine_balance),
            type_analysis,
            bottlenecks: Vec::new(),
            recommendations: Vec::new(),
        };
        drop(sc);
        ba.bottlenecks = recommend::bottlenecks(&ba, &energy, &convergence, &machine);
        ba.recommendations = recommend::recommendation_lines(&ba.bottlenecks, p.alloc_tracking);
        OptimizationAnalysis {
            summary: AnalysisSummary {
                total_events: p.total_events(),
                kept_events: p.events.len(),
                dropped_events: p.dropped_events,
                profile_duration_ns: p.duration_ns,
                total_self_ns: total_self,
                total_energy_pj: total_energy,
                alloc_tracking: p.alloc_tracking,
                processes: super::process_shares(p),
                failures: OperationFailures::of(p),
                warnings: p.warnings_for_readers(p.total_events()),
            },
            bottleneck_analysis: ba,
            energy,
            convergence,
            machine,
        }
    }
}

fn slowest(p: &Profile, total_self: u64) -> (Vec<SlowOperation>, Vec<SlowOperation>) {
    let rows: Vec<SlowOperation> = p
        .operations
        .iter()
        .filter(|o| o.count > 0)
        .map(|o| {
            let s = share(o.self_ns as f64, total_self as f64);
            SlowOperation {
                name: o.name.to_string(),
                kind: o.kind,
                count: o.count,
                execution_time: Duration::from_nanos(o.total_ns),
                self_time: Duration::from_nanos(o.self_ns),
                mean_ns: o.mean_ns(),
                p50_ns: o.p50_ns(),
                p99_ns: o.p99_ns(),
                time_share: s,
                inclusive_share: share(o.total_ns as f64, total_self as f64),
                severity: Severity::from_share(s),
                energy_pj: o.metrics.get(crate::contract::ENERGY_PJ).map(|m| m.sum),
            }
        })
        .collect();
    let mut by_self = rows.clone();
    by_self.sort_by(|a, b| {
        b.self_time
            .cmp(&a.self_time)
            .then_with(|| a.name.cmp(&b.name))
    });
    by_self.truncate(TOP_OPERATIONS);
    let mut by_incl = rows;
    by_incl.sort_by(|a, b| {
        b.execution_time
            .cmp(&a.execution_time)
            .then_with(|| a.name.cmp(&b.name))
    });
    by_incl.truncate(TOP_OPERATIONS);
    (by_self, by_incl)
}
