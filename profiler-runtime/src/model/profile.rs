//! [`Profile`]: one snapshot of everything a profiler knows. The analyzer, the reports, the
//! charts, the exporters and the JSON file all read this one type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::counters::HardwareCounters;
use crate::model::event::{EventKind, ProfileEvent};
use crate::model::otlp_status::OtlpStatus;
use crate::model::process::ProcessRecord;
use crate::model::sample::MonitorSample;
use crate::model::stats::{saturating_fadd, saturating_sum, OperationStats};
use crate::model::system::SystemInfo;

/// The version of the profile schema this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// A thread that recorded events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadInfo {
    /// The profiler's id for it (as in [`ProfileEvent::thread_id`]).
    pub id: u64,
    /// Its name, or `thread-N`.
    pub name: String,
}

/// A profiling session: a named time window over the event stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The session's name.
    pub name: String,
    /// Start, ns since the profiler started.
    pub start_ns: u64,
    /// End, ns since the profiler started; `None` while running.
    pub end_ns: Option<u64>,
    /// Events closed within the window (exact); `None` while running.
    pub events_count: Option<u64>,
    /// Hardware counters over the session, or why there are none; `None` while running (and
    /// in files written before they existed).
    #[serde(default)]
    pub hardware_counters: Option<HardwareCounters>,
}

/// Anything that can produce a [`Profile`] of its data as it is now: a live
/// [`PerformanceProfiler`](crate::PerformanceProfiler), or a wrapper of your own. The analysis
/// takes one of these where it must see new data at each call, so it never depends on the
/// profiler handle itself.
pub trait ProfileSource {
    /// A consistent snapshot of everything so far.
    fn snapshot(&self) -> Profile;
}

/// A snapshot of a profiler: events, exact aggregates, monitor samples, sessions, system info.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Schema version ([`FORMAT_VERSION`] when written by this build).
    pub format_version: u64,
    /// Wall-clock time at which `start_ns = 0`, ns since the Unix epoch.
    pub started_at_unix_ns: u64,
    /// When the snapshot was taken, ns since the profiler started.
    pub duration_ns: u64,
    /// The machine.
    pub system: SystemInfo,
    /// Whether a `CountingAllocator` was installed (per-span memory known).
    pub alloc_tracking: bool,
    /// Capacity of the raw event buffer.
    pub raw_capacity: usize,
    /// Raw events dropped from the bounded buffer (aggregates still count them).
    pub dropped_events: u64,
    /// The processes whose recording this is: the one that took a snapshot (host name, pid,
    /// process start, clock source), or every input of [`Profile::merge`]. Empty in files
    /// written before profiles named their process.
    #[serde(default)]
    pub processes: Vec<ProcessRecord>,
    /// What the live OTLP stream ([`ProfilerBuilder::otlp`](crate::ProfilerBuilder::otlp))
    /// sent and dropped so far; `None` without one.
    #[serde(default)]
    pub otlp: Option<OtlpStatus>,
    /// Threads that recorded events.
    pub threads: Vec<ThreadInfo>,
    /// Sessions, finished and running.
    pub sessions: Vec<SessionRecord>,
    /// Exact per-operation aggregates over every event, dropped or not.
    pub operations: Vec<OperationStats>,
    /// Monitor samples (RSS, CPU%), in time order.
    pub samples: Vec<MonitorSample>,
    /// The raw events kept, ordered by start time.
    pub events: Vec<ProfileEvent>,
    /// What the profiler could not see when the snapshot was taken, in words: a profiler never
    /// attached to a subscriber, `#[profile]` spans a filter disabled (see
    /// [`PerformanceProfiler::warnings`](crate::PerformanceProfiler::warnings)). Saved with the
    /// profile, so `rram-prof report` shows them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Power of one busy core for the modelled CPU energy, W, as set with
    /// [`ProfilerBuilder::cpu_watts`](crate::ProfilerBuilder::cpu_watts); `None`: the default
    /// ([`DEFAULT_WATTS_PER_CORE`](crate::model::energy::DEFAULT_WATTS_PER_CORE)).
    #[serde(default)]
    pub cpu_watts_per_core: Option<f64>,
    /// Growth of the program's live heap (every thread, allocated less freed through the
    /// `CountingAllocator`, the profiler's own allocations left out) from the profiler's start
    /// (or the last [`load_profile_data`](crate::PerformanceProfiler::load_profile_data)) to
    /// the snapshot: what stayed allocated over the profile, where a leak must show. `None`
    /// without a counting allocator, and for merged profiles.
    #[serde(default)]
    pub heap_growth_bytes: Option<i64>,
}

impl Profile {
    /// An empty profile (no events), e.g. as a starting point for tests and tools.
    pub fn empty() -> Self {
        Profile {
            format_version: FORMAT_VERSION,
            started_at_unix_ns: 0,
            duration_ns: 0,
            system: SystemInfo::default(),
            alloc_tracking: false,
            raw_capacity: 0,
            dropped_events: 0,
            processes: Vec::new(),
            otlp: None,
            threads: Vec::new(),
            sessions: Vec::new(),
            operations: Vec::new(),
            samples: Vec::new(),
            events: Vec::new(),
            warnings: Vec::new(),
            cpu_watts_per_core: None,
            heap_growth_bytes: None,
        }
    }

    /// Total events (exact: from the aggregates, including dropped raw events).
    /// Saturates at `u64::MAX` rather than wrap.
    pub fn total_events(&self) -> u64 {
        saturating_sum(self.operations.iter().map(|o| o.count))
    }

    /// The aggregates of the operation named `name` (all kinds merged).
    pub fn operation(&self, name: &str) -> Option<OperationStats> {
        let mut it = self.operations.iter().filter(|o| &*o.name == name);
        let mut first = it.next()?.clone();
        for o in it {
            first.merge(o);
        }
        Some(first)
    }

    /// Events by kind (exact).
    pub fn event_counts_by_kind(&self) -> BTreeMap<EventKind, u64> {
        let mut m = BTreeMap::new();
        for o in &self.operations {
            let n: &mut u64 = m.entry(o.kind).or_insert(0);
            *n = n.saturating_add(o.count);
        }
        m
    }

    /// The kept raw events named `name`, in start order.
    pub fn events_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a ProfileEvent> + 'a {
        self.events.iter().filter(move |e| &*e.name == name)
    }

    /// Sum of a metric over every operation (exact, from aggregates).
    pub fn metric_total(&self, key: &str) -> f64 {
        self.operations
            .iter()
            .fold(0.0, |t, o| saturating_fadd(t, o.metric_sum(key)))
    }

    /// The span path of event `event_id`: the names of its outermost ancestor down to itself.
    /// Ancestors not kept in [`events`](Self::events) end the path where the chain breaks;
    /// an unknown id gives an empty path.
    ///
    /// ```
    /// use profiler_runtime::{EventKind, Profile, ProfileEvent};
    /// let mut p = Profile::empty();
    /// let solve = ProfileEvent::new(1, "hp_inv".into(), EventKind::Computation, 1, 0, 100);
    /// let mut step = ProfileEvent::new(2, "hp_inv.iteration".into(), EventKind::AlgorithmStep, 1, 10, 20);
    /// step.parent = Some(1);
    /// p.events = vec![solve, step];
    /// assert_eq!(p.stack_of(2), ["hp_inv", "hp_inv.iteration"]);
    /// assert!(p.stack_of(7).is_empty());
    /// ```
    pub fn stack_of(&self, event_id: u64) -> Vec<&str> {
        let by_id: std::collections::HashMap<u64, &ProfileEvent> =
            self.events.iter().map(|e| (e.id, e)).collect();
        let mut path = Vec::new();
        let mut next = by_id.get(&event_id).copied();
        // At most one step per event: a malformed (cyclic) chain cannot loop forever.
        while let Some(e) = next {
            if path.len() >= self.events.len() {
                break;
            }
            path.push(&*e.name);
            next = e.parent.and_then(|p| by_id.get(&p).copied());
        }
        path.reverse();
        path
    }

    /// The profile's warnings, and one more when it has no events at all (`total_events`):
    /// what reports and analyses print first.
    #[cfg_attr(not(feature = "analysis"), allow(dead_code))]
    pub(crate) fn warnings_for_readers(&self, total_events: u64) -> Vec<String> {
        let mut w = self.warnings.clone();
        let standalone = self
            .operations
            .iter()
            .filter(|o| &*o.name == crate::contract::STANDALONE_METRICS)
            .fold(0u64, |n, o| n.saturating_add(o.count));
        if standalone > 0 {
            w.push(format!(
                "{standalone} `metrics!` call(s) ran outside any profiled span and were recorded as \
                 standalone `{}` events, so their values (energy included) belong to no \
                 operation: call them inside a `#[profile]` function or a `profile_scope!`",
                crate::contract::STANDALONE_METRICS
            ));
        }
        if total_events == 0 && w.is_empty() {
            w.push(
                "no events were recorded: no `#[profile]` function, `record_event` or \
                 `profile_function` ran while this profiler was recording"
                    .to_owned(),
            );
        }
        w
    }

    /// Peak RSS among the monitor's samples, bytes.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        self.samples.iter().map(|s| s.rss_bytes).max()
    }
}
