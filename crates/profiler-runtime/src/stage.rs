//! A thread's staging buffer: the events it closed since its last flush, written without a lock.
//!
//! One writer (the shard's own thread) and any number of readers (snapshots), under this
//! protocol:
//!
//! - the writer fills slot `len` and then publishes it with a `Release` store of `len + 1`; it
//!   never touches a slot below `len` except in [`Stage::drain`], which it calls with the
//!   shard's lock held;
//! - a reader takes the shard's lock, loads `len` with `Acquire` and reads only the slots below
//!   it. The lock keeps the writer out of `drain` meanwhile; slots at or above `len` may be
//!   written concurrently, but they are other memory.
//!
//! So the hot path pays one plain store per event instead of a lock, and a snapshot still sees
//! every event, exactly.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::collector::RawEvent;

/// Events staged per thread before a flush into the shard's aggregates and batch.
pub(crate) const STAGE: usize = 256;

pub(crate) struct Stage {
    slots: Box<[UnsafeCell<MaybeUninit<RawEvent>>]>,
    len: AtomicUsize,
}

// SAFETY: see the module docs: slots below `len` are only read (by the writer or readers) or,
// with the shard lock held by the writer, drained; slots at or above `len` are only touched by
// the single writer thread. `RawEvent` is `Send`, so moving events between threads is sound.
unsafe impl Sync for Stage {}

impl Stage {
    pub(crate) fn new() -> Self {
        Stage {
            slots: (0..STAGE)
                .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
                .collect(),
            len: AtomicUsize::new(0),
        }
    }

    /// Stages one event; returns `true` when the stage is full and must be drained.
    ///
    /// # Safety
    /// Only the shard's owner thread may call this, and never while the stage is full.
    #[inline(always)]
    pub(crate) unsafe fn push(&self, ev: RawEvent) -> bool {
        let n = self.len.load(Ordering::Relaxed);
        debug_assert!(n < STAGE);
        // SAFETY: slot `n` is at `len`: no reader looks at it and only this thread writes it.
        unsafe { (*self.slots[n].get()).write(ev) };
        self.len.store(n + 1, Ordering::Release);
        n + 1 == STAGE
    }

    /// Moves every staged event out, in order, and empties the stage.
    ///
    /// # Safety
    /// Only the owner thread may call this, with the shard's lock held.
    pub(crate) unsafe fn drain(&self, mut f: impl FnMut(RawEvent)) {
        let n = self.len.load(Ordering::Relaxed);
        for slot in &self.slots[..n] {
            // SAFETY: slots below `len` are initialised; each is read out once, and `len` is
            // reset below before anyone (only lock holders read) can look again.
            f(unsafe { (*slot.get()).assume_init_read() });
        }
        self.len.store(0, Ordering::Release);
    }

    /// Visits the staged events.
    ///
    /// # Safety
    /// The caller holds the shard's lock (or is the owner thread).
    pub(crate) unsafe fn for_each(&self, mut f: impl FnMut(&RawEvent)) {
        let n = self.len.load(Ordering::Acquire);
        for slot in &self.slots[..n] {
            // SAFETY: published by the writer's `Release` store of `len`, and not drained
            // while the caller holds the lock.
            f(unsafe { (*slot.get()).assume_init_ref() });
        }
    }

    /// Whether nothing is staged.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        let n = *self.len.get_mut();
        for slot in &mut self.slots[..n] {
            // SAFETY: slots below `len` are initialised and owned by the stage.
            unsafe { slot.get_mut().assume_init_drop() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u64) -> RawEvent {
        RawEvent::test_event(id)
    }

    #[test]
    fn push_drain_and_drop_keep_every_event_once() {
        let s = Stage::new();
        for i in 0..STAGE as u64 - 1 {
            // SAFETY: single-threaded test: this thread is the owner.
            assert!(!unsafe { s.push(ev(i)) });
        }
        // SAFETY: as above.
        assert!(unsafe { s.push(ev(999)) });
        let mut seen = Vec::new();
        // SAFETY: as above.
        unsafe { s.for_each(|e| seen.push(e.id)) };
        assert_eq!(seen.len(), STAGE);
        let mut drained = Vec::new();
        // SAFETY: as above.
        unsafe { s.drain(|e| drained.push(e.id)) };
        assert_eq!(drained, seen);
        assert!(s.is_empty());
        // Staged events with owned data are dropped with the stage.
        // SAFETY: as above.
        unsafe { s.push(ev(1)) };
        drop(s);
    }
}
