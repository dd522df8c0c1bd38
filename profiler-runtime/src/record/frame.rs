//! Per-span state while a span is open, and how it becomes a [`RawEvent`] (plus, for a span
//! that allocated, carried metrics or failed, its [`Aux`] and maybe an [`Extra`]).

use std::backtrace::Backtrace;
use std::borrow::Cow;
use std::sync::Arc;

use tracing::Metadata;

use crate::model::event::AllocStats;
use crate::record::alloc;
use crate::record::args::ArgRec;
use crate::record::clock::ProfClock;
use crate::record::collector::MetricBuf;
use crate::record::heap::{self, HeapTotals};
use crate::record::ids::{EventId, SpanKey};
use crate::record::raw::{Aux, Extra, ProcessAlloc, RawEvent, INLINE_METRICS};

/// The process-wide heap counters at a span's first enter and at its last exit so far.
#[derive(Debug)]
pub(crate) struct ProcessWindow {
    start: HeapTotals,
    end: HeapTotals,
}

/// State of one open span (or one `profile_function` call).
#[derive(Debug)]
pub(crate) struct Frame {
    /// The tracing span id (`Id::into_u64`), a virtual id for `profile_function`, 0 for none.
    pub span: SpanKey,
    pub event_id: EventId,
    /// The parent's event id (0: none).
    pub parent: EventId,
    /// The parent's span id (0: none), to credit it with this span's wall time (self time).
    pub parent_span: SpanKey,
    /// Raw clock reading of the first enter (0: never entered).
    pub start_raw: u64,
    pub enter_raw: u64,
    pub last_exit_raw: u64,
    /// Raw ticks spent entered.
    pub busy: u64,
    /// Wall time of closed same-thread children, in ns (each scaled as its event is, so a
    /// parent's self time is exactly its busy time minus its children's durations).
    pub child_ns: u64,
    pub op: u32,
    pub depth: u32,
    /// Allocation counters at the outermost enter (valid while `depth > 0` and tracking).
    alloc_at_enter: AllocStats,
    pub alloc: AllocStats,
    pub tracking: bool,
    pub metrics: MetricBuf,
    /// The first numeric arguments, read into inline slots (see [`crate::record::args`]):
    /// staged beside the event, never in [`Frame::metrics`].
    pub args: Option<ArgRec>,
    pub error: Option<Box<str>>,
    /// Options from the callsite ([`Frame::PROCESS_ALLOC`], [`Frame::ARGS_RECORDED`]).
    pub opts: u8,
    /// Every thread's heap counters at the first enter and the last exit (spans with
    /// [`Frame::PROCESS_ALLOC`], where a counting allocator is installed).
    process: Option<Box<ProcessWindow>>,
    /// A backtrace taken at the close of a slow event.
    pub backtrace: Option<Arc<Backtrace>>,
    /// The span's metadata, where the profiler's own subscriber opened it (for
    /// `Span::current()`); `None` under the layer, whose registry keeps it.
    pub meta: Option<&'static Metadata<'static>>,
    /// Handles of the span (`clone_span` adds one, `try_close` takes one), counted by the
    /// profiler's own subscriber for a sync span still on the stack.
    pub refs: u32,
}

impl Frame {
    /// Count every thread's allocations while the span is open (`alloc = "process"`).
    pub(crate) const PROCESS_ALLOC: u8 = 1;
    /// Every argument of the function is among the span's fields.
    pub(crate) const ARGS_RECORDED: u8 = 2;

    #[inline(always)]
    pub(crate) fn new(
        span: SpanKey,
        event_id: EventId,
        parent: EventId,
        parent_span: SpanKey,
        op: u32,
    ) -> Self {
        Frame {
            span,
            event_id,
            parent,
            parent_span,
            start_raw: 0,
            enter_raw: 0,
            last_exit_raw: 0,
            busy: 0,
            child_ns: 0,
            op,
            depth: 0,
            alloc_at_enter: AllocStats::default(),
            alloc: AllocStats::default(),
            tracking: false,
            metrics: MetricBuf::new(),
            args: None,
            error: None,
            opts: 0,
            process: None,
            backtrace: None,
            meta: None,
            refs: 1,
        }
    }

    /// Re-initialises a reused frame in place. A free slot's metrics and error are already
    /// empty: [`Frame::close`] moves them out.
    #[inline(always)]
    pub(crate) fn reset(
        &mut self,
        span: SpanKey,
        event_id: EventId,
        parent: EventId,
        parent_span: SpanKey,
        op: u32,
    ) {
        self.span = span;
        self.event_id = event_id;
        self.parent = parent;
        self.parent_span = parent_span;
        self.start_raw = 0;
        self.enter_raw = 0;
        self.last_exit_raw = 0;
        self.busy = 0;
        self.child_ns = 0;
        self.op = op;
        self.depth = 0;
        self.alloc = AllocStats::default();
        self.tracking = false;
        self.opts = 0;
        self.args = None;
        self.meta = None;
        self.refs = 1;
        debug_assert!(self.metrics.is_empty() && self.error.is_none());
        debug_assert!(self.process.is_none() && self.backtrace.is_none());
    }

    /// Marks an enter at raw time `now`.
    #[inline(always)]
    pub(crate) fn enter(&mut self, now: u64) {
        if self.depth == 0 {
            if self.start_raw == 0 {
                self.start_raw = now;
                if let Some(args) = self.args.as_mut().filter(|a| a.staged) {
                    args.take_staged(self.span.raw());
                }
                if self.opts & Frame::PROCESS_ALLOC != 0 {
                    self.process_begin();
                }
            }
            self.enter_raw = now;
            self.alloc_begin();
        }
        self.depth += 1;
    }

    /// Reads every thread's heap counters at the first enter of a span that counts them.
    #[cold]
    #[inline(never)]
    fn process_begin(&mut self) {
        if let Some(start) = heap::totals() {
            let _own = alloc::OwnAllocations::begin();
            self.process = Some(Box::new(ProcessWindow { start, end: start }));
        }
    }

    /// Every thread's heap traffic from the first enter to the last exit so far (spans that
    /// count it, with a counting allocator).
    pub(crate) fn process_alloc(&self) -> Option<AllocStats> {
        self.process.as_ref().map(|w| w.end.since(&w.start).0)
    }

    /// Reads them again at an outermost exit: the last one counts.
    #[cold]
    #[inline(never)]
    fn process_mark_end(&mut self) {
        if let (Some(w), Some(now)) = (self.process.as_mut(), heap::totals()) {
            w.end = now;
        }
    }

    /// Starts an allocation window (at the outermost enter).
    #[inline(always)]
    fn alloc_begin(&mut self) {
        if let Some(a) = alloc::thread_counters() {
            self.alloc_at_enter = a;
            self.tracking = true;
        }
    }

    /// Ends an allocation window (at the outermost exit).
    #[inline(always)]
    fn alloc_end(&mut self) {
        if self.tracking {
            self.tracking = false;
            if let Some(now) = alloc::thread_counters() {
                self.alloc.add(&now.since(&self.alloc_at_enter));
            }
        }
    }

    /// Marks an exit at raw time `now`.
    #[inline(always)]
    pub(crate) fn exit(&mut self, now: u64) {
        if self.depth == 0 {
            return;
        }
        self.depth -= 1;
        if self.depth == 0 {
            self.busy += now.saturating_sub(self.enter_raw);
            self.last_exit_raw = now;
            self.alloc_end();
            if self.process.is_some() {
                self.process_mark_end();
            }
        }
    }

    /// Credits a closed same-thread child's wall time (`wall` raw ticks) to this frame's
    /// children, scaled as the child's event is.
    #[inline(always)]
    pub(crate) fn credit_child(&mut self, wall: u64, clock: &ProfClock) {
        self.child_ns += clock.ticks_ns(wall);
    }

    /// Adds a metric (summing repeats of a key, an inline argument's too).
    #[inline]
    pub(crate) fn add_metric(&mut self, key: Cow<'static, str>, v: f64) {
        if let Some(args) = self.args.as_mut() {
            if let Some(j) = args.slot_of_key(&key) {
                args.put(j, v);
                return;
            }
        }
        if let Some(slot) = self.metrics.iter_mut().find(|(k, _)| *k == key) {
            slot.1 += v;
        } else {
            self.metrics.push((key, v));
        }
    }

    /// Closes the frame into an event. The clock is read only for a frame still entered (a
    /// leaked guard) or never entered (recorded now, with zero duration). What the event does
    /// not hold (allocation counts, metrics, an error) stays in the frame until
    /// [`Frame::fill_aux`]: the common empty span never builds a side record.
    #[inline(always)]
    pub(crate) fn close(&mut self, clock: &ProfClock, panicked: bool) -> RawEvent {
        if self.depth > 0 || self.start_raw == 0 {
            self.close_open_ends(clock);
        }
        let mut flags = if panicked { RawEvent::PANICKED } else { 0 };
        if alloc::is_active() {
            flags |= RawEvent::HAS_ALLOC;
        }
        // Branch-free: the frame's bit moved onto the event's.
        const _: () = assert!(Frame::ARGS_RECORDED << 1 == RawEvent::ARGS_RECORDED);
        flags |= (self.opts & Frame::ARGS_RECORDED) << 1;
        RawEvent {
            id: self.event_id.raw(),
            parent: self.parent.raw(),
            start_raw: self.start_raw,
            wall: self.last_exit_raw.saturating_sub(self.start_raw),
            busy: self.busy,
            child_ns: self.child_ns,
            op: self.op,
            aux: 0,
            flags,
            args: 0,
        }
    }

    /// Whether the closed frame has a side record to write: it allocated, carried metrics,
    /// failed, counted the process's allocations or has a backtrace.
    #[inline(always)]
    pub(crate) fn has_aux(&self) -> bool {
        self.alloc != AllocStats::default()
            || !self.metrics.is_empty()
            || self.error.is_some()
            || self.process.is_some()
            || self.backtrace.is_some()
    }

    /// Whether the frame was entered, is exited and has no side record: [`Frame::close`]
    /// reads no clock and the event is all there is. (A backtrace is only ever attached after
    /// this is asked, and a process window only exists with [`Frame::PROCESS_ALLOC`].)
    #[inline(always)]
    pub(crate) fn is_plain(&self) -> bool {
        self.depth == 0
            && self.start_raw != 0
            && self.opts & Frame::PROCESS_ALLOC == 0
            && self.alloc == AllocStats::default()
            && self.metrics.is_empty()
            && self.error.is_none()
    }

    /// Writes the side record of a closed frame into `aux` (empty, in place), leaving the frame
    /// empty (to be reused or dropped in place); returns the [`Extra`] for what does not fit
    /// inline.
    #[inline(always)]
    pub(crate) fn fill_aux(&mut self, aux: &mut Aux) -> Option<Extra> {
        aux.alloc = self.alloc;
        self.take_metrics(aux)
    }

    /// Ends a frame closed while still entered at the close, and places a never-entered frame
    /// at the close with zero duration.
    #[cold]
    fn close_open_ends(&mut self, clock: &ProfClock) {
        let now = clock.raw();
        if self.depth > 0 {
            self.depth = 1;
            self.exit(now);
        }
        if self.start_raw == 0 {
            self.start_raw = now;
            self.last_exit_raw = now;
        }
    }

    /// Moves the metrics and error into `aux`: inline when every key is static and they fit,
    /// otherwise (or with a process window or a backtrace) into an [`Extra`].
    #[inline(always)]
    fn take_metrics(&mut self, aux: &mut Aux) -> Option<Extra> {
        let inline = self.error.is_none()
            && self.process.is_none()
            && self.backtrace.is_none()
            && self.metrics.len() <= INLINE_METRICS
            && self
                .metrics
                .iter()
                .all(|(k, _)| matches!(k, Cow::Borrowed(_)));
        if inline {
            for (slot, (k, v)) in aux.inline.iter_mut().zip(self.metrics.iter()) {
                if let Cow::Borrowed(k) = k {
                    *slot = (k, *v);
                }
            }
            aux.n_inline = self.metrics.len() as u8;
            self.metrics.clear();
            None
        } else {
            let _own = alloc::OwnAllocations::begin();
            let process = self.process.take().map(|w| {
                let (stats, sizes) = w.end.since(&w.start);
                ProcessAlloc { stats, sizes }
            });
            Some(Extra {
                metrics: self.metrics.drain(..).collect(),
                error: self.error.take(),
                process,
                backtrace: self.backtrace.take(),
            })
        }
    }
}
