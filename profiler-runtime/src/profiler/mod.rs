//! [`PerformanceProfiler`]: the handle users hold. Cheap to clone; every method takes `&self`.
//!
//! It wires the recorder ([`crate::record`]) to a subscriber and offers the API: sessions
//! (`sessions`), closures run as events (`function`), snapshots, and, with their features,
//! reports, charts, save/load and scaling studies.

mod builder;
mod function;
mod sessions;
#[cfg(feature = "analysis")]
mod study;

use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::Registry;

use crate::error::ProfileError;
use crate::model::profile::{Profile, ProfileSource, SessionRecord, FORMAT_VERSION};
use crate::model::session::ActiveSession;
use crate::model::system::SystemInfo;
use crate::record::alloc;
use crate::record::collector::{lock, Collector};
use crate::record::layer::ProfilerLayer;
#[cfg(feature = "monitor")]
use crate::sys::monitor::Monitor;

pub use builder::{
    ProfilerBuilder, DEFAULT_MAX_OPERATIONS, DEFAULT_MONITOR_INTERVAL, DEFAULT_RAW_CAPACITY,
};
pub use function::{AlgorithmResults, FunctionMetrics, MemorySource};
#[cfg(feature = "analysis")]
pub use study::{
    ScalingMeasurement, ScalingOutcome, ScalingResults, ScalingStudy, SeriesFit, StudyRun,
    ThreadScaling,
};

#[derive(Default)]
struct SessionBook {
    active: Vec<ActiveSession>,
    finished: Vec<SessionRecord>,
}

impl SessionBook {
    /// Every session, finished then running.
    fn records(&self) -> Vec<SessionRecord> {
        let mut s = self.finished.clone();
        s.extend(self.active.iter().map(|a| SessionRecord {
            name: a.name.clone(),
            start_ns: a.start_ns,
            end_ns: None,
            events_count: None,
        }));
        s
    }
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
    loaded: Mutex<Option<Profile>>,
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

    /// Installs [`subscriber`](Self::subscriber) as the process's global default.
    pub fn install(&self) -> Result<(), ProfileError> {
        tracing::subscriber::set_global_default(self.subscriber())
            .map_err(|_| ProfileError::AlreadyInstalled)
    }

    /// Runs `f` with this profiler's [`subscriber`](Self::subscriber) as the calling thread's
    /// default (other threads are unaffected): for tests, and for profiling one part of a
    /// program without a global install.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::subscriber::with_default(self.subscriber(), f)
    }

    /// Everything so far: events, exact aggregates, samples, sessions, system info.
    pub fn snapshot(&self) -> Profile {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let c = &self.inner.collector;
        let snap = c.snapshot();
        let sessions = lock(&self.inner.sessions).records();
        let system = self.inner.system.get_or_init(SystemInfo::collect).clone();
        let process =
            crate::sys::this_process(&system.hostname, c.clock.epoch_unix_ns(), c.clock.source());
        let live = Profile {
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
        };
        match &*lock(&self.inner.loaded) {
            Some(loaded) => crate::model::merge::merge(loaded, live),
            None => live,
        }
    }

    /// The performance report over everything so far.
    #[cfg(feature = "analysis")]
    pub fn get_performance_report(&self) -> crate::report::PerformanceReport {
        let _own = crate::record::alloc::OwnAllocations::begin();
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

    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    pub(crate) fn set_loaded(&self, profile: Profile) {
        *lock(&self.inner.loaded) = Some(profile);
    }
}

impl ProfileSource for PerformanceProfiler {
    fn snapshot(&self) -> Profile {
        PerformanceProfiler::snapshot(self)
    }
}
