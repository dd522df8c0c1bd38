//! [`ProfilerLayer`]: the `tracing_subscriber::Layer` that turns spans into events.
//!
//! The hot path, for a sync `#[profile]` function (its marker's sync option): `on_new_span` pushes a
//! [`Frame`] on this thread's stack (no allocation once warm); `on_enter` and `on_exit` read the
//! TSC and the thread's allocation counters, so the event times the function's body and leaves
//! the registry's own bookkeeping out; the outermost `on_exit` pops the frame and writes one
//! 64-byte event into this thread's staging chunk, and the `on_close` right after finds nothing
//! left to do. No global lock, no `/proc` read, no registry extension.
//!
//! Spans without the marker (`async fn`, hand-written spans) may move between threads and be
//! entered many times, so their frame lives in the registry's span extensions instead (one
//! boxed insert per span) and their event is written at their close.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::contract::{reserved_index, ARG_KEYS, METRICS_TARGET};
use crate::record::alloc::OwnAllocations;
use crate::record::args::{ArgLayout, ArgRec};
use crate::record::collector::Collector;
use crate::record::frame::Frame;
use crate::record::ids::{EventId, SpanKey};
use crate::record::slot::{with_slot, with_slot_leaf, CallsiteInfo, ThreadSlot};

/// The profiler's tracing layer. Get one from
/// [`PerformanceProfiler::layer`](crate::PerformanceProfiler::layer) and compose it with others:
///
/// ```
/// use profiler_runtime::PerformanceProfiler;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let profiler = PerformanceProfiler::new();
/// let subscriber = tracing_subscriber::registry().with(profiler.layer());
/// # let _ = subscriber;
/// ```
#[derive(Clone)]
pub struct ProfilerLayer {
    pub(crate) collector: Arc<Collector>,
    /// `collector.id`, kept here: one dependent load fewer per callback.
    pub(crate) id: u64,
}

impl fmt::Debug for ProfilerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfilerLayer")
            .field("collector", &self.collector.id)
            .finish()
    }
}

/// Runs `f` on the frame of `span`: this thread's stack first, then the span's extensions.
#[inline]
fn with_frame<S, R>(
    slot: &mut ThreadSlot,
    ctx: &Context<'_, S>,
    span: SpanKey,
    f: impl FnOnce(&mut Frame) -> R,
) -> Option<R>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    match slot.frame_mut(span) {
        Some(frame) => Some(f(frame)),
        // Skips the out-of-line call for "no span" (a root's parent), the common miss.
        None if !span.is_none() => with_ext_frame(ctx.clone(), span, f),
        None => None,
    }
}

/// Runs `f` on the frame of `span` kept in the span's extensions (spans that may move between
/// threads). Takes the context by value, so the hot callers never spill theirs to memory.
#[cold]
#[inline(never)]
fn with_ext_frame<S, R>(
    ctx: Context<'_, S>,
    span: SpanKey,
    f: impl FnOnce(&mut Frame) -> R,
) -> Option<R>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let s = ctx.span(&span.registry_id()?)?;
    let mut ext = s.extensions_mut();
    ext.get_mut::<Frame>().map(f)
}

impl<S> Layer<S> for ProfilerLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_layer(&mut self, _subscriber: &mut S) {
        // Attached: sessions and reports stop warning that nothing can be recorded.
        self.collector
            .attached
            .store(true, std::sync::atomic::Ordering::Relaxed);
        crate::record::notes::profiler_attached();
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        // A close that did not follow its exit (the span's handle lives on) must not match
        // another span later, even one of another registry with the same id.
        CLOSED_AT_EXIT.set(0);
        let c = &self.collector;
        // A leaf: the fields' visitor formats nothing, so no user code runs.
        with_slot_leaf(self.id, c, |slot| {
            // Nothing on the sync path allocates once warm; each cold branch that may (a new
            // callsite, a deeper stack, fields, an async span's boxed frame) excludes itself.
            let info = slot.callsite(attrs.metadata(), c);
            let parent_span = match attrs.parent() {
                Some(p) => SpanKey::of(p),
                None if attrs.is_contextual() => slot.current_span(),
                None => SpanKey::NONE,
            };
            let parent =
                with_frame(slot, &ctx, parent_span, |f| f.event_id).unwrap_or(EventId::NONE);
            let event_id = slot.next_event_id();
            if info.sync {
                // A sync span lives and dies on this thread: its frame goes on this thread's
                // stack (no allocation once warm) and is timed from its enter to its exit.
                let top = slot.open_frame(SpanKey::of(id), event_id, parent, parent_span, info.op);
                top.opts = info.opts;
                if info.has_fields {
                    MetricVisitor::read_new_span(top, attrs, &info);
                }
            } else {
                let mut frame = Frame::new(SpanKey::of(id), event_id, parent, parent_span, info.op);
                frame.opts = info.opts;
                open_async(attrs, id, ctx.clone(), frame, info);
            }
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        with_slot_leaf(self.id, &self.collector, |slot| {
            let _own = OwnAllocations::begin();
            with_frame(slot, &ctx, SpanKey::of(id), |f| {
                values.record(&mut MetricVisitor::of_span(f, 0))
            });
        });
    }

    #[inline]
    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let c = &self.collector;
        with_slot_leaf(self.id, c, |slot| {
            let span = SpanKey::of(id);
            // A sync span's frame is on top of this thread's stack (searched first).
            match slot.frame_mut(span) {
                Some(f) => f.enter(c.clock.raw()),
                None => {
                    with_ext_frame(ctx.clone(), span, |f| f.enter(c.clock.raw()));
                }
            }
            slot.push_entered(span);
        });
    }

    #[inline]
    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let c = &self.collector;
        with_slot_leaf(self.id, c, |slot| {
            let span = SpanKey::of(id);
            let done = match slot.frame_mut(span) {
                Some(f) => {
                    f.exit(c.clock.raw());
                    f.depth == 0
                }
                None => {
                    with_ext_frame(ctx.clone(), span, |f| f.exit(c.clock.raw()));
                    false
                }
            };
            slot.pop_entered(span);
            if done {
                // A sync span is entered once, for its function's body: its event is complete at
                // this exit, so it is recorded now, and a handle of the span that outlives the
                // call (a `Span::current()` clone closed later, or on another thread) loses
                // nothing and leaves nothing behind on this thread's stack.
                CLOSED_AT_EXIT.set(span.raw());
                close_span(slot, c, id, ctx, std::thread::panicking());
            }
        });
    }

    #[inline]
    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if CLOSED_AT_EXIT.get() == id.into_u64() {
            // Recorded at its exit (the common case: the close follows right after).
            CLOSED_AT_EXIT.set(0);
            return;
        }
        close_slow(self, id, ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // Only hand-written events with the metrics target carry numbers for the profiler
        // (`metrics!` and `#[profile(err, ret)]` call it directly, past any filter).
        if event.metadata().target() != METRICS_TARGET {
            return;
        }
        let c = &self.collector;
        // Guarded: a field's value may be user code (`Value` impls).
        with_slot(c, |slot| {
            let _own = OwnAllocations::begin();
            let span = slot.span_of_event(event);
            let found = with_frame(slot, &ctx, span, |f| {
                event.record(&mut MetricVisitor::of_span(f, 0));
            });
            if found.is_none() {
                slot.close_standalone_metrics(c, |frame| {
                    event.record(&mut MetricVisitor::of_span(frame, 0))
                });
            }
        });
    }
}

/// Opens the frame of a span that may move between threads, in the span's extensions (cold:
/// one boxed insert).
#[cold]
#[inline(never)]
fn open_async<S>(
    attrs: &Attributes<'_>,
    id: &Id,
    ctx: Context<'_, S>,
    mut frame: Frame,
    info: CallsiteInfo,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let _own = OwnAllocations::begin();
    if let Some(span) = ctx.span(id) {
        if info.has_fields {
            MetricVisitor::read_new_span(&mut frame, attrs, &info);
        }
        span.extensions_mut().insert(frame);
    }
}

thread_local! {
    /// The span whose event its exit recorded last on this thread (a sync span, see
    /// `ProfilerLayer::on_exit`), so that its close, which normally follows at once, finds
    /// nothing to do without even looking up this thread's slot. Shared by every profiler on
    /// the thread: where two see the same span, the second one's close takes the slow path and
    /// finds its frame already gone.
    static CLOSED_AT_EXIT: Cell<u64> = const { Cell::new(0) };
}

/// Closes span `id` where its exit did not record it (out of line: the common close is one
/// comparison).
#[inline(never)]
fn close_slow<S>(layer: &ProfilerLayer, id: Id, ctx: Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let c = &layer.collector;
    // A leaf: a flush or a fold touches only the profiler's own buffers.
    with_slot_leaf(layer.id, c, |slot| {
        close_span(slot, c, &id, ctx, std::thread::panicking());
    });
}

/// Records the event of span `id`: its frame is the innermost on this thread's stack (the common
/// case, closed in place), deeper in it, or in the span's extensions. Credits the parent with
/// the event's wall time.
#[inline(always)]
fn close_span<S>(slot: &mut ThreadSlot, c: &Collector, id: &Id, ctx: Context<'_, S>, panicked: bool)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let span = SpanKey::of(id);
    // The common case, the innermost frame, allocates nothing (a flush or a boxed error
    // excludes itself).
    let done = match slot.top_mut() {
        Some(top) if top.span == span => slot.close_top(c, panicked),
        _ => close_other(slot, c, id, ctx.clone(), panicked),
    };
    if let Some((wall, parent_span)) = done {
        if !parent_span.is_none() {
            with_frame(slot, &ctx, parent_span, |p| p.credit_child(wall, &c.clock));
        }
    }
}

/// Closes a span whose frame is not the innermost on this thread's stack: deeper in it, or in
/// the span's extensions. Returns the event's wall ticks and the parent's span id.
#[cold]
#[inline(never)]
fn close_other<S>(
    slot: &mut ThreadSlot,
    c: &Collector,
    id: &Id,
    ctx: Context<'_, S>,
    panicked: bool,
) -> Option<(u64, SpanKey)>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let _own = OwnAllocations::begin();
    let frame = match slot.take_frame(SpanKey::of(id)) {
        Some(f) => f,
        None => ctx
            .span(id)
            .and_then(|s| s.extensions_mut().remove::<Frame>())?,
    };
    let parent_span = frame.parent_span;
    Some((slot.close_frame(c, frame, panicked), parent_span))
}

/// Collects numeric fields as metrics; other values are ignored (never formatted).
pub(crate) struct MetricVisitor<'a> {
    frame: &'a mut Frame,
    /// [`CallsiteInfo::reserved_args`]: arguments with reserved names, recorded as `arg.<name>`.
    reserved_args: u16,
    /// [`CallsiteInfo::args`]: the fields read into the frame's inline argument slots.
    inline: ArgLayout,
}

impl<'a> MetricVisitor<'a> {
    /// A visitor of fields recorded after a span's creation, or of an event's.
    #[inline(always)]
    pub(crate) fn of_span(frame: &'a mut Frame, reserved_args: u16) -> Self {
        MetricVisitor {
            frame,
            reserved_args,
            inline: ArgLayout::default(),
        }
    }

    /// Reads a new span's fields into its frame: the first numeric arguments into inline
    /// slots, the other numbers as metrics.
    #[inline(always)]
    pub(crate) fn read_new_span(frame: &mut Frame, attrs: &Attributes<'_>, info: &CallsiteInfo) {
        if info.staged {
            // The expansion stages the inline arguments for the first enter: only the other
            // fields, if any, are read here.
            frame.args = Some(ArgRec::staged(attrs.metadata(), info.args));
            if info.only_inline {
                return;
            }
        } else if info.args.n > 0 {
            frame.args = Some(ArgRec::new(attrs.metadata(), info.args));
        }
        let mut visitor = MetricVisitor {
            frame,
            reserved_args: info.reserved_args,
            inline: info.args,
        };
        if info.only_inline {
            // Values go into the inline slots: nothing to allocate, nothing to exclude.
            attrs.record(&mut visitor);
        } else {
            let _own = OwnAllocations::begin();
            attrs.record(&mut visitor);
        }
    }
}

impl MetricVisitor<'_> {
    /// A numeric field: into its inline slot when it is one of the span's inline arguments
    /// (the hot case, a few instructions), else a metric.
    #[inline(always)]
    fn number(&mut self, field: &Field, value: f64) {
        if let Some(j) = self.inline.slot_of(field.index()) {
            if let Some(args) = self.frame.args.as_mut() {
                // A staged record gets this value from the expansion at the first enter.
                if !args.staged {
                    args.put(j, value);
                }
                return;
            }
        }
        self.metric(field, value);
    }

    /// A numeric field that is not an inline argument: a metric of the frame, under the
    /// field's name (`arg.<name>` for an argument with a reserved name).
    #[inline(never)]
    fn metric(&mut self, field: &Field, value: f64) {
        let mut key = field.name();
        if self.reserved_args != 0 {
            // An argument that is not a reported key (see `contract::ARG_KEYS`).
            if let Some(i) = reserved_index(key).filter(|i| self.reserved_args & (1 << i) != 0) {
                key = ARG_KEYS[i];
            }
        }
        self.frame.add_metric(Cow::Borrowed(key), value);
    }
}

impl Visit for MetricVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.number(field, value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.number(field, value as f64);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.number(field, value as f64);
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.number(field, value as f64);
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.number(field, value as f64);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.number(field, if value { 1.0 } else { 0.0 });
    }
    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
}
