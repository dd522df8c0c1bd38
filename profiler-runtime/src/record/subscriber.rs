//! [`ProfilerSubscriber`]: the profiler's own `tracing` subscriber, used by
//! `PerformanceProfiler::install()` and `in_scope` when the profiler is the only subscriber.
//!
//! It drives the same recorder as [`ProfilerLayer`] (the same thread slot, frames, visitor and
//! close path), so the events are the same; what it leaves out is tracing-subscriber's
//! `Registry`, whose sharded slab insert and remove, reference counts and extensions per span
//! are most of a profiled call's cost under the layer.
//!
//! - A sync `#[profile]` span (its marker's sync option) gets its event id as its span id: no
//!   table at all. Its frame, on this thread's stack, holds everything the subscriber needs
//!   (metadata for `Span::current()`, the handle count for `clone_span`/`try_close`). Its
//!   outermost exit records the event and pops the frame; the close right after is one
//!   comparison. A handle that outlives the call finds no frame and changes nothing.
//! - Every other span (async, hand-written, `#[instrument]`, other crates' spans) may move
//!   between threads: it lives in a shared [`Slab`] (sharded per thread, generation-checked
//!   keys, no global lock), with its metadata, an atomic handle count and its frame behind
//!   its own mutex; its event is written when its last handle closes.
//!
//! Span ids tell the two apart: a shared span's id has [`SHARED`] set, a sync span's never.
//! Only events with the metrics target are enabled (nothing else here would read them).

use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sharded_slab::Slab;
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_core::span::Current;

use crate::contract::METRICS_TARGET;
use crate::record::alloc::OwnAllocations;
use crate::record::collector::Collector;
use crate::record::frame::Frame;
use crate::record::ids::{EventId, SpanKey};
use crate::record::layer::{MetricVisitor, ProfilerLayer};
use crate::record::slot::{with_slot, with_slot_leaf, ThreadSlot};

/// Bit set in the id of every span kept in the shared table (never in a sync span's id, nor in
/// the recorder's virtual keys, which use bit 63).
const SHARED: u64 = 1 << 62;
/// Bits a sync span's id never has (the shared tag and the recorder's virtual-key bit).
const NOT_SYNC: u64 = SHARED | (1 << 63);

/// The shared table's configuration: keys keep their top two bits clear, for the tags.
struct TableConfig;

impl sharded_slab::Config for TableConfig {
    const RESERVED_BITS: usize = 2;
}

/// A span that may cross threads, in the shared table.
struct SharedSpan {
    meta: &'static Metadata<'static>,
    /// Live handles: one from `new_span`, one per `clone_span`, minus one per `try_close`.
    refs: AtomicUsize,
    /// `None` for a span the profiler does not record (opened while this thread's slot was
    /// busy or gone), which still has to work as a `tracing` span.
    frame: Mutex<Option<Frame>>,
}

/// The profiler's own subscriber (see the module documentation).
pub(crate) struct ProfilerSubscriber {
    /// The collector, reachable as a [`ProfilerLayer`] through `downcast_ref` (as `metrics!`,
    /// `#[profile(err)]` and the disabled-span notes find it).
    layer: ProfilerLayer,
    shared: Slab<SharedSpan, TableConfig>,
}

impl std::fmt::Debug for ProfilerSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfilerSubscriber")
            .field("collector", &self.layer.id)
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// The sync span whose event its exit recorded last on this thread, so that its
    /// `try_close`, which normally follows at once, is one comparison.
    static CLOSED_AT_EXIT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The key of a sync span whose event is `event`.
#[inline(always)]
fn sync_key(event: EventId) -> SpanKey {
    // Unique on its thread (the sequence number is in the low bits), which is where a sync
    // span's key is ever looked up.
    SpanKey::from_raw(event.raw() & !NOT_SYNC)
}

/// Whether `key` names a span of the shared table.
#[inline(always)]
fn is_shared(key: SpanKey) -> bool {
    key.raw() & NOT_SYNC == SHARED
}

impl ProfilerSubscriber {
    /// A subscriber recording into `layer`'s collector. Marks the profiler attached.
    pub(crate) fn new(layer: ProfilerLayer) -> Self {
        layer.collector.attached.store(true, Ordering::Relaxed);
        crate::record::notes::profiler_attached();
        let _own = OwnAllocations::begin();
        ProfilerSubscriber {
            layer,
            shared: Slab::new_with_config::<TableConfig>(),
        }
    }

    #[inline(always)]
    fn collector(&self) -> &Arc<Collector> {
        &self.layer.collector
    }

    /// Runs `f` on the frame of the shared span `key`, under its lock.
    #[cold]
    #[inline(never)]
    pub(crate) fn with_shared_frame<R>(
        &self,
        key: SpanKey,
        f: impl FnOnce(&mut Frame) -> R,
    ) -> Option<R> {
        if !is_shared(key) {
            return None;
        }
        let entry = self.shared.get((key.raw() & !SHARED) as usize)?;
        let mut frame = entry.frame.lock().unwrap_or_else(|p| p.into_inner());
        frame.as_mut().map(f)
    }

    /// Runs `f` on the frame of span `key`: this thread's stack for a sync span, the shared
    /// table for another.
    #[inline(always)]
    fn with_frame<R>(
        &self,
        slot: &mut ThreadSlot,
        key: SpanKey,
        f: impl FnOnce(&mut Frame) -> R,
    ) -> Option<R> {
        if key.is_none() {
            None
        } else if is_shared(key) {
            self.with_shared_frame(key, f)
        } else {
            slot.frame_mut(key).map(f)
        }
    }

    /// Puts a span that may cross threads in the shared table (with its frame, keyed by the
    /// span's id, where the profiler records it); its id.
    #[cold]
    #[inline(never)]
    fn open_shared(&self, meta: &'static Metadata<'static>, frame: Option<Frame>) -> Id {
        let _own = OwnAllocations::begin();
        let Some(vacant) = self.shared.vacant_entry() else {
            // The table is full (billions of live spans): a span that is never found, which
            // `tracing` still handles as any other.
            return Id::from_u64(SHARED | (SHARED - 1));
        };
        let id = vacant.key() as u64 | SHARED;
        let frame = frame.map(|mut f| {
            f.span = SpanKey::from_raw(id);
            f
        });
        vacant.insert(SharedSpan {
            meta,
            refs: AtomicUsize::new(1),
            frame: Mutex::new(frame),
        });
        Id::from_u64(id)
    }

    /// Records the event of span `key` and credits its parent with its wall time: the frame is
    /// the innermost on this thread's stack (the common case), deeper in it, or `frame`
    /// (taken from the shared table).
    #[inline(always)]
    fn close(&self, slot: &mut ThreadSlot, key: SpanKey, frame: Option<Frame>, panicked: bool) {
        let c = self.collector();
        let done = match frame {
            Some(f) => close_taken(slot, c, f, panicked),
            None => match slot.top_mut() {
                Some(top) if top.span == key => slot.close_top(c, panicked),
                _ => close_deeper(slot, c, key, panicked),
            },
        };
        if let Some((wall, parent_span)) = done {
            self.with_frame(slot, parent_span, |p| p.credit_child(wall, &c.clock));
        }
    }

    /// Drops one handle of the shared span `key`; at the last one, removes it from the table
    /// and records its event.
    #[cold]
    #[inline(never)]
    fn close_shared(&self, key: SpanKey) -> bool {
        let idx = (key.raw() & !SHARED) as usize;
        let frame = {
            let Some(entry) = self.shared.get(idx) else {
                return false;
            };
            if entry.refs.fetch_sub(1, Ordering::Release) != 1 {
                return false;
            }
            fence(Ordering::Acquire);
            let frame = entry.frame.lock().unwrap_or_else(|p| p.into_inner()).take();
            frame
        };
        {
            let _own = OwnAllocations::begin();
            self.shared.remove(idx);
        }
        if let Some(frame) = frame {
            let c = self.collector();
            let panicked = std::thread::panicking();
            // Where the slot is busy or gone, the frame is dropped unrecorded, as the layer's
            // would be.
            with_slot_leaf(self.layer.id, c, |slot| {
                let _own = OwnAllocations::begin();
                self.close(slot, key, Some(frame), panicked)
            });
        }
        true
    }

    /// Drops one handle of the sync span `key`, still on this thread's stack (a close that
    /// did not follow its exit); at the last one, records its event.
    #[cold]
    #[inline(never)]
    fn close_sync(&self, key: SpanKey) -> bool {
        let c = self.collector();
        with_slot_leaf(self.layer.id, c, |slot| {
            let Some(f) = slot.frame_mut(key) else {
                // Recorded at its exit, or not this thread's: nothing is left to close.
                return false;
            };
            f.refs = f.refs.saturating_sub(1);
            if f.refs > 0 {
                return false;
            }
            self.close(slot, key, None, std::thread::panicking());
            true
        })
        .unwrap_or(false)
    }
}

/// Closes a frame taken out of the shared table. Returns the event's wall ticks and the
/// parent's span key.
#[inline(never)]
fn close_taken(
    slot: &mut ThreadSlot,
    c: &Collector,
    frame: Frame,
    panicked: bool,
) -> Option<(u64, SpanKey)> {
    let parent_span = frame.parent_span;
    Some((slot.close_frame(c, frame, panicked), parent_span))
}

/// Closes a sync span whose frame is not the innermost on this thread's stack.
#[cold]
#[inline(never)]
fn close_deeper(
    slot: &mut ThreadSlot,
    c: &Collector,
    key: SpanKey,
    panicked: bool,
) -> Option<(u64, SpanKey)> {
    let _own = OwnAllocations::begin();
    let frame = slot.take_frame(key)?;
    close_taken(slot, c, frame, panicked)
}

impl Subscriber for ProfilerSubscriber {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.enabled(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    #[inline]
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        // Every span (the layer over a bare registry records them all); of events, only the
        // hand-written ones with the metrics target carry anything for the profiler.
        !meta.is_event() || meta.target() == METRICS_TARGET
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let meta = attrs.metadata();
        let c = self.collector();
        // A leaf: the fields' visitor formats nothing, so no user code runs.
        let made = with_slot_leaf(self.layer.id, c, |slot| {
            let info = slot.callsite(meta, c);
            let parent_span = match attrs.parent() {
                Some(p) => SpanKey::of(p),
                None if attrs.is_contextual() => slot.current_span(),
                None => SpanKey::NONE,
            };
            let parent = self
                .with_frame(slot, parent_span, |f| f.event_id)
                .unwrap_or(EventId::NONE);
            let event_id = slot.next_event_id();
            if info.sync {
                let key = sync_key(event_id);
                let top = slot.open_frame(key, event_id, parent, parent_span, info.op);
                top.opts = info.opts;
                top.meta = Some(meta);
                if info.has_fields {
                    MetricVisitor::read_new_span(top, attrs, &info);
                }
                Id::from_u64(key.raw())
            } else {
                let mut frame = Frame::new(SpanKey::NONE, event_id, parent, parent_span, info.op);
                frame.opts = info.opts;
                if info.has_fields {
                    MetricVisitor::read_new_span(&mut frame, attrs, &info);
                }
                self.open_shared(meta, Some(frame))
            }
        });
        // This thread's slot is busy (a span opened by user code the profiler runs) or gone
        // (thread teardown): a working span that records nothing.
        made.unwrap_or_else(|| self.open_shared(meta, None))
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        with_slot_leaf(self.layer.id, self.collector(), |slot| {
            let _own = OwnAllocations::begin();
            self.with_frame(slot, SpanKey::of(span), |f| {
                values.record(&mut MetricVisitor::of_span(f, 0))
            });
        });
    }

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {
        // Not part of a profile (the layer ignores it too): a span's parent is what nests it.
    }

    fn event(&self, event: &Event<'_>) {
        let c = self.collector();
        // Guarded: a field's value may be user code (`Value` impls).
        with_slot(c, |slot| {
            let _own = OwnAllocations::begin();
            let span = slot.span_of_event(event);
            let found = self.with_frame(slot, span, |f| {
                event.record(&mut MetricVisitor::of_span(f, 0));
            });
            if found.is_none() {
                slot.close_standalone_metrics(c, |frame| {
                    event.record(&mut MetricVisitor::of_span(frame, 0))
                });
            }
        });
    }

    #[inline]
    fn enter(&self, span: &Id) {
        let c = self.collector();
        with_slot_leaf(self.layer.id, c, |slot| {
            let key = SpanKey::of(span);
            // A sync span's frame is on top of this thread's stack (searched first).
            self.with_frame(slot, key, |f| f.enter(c.clock.raw()));
            slot.push_entered(key);
        });
    }

    #[inline]
    fn exit(&self, span: &Id) {
        let c = self.collector();
        with_slot_leaf(self.layer.id, c, |slot| {
            let key = SpanKey::of(span);
            let now = c.clock.raw();
            let done = if is_shared(key) {
                self.with_shared_frame(key, |f| f.exit(now));
                false
            } else {
                match slot.frame_mut(key) {
                    Some(f) => {
                        f.exit(now);
                        f.depth == 0
                    }
                    None => false,
                }
            };
            slot.pop_entered(key);
            if done {
                // A sync span is entered once, for its function's body: its event is complete
                // here, so it is recorded now and its frame leaves the stack (handles that
                // outlive the call find nothing to do).
                CLOSED_AT_EXIT.set(key.raw());
                self.close(slot, key, None, std::thread::panicking());
            }
        });
    }

    fn clone_span(&self, span: &Id) -> Id {
        // A sync span's count is only reachable through this thread's slot: a handle cloned by
        // user code the profiler runs (a metrics iterator, a value's `Display`), while the slot
        // is busy, is not counted: where such a clone and the other extra handles are all
        // dropped before the call returns, the call is recorded at that last drop, early.
        let key = SpanKey::of(span);
        if is_shared(key) {
            if let Some(entry) = self.shared.get((key.raw() & !SHARED) as usize) {
                entry.refs.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            with_slot_leaf(self.layer.id, self.collector(), |slot| {
                if let Some(f) = slot.frame_mut(key) {
                    f.refs = f.refs.saturating_add(1);
                }
            });
        }
        span.clone()
    }

    #[inline]
    fn try_close(&self, span: Id) -> bool {
        let raw = span.into_u64();
        if CLOSED_AT_EXIT.get() == raw {
            // Recorded at its exit (the common case: the close follows right after).
            CLOSED_AT_EXIT.set(0);
            return true;
        }
        let key = SpanKey::from_raw(raw);
        if is_shared(key) {
            self.close_shared(key)
        } else {
            self.close_sync(key)
        }
    }

    fn current_span(&self) -> Current {
        with_slot_leaf(self.layer.id, self.collector(), |slot| {
            let key = slot.current_span();
            if key.is_none() {
                return Current::none();
            }
            let meta = if is_shared(key) {
                self.shared
                    .get((key.raw() & !SHARED) as usize)
                    .map(|e| e.meta)
            } else {
                slot.frame_mut(key).and_then(|f| f.meta)
            };
            match meta {
                Some(meta) => Current::new(Id::from_u64(key.raw()), meta),
                // A sync span entered again after its call (its frame, with its metadata, is
                // gone): no span to hand out.
                None => Current::none(),
            }
        })
        // This thread's slot is busy (user code the profiler runs) or gone.
        .unwrap_or_else(Current::none)
    }

    unsafe fn downcast_raw(&self, id: std::any::TypeId) -> Option<*const ()> {
        if id == std::any::TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else if id == std::any::TypeId::of::<ProfilerLayer>() {
            Some(&self.layer as *const ProfilerLayer as *const ())
        } else {
            None
        }
    }
}
