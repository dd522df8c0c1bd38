//! Thread-local state of a profiler on one thread: its shard, its stack of open sync spans, its
//! stack of entered spans (for parents) and its callsite cache.
//!
//! Everything here is touched only by its own thread, so the hot path takes no lock for it.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Weak};

use tracing::Metadata;

use crate::contract::{
    parse_span_marker, reserved_index, ARGS_END_FIELD, ARGS_RECORDED_FIELD, KIND_FIELD_PREFIX,
    MARKER_ARGS_RECORDED, MARKER_PROCESS_ALLOC, MARKER_SYNC, PROCESS_ALLOC_FIELD, SYNC_FIELD,
};
use crate::model::event::EventKind;
use crate::model::hash::IntMap;
use crate::record::args::{ArgLayout, INLINE_ARGS};
use crate::record::collector::{Collector, Shard};
use crate::record::frame::Frame;
use crate::record::ids::{EventId, SpanKey};
use crate::record::raw::RawEvent;

/// What the layer knows of a callsite, computed once per thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallsiteInfo {
    pub op: u32,
    pub sync: bool,
    /// Whether any field other than the markers exists (worth visiting).
    pub has_fields: bool,
    /// Bit `i` set: an argument (not a reported field) is named `RESERVED_KEYS[i]`, and is
    /// recorded as `ARG_KEYS[i]` instead.
    pub reserved_args: u16,
    /// The frame options its markers ask for ([`Frame::PROCESS_ALLOC`], [`Frame::ARGS_RECORDED`]).
    pub opts: u8,
    /// The arguments read into inline slots ([`crate::record::args`]); the others take the
    /// generic metric path.
    pub args: ArgLayout,
    /// Every field other than the markers is an inline argument: reading them allocates
    /// nothing.
    pub only_inline: bool,
    /// The inline arguments' values come from the expansion's [`stage`] call, not from the
    /// fields (a sync span with the macro's marker and inline arguments).
    ///
    /// [`stage`]: crate::record::args::stage
    pub staged: bool,
}

pub(crate) struct ThreadSlot {
    pub collector: Weak<Collector>,
    pub collector_id: u64,
    pub shard: Arc<Shard>,
    pub thread_id: u64,
    next_seq: u64,
    /// Open spans owned by this thread, innermost last: `stack[..live]`. Slots beyond `live`
    /// are kept for reuse, so opening a span moves no frame.
    stack: Vec<Frame>,
    live: usize,
    /// Span ids entered on this thread, innermost last (sync and async alike).
    pub entered: Vec<SpanKey>,
    callsites: IntMap<usize, CallsiteInfo>,
    last_callsite: (usize, CallsiteInfo),
    /// Set while a guarded call ([`with_slot`]) runs on this slot: a re-entrant callback gets
    /// no slot.
    busy: bool,
}

impl ThreadSlot {
    fn new(collector: &Arc<Collector>) -> Self {
        let (shard, thread_id) = collector.register_thread();
        ThreadSlot {
            collector: Arc::downgrade(collector),
            collector_id: collector.id,
            shard,
            thread_id,
            next_seq: 0,
            stack: Vec::with_capacity(32),
            live: 0,
            entered: Vec::with_capacity(32),
            callsites: IntMap::default(),
            last_callsite: (
                0,
                CallsiteInfo {
                    op: 0,
                    sync: false,
                    has_fields: false,
                    reserved_args: 0,
                    opts: 0,
                    args: ArgLayout::default(),
                    only_inline: false,
                    staged: false,
                },
            ),
            busy: false,
        }
    }

    /// A new event id, unique across threads: thread id in the high bits.
    #[inline(always)]
    pub(crate) fn next_event_id(&mut self) -> EventId {
        self.next_seq += 1;
        EventId::new(self.thread_id, self.next_seq)
    }

    /// A new virtual span id for a frame that is not a tracing span.
    pub(crate) fn next_virtual_span(&mut self) -> SpanKey {
        SpanKey::virtual_for(self.next_event_id())
    }

    /// The callsite's operation and flags, interning it on first sight on this thread.
    #[inline]
    pub(crate) fn callsite(
        &mut self,
        meta: &'static Metadata<'static>,
        collector: &Collector,
    ) -> CallsiteInfo {
        let key = meta as *const Metadata<'static> as usize;
        if self.last_callsite.0 == key {
            return self.last_callsite.1;
        }
        if let Some(info) = self.callsites.get(&key) {
            self.last_callsite = (key, *info);
            return *info;
        }
        let _own = crate::record::alloc::OwnAllocations::begin();
        let mut kind = EventKind::FunctionCall;
        let mut sync = false;
        let mut markers = 0;
        // Fields before the args-end marker that are not markers are the function's arguments.
        let mut args: Vec<(usize, &'static str)> = Vec::new();
        let mut reserved_args = 0u16;
        let mut layout = ArgLayout::default();
        let mut opts = 0;
        let mut staged = false;
        // The macro's one marker (`profile.span.<kind>...`, after the arguments), or the
        // separate markers of hand-written spans (`profile.kind.<kind>`, `profile.sync`, ...,
        // the arguments before `profile.args_end`).
        for f in meta.fields() {
            let name = f.name();
            if let Some((k, options)) = parse_span_marker(name) {
                kind = k;
                sync |= options & MARKER_SYNC != 0;
                staged |= options & MARKER_SYNC != 0;
                if options & MARKER_PROCESS_ALLOC != 0 {
                    opts |= Frame::PROCESS_ALLOC;
                }
                if options & MARKER_ARGS_RECORDED != 0 {
                    opts |= Frame::ARGS_RECORDED;
                }
                markers += 1;
                end_args(&mut args, &mut layout, &mut reserved_args);
            } else if let Some(k) = name.strip_prefix(KIND_FIELD_PREFIX) {
                kind = k.parse().unwrap_or(EventKind::FunctionCall);
                markers += 1;
            } else if name == SYNC_FIELD {
                sync = true;
                markers += 1;
            } else if name == PROCESS_ALLOC_FIELD {
                opts |= Frame::PROCESS_ALLOC;
                markers += 1;
            } else if name == ARGS_RECORDED_FIELD {
                opts |= Frame::ARGS_RECORDED;
                markers += 1;
            } else if name == ARGS_END_FIELD {
                markers += 1;
                end_args(&mut args, &mut layout, &mut reserved_args);
            } else {
                args.push((f.index(), name));
            }
        }
        let info = CallsiteInfo {
            op: collector.intern(meta.name(), kind),
            sync,
            has_fields: meta.fields().len() > markers,
            reserved_args,
            opts,
            args: layout,
            only_inline: meta.fields().len() == markers + usize::from(layout.n),
            staged: staged && layout.n > 0,
        };
        self.callsites.insert(key, info);
        self.last_callsite = (key, info);
        info
    }

    /// Opens a frame on this thread's stack, reusing a slot in place when one is free.
    #[inline(always)]
    pub(crate) fn open_frame(
        &mut self,
        span: SpanKey,
        event_id: EventId,
        parent: EventId,
        parent_span: SpanKey,
        op: u32,
    ) -> &mut Frame {
        let n = self.live;
        if n < self.stack.len() {
            self.stack[n].reset(span, event_id, parent, parent_span, op);
        } else {
            let _own = crate::record::alloc::OwnAllocations::begin();
            self.stack
                .push(Frame::new(span, event_id, parent, parent_span, op));
        }
        self.live = n + 1;
        &mut self.stack[n]
    }

    /// The innermost open frame.
    #[inline(always)]
    pub(crate) fn top_mut(&mut self) -> Option<&mut Frame> {
        self.live.checked_sub(1).map(|i| &mut self.stack[i])
    }

    /// The open frame of span `span` on this thread, searched innermost first.
    #[inline(always)]
    pub(crate) fn frame_mut(&mut self, span: SpanKey) -> Option<&mut Frame> {
        if span.is_none() {
            return None;
        }
        self.stack[..self.live]
            .iter_mut()
            .rev()
            .find(|f| f.span == span)
    }

    /// Removes and returns the frame of `span` wherever it is on the stack (slow path).
    pub(crate) fn take_frame(&mut self, span: SpanKey) -> Option<Frame> {
        let i = self.stack[..self.live]
            .iter()
            .rposition(|f| f.span == span)?;
        self.live -= 1;
        Some(self.stack.remove(i))
    }

    /// The span entered last on this thread ([`SpanKey::NONE`] outside any).
    #[inline(always)]
    pub(crate) fn current_span(&self) -> SpanKey {
        self.entered.last().copied().unwrap_or(SpanKey::NONE)
    }

    /// The span a `tracing` event belongs to: its explicit parent, else (a contextual event)
    /// the span entered last on this thread, else none.
    pub(crate) fn span_of_event(&self, event: &tracing::Event<'_>) -> SpanKey {
        match event.parent() {
            Some(p) => SpanKey::of(p),
            None if event.is_contextual() => self.current_span(),
            None => SpanKey::NONE,
        }
    }

    /// The innermost open frame entered on this thread: its event id and span key (none for
    /// either where there is none). What a `record_event` or `profile_function` call nests
    /// under.
    pub(crate) fn innermost_open(&mut self) -> (EventId, SpanKey) {
        let top = self.current_span();
        match self.frame_mut(top).map(|f| f.event_id) {
            Some(ev) => (ev, top),
            None => (EventId::NONE, SpanKey::NONE),
        }
    }

    /// Pushes `span` on the entered stack.
    #[inline(always)]
    pub(crate) fn push_entered(&mut self, span: SpanKey) {
        if self.entered.len() == self.entered.capacity() {
            let _own = crate::record::alloc::OwnAllocations::begin();
            self.entered.reserve(self.entered.len().max(8));
        }
        self.entered.push(span);
    }

    /// Pops `span` from the entered stack (normally the innermost).
    #[inline(always)]
    pub(crate) fn pop_entered(&mut self, span: SpanKey) {
        match self.entered.last() {
            Some(&s) if s == span => {
                self.entered.pop();
            }
            _ => {
                if let Some(i) = self.entered.iter().rposition(|&s| s == span) {
                    self.entered.remove(i);
                }
            }
        }
    }

    /// Records metrics found outside any span this profiler knows as a standalone zero-length
    /// event named `metrics`; `add` puts them on its frame.
    pub(crate) fn close_standalone_metrics(
        &mut self,
        collector: &Collector,
        add: impl FnOnce(&mut Frame),
    ) {
        let op = collector.intern(crate::contract::STANDALONE_METRICS, EventKind::FunctionCall);
        let mut frame = Frame::new(
            SpanKey::NONE,
            self.next_event_id(),
            EventId::NONE,
            SpanKey::NONE,
            op,
        );
        add(&mut frame);
        self.close_frame(collector, frame, false);
    }

    /// Turns a closed frame into an event in this thread's shard. Returns the event's wall
    /// ticks.
    pub(crate) fn close_frame(
        &mut self,
        collector: &Collector,
        mut frame: Frame,
        panicked: bool,
    ) -> u64 {
        close_into(collector, &self.shard, &mut frame, panicked)
    }

    /// Closes the innermost frame in place (no move of the frame). Returns the event's wall
    /// ticks and the parent's span id (0: none).
    #[inline(always)]
    pub(crate) fn close_top(
        &mut self,
        collector: &Collector,
        panicked: bool,
    ) -> Option<(u64, SpanKey)> {
        let i = self.live.checked_sub(1)?;
        let frame = &mut self.stack[i];
        let parent_span = frame.parent_span;
        let wall = close_into(collector, &self.shard, frame, panicked);
        self.live = i;
        Some((wall, parent_span))
    }
}

/// Ends a callsite's arguments (`args`, the fields seen so far that are not markers): their
/// inline slots, and the reserved names among them.
fn end_args(
    args: &mut Vec<(usize, &'static str)>,
    layout: &mut ArgLayout,
    reserved_args: &mut u16,
) {
    *layout = inline_layout(args);
    for (_, a) in args.drain(..) {
        if let Some(i) = reserved_index(a) {
            *reserved_args |= 1 << i;
        }
    }
}

/// The inline slots of a callsite whose arguments are `args` (field index, name, in field
/// order): the first [`INLINE_ARGS`] of them, while their indices run on (as the macro writes
/// them), each marked when its name is reserved.
fn inline_layout(args: &[(usize, &'static str)]) -> ArgLayout {
    let Some(&(first, _)) = args.first() else {
        return ArgLayout::default();
    };
    let Ok(first8) = u8::try_from(first) else {
        return ArgLayout::default();
    };
    let mut layout = ArgLayout {
        first: first8,
        n: 0,
        reserved: 0,
    };
    for (j, &(index, name)) in args.iter().take(INLINE_ARGS).enumerate() {
        if index != first + j || u8::try_from(index).is_err() {
            break;
        }
        if reserved_index(name).is_some() {
            layout.reserved |= 1 << j;
        }
        layout.n += 1;
    }
    layout
}

impl Drop for ThreadSlot {
    /// The thread is gone (or its profiler is): frames it left open become events (closed
    /// while still entered, at this moment), its staged events move into the ring, and its
    /// shard leaves the collector, so threads that come and go leave no memory behind.
    fn drop(&mut self) {
        let Some(collector) = self.collector.upgrade() else {
            return;
        };
        let _own = crate::record::alloc::OwnAllocations::begin();
        while self.live > 0 {
            self.live -= 1;
            let frame = &mut self.stack[self.live];
            close_into(&collector, &self.shard, frame, false);
        }
        collector.retire_thread(&self.shard);
    }
}

/// Closes `frame` into an event in `shard`. Returns the event's wall ticks.
#[inline(always)]
fn close_into(collector: &Collector, shard: &Shard, frame: &mut Frame, panicked: bool) -> u64 {
    if frame.is_plain() {
        // The common case: exited, nothing beside the event. Built straight into the stage.
        let ev = frame.close(&collector.clock, panicked);
        let wall = ev.wall;
        if wall < collector.backtrace_ticks() {
            collector.stage(shard, ev, frame.args.as_ref());
        } else {
            close_slow_with_backtrace(collector, shard, frame, ev);
        }
        wall
    } else {
        close_other_into(collector, shard, frame, panicked)
    }
}

/// Stages a closed event slower than the backtrace threshold, with a backtrace taken here
/// (out of line: only slow events come this way).
#[cold]
#[inline(never)]
fn close_slow_with_backtrace(
    collector: &Collector,
    shard: &Shard,
    frame: &mut Frame,
    ev: RawEvent,
) {
    frame.backtrace = Some(capture_backtrace());
    let args = frame.args;
    collector.stage_with_aux(shard, ev, args.as_ref(), |aux| frame.fill_aux(aux));
}

/// A backtrace of the calling thread, taken without the profiler's own allocations counting.
#[cold]
#[inline(never)]
fn capture_backtrace() -> Arc<std::backtrace::Backtrace> {
    let _own = crate::record::alloc::OwnAllocations::begin();
    Arc::new(std::backtrace::Backtrace::force_capture())
}

/// Closes a frame that is still entered, was never entered or has a side record (out of
/// line: the empty span's path stays short).
#[inline(never)]
fn close_other_into(
    collector: &Collector,
    shard: &Shard,
    frame: &mut Frame,
    panicked: bool,
) -> u64 {
    let ev = frame.close(&collector.clock, panicked);
    let wall = ev.wall;
    if wall >= collector.backtrace_ticks() {
        frame.backtrace = Some(capture_backtrace());
    }
    let args = frame.args;
    if frame.has_aux() {
        collector.stage_with_aux(shard, ev, args.as_ref(), |aux| frame.fill_aux(aux));
    } else {
        collector.stage(shard, ev, args.as_ref());
    }
    wall
}

/// This thread's slots, one per live collector. Boxed, so a slot's address is stable while the
/// vector grows (hence `Vec<Box<_>>`); dropping the list clears [`FAST`] first, so no dangling
/// pointer survives it.
#[allow(clippy::vec_box)]
struct Slots(Vec<Box<ThreadSlot>>);

impl Drop for Slots {
    fn drop(&mut self) {
        let _ = FAST.try_with(|f| f.set((0, std::ptr::null_mut())));
    }
}

thread_local! {
    static SLOTS: RefCell<Slots> = const { RefCell::new(Slots(Vec::new())) };
    /// The slot used last: `(collector id, slot)`. A plain `Cell` of `Copy` data with a const
    /// initialiser: reading it is one TLS load, no lazy-initialisation or destructor check.
    static FAST: Cell<(u64, *mut ThreadSlot)> = const { Cell::new((0, std::ptr::null_mut())) };
}

/// This thread's slot for the collector with id `id`, creating it on first use; `None` during
/// thread teardown or while a guarded call ([`with_slot`]) holds the slot up the stack.
#[inline(always)]
fn slot_ptr(id: u64, collector: &Arc<Collector>) -> Option<*mut ThreadSlot> {
    let (fast_id, ptr) = FAST.try_with(Cell::get).ok()?;
    let ptr = if fast_id == id && !ptr.is_null() {
        ptr
    } else {
        slot_slow(collector)?
    };
    // SAFETY: `ptr` points into a live `Box<ThreadSlot>` owned by this thread's `SLOTS`
    // (cleared from `FAST` before `SLOTS` drops, and slots of live collectors are never
    // removed), and only this thread reads it.
    if unsafe { (*ptr).busy } {
        return None;
    }
    Some(ptr)
}

/// Runs `f` on this thread's slot for `collector` (whose id is `id`), for a layer callback
/// that calls no code able to re-enter the profiler: no user code, no formatting of user
/// values, no `tracing` call. Such a callback only checks the slot's `busy` flag (set by a
/// guarded call up the stack), without setting it: two stores fewer per callback.
#[inline(always)]
pub(crate) fn with_slot_leaf<R>(
    id: u64,
    collector: &Arc<Collector>,
    f: impl FnOnce(&mut ThreadSlot) -> R,
) -> Option<R> {
    let ptr = slot_ptr(id, collector)?;
    // SAFETY: the slot is live (see `slot_ptr`) and not busy, so no `&mut` to it exists up the
    // stack; `f` is a leaf (the caller's promise), so none is made while this one lives.
    Some(f(unsafe { &mut *ptr }))
}

/// Runs `f` on this thread's slot for `collector`, creating it on first use, with the slot
/// marked busy: for calls that may run user code (a metrics iterator, a value's `Debug`) which
/// could re-enter the profiler. Returns `None` during thread teardown or on re-entry (the
/// profiler never recurses into itself).
#[inline(always)]
pub(crate) fn with_slot<R>(
    collector: &Arc<Collector>,
    f: impl FnOnce(&mut ThreadSlot) -> R,
) -> Option<R> {
    /// Clears `busy` however the call ends: a panic in the user code `f` runs (caught further
    /// up) must not leave the slot busy, which would silence the profiler on this thread.
    struct Busy(*mut ThreadSlot);
    impl Drop for Busy {
        fn drop(&mut self) {
            // SAFETY: the slot outlives the call (see `slot_ptr`); the `&mut` given to `f` is
            // gone by the time this runs.
            unsafe { (*self.0).busy = false };
        }
    }
    let ptr = slot_ptr(collector.id, collector)?;
    // SAFETY: as in `with_slot_leaf`; `busy` makes any re-entrant call get no slot.
    unsafe { (*ptr).busy = true };
    let _busy = Busy(ptr);
    // SAFETY: as above; the only other access, `Busy::drop`, runs after `f` returns.
    Some(f(unsafe { &mut *ptr }))
}

/// Finds or creates this thread's slot for `collector` and makes it the fast one. Kept out of
/// line and free of the caller's closure, so every callback inlines its closure once.
#[cold]
#[inline(never)]
fn slot_slow(collector: &Arc<Collector>) -> Option<*mut ThreadSlot> {
    let ptr: *mut ThreadSlot = SLOTS
        .try_with(|slots| {
            let mut slots = slots.try_borrow_mut().ok()?;
            let list = &mut slots.0;
            let idx = match list.iter().position(|s| s.collector_id == collector.id) {
                Some(i) => i,
                None => {
                    let _own = crate::record::alloc::OwnAllocations::begin();
                    // Only slots of dead collectors go; none of them can be busy.
                    list.retain(|s| s.collector.strong_count() > 0 || s.busy);
                    list.push(Box::new(ThreadSlot::new(collector)));
                    list.len() - 1
                }
            };
            Some(&mut *list[idx] as *mut ThreadSlot)
        })
        .ok()
        .flatten()?;
    FAST.try_with(|f| f.set((collector.id, ptr))).ok()?;
    Some(ptr)
}
