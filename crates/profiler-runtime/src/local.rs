//! Thread-local state of a profiler on one thread: its shard, its stack of open sync spans, its
//! stack of entered spans (for parents) and its callsite cache.
//!
//! Everything here is touched only by its own thread, so the hot path takes no lock for it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Weak};

use tracing::Metadata;

use crate::collector::{Collector, RawEvent, Shard};
use crate::event::EventKind;
use crate::frame::Frame;
use crate::macro_support::{KIND_FIELD_PREFIX, SYNC_FIELD};

/// What the layer knows of a callsite, computed once per thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallsiteInfo {
    pub op: u32,
    pub sync: bool,
    /// Whether any field other than the markers exists (worth visiting).
    pub has_fields: bool,
}

/// Hashes a pointer-sized key: the callsite's address is already well spread.
#[derive(Default)]
pub(crate) struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    }
}

/// Virtual span ids (for `profile_function`) live in the top half of the id space, far from
/// the registry's ids.
const VIRTUAL_BASE: u64 = 1 << 63;

pub(crate) struct ThreadSlot {
    pub collector: Weak<Collector>,
    pub collector_id: u64,
    pub shard: Arc<Shard>,
    pub thread_id: u64,
    next_seq: u64,
    /// Open spans owned by this thread, innermost last.
    pub stack: Vec<Frame>,
    /// Span ids entered on this thread, innermost last (sync and async alike).
    pub entered: Vec<u64>,
    callsites: HashMap<usize, CallsiteInfo, BuildHasherDefault<PtrHasher>>,
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
            entered: Vec::with_capacity(32),
            callsites: HashMap::default(),
        }
    }

    /// A new event id, unique across threads: thread id in the high bits.
    #[inline(always)]
    pub(crate) fn next_event_id(&mut self) -> u64 {
        self.next_seq += 1;
        (self.thread_id << 40) | self.next_seq
    }

    /// A new virtual span id for a frame that is not a tracing span.
    pub(crate) fn next_virtual_span(&mut self) -> u64 {
        VIRTUAL_BASE | self.next_event_id()
    }

    /// The callsite's operation and flags, interning it on first sight on this thread.
    #[inline]
    pub(crate) fn callsite(
        &mut self,
        meta: &'static Metadata<'static>,
        collector: &Collector,
    ) -> CallsiteInfo {
        let key = meta as *const Metadata<'static> as usize;
        if let Some(info) = self.callsites.get(&key) {
            return *info;
        }
        let mut kind = EventKind::FunctionCall;
        let mut sync = false;
        let mut markers = 0;
        for f in meta.fields() {
            let name = f.name();
            if let Some(k) = name.strip_prefix(KIND_FIELD_PREFIX) {
                kind = k.parse().unwrap_or(EventKind::FunctionCall);
                markers += 1;
            } else if name == SYNC_FIELD {
                sync = true;
                markers += 1;
            }
        }
        let info = CallsiteInfo {
            op: collector.intern(meta.name(), kind),
            sync,
            has_fields: meta.fields().len() > markers,
        };
        self.callsites.insert(key, info);
        info
    }

    /// The open frame of span `span` on this thread, searched innermost first.
    #[inline(always)]
    pub(crate) fn frame_mut(&mut self, span: u64) -> Option<&mut Frame> {
        self.stack.iter_mut().rev().find(|f| f.span == span)
    }

    /// Removes and returns the frame of `span` (normally the innermost).
    #[inline(always)]
    pub(crate) fn take_frame(&mut self, span: u64) -> Option<Frame> {
        match self.stack.last() {
            Some(f) if f.span == span => self.stack.pop(),
            _ => {
                let i = self.stack.iter().rposition(|f| f.span == span)?;
                Some(self.stack.remove(i))
            }
        }
    }

    /// Pops `span` from the entered stack (normally the innermost).
    #[inline(always)]
    pub(crate) fn pop_entered(&mut self, span: u64) {
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

    /// Turns a closed frame into an event in this thread's shard. Returns the event's wall ns.
    pub(crate) fn emit(&mut self, collector: &Collector, frame: Frame, panicked: bool) -> u64 {
        let now = collector.clock.raw();
        let ev: RawEvent = frame.finish(&collector.clock, self.thread_id, now, panicked);
        let wall = ev.end_ns - ev.start_ns;
        collector.record(&self.shard, ev);
        wall
    }
}

thread_local! {
    static SLOTS: RefCell<Vec<ThreadSlot>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's slot for `collector`, creating it on first use. Returns `None`
/// during thread teardown or on re-entry (the profiler never recurses into itself).
#[inline(always)]
pub(crate) fn with_slot<R>(
    collector: &Arc<Collector>,
    f: impl FnOnce(&mut ThreadSlot) -> R,
) -> Option<R> {
    SLOTS
        .try_with(|slots| {
            let mut slots = slots.try_borrow_mut().ok()?;
            let idx = match slots.iter().position(|s| s.collector_id == collector.id) {
                Some(i) => i,
                None => {
                    let _own = crate::alloc::OwnAllocations::begin();
                    slots.retain(|s| s.collector.strong_count() > 0);
                    slots.push(ThreadSlot::new(collector));
                    slots.len() - 1
                }
            };
            Some(f(&mut slots[idx]))
        })
        .ok()
        .flatten()
}
