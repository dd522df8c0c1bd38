//! Per-span state while a span is open, and how it becomes a [`RawEvent`].

use std::borrow::Cow;

use crate::alloc;
use crate::clock::ProfClock;
use crate::collector::{Extra, MetricBuf, RawEvent};
use crate::event::AllocStats;

/// State of one open span (or one `profile_function` call).
#[derive(Debug)]
pub(crate) struct Frame {
    /// The tracing span id (`Id::into_u64`), a virtual id for `profile_function`, 0 for none.
    pub span: u64,
    pub event_id: u64,
    /// The parent's event id (0: none).
    pub parent: u64,
    /// The parent's span id (0: none), to credit it with this span's wall time (self time).
    pub parent_span: u64,
    /// Raw clock reading of the first enter (0: never entered).
    pub start_raw: u64,
    pub enter_raw: u64,
    pub last_exit_raw: u64,
    pub busy_ns: u64,
    /// Wall time of closed same-thread children.
    pub child_ns: u64,
    pub op: u32,
    pub depth: u32,
    /// Allocation counters at the outermost enter (valid while `depth > 0` and tracking).
    alloc_at_enter: AllocStats,
    pub alloc: AllocStats,
    pub tracking: bool,
    /// Timed from creation to close (sync spans): enter/exit callbacks leave it alone.
    pub eager: bool,
    pub metrics: MetricBuf,
    pub error: Option<Box<str>>,
}

impl Frame {
    #[inline(always)]
    pub(crate) fn new(span: u64, event_id: u64, parent: u64, parent_span: u64, op: u32) -> Self {
        Frame {
            span,
            event_id,
            parent,
            parent_span,
            start_raw: 0,
            enter_raw: 0,
            last_exit_raw: 0,
            busy_ns: 0,
            child_ns: 0,
            op,
            depth: 0,
            alloc_at_enter: AllocStats::default(),
            alloc: AllocStats::default(),
            tracking: false,
            eager: false,
            metrics: MetricBuf::new(),
            error: None,
        }
    }

    /// Re-initialises a reused frame in place.
    #[inline(always)]
    pub(crate) fn reset(
        &mut self,
        span: u64,
        event_id: u64,
        parent: u64,
        parent_span: u64,
        op: u32,
    ) {
        self.span = span;
        self.event_id = event_id;
        self.parent = parent;
        self.parent_span = parent_span;
        self.start_raw = 0;
        self.enter_raw = 0;
        self.last_exit_raw = 0;
        self.busy_ns = 0;
        self.child_ns = 0;
        self.op = op;
        self.depth = 0;
        self.alloc = AllocStats::default();
        self.tracking = false;
        self.eager = false;
        if !self.metrics.is_empty() {
            self.metrics.clear();
        }
        self.error = None;
    }

    /// Marks an enter at raw time `now`.
    #[inline(always)]
    pub(crate) fn enter(&mut self, now: u64) {
        if self.depth == 0 {
            if self.start_raw == 0 {
                self.start_raw = now;
            }
            self.enter_raw = now;
            self.alloc_begin();
        }
        self.depth += 1;
    }

    /// Starts an allocation window (at the outermost enter).
    #[inline(always)]
    fn alloc_begin(&mut self) {
        if let Some(a) = alloc::thread_counters() {
            self.alloc_at_enter = a;
            self.tracking = true;
        }
    }

    /// Restarts the allocation window of an eager frame at its enter, so the registry's own
    /// bookkeeping between the span's creation and its enter is not charged to it.
    #[inline(always)]
    pub(crate) fn rebase_alloc(&mut self) {
        if self.tracking {
            if let Some(a) = alloc::thread_counters() {
                self.alloc_at_enter = a;
            }
        }
    }

    /// Ends an allocation window (at the outermost exit).
    #[inline(always)]
    fn alloc_end(&mut self) {
        if self.tracking {
            self.tracking = false;
            if let Some(now) = alloc::thread_counters() {
                self.alloc.add(&alloc::diff(&now, &self.alloc_at_enter));
            }
        }
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
            self.alloc_end();
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

    /// Closes the frame into an event, leaving the frame empty (to be dropped in place). A span
    /// closed without ever being entered is recorded at `now` with zero duration.
    #[inline]
    pub(crate) fn finish(
        &mut self,
        clock: &ProfClock,
        thread_id: u64,
        now: u64,
        panicked: bool,
    ) -> RawEvent {
        if self.depth > 0 {
            // Closed while still entered (a guard leaked, or unwinding): end it now.
            self.depth = 1;
            self.exit(now, clock);
        }
        if self.start_raw == 0 {
            self.start_raw = now;
            self.last_exit_raw = now;
        }
        let wall_ns = clock.delta_ns(self.start_raw, self.last_exit_raw);
        let mut flags = if panicked { RawEvent::PANICKED } else { 0 };
        if alloc::is_active() {
            flags |= RawEvent::HAS_ALLOC;
        }
        let (metric, extra) = self.take_metrics();
        RawEvent {
            id: self.event_id,
            parent: self.parent,
            start_raw: self.start_raw,
            wall_ns,
            busy_ns: self.busy_ns,
            self_ns: self.busy_ns.saturating_sub(self.child_ns),
            op: self.op,
            thread_id: thread_id as u32,
            alloc: self.alloc,
            metric,
            extra,
            flags,
        }
    }

    /// The metrics and error in the event's compact form.
    #[inline(always)]
    fn take_metrics(&mut self) -> (Option<(&'static str, f64)>, Option<Box<Extra>>) {
        match (
            self.metrics.len(),
            &self.metrics.first(),
            self.error.is_some(),
        ) {
            (0, _, false) => (None, None),
            (1, Some((Cow::Borrowed(k), v)), false) => {
                let m = (*k, *v);
                self.metrics.clear();
                (Some(m), None)
            }
            _ => (
                None,
                Some(Box::new(Extra {
                    metrics: self.metrics.drain(..).collect(),
                    error: self.error.take(),
                })),
            ),
        }
    }
}
