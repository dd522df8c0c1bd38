//! A thread's staging chunk: the events it closed since its last flush, written without a lock
//! straight into the buffer that will later move, whole, into the ring.
//!
//! One writer (the shard's own thread) and any number of readers (snapshots), under this
//! protocol:
//!
//! - the writer fills event slot `len` (and, for an event with a side record, aux slot
//!   `aux_len`) and then publishes it with a `Release` store of `len + 1`. It never touches a
//!   published slot, nor replaces the buffer, except in [`Stage::take`], which it calls with the
//!   shard's lock held;
//! - a reader takes the shard's lock, loads `len` with `Acquire` and reads only the slots below
//!   it (and the aux slots those events name). The lock keeps the writer out of `take`
//!   meanwhile; slots at or above `len` may be written concurrently, but they are other memory.
//!
//! So the hot path pays one 64-byte store per event, no lock and no copy: at a flush the filled
//! buffer moves into the ring as it is, and an empty one takes its place.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::raw::{Aux, Chunk, EventRef, RawEvent};

/// Events staged per thread before a flush (and so the events per chunk of the ring).
pub(crate) const STAGE: usize = 512;

/// How many events ahead of the one written [`Stage::push`] prefetches its slot.
const PREFETCH_AHEAD: usize = 3;

/// Starts loading the cache line at `p` (a hint: never faults, whatever `p` is).
///
/// A recycled buffer's slots are cold, and the registry's atomic operations right after
/// `on_close` would otherwise wait for the event's store to reach the cache: a prefetch a few
/// events ahead takes that miss out of the hot path (about 10 ns per call measured here).
#[inline(always)]
fn prefetch(p: *const RawEvent) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is part of SSE (baseline on x86_64) and has no memory effects.
    unsafe {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

pub(crate) struct Stage {
    /// The buffer being filled (capacity [`STAGE`], length 0: the count is `len`). Only the
    /// owner touches the `Vec` itself, in `take`, with the shard's lock held.
    buf: UnsafeCell<Vec<RawEvent>>,
    /// `buf`'s data pointer, read by the writer and by lock holders, replaced only in `take`.
    ptr: AtomicPtr<RawEvent>,
    aux: Box<[UnsafeCell<MaybeUninit<Aux>>]>,
    /// Aux slots in use; touched by the owner only.
    aux_len: UnsafeCell<usize>,
    len: AtomicUsize,
}

// SAFETY: see the module docs: published slots are only read (by the writer or lock holders)
// or, with the shard lock held by the writer, moved out; unpublished slots and `aux_len` are
// only touched by the single writer thread. `RawEvent` and `Aux` are `Send`.
unsafe impl Sync for Stage {}

impl Stage {
    pub(crate) fn new() -> Self {
        let mut buf = Vec::with_capacity(STAGE);
        let ptr = AtomicPtr::new(buf.as_mut_ptr());
        Stage {
            buf: UnsafeCell::new(buf),
            ptr,
            aux: (0..STAGE)
                .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
                .collect(),
            aux_len: UnsafeCell::new(0),
            len: AtomicUsize::new(0),
        }
    }

    /// Stages one event; returns `true` when the stage is full and must be taken.
    ///
    /// # Safety
    /// Only the shard's owner thread may call this, and never while the stage is full.
    #[inline(always)]
    pub(crate) unsafe fn push(&self, mut ev: RawEvent, aux: Option<Aux>) -> bool {
        let n = self.len.load(Ordering::Relaxed);
        debug_assert!(n < STAGE);
        if let Some(a) = aux {
            // SAFETY: `aux_len` and the aux slots at or above it are the writer's alone.
            unsafe {
                let k = *self.aux_len.get();
                (*self.aux[k].get()).write(a);
                *self.aux_len.get() = k + 1;
                ev.aux = k as u32 + 1;
            }
        } else {
            ev.aux = 0;
        }
        let base = self.ptr.load(Ordering::Relaxed);
        // SAFETY: slot `n` < STAGE is within `buf`'s capacity and unpublished: no reader looks
        // at it and only this thread writes it.
        unsafe { base.add(n).write(ev) };
        prefetch(base.wrapping_add(n + PREFETCH_AHEAD));
        self.len.store(n + 1, Ordering::Release);
        n + 1 == STAGE
    }

    /// Moves the staged events out as a chunk and continues in `fresh` (emptied, capacity
    /// [`STAGE`] at least).
    ///
    /// # Safety
    /// Only the owner thread may call this, with the shard's lock held.
    pub(crate) unsafe fn take(&self, mut fresh: Vec<RawEvent>) -> Chunk {
        fresh.clear();
        fresh.reserve(STAGE);
        let n = self.len.load(Ordering::Relaxed);
        // SAFETY: the owner with the lock held: nobody else touches `buf`, `aux_len` or the
        // slots; the first `n` events are initialised (published).
        unsafe {
            let buf = &mut *self.buf.get();
            buf.set_len(n);
            self.ptr.store(fresh.as_mut_ptr(), Ordering::Relaxed);
            let events = std::mem::replace(buf, fresh);
            let k = std::mem::replace(&mut *self.aux_len.get(), 0);
            let aux = self.aux[..k]
                .iter()
                .map(|s| (*s.get()).assume_init_read())
                .collect();
            self.len.store(0, Ordering::Release);
            Chunk { events, aux }
        }
    }

    /// Visits the staged events with their side records.
    ///
    /// # Safety
    /// The caller holds the shard's lock (or is the owner thread).
    pub(crate) unsafe fn for_each(&self, mut f: impl FnMut(EventRef<'_>)) {
        let n = self.len.load(Ordering::Acquire);
        let ptr = self.ptr.load(Ordering::Relaxed);
        for i in 0..n {
            // SAFETY: published by the writer's `Release` store of `len` (as is every aux slot a
            // published event names), and not taken while the caller holds the lock.
            unsafe {
                let ev = &*ptr.add(i);
                let aux = ev
                    .aux
                    .checked_sub(1)
                    .map(|k| (*self.aux[k as usize].get()).assume_init_ref());
                f(EventRef { ev, aux });
            }
        }
    }

    /// A copy of the staged events (the owner may stage more meanwhile).
    ///
    /// # Safety
    /// As [`Stage::for_each`].
    pub(crate) unsafe fn copy(&self) -> Chunk {
        let mut c = Chunk::default();
        // SAFETY: forwarded to the caller.
        unsafe {
            self.for_each(|e| {
                let mut ev = *e.ev;
                ev.aux = match e.aux {
                    Some(a) => {
                        c.aux.push(a.clone());
                        c.aux.len() as u32
                    }
                    None => 0,
                };
                c.events.push(ev);
            })
        };
        c
    }

    /// Whether nothing is staged.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        let k = *self.aux_len.get_mut();
        for slot in &mut self.aux[..k] {
            // SAFETY: aux slots below `aux_len` are initialised and owned by the stage.
            unsafe { slot.get_mut().assume_init_drop() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u64) -> (RawEvent, Option<Aux>) {
        Chunk::test_event(id)
    }

    #[test]
    fn push_take_and_drop_keep_every_event_once() {
        let s = Stage::new();
        for i in 0..STAGE as u64 - 1 {
            let (e, a) = ev(i);
            // SAFETY: single-threaded test: this thread is the owner.
            assert!(!unsafe { s.push(e, if i % 2 == 0 { a } else { None }) });
        }
        let (e, a) = ev(999);
        // SAFETY: as above.
        assert!(unsafe { s.push(e, a) });
        let mut seen = Vec::new();
        // SAFETY: as above.
        unsafe {
            s.for_each(|e| seen.push((e.ev.start_raw, e.aux.is_some())));
        }
        assert_eq!(seen.len(), STAGE);
        // SAFETY: as above.
        let copy = unsafe { s.copy() };
        // SAFETY: as above.
        let chunk = unsafe { s.take(Vec::new()) };
        for c in [&copy, &chunk] {
            let got: Vec<_> = c
                .iter()
                .map(|e| (e.ev.start_raw, e.aux.is_some()))
                .collect();
            assert_eq!(got, seen);
            let mut names = Vec::new();
            c.get(2)
                .expect("event 2")
                .for_each_metric(|k, _| names.push(k.to_owned()));
            assert_eq!(names, ["m2"]);
        }
        assert!(s.is_empty());
        // Staged side records with owned data are dropped with the stage.
        let (e, a) = ev(1);
        // SAFETY: as above.
        unsafe { s.push(e, a) };
        drop(s);
    }
}
