//! [`PerformanceProfiler`]: the handle users hold. Cheap to clone; every method takes `&self`.
//!
//! It wires the recorder ([`crate::record`]) to a subscriber and offers the API: sessions
//! (`sessions`), closures run as events (`function`), snapshots, and, with their features,
//! reports, charts, save/load and scaling studies.

mod builder;
#[cfg(feature = "persist")]
mod data;
mod function;
#[cfg(feature = "persist")]
mod save_guard;
mod sessions;
#[cfg(feature = "analysis")]
mod study;
mod warnings;

use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::Registry;

use crate::error::ProfileError;
use crate::model::profile::{Profile, ProfileSource, SessionRecord, FORMAT_VERSION};
use crate::model::session::{window, ActiveSession};
use crate::model::stats::OperationStats;
use crate::model::system::SystemInfo;
use crate::record::alloc;
use crate::record::collector::{lock, Collector};
use crate::record::heap::{user_growth_since, user_net};
use crate::record::layer::ProfilerLayer;
use crate::record::subscriber::ProfilerSubscriber;
#[cfg(feature = "monitor")]
use crate::sys::monitor::Monitor;
use crate::sys::perf::SessionCounters;

pub use builder::{
    ProfilerBuilder, DEFAULT_MAX_OPERATIONS, DEFAULT_MONITOR_INTERVAL, DEFAULT_RAW_CAPACITY,
};
pub use function::{AlgorithmResults, FunctionMetrics, MemorySource};
#[cfg(feature = "persist")]
pub use save_guard::SaveOnDrop;
#[cfg(feature = "analysis")]
pub use study::{
    ScalingMeasurement, ScalingOutcome, ScalingResults, ScalingStudy, SeriesFit, StudyRun,
    ThreadScaling,
};

#[derive(Default)]
struct SessionBook {
    /// Running sessions with their hardware counters.
    active: Vec<(ActiveSession, SessionCounters)>,
    finished: Vec<SessionRecord>,
}

impl SessionBook {
    /// Every session, finished then running.
    fn records(&self) -> Vec<SessionRecord> {
        let mut s = self.finished.clone();
        s.extend(self.active.iter().map(|(a, _)| SessionRecord {
            name: a.name.clone(),
            start_ns: a.start_ns,
            end_ns: None,
            events_count: None,
            hardware_counters: None,
        }));
        s
    }
}

/// What the profiler shows besides its live recording: a loaded profile, and where the live
/// recording starts counting (everything before a replacing load is hidden).
#[derive(Default)]
struct DataBook {
    loaded: Option<Profile>,
    cut: Option<Cut>,
    /// User code's net heap reading at the start of what is shown live.
    heap_start: Option<u64>,
}

/// The live recording as it was when a load replaced it: later snapshots show only what came
/// after (aggregates as windows over these, raw events and samples from `ns` on).
struct Cut {
    ops: Vec<OperationStats>,
    ns: u64,
    dropped: u64,
}

struct Inner {
    // Dropped first: a journal's last flush reads everything else.
    #[cfg(feature = "persist")]
    journal: Option<crate::output::journal::JournalHandle>,
    // Dropped early too: its last export reads the collector.
    #[cfg(feature = "otlp")]
    otlp: Option<crate::output::otlp::OtlpStream>,
    collector: Arc<Collector>,
    raw_capacity: usize,
    sessions: Arc<Mutex<SessionBook>>,
    system: OnceLock<SystemInfo>,
    data: Mutex<DataBook>,
    /// Watts per busy core for the modelled CPU energy (`None`: the default).
    cpu_watts: Option<f64>,
    // Dropped last-but-not-least: stops and joins the monitor thread.
    #[cfg(feature = "monitor")]
    _monitor: Option<Monitor>,
}

/// The profiler: install its layer, run code, read sessions, snapshots and reports.
///
/// ```
/// use profiler_runtime::{profile, PerformanceProfiler};
///
/// #[profile]
/// fn step(k: usize) -> usize { k * 2 }
///
/// let profiler = PerformanceProfiler::new();
/// tracing::subscriber::with_default(profiler.subscriber(), || {
///     profiler.start_profiling("run");
///     for k in 0..10 { step(k); }
///     let r = profiler.stop_profiling("run").unwrap();
///     assert_eq!(r.events_count, 10);
/// });
/// ```
#[derive(Clone)]
pub struct PerformanceProfiler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PerformanceProfiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerformanceProfiler")
            .field("raw_capacity", &self.inner.raw_capacity)
            .finish_non_exhaustive()
    }
}

impl Default for PerformanceProfiler {
    fn default() -> Self {
        PerformanceProfiler::new()
    }
}

impl PerformanceProfiler {
    /// A profiler with default settings (raw capacity [`DEFAULT_RAW_CAPACITY`], monitor every
    /// 100 ms). If the monitor thread cannot start, the profiler works without samples.
    pub fn new() -> Self {
        ProfilerBuilder::default().build().unwrap_or_else(|_| {
            ProfilerBuilder::default()
                .without_monitor()
                .build()
                .expect("a profiler without a monitor has nothing that can fail to build")
        })
    }

    /// A builder for non-default settings.
    pub fn builder() -> ProfilerBuilder {
        ProfilerBuilder::default()
    }

    /// This profiler's layer, to compose with other layers.
    pub fn layer(&self) -> ProfilerLayer {
        ProfilerLayer {
            collector: self.inner.collector.clone(),
            id: self.inner.collector.id,
        }
    }

    /// A registry with this profiler's layer: for `tracing::subscriber::with_default` or
    /// `set_global_default`.
    pub fn subscriber(&self) -> Layered<ProfilerLayer, Registry> {
        tracing_subscriber::registry().with(self.layer())
    }

    /// Installs this profiler's own subscriber as the process's global default: the profiler
    /// as the only subscriber, without tracing-subscriber's registry, for the lowest cost per
    /// profiled call. Everything `tracing` offers works under it (`Span::current()`, other
    /// crates' spans, `#[instrument]`, `record`, `metrics!`, async spans); to add `fmt`,
    /// `EnvFilter` or other layers, compose [`layer`](Self::layer) instead.
    pub fn install(&self) -> Result<(), ProfileError> {
        tracing::subscriber::set_global_default(ProfilerSubscriber::new(self.layer()))
            .map_err(|_| ProfileError::AlreadyInstalled)
    }

    /// Runs `f` with this profiler's own subscriber (the one [`install`](Self::install) sets)
    /// as the calling thread's default (other threads are unaffected): for tests, and for
    /// profiling one part of a program without a global install.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::subscriber::with_default(ProfilerSubscriber::new(self.layer()), f)
    }

    /// Everything so far: events, exact aggregates, samples, sessions, system info (after
    /// [`load_profile_data`](Self::load_profile_data), the loaded profile followed by what was
    /// recorded since).
    ///
    /// Its memory is not charged to the calling thread's spans, but it is the caller's in the
    /// process-wide heap (as every value the profiler returns is), so dropping it later
    /// balances the books of the live-heap readings.
    pub fn snapshot(&self) -> Profile {
        let _returned = crate::record::alloc::OwnAllocations::returned();
        {
            let _own = crate::record::alloc::OwnAllocations::begin();
            self.inner.system.get_or_init(SystemInfo::collect);
        }
        let c = &self.inner.collector;
        let mut snap = c.snapshot();
        let sessions = lock(&self.inner.sessions).records();
        let system = self.inner.system.get_or_init(SystemInfo::collect).clone();
        let process =
            crate::sys::this_process(&system.hostname, c.clock.epoch_unix_ns(), c.clock.source());
        let data = lock(&self.inner.data);
        if let Some(cut) = &data.cut {
            snap.operations = window(&snap.operations, &cut.ops);
            snap.events.retain(|e| e.end_ns >= cut.ns);
            snap.samples.retain(|s| s.t_ns >= cut.ns);
            snap.dropped = snap.dropped.saturating_sub(cut.dropped);
        }
        let mut live = Profile {
            format_version: FORMAT_VERSION,
            started_at_unix_ns: c.clock.epoch_unix_ns(),
            duration_ns: c.clock.now_ns(),
            system,
            alloc_tracking: alloc::is_active(),
            raw_capacity: self.inner.raw_capacity,
            dropped_events: snap.dropped,
            processes: vec![process],
            otlp: self.otlp_status(),
            threads: snap.threads,
            sessions,
            operations: snap.operations,
            samples: snap.samples,
            events: snap.events,
            cpu_watts_per_core: self.inner.cpu_watts,
            heap_growth_bytes: user_growth_since(data.heap_start),
            warnings: Vec::new(),
        };
        live.warnings = self.warnings(live.total_events());
        match &data.loaded {
            Some(loaded) => crate::model::merge::merge(loaded, live),
            None => live,
        }
    }

    /// Replaces everything this profiler shows with `profile`: what was recorded so far is
    /// hidden from now on (sessions that finished included), and later recording follows the
    /// loaded data.
    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    pub(crate) fn replace_data(&self, profile: Profile) {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let c = &self.inner.collector;
        let snap = c.snapshot();
        let cut = Cut {
            ops: snap.operations,
            ns: c.clock.now_ns(),
            dropped: snap.dropped,
        };
        lock(&self.inner.sessions).finished.clear();
        let mut data = lock(&self.inner.data);
        data.loaded = Some(profile);
        data.cut = Some(cut);
        data.heap_start = user_net();
    }

    /// Adds `profile` to what this profiler shows: the live recording stays, and any profile
    /// loaded or merged before stays too.
    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    pub(crate) fn merge_data(&self, profile: Profile) {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let mut data = lock(&self.inner.data);
        data.loaded = Some(match data.loaded.take() {
            Some(earlier) => crate::model::merge::merge(&earlier, profile),
            None => profile,
        });
    }

    /// The performance report over everything so far.
    #[cfg(feature = "analysis")]
    pub fn get_performance_report(&self) -> crate::report::PerformanceReport {
        let _returned = crate::record::alloc::OwnAllocations::returned();
        crate::report::PerformanceReport::from_profile(&self.snapshot())
    }

    /// The collector (for the outputs that read it live).
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    pub(crate) fn collector(&self) -> &Arc<Collector> {
        &self.inner.collector
    }

    /// The live OTLP stream, if any.
    #[cfg(feature = "otlp")]
    pub(crate) fn otlp_stream(&self) -> Option<&crate::output::otlp::OtlpStream> {
        self.inner.otlp.as_ref()
    }

    /// What the live OTLP stream sent and dropped so far (`None` without one).
    pub(crate) fn otlp_status(&self) -> Option<crate::model::otlp_status::OtlpStatus> {
        #[cfg(feature = "otlp")]
        {
            self.inner.otlp.as_ref().map(|s| s.status())
        }
        #[cfg(not(feature = "otlp"))]
        {
            None
        }
    }

    /// The running journal, if any.
    #[cfg(feature = "persist")]
    pub(crate) fn journal_handle(&self) -> Option<&crate::output::journal::JournalHandle> {
        self.inner.journal.as_ref()
    }
}

impl ProfileSource for PerformanceProfiler {
    fn snapshot(&self) -> Profile {
        PerformanceProfiler::snapshot(self)
    }
}
