//! `profile_function` and `profile_algorithm`: a closure run as one event (a virtual frame on
//! this thread's stack, so spans opened inside become its children), with its time and memory.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::event::{AllocStats, EventKind};
use crate::model::session::{MetricsSummary, SessionResults};
use crate::record::alloc;
use crate::record::collector::Collector;
use crate::record::frame::Frame;
use crate::record::ids::SpanKey;
use crate::record::slot::with_slot;
use crate::sys::rss::current_rss_bytes;

use super::PerformanceProfiler;

/// Where a memory figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemorySource {
    /// The `CountingAllocator`: exact heap bytes (of the calling thread for
    /// `profile_function`'s `memory_delta_bytes`, of every thread for a `ScalingStudy`).
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
    /// Full heap traffic of the calling thread; `None` without a `CountingAllocator`.
    pub alloc: Option<AllocStats>,
    /// Heap traffic of the whole process (every thread: workers the call started, thread
    /// pools, and anything else running meanwhile) during the call; `None` without a
    /// `CountingAllocator`.
    #[serde(default)]
    pub process_alloc: Option<AllocStats>,
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
            let (parent, parent_span) = slot.innermost_open();
            let span = slot.next_virtual_span();
            let event_id = slot.next_event_id();
            slot.push_entered(span);
            let frame = slot.open_frame(span, event_id, parent, parent_span, op);
            // The call counts every thread's allocations (the event's `process_alloc`).
            frame.opts = Frame::PROCESS_ALLOC;
            frame.enter(c.clock.raw());
            span
        });
        let mut guard = VirtualGuard {
            collector: c.clone(),
            span,
            done: false,
        };
        let r = f();
        let (alloc, process_alloc) = guard.finish(false);
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
                process_alloc,
                memory_source,
            },
        )
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
        warnings: vec![format!(
            "session `{name}` was stopped by the profiled code itself, so its results are empty"
        )],
        hardware_counters: None,
    }
}

/// Closes a `profile_function` frame, also when `f` panics.
struct VirtualGuard {
    collector: Arc<Collector>,
    span: Option<SpanKey>,
    done: bool,
}

impl VirtualGuard {
    /// Closes the frame; returns the calling thread's and the whole process's heap traffic.
    fn finish(&mut self, panicked: bool) -> (Option<AllocStats>, Option<AllocStats>) {
        self.done = true;
        let Some(span) = self.span else {
            return (None, None);
        };
        let c = &self.collector;
        let now = c.clock.raw();
        with_slot(c, |slot| {
            let _own = alloc::OwnAllocations::begin();
            let mut frame = slot.take_frame(span)?;
            frame.exit(now);
            slot.pop_entered(span);
            let alloc = alloc::is_active().then_some(frame.alloc);
            let process = frame.process_alloc();
            let parent_span = frame.parent_span;
            let wall = slot.close_frame(c, frame, panicked);
            if let Some(parent) = slot.frame_mut(parent_span) {
                parent.credit_child(wall, &c.clock);
            }
            Some((alloc, process))
        })
        .flatten()
        .unwrap_or((None, None))
    }
}

impl Drop for VirtualGuard {
    fn drop(&mut self) {
        if !self.done {
            self.finish(std::thread::panicking());
        }
    }
}
