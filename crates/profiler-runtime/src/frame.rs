//! Per-span state while a span is open, and how it becomes a [`RawEvent`].

use std::borrow::Cow;

use crate::alloc;
use crate::clock::ProfClock;
use crate::collector::{MetricBuf, RawEvent};
use crate::event::AllocStats;

/// State of one open span (or one `profile_function` call).
#[derive(Debug)]
pub(crate) struct Frame {
    /// The tracing span id (`Id::into_u64`), or a virtual id for `profile_function`.
    pub span: u64,
    pub event_id: u64,
    pub parent: Option<u64>,
    /// The parent's span id, to credit it with this span's wall time (self time).
    pub parent_span: Option<u64>,
    pub op: u32,
    /// Raw clock reading of the first enter (0: never entered).
    pub start_raw: u64,
    pub enter_raw: u64,
    pub last_exit_raw: u64,
    pub busy_ns: u64,
    /// Wall time of closed same-thread children.
    pub child_ns: u64,
    pub depth: u32,
    pub alloc_at_enter: Option<AllocStats>,
    pub alloc: Option<AllocStats>,
    pub metrics: MetricBuf,
    pub error: Option<Box<str>>,
}

impl Frame {
    pub(crate) fn new(
        span: u64,
        event_id: u64,
        parent: Option<u64>,
        parent_span: Option<u64>,
        op: u32,
    ) -> Self {
        Frame {
            span,
            event_id,
            parent,
            parent_span,
            op,
            start_raw: 0,
            enter_raw: 0,
            last_exit_raw: 0,
            busy_ns: 0,
            child_ns: 0,
            depth: 0,
            alloc_at_enter: None,
            alloc: None,
            metrics: MetricBuf::new(),
            error: None,
        }
    }

    /// Marks an enter at raw time `now`.
    #[inline(always)]
    pub(crate) fn enter(&mut self, now: u64) {
        if self.depth == 0 {
            if self.start_raw == 0 {
                self.start_raw = now;
            }
            self.enter_raw = now;
            self.alloc_at_enter = alloc::thread_counters();
        }
        self.depth += 1;
    }

    /// Marks an exit at raw time `now`.
    #[inline(always)]
    pub(crate) fn exit(&mut self, now: u64, clock: &ProfClock) {
        if self.depth == 0 {
            return;
        }
        self.depth -= 1;
        if self.depth == 0 {
            self.busy_ns += clock.delta_ns(self.enter_raw, now);
            self.last_exit_raw = now;
            if let (Some(at), Some(now)) = (self.alloc_at_enter.take(), alloc::thread_counters()) {
                let d = alloc::diff(&now, &at);
                self.alloc.get_or_insert_with(AllocStats::default).add(&d);
            }
        }
    }

    /// Adds a metric (summing repeats of a key).
    #[inline]
    pub(crate) fn add_metric(&mut self, key: Cow<'static, str>, v: f64) {
        if let Some(slot) = self.metrics.iter_mut().find(|(k, _)| *k == key) {
            slot.1 += v;
        } else {
            self.metrics.push((key, v));
        }
    }

    /// Closes the frame into an event. A span closed without ever being entered is recorded at
    /// `now` with zero duration.
    pub(crate) fn finish(
        mut self,
        clock: &ProfClock,
        thread_id: u64,
        now: u64,
        panicked: bool,
    ) -> RawEvent {
        if self.depth > 0 {
            // Closed while still entered (a guard leaked or unwinding): end it now.
            self.depth = 1;
            self.exit(now, clock);
        }
        if self.start_raw == 0 {
            self.start_raw = now;
            self.last_exit_raw = now;
        }
        let start_ns = clock.to_ns(self.start_raw);
        let end_ns = clock.to_ns(self.last_exit_raw).max(start_ns);
        let alloc = if alloc::is_active() {
            Some(self.alloc.unwrap_or_default())
        } else {
            None
        };
        RawEvent {
            id: self.event_id,
            parent: self.parent,
            op: self.op,
            thread_id,
            start_ns,
            end_ns,
            busy_ns: self.busy_ns,
            self_ns: self.busy_ns.saturating_sub(self.child_ns),
            metrics: self.metrics,
            alloc,
            error: self.error,
            panicked,
        }
    }
}
