//! The event model: one closed span (or one recorded event) is one [`ProfileEvent`].
//!
//! The model maps one-to-one onto a distributed-tracing span (OpenTelemetry and friends):
//! `id`/`parent` are span and parent-span ids, `start_ns`/`end_ns` are offsets from
//! [`Profile::started_at_unix_ns`](crate::Profile::started_at_unix_ns), `metrics` are numeric
//! attributes, `error` is the status. An exporter needs no other source.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ProfileError;

/// The name of an operation: shared, cheap to clone, derefs to `str`.
pub type Name = Arc<str>;

/// What kind of work a span does. The string forms are what `#[profile(kind = "...")]` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// `function_call`: the default.
    FunctionCall,
    /// `memory_usage`: a span about memory (allocation, copying).
    MemoryUsage,
    /// `computation`: numeric work.
    Computation,
    /// `io_operation`: file, network or device I/O that blocks.
    IoOperation,
    /// `hardware_access`: an operation on (simulated) hardware, such as a crossbar.
    HardwareAccess,
    /// `algorithm_step`: one step (iteration) of an algorithm.
    AlgorithmStep,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 6] = [
        EventKind::FunctionCall,
        EventKind::MemoryUsage,
        EventKind::Computation,
        EventKind::IoOperation,
        EventKind::HardwareAccess,
        EventKind::AlgorithmStep,
    ];

    /// The string form, as `#[profile(kind = "...")]` takes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::FunctionCall => "function_call",
            EventKind::MemoryUsage => "memory_usage",
            EventKind::Computation => "computation",
            EventKind::IoOperation => "io_operation",
            EventKind::HardwareAccess => "hardware_access",
            EventKind::AlgorithmStep => "algorithm_step",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = ProfileError;

    /// ```
    /// use profiler_runtime::EventKind;
    /// assert_eq!("hardware_access".parse::<EventKind>().unwrap(), EventKind::HardwareAccess);
    /// assert!("gpu".parse::<EventKind>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ProfileError::UnknownKind(s.to_owned()))
    }
}

/// What a measurement is about; used to label analysis results and charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PerformanceMetric {
    /// Wall or self time.
    ExecutionTime,
    /// Bytes allocated, RSS.
    MemoryUsage,
    /// Energy and power.
    PowerConsumption,
    /// Operations or bytes per second.
    Throughput,
    /// Residuals, bits of precision.
    Accuracy,
    /// Spread across repeated runs.
    Stability,
    /// Growth with problem size or thread count.
    Scalability,
}

impl PerformanceMetric {
    /// Every metric, in declaration order.
    pub const ALL: [PerformanceMetric; 7] = [
        PerformanceMetric::ExecutionTime,
        PerformanceMetric::MemoryUsage,
        PerformanceMetric::PowerConsumption,
        PerformanceMetric::Throughput,
        PerformanceMetric::Accuracy,
        PerformanceMetric::Stability,
        PerformanceMetric::Scalability,
    ];

    /// A heading for it: `execution time`, `memory usage`, ...
    pub const fn label(self) -> &'static str {
        match self {
            PerformanceMetric::ExecutionTime => "execution time",
            PerformanceMetric::MemoryUsage => "memory usage",
            PerformanceMetric::PowerConsumption => "power consumption",
            PerformanceMetric::Throughput => "throughput",
            PerformanceMetric::Accuracy => "accuracy",
            PerformanceMetric::Stability => "stability",
            PerformanceMetric::Scalability => "scalability",
        }
    }
}

impl fmt::Display for PerformanceMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Heap traffic of one span on its thread while it was entered, from
/// [`CountingAllocator`](crate::CountingAllocator). Inclusive of child spans; the profiler's own
/// allocations are excluded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocStats {
    /// Bytes allocated (including the new size of reallocations).
    pub allocated_bytes: u64,
    /// Bytes freed (including the old size of reallocations).
    pub freed_bytes: u64,
    /// Number of allocations (and reallocations).
    pub allocations: u64,
}

impl AllocStats {
    /// Net growth: allocated minus freed, negative when the span freed more than it allocated.
    /// Held within `i64`'s range for counts beyond it.
    pub fn net_bytes(&self) -> i64 {
        let net = i128::from(self.allocated_bytes) - i128::from(self.freed_bytes);
        net.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// The counts since `earlier`, a reading of the same monotonic counters (wrapping, as the
    /// counters do).
    #[inline(always)]
    pub fn since(&self, earlier: &AllocStats) -> AllocStats {
        AllocStats {
            allocated_bytes: self.allocated_bytes.wrapping_sub(earlier.allocated_bytes),
            freed_bytes: self.freed_bytes.wrapping_sub(earlier.freed_bytes),
            allocations: self.allocations.wrapping_sub(earlier.allocations),
        }
    }

    /// Field-wise saturating difference (`self` less `other`, never below 0).
    pub fn saturating_sub(&self, other: &AllocStats) -> AllocStats {
        AllocStats {
            allocated_bytes: self.allocated_bytes.saturating_sub(other.allocated_bytes),
            freed_bytes: self.freed_bytes.saturating_sub(other.freed_bytes),
            allocations: self.allocations.saturating_sub(other.allocations),
        }
    }

    /// Field-wise sum.
    pub fn add(&mut self, other: &AllocStats) {
        self.allocated_bytes = self.allocated_bytes.saturating_add(other.allocated_bytes);
        self.freed_bytes = self.freed_bytes.saturating_add(other.freed_bytes);
        self.allocations = self.allocations.saturating_add(other.allocations);
    }
}

/// Number of allocation size classes in [`AllocSizes`].
pub const ALLOC_SIZE_CLASSES: usize = 16;

/// Allocations counted by size class: class 0 holds sizes up to 8 bytes, class `k` (1 to 14)
/// sizes in `(2^(k+2), 2^(k+3)]` bytes, and the last class everything above 128 KiB.
///
/// ```
/// use profiler_runtime::model::event::AllocSizes;
/// assert_eq!(AllocSizes::class_of(24), 2);
/// assert_eq!(AllocSizes::class_bounds(2), (17, Some(32)));
/// assert_eq!(AllocSizes::class_label(2), "17-32 B");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocSizes {
    /// Allocations per class.
    pub counts: [u64; ALLOC_SIZE_CLASSES],
}

impl AllocSizes {
    /// The size class of an allocation of `size` bytes.
    #[inline(always)]
    pub const fn class_of(size: u64) -> usize {
        // ceil(log2(size)) for size >= 2, 0 for 0 and 1.
        let ceil_log2 = if size <= 1 {
            0
        } else {
            64 - (size - 1).leading_zeros() as usize
        };
        let c = ceil_log2.saturating_sub(3);
        if c >= ALLOC_SIZE_CLASSES {
            ALLOC_SIZE_CLASSES - 1
        } else {
            c
        }
    }

    /// The smallest and largest size of class `k` (`None`: unbounded).
    pub const fn class_bounds(k: usize) -> (u64, Option<u64>) {
        if k == 0 {
            (0, Some(8))
        } else if k + 1 >= ALLOC_SIZE_CLASSES {
            ((1 << (ALLOC_SIZE_CLASSES + 1)) + 1, None)
        } else {
            ((1 << (k + 2)) + 1, Some(1 << (k + 3)))
        }
    }

    /// `17-32 B`, `> 128 KiB`.
    pub fn class_label(k: usize) -> String {
        let fmt = |b: u64| {
            if b >= 1024 && b % 1024 == 0 {
                format!("{} KiB", b / 1024)
            } else {
                format!("{b} B")
            }
        };
        match Self::class_bounds(k) {
            (lo, Some(hi)) if lo < 1024 && hi <= 1024 => format!("{lo}-{hi} B"),
            (lo, Some(hi)) => format!("{}-{}", fmt(lo.saturating_sub(1)), fmt(hi)),
            (lo, None) => format!("> {}", fmt(lo.saturating_sub(1))),
        }
    }

    /// Allocations over every class.
    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &c| a.saturating_add(c))
    }

    /// The counts since `earlier`, a reading of the same monotonic counters (wrapping).
    pub fn since(&self, earlier: &AllocSizes) -> AllocSizes {
        let mut out = *self;
        for (o, e) in out.counts.iter_mut().zip(&earlier.counts) {
            *o = o.wrapping_sub(*e);
        }
        out
    }

    /// Class-wise saturating sum.
    pub fn add(&mut self, other: &AllocSizes) {
        for (o, x) in self.counts.iter_mut().zip(&other.counts) {
            *o = o.saturating_add(*x);
        }
    }

    /// Class-wise saturating difference.
    pub fn saturating_sub(&self, other: &AllocSizes) -> AllocSizes {
        let mut out = *self;
        for (o, x) in out.counts.iter_mut().zip(&other.counts) {
            *o = o.saturating_sub(*x);
        }
        out
    }
}

/// One closed span, or one event recorded with
/// [`PerformanceProfiler::record_event`](crate::PerformanceProfiler::record_event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileEvent {
    /// Unique within a profile; never 0.
    pub id: u64,
    /// The id of the enclosing event, if any.
    pub parent: Option<u64>,
    /// Operation name (the span's name).
    pub name: Name,
    /// What kind of work it was.
    pub kind: EventKind,
    /// The profiler's id for the thread that opened the span (see
    /// [`Profile::threads`](crate::Profile::threads)); an `async fn` may have run on others too.
    pub thread_id: u64,
    /// When the span was first entered, in ns since the profiler started.
    pub start_ns: u64,
    /// When the span was last exited, in ns since the profiler started.
    pub end_ns: u64,
    /// Time spent entered; less than `end_ns - start_ns` for an `async fn` that waited.
    pub busy_ns: u64,
    /// `busy_ns` less the wall time of the child spans: time spent in this span's own code.
    pub self_ns: u64,
    /// Numeric fields and `metrics!` values, e.g. `energy_pj`.
    pub metrics: BTreeMap<String, f64>,
    /// Heap traffic while entered; `None` where no `CountingAllocator` is installed.
    pub alloc: Option<AllocStats>,
    /// The error text, set by `#[profile(err)]` on an `Err` return.
    pub error: Option<String>,
    /// Whether the span closed while its thread was panicking.
    pub panicked: bool,
    /// Heap traffic of the whole process (every thread) from the span's first enter to its
    /// last exit, for spans that count it: `#[profile(alloc = "process")]`,
    /// `profile_function`, `profile_algorithm` and the hardware profiler's calls. `None`
    /// elsewhere, or without a `CountingAllocator`. Other threads' unrelated work in that window
    /// counts too.
    #[serde(default)]
    pub process_alloc: Option<AllocStats>,
    /// The allocations of [`process_alloc`](Self::process_alloc) by size class.
    #[serde(default)]
    pub alloc_sizes: Option<AllocSizes>,
    /// Where the span was when it closed, for events slower than
    /// [`ProfilerBuilder::backtrace_slower_than`](crate::ProfilerBuilder::backtrace_slower_than).
    #[serde(default)]
    pub backtrace: Option<String>,
    /// Whether every argument of the function is recorded among the metrics (a `#[profile]`
    /// function whose arguments are all numbers or bools, none skipped): only then can two calls
    /// with equal metrics be told to have had equal arguments.
    #[serde(default)]
    pub args_recorded: bool,
}

impl ProfileEvent {
    /// An event of operation `name` (`kind`) on thread `thread_id` from `start_ns` to `end_ns`,
    /// busy for all of it, with no parent, metrics, allocation data or error: the one
    /// constructor, so that a field added to the model gets its default in one place. Set the
    /// other fields after.
    ///
    /// ```
    /// use profiler_runtime::{EventKind, ProfileEvent};
    /// let mut e = ProfileEvent::new(1, "mvm".into(), EventKind::HardwareAccess, 1, 100, 350);
    /// e.metrics.insert("energy_pj".into(), 2.5);
    /// assert_eq!(e.duration_ns(), 250);
    /// assert_eq!(e.busy_ns, 250);
    /// ```
    pub fn new(
        id: u64,
        name: Name,
        kind: EventKind,
        thread_id: u64,
        start_ns: u64,
        end_ns: u64,
    ) -> Self {
        let wall = end_ns.saturating_sub(start_ns);
        ProfileEvent {
            id,
            parent: None,
            name,
            kind,
            thread_id,
            start_ns,
            end_ns,
            busy_ns: wall,
            self_ns: wall,
            metrics: BTreeMap::new(),
            alloc: None,
            error: None,
            panicked: false,
            process_alloc: None,
            alloc_sizes: None,
            backtrace: None,
            args_recorded: false,
        }
    }

    /// Wall time from first enter to last exit.
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(self.duration_ns())
    }

    /// Wall time in ns.
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    /// A metric's value, if recorded.
    pub fn metric(&self, key: &str) -> Option<f64> {
        self.metrics.get(key).copied()
    }
}
