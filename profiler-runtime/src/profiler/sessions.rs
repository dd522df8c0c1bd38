//! Sessions (`start_profiling` / `stop_profiling`) and `record_event`.

use std::borrow::Cow;
use std::time::Duration;

use crate::error::ProfileError;
use crate::macro_support::MetricValue;
use crate::model::event::EventKind;
use crate::model::profile::SessionRecord;
use crate::model::session::{window, ActiveSession, MetricsSummary, SessionResults};
use crate::record::alloc;
use crate::record::collector::lock;
use crate::record::frame::Frame;
use crate::record::ids::SpanKey;
use crate::record::slot::with_slot;
use crate::sys::perf::SessionCounters;
use crate::sys::rss::current_rss_bytes;

use super::PerformanceProfiler;

impl PerformanceProfiler {
    /// Starts a session named `name`. Sessions may overlap and nest; starting a name that is
    /// already running nests a new window under the same name (stopped innermost first).
    pub fn start_profiling(&self, name: impl Into<String>) {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let counters = SessionCounters::start();
        let baseline = self.inner.collector.aggregates();
        let start_ns = self.inner.collector.clock.now_ns();
        lock(&self.inner.sessions).active.push((
            ActiveSession {
                name: name.into(),
                start_ns,
                baseline,
            },
            counters,
        ));
    }

    /// Stops the innermost running session named `name` and returns its results.
    ///
    /// The results are not charged to the calling thread's spans (they are the caller's in the
    /// process-wide heap, like every value the profiler returns).
    pub fn stop_profiling(&self, name: &str) -> Result<SessionResults, ProfileError> {
        let _returned = crate::record::alloc::OwnAllocations::returned();
        let c = &self.inner.collector;
        let (session, counters) = {
            let mut book = lock(&self.inner.sessions);
            let i = book
                .active
                .iter()
                .rposition(|(s, _)| s.name == name)
                .ok_or_else(|| ProfileError::NoSuchSession(name.to_owned()))?;
            book.active.remove(i)
        };
        let hardware_counters = counters.read();
        let ActiveSession {
            start_ns, baseline, ..
        } = session;
        let snap = c.snapshot();
        let end_ns = c.clock.now_ns();
        let ops = window(&snap.operations, &baseline);
        {
            // The session's own state goes as it came: as the profiler's.
            let _own = crate::record::alloc::OwnAllocations::begin();
            drop(baseline);
            drop(counters);
        }
        let events_count: u64 = ops.iter().map(|o| o.count).sum();
        let total_ns: u64 = ops.iter().map(|o| o.total_ns).sum();
        let events: Vec<_> = snap
            .events
            .into_iter()
            .filter(|e| e.end_ns >= start_ns && e.end_ns <= end_ns)
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
            .filter(|s| s.t_ns >= start_ns && s.t_ns <= end_ns)
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
            start_ns,
            total_time: Duration::from_nanos(end_ns.saturating_sub(start_ns)),
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
            warnings: self.warnings(events_count),
            hardware_counters: Some(hardware_counters.clone()),
        };
        let _own = crate::record::alloc::OwnAllocations::begin();
        lock(&self.inner.sessions).finished.push(SessionRecord {
            name: name.to_owned(),
            start_ns,
            end_ns: Some(end_ns),
            events_count: Some(events_count),
            hardware_counters: Some(hardware_counters),
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
            let (parent, parent_span) = slot.innermost_open();
            let mut frame =
                Frame::new(SpanKey::NONE, slot.next_event_id(), parent, parent_span, op);
            for (k, v) in metrics {
                frame.add_metric(Cow::Owned(k.as_ref().to_owned()), v.metric_value());
            }
            slot.close_frame(c, frame, false);
        });
    }
}
