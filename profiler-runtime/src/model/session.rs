//! Sessions: named time windows over the event stream, computed as the difference of exact
//! aggregates read at start and at stop, so their counts are exact even where raw events were
//! dropped.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::counters::HardwareCounters;
use crate::model::event::{EventKind, ProfileEvent};
use crate::model::stats::OperationStats;

/// Summary figures of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsSummary {
    /// Mean wall time of the events in the window.
    pub average_event_time: Duration,
    /// Events in the window (exact).
    pub total_events: u64,
    /// Events in the window by kind (exact).
    pub events_by_kind: BTreeMap<EventKind, u64>,
    /// Sum of `energy_pj` over the window's events (exact).
    pub total_energy_pj: f64,
    /// Bytes allocated within the window's spans (where a counting allocator is installed).
    pub allocated_bytes: Option<u64>,
    /// Events in the window whose raw record was not kept (bounded buffer).
    pub dropped_events: u64,
    /// Per-operation aggregates over the window, slowest total first.
    pub operations: Vec<OperationStats>,
}

/// What `stop_profiling` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionResults {
    /// The session's name.
    pub session_name: String,
    /// Start, ns since the profiler started.
    pub start_ns: u64,
    /// Wall time from start to stop.
    pub total_time: Duration,
    /// Events closed within the window: exact, even where raw events were dropped.
    pub events_count: u64,
    /// Mean wall time of those events.
    pub average_event_time: Duration,
    /// Peak RSS seen during the session (monitor samples and a reading at stop), bytes.
    pub peak_memory_bytes: u64,
    /// The window's raw events that the bounded buffer kept, in start order.
    pub events: Vec<ProfileEvent>,
    /// Summary figures.
    pub metrics_summary: MetricsSummary,
    /// What the profiler could not see in this window, in words (empty when all is well):
    /// see [`PerformanceProfiler::warnings`](crate::PerformanceProfiler::warnings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Cycles, instructions and cache references and misses over the session (the thread that
    /// started it and the threads it started meanwhile), or why they are unavailable.
    #[serde(default)]
    pub hardware_counters: Option<HardwareCounters>,
}

/// A running session.
pub(crate) struct ActiveSession {
    pub name: String,
    pub start_ns: u64,
    pub baseline: Vec<OperationStats>,
}

/// Per-operation aggregates of `now` less `baseline` (matched by name and kind).
pub(crate) fn window(now: &[OperationStats], baseline: &[OperationStats]) -> Vec<OperationStats> {
    let base: BTreeMap<(&str, EventKind), &OperationStats> =
        baseline.iter().map(|o| ((&*o.name, o.kind), o)).collect();
    let mut out: Vec<OperationStats> = now
        .iter()
        .map(|o| match base.get(&(&*o.name, o.kind)) {
            Some(b) => o.since(b),
            None => o.clone(),
        })
        .filter(|o| o.count > 0)
        .collect();
    out.sort_by(|a, b| {
        b.total_ns
            .cmp(&a.total_ns)
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}
