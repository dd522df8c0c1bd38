//! [`PerformanceProfiler`]: the handle users hold. Cheap to clone; every method takes `&self`.

use std::borrow::Cow;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::Registry;

use crate::alloc;
use crate::collector::{lock, Collector};
use crate::error::ProfileError;
use crate::event::{AllocStats, EventKind};
use crate::frame::Frame;
use crate::layer::ProfilerLayer;
use crate::local::{with_slot, ThreadSlot};
use crate::macro_support::MetricValue;
use crate::monitor::{current_rss_bytes, Monitor};
use crate::profile::{Profile, SessionRecord, FORMAT_VERSION};
use crate::report::PerformanceReport;
use crate::session::{window, ActiveSession, MetricsSummary, SessionResults};
use crate::system::SystemInfo;

/// Default capacity of the raw event buffer.
pub const DEFAULT_RAW_CAPACITY: usize = 262_144;
/// Default interval of the background monitor.
pub const DEFAULT_MONITOR_INTERVAL: Duration = Duration::from_millis(100);

/// Configures a [`PerformanceProfiler`].
///
/// ```
/// use std::time::Duration;
/// let profiler = profiler_runtime::PerformanceProfiler::builder()
///     .raw_capacity(1_000_000)
///     .monitor_interval(Duration::from_millis(50))
///     .build()
///     .unwrap();
/// # drop(profiler);
/// ```
#[derive(Debug, Clone)]
pub struct ProfilerBuilder {
    raw_capacity: usize,
    monitor_interval: Option<Duration>,
}

impl Default for ProfilerBuilder {
    fn default() -> Self {
        ProfilerBuilder {
            raw_capacity: DEFAULT_RAW_CAPACITY,
            monitor_interval: Some(DEFAULT_MONITOR_INTERVAL),
        }
    }
}

impl ProfilerBuilder {
    /// How many raw events to keep for timelines (the newest are kept; the rest are counted as
    /// dropped). Aggregates never drop anything. 0 keeps none.
    pub fn raw_capacity(mut self, events: usize) -> Self {
        self.raw_capacity = events;
        self
    }

    /// How often the monitor samples RSS and CPU% (default 100 ms; at least 1 ms).
    pub fn monitor_interval(mut self, every: Duration) -> Self {
        self.monitor_interval = Some(every);
        self
    }

    /// No background monitor thread (no RSS/CPU samples).
    pub fn without_monitor(mut self) -> Self {
        self.monitor_interval = None;
        self
    }

    /// Builds the profiler and starts its monitor.
    pub fn build(self) -> Result<PerformanceProfiler, ProfileError> {
        if let Some(i) = self.monitor_interval {
            if i < Duration::from_millis(1) {
                return Err(ProfileError::InvalidConfig(format!(
                    "monitor_interval must be at least 1 ms, got {i:?}"
                )));
            }
        }
        let collector = Collector::new(self.raw_capacity);
        let monitor = match self.monitor_interval {
            Some(i) => Some(Monitor::start(collector.clone(), i)?),
            None => None,
        };
        Ok(PerformanceProfiler {
            inner: Arc::new(Inner {
                collector,
                raw_capacity: self.raw_capacity,
                sessions: Mutex::new(SessionBook::default()),
                system: OnceLock::new(),
                loaded: Mutex::new(None),
                _monitor: monitor,
            }),
        })
    }
}

#[derive(Default)]
struct SessionBook {
    active: Vec<ActiveSession>,
    finished: Vec<SessionRecord>,
}

struct Inner {
    collector: Arc<Collector>,
    raw_capacity: usize,
    sessions: Mutex<SessionBook>,
    system: OnceLock<SystemInfo>,
    loaded: Mutex<Option<Profile>>,
    // Dropped last-but-not-least: stops and joins the monitor thread.
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

/// Where a memory figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemorySource {
    /// The `CountingAllocator`: exact heap bytes on the calling thread.
    Allocator,
    /// Process RSS before and after: coarse, includes other threads.
    Rss,
    /// Neither was available.
    Unknown,
}

/// What `profile_function` measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionMetrics {
    /// Wall time of the call.
    pub execution_time: Duration,
    /// Net memory growth over the call, bytes (negative when it freed more than it allocated).
    pub memory_delta_bytes: i64,
    /// Bytes allocated during the call; `None` without a `CountingAllocator`.
    pub allocated_bytes: Option<u64>,
    /// Full heap traffic; `None` without a `CountingAllocator`.
    pub alloc: Option<AllocStats>,
    /// Where `memory_delta_bytes` came from.
    pub memory_source: MemorySource,
}

/// What `profile_algorithm` measured: the session over the run, plus the call's own metrics.
/// Derefs to its [`SessionResults`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlgorithmResults {
    /// The session that covered the run.
    pub session_results: SessionResults,
    /// The top-level call.
    pub function: FunctionMetrics,
}

impl Deref for AlgorithmResults {
    type Target = SessionResults;
    fn deref(&self) -> &SessionResults {
        &self.session_results
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

    /// Starts a session named `name`. Sessions may overlap and nest; starting a name that is
    /// already running nests a new window under the same name (stopped innermost first).
    pub fn start_profiling(&self, name: impl Into<String>) {
        let _own = crate::alloc::OwnAllocations::begin();
        let baseline = self.inner.collector.aggregates();
        let start_ns = self.inner.collector.clock.now_ns();
        lock(&self.inner.sessions).active.push(ActiveSession {
            name: name.into(),
            start_ns,
            baseline,
        });
    }

    /// Stops the innermost running session named `name` and returns its results.
    pub fn stop_profiling(&self, name: &str) -> Result<SessionResults, ProfileError> {
        let _own = crate::alloc::OwnAllocations::begin();
        let c = &self.inner.collector;
        let session = {
            let mut book = lock(&self.inner.sessions);
            let i = book
                .active
                .iter()
                .rposition(|s| s.name == name)
                .ok_or_else(|| ProfileError::NoSuchSession(name.to_owned()))?;
            book.active.remove(i)
        };
        let snap = c.snapshot();
        let end_ns = c.clock.now_ns();
        let ops = window(&snap.operations, &session.baseline);
        let events_count: u64 = ops.iter().map(|o| o.count).sum();
        let total_ns: u64 = ops.iter().map(|o| o.total_ns).sum();
        let events: Vec<_> = snap
            .events
            .into_iter()
            .filter(|e| e.end_ns >= session.start_ns && e.end_ns <= end_ns)
            .collect();
        let mut events_by_kind = std::collections::BTreeMap::new();
        for o in &ops {
            *events_by_kind.entry(o.kind).or_insert(0) += o.count;
        }
        let average_event_time =
            Duration::from_nanos(total_ns.checked_div(events_count).unwrap_or(0));
        let sampled_peak = snap
            .samples
            .iter()
            .filter(|s| s.t_ns >= session.start_ns && s.t_ns <= end_ns)
            .map(|s| s.rss_bytes)
            .max()
            .unwrap_or(0);
        let peak_memory_bytes = sampled_peak.max(current_rss_bytes().unwrap_or(0));
        let allocated_bytes = if snap.operations.is_empty() || !alloc::is_active() {
            None
        } else {
            // Top-level spans only would avoid double counting; inclusive sums of roots:
            Some(
                events
                    .iter()
                    .filter(|e| e.parent.is_none())
                    .filter_map(|e| e.alloc.map(|a| a.allocated_bytes))
                    .sum(),
            )
        };
        let results = SessionResults {
            session_name: name.to_owned(),
            start_ns: session.start_ns,
            total_time: Duration::from_nanos(end_ns.saturating_sub(session.start_ns)),
            events_count,
            average_event_time,
            peak_memory_bytes,
            metrics_summary: MetricsSummary {
                average_event_time,
                total_events: events_count,
                events_by_kind,
                total_energy_pj: ops.iter().map(|o| o.metric_sum("energy_pj")).sum(),
                allocated_bytes,
                dropped_events: events_count.saturating_sub(events.len() as u64),
                operations: ops,
            },
            events,
        };
        lock(&self.inner.sessions).finished.push(SessionRecord {
            name: name.to_owned(),
            start_ns: session.start_ns,
            end_ns: Some(end_ns),
            events_count: Some(events_count),
        });
        Ok(results)
    }

    /// Records a standalone, zero-length event with metrics, as a child of the innermost open
    /// span of this profiler on this thread (if any).
    ///
    /// ```
    /// use profiler_runtime::{EventKind, PerformanceProfiler};
    /// let p = PerformanceProfiler::new();
    /// p.record_event("calibration", EventKind::HardwareAccess, [("energy_pj", 3.5), ("cells", 64.0)]);
    /// assert_eq!(p.snapshot().events[0].metric("cells"), Some(64.0));
    /// ```
    pub fn record_event<K, V, I>(&self, name: &str, kind: EventKind, metrics: I)
    where
        K: AsRef<str>,
        V: MetricValue,
        I: IntoIterator<Item = (K, V)>,
    {
        let c = &self.inner.collector;
        let op = c.intern(name, kind);
        with_slot(c, |slot| {
            let _own = alloc::OwnAllocations::begin();
            let (parent, parent_span) = innermost_local(slot);
            let mut frame = Frame::new(0, slot.next_event_id(), parent, parent_span, op);
            for (k, v) in metrics {
                frame.add_metric(Cow::Owned(k.as_ref().to_owned()), v.metric_value());
            }
            slot.emit(c, frame, false);
        });
    }

    /// Runs `f` as an event named `name` (kind `function_call`) and returns its result with
    /// the call's time and memory. Spans opened inside become its children. Works whether or
    /// not the layer is installed.
    pub fn profile_function<R>(&self, name: &str, f: impl FnOnce() -> R) -> (R, FunctionMetrics) {
        self.run_framed(name, EventKind::FunctionCall, f)
    }

    /// Runs `f` inside a session named `name` (and an event of kind `computation`), and
    /// returns its result with the session's results.
    pub fn profile_algorithm<R>(&self, name: &str, f: impl FnOnce() -> R) -> (R, AlgorithmResults) {
        self.start_profiling(name);
        let (r, function) = self.run_framed(name, EventKind::Computation, f);
        let session_results = match self.stop_profiling(name) {
            Ok(s) => s,
            Err(_) => unreachable_session(name),
        };
        (
            r,
            AlgorithmResults {
                session_results,
                function,
            },
        )
    }

    fn run_framed<R>(
        &self,
        name: &str,
        kind: EventKind,
        f: impl FnOnce() -> R,
    ) -> (R, FunctionMetrics) {
        let c = self.inner.collector.clone();
        let op = c.intern(name, kind);
        let rss_before = if alloc::is_active() {
            None
        } else {
            current_rss_bytes()
        };
        let t0 = std::time::Instant::now();
        let span = with_slot(&c, |slot| {
            let _own = alloc::OwnAllocations::begin();
            let (parent, parent_span) = innermost_local(slot);
            let span = slot.next_virtual_span();
            let event_id = slot.next_event_id();
            slot.push_entered(span);
            let frame = slot.push_frame(span, event_id, parent, parent_span, op);
            frame.enter(c.clock.raw());
            span
        });
        let mut guard = VirtualGuard {
            collector: c.clone(),
            span,
            done: false,
        };
        let r = f();
        let alloc = guard.finish(false);
        let execution_time = t0.elapsed();
        let (memory_delta_bytes, memory_source) = match (alloc, rss_before) {
            (Some(a), _) => (a.net_bytes(), MemorySource::Allocator),
            (None, Some(before)) => match current_rss_bytes() {
                Some(after) => (after as i64 - before as i64, MemorySource::Rss),
                None => (0, MemorySource::Unknown),
            },
            (None, None) => (0, MemorySource::Unknown),
        };
        (
            r,
            FunctionMetrics {
                execution_time,
                memory_delta_bytes,
                allocated_bytes: alloc.map(|a| a.allocated_bytes),
                alloc,
                memory_source,
            },
        )
    }

    /// Everything so far: events, exact aggregates, samples, sessions, system info.
    pub fn snapshot(&self) -> Profile {
        let _own = crate::alloc::OwnAllocations::begin();
        let c = &self.inner.collector;
        let snap = c.snapshot();
        let sessions = {
            let book = lock(&self.inner.sessions);
            let mut s = book.finished.clone();
            s.extend(book.active.iter().map(|a| SessionRecord {
                name: a.name.clone(),
                start_ns: a.start_ns,
                end_ns: None,
                events_count: None,
            }));
            s
        };
        let live = Profile {
            format_version: FORMAT_VERSION,
            started_at_unix_ns: c.clock.epoch_unix_ns(),
            duration_ns: c.clock.now_ns(),
            system: self.inner.system.get_or_init(SystemInfo::collect).clone(),
            alloc_tracking: alloc::is_active(),
            raw_capacity: self.inner.raw_capacity,
            dropped_events: snap.dropped,
            threads: snap.threads,
            sessions,
            operations: snap.operations,
            samples: snap.samples,
            events: snap.events,
        };
        match &*lock(&self.inner.loaded) {
            Some(loaded) => crate::profile_merge::merge(loaded, live),
            None => live,
        }
    }

    /// The performance report over everything so far.
    pub fn get_performance_report(&self) -> PerformanceReport {
        let _own = crate::alloc::OwnAllocations::begin();
        PerformanceReport::from_profile(&self.snapshot())
    }

    pub(crate) fn set_loaded(&self, profile: Profile) {
        *lock(&self.inner.loaded) = Some(profile);
    }
}

fn unreachable_session(name: &str) -> SessionResults {
    // `profile_algorithm` started the session itself; it can only be missing if `f` stopped
    // it, in which case the run still has an (empty) result.
    SessionResults {
        session_name: name.to_owned(),
        start_ns: 0,
        total_time: Duration::ZERO,
        events_count: 0,
        average_event_time: Duration::ZERO,
        peak_memory_bytes: 0,
        events: Vec::new(),
        metrics_summary: MetricsSummary {
            average_event_time: Duration::ZERO,
            total_events: 0,
            events_by_kind: Default::default(),
            total_energy_pj: 0.0,
            allocated_bytes: None,
            dropped_events: 0,
            operations: Vec::new(),
        },
    }
}

/// The innermost open frame on this thread: (its event id, its span id), 0 for none.
fn innermost_local(slot: &mut ThreadSlot) -> (u64, u64) {
    let top = slot.entered.last().copied().unwrap_or(0);
    match slot.frame_mut(top).map(|f| f.event_id) {
        Some(ev) => (ev, top),
        None => (0, 0),
    }
}

/// Closes a `profile_function` frame, also when `f` panics.
struct VirtualGuard {
    collector: Arc<Collector>,
    span: Option<u64>,
    done: bool,
}

impl VirtualGuard {
    fn finish(&mut self, panicked: bool) -> Option<AllocStats> {
        self.done = true;
        let span = self.span?;
        let c = &self.collector;
        let now = c.clock.raw();
        with_slot(c, |slot| {
            let _own = alloc::OwnAllocations::begin();
            let mut frame = slot.take_frame(span)?;
            frame.exit(now);
            slot.pop_entered(span);
            let alloc = alloc::is_active().then_some(frame.alloc);
            let parent_span = frame.parent_span;
            let wall = slot.emit(c, frame, panicked);
            if let Some(parent) = slot.frame_mut(parent_span) {
                parent.credit_child(wall, &c.clock);
            }
            alloc
        })
        .flatten()
    }
}

impl Drop for VirtualGuard {
    fn drop(&mut self) {
        if !self.done {
            self.finish(std::thread::panicking());
        }
    }
}
