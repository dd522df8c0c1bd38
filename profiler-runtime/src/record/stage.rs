//! A thread's staging chunk: the events it closed since its last flush, written without a lock
//! straight into the buffers that will later move, whole, into the ring.
//!
//! One writer (the shard's own thread) and any number of readers (snapshots), under this
//! protocol:
//!
//! - the writer fills event slot `len` (and, for an event with a side record, aux slot
//!   `aux_len`, and for one with an extra, extra slot `extras_len`) and then publishes it with a
//!   `Release` store of `len + 1`. It never touches a published slot, nor replaces a buffer,
//!   except in [`Stage::take`], which it calls with the shard's lock held;
//! - a reader takes the shard's lock, loads `len` with `Acquire` and reads only the slots below
//!   it (and the aux and extra slots those events name). The lock keeps the writer out of
//!   `take` meanwhile; slots at or above `len` may be written concurrently, but they are other
//!   memory.
//!
//! So the hot path pays one 64-byte store per event, no lock and no copy: at a flush the filled
//! event buffer moves into the ring as it is, and an empty one takes its place. Side records
//! are written in place too (never built elsewhere and copied, which would stall the store of
//! the copy on the loads of the original); their buffer moves whole when many events have one,
//! and its few used slots are copied out when few do.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::record::args::ArgRec;
use crate::record::raw::{Aux, Chunk, EventRef, Extra, RawEvent};

/// Events staged per thread before a flush (and so the events per chunk of the ring).
pub(crate) const STAGE: usize = 512;

// An event names its argument record by a `u16` (1-based) within a chunk of at most STAGE
// events.
const _: () = assert!(STAGE < u16::MAX as usize);

/// Argument records staged at most this many are copied out at a flush; more move whole.
const ARGS_COPY_MAX: usize = STAGE / 8;

/// How many events ahead of the one written [`Stage::push`] prefetches its slot.
const PREFETCH_AHEAD: usize = 3;

/// Starts loading the cache line at `p` (a hint: never faults, whatever `p` is).
///
/// A recycled buffer's slots are cold, and the registry's atomic operations right after
/// `on_close` would otherwise wait for the event's store to reach the cache: a prefetch a few
/// events ahead takes that miss out of the hot path (about 10 ns per call measured here).
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is part of SSE (baseline on x86_64) and has no memory effects.
    unsafe {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Writes `ev` into `dst` field by field. A whole-struct copy would load the event back from
/// the stack in 16-byte pieces, each spanning fields just stored one by one (`aux`, `args`,
/// `flags`): a load no store can forward to, which stalls until the stores retire (measured
/// here as the hottest instruction of a profiled call with an argument).
///
/// # Safety
/// `dst` is valid for writes of a `RawEvent` and aligned.
#[inline(always)]
unsafe fn write_fields(dst: *mut RawEvent, ev: &RawEvent) {
    use std::ptr::addr_of_mut;
    // SAFETY: forwarded to the caller; each field pointer is derived from `dst`.
    unsafe {
        addr_of_mut!((*dst).id).write(ev.id);
        addr_of_mut!((*dst).parent).write(ev.parent);
        addr_of_mut!((*dst).start_raw).write(ev.start_raw);
        addr_of_mut!((*dst).wall).write(ev.wall);
        addr_of_mut!((*dst).busy).write(ev.busy);
        addr_of_mut!((*dst).child_ns).write(ev.child_ns);
        addr_of_mut!((*dst).op).write(ev.op);
        addr_of_mut!((*dst).aux).write(ev.aux);
        addr_of_mut!((*dst).flags).write(ev.flags);
        addr_of_mut!((*dst).args).write(ev.args);
    }
}

pub(crate) struct Stage {
    /// The buffer being filled (capacity [`STAGE`], length 0: the count is `len`). Only the
    /// owner touches the `Vec` itself, in `take`, with the shard's lock held.
    buf: UnsafeCell<Vec<RawEvent>>,
    /// `buf`'s data pointer, read by the writer and by lock holders, replaced only in `take`.
    ptr: AtomicPtr<RawEvent>,
    /// Side records ([`STAGE`] slots, the first `aux_len` in use), never replaced.
    aux: Box<[UnsafeCell<MaybeUninit<Aux>>]>,
    /// Aux slots in use; touched by the owner only.
    aux_len: UnsafeCell<usize>,
    /// The extras of staged side records (rare: they own heap data, so they are moved out one
    /// by one at a flush).
    extras: Box<[UnsafeCell<MaybeUninit<Extra>>]>,
    /// Extra slots in use; touched by the owner only.
    extras_len: UnsafeCell<usize>,
    /// Inline-argument records (capacity [`STAGE`], length 0: the count is `args_len`), the
    /// first `args_len` in use; replaced only in `take`, as `buf` is.
    args: UnsafeCell<Vec<ArgRec>>,
    /// `args`' data pointer (as `ptr` is `buf`'s).
    args_ptr: AtomicPtr<ArgRec>,
    /// Argument slots in use; touched by the owner only.
    args_len: UnsafeCell<usize>,
    len: AtomicUsize,
}

// SAFETY: see the module docs: published slots are only read (by the writer or lock holders)
// or, with the shard lock held by the writer, moved out; unpublished slots, `aux_len` and
// `extras_len` (and `args_len`) are only touched by the single writer thread. `RawEvent`,
// `Aux`, `Extra` and `ArgRec` are `Send`.
unsafe impl Sync for Stage {}

impl Stage {
    pub(crate) fn new() -> Self {
        let mut buf = Vec::with_capacity(STAGE);
        let ptr = AtomicPtr::new(buf.as_mut_ptr());
        let mut args = Vec::with_capacity(STAGE);
        let args_ptr = AtomicPtr::new(args.as_mut_ptr());
        Stage {
            args: UnsafeCell::new(args),
            args_ptr,
            args_len: UnsafeCell::new(0),
            buf: UnsafeCell::new(buf),
            ptr,
            aux: (0..STAGE)
                .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
                .collect(),
            aux_len: UnsafeCell::new(0),
            extras: (0..STAGE)
                .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
                .collect(),
            extras_len: UnsafeCell::new(0),
            len: AtomicUsize::new(0),
        }
    }

    /// Stages one event without a side record; returns `true` when the stage is full and must
    /// be taken.
    ///
    /// # Safety
    /// Only the shard's owner thread may call this, and never while the stage is full.
    #[inline(always)]
    pub(crate) unsafe fn push(&self, mut ev: RawEvent) -> bool {
        ev.aux = 0;
        // SAFETY: forwarded to the caller.
        unsafe { self.publish(ev) }
    }

    /// Stages one event with a side record, which `fill` writes in place into an empty
    /// [`Aux`] (returning the [`Extra`] it needs, if any); returns `true` when the stage is
    /// full and must be taken.
    ///
    /// # Safety
    /// As [`Stage::push`].
    #[inline(always)]
    pub(crate) unsafe fn push_with_aux(
        &self,
        mut ev: RawEvent,
        fill: impl FnOnce(&mut Aux) -> Option<Extra>,
    ) -> bool {
        // SAFETY: `aux_len`, `extras_len` and the slots at or above them are the writer's
        // alone (unpublished), and both stay below STAGE: one of each per event at most.
        unsafe {
            let k = *self.aux_len.get();
            debug_assert!(k < STAGE);
            let slot = (*self.aux[k].get()).write(Aux::EMPTY);
            if let Some(x) = fill(slot) {
                let j = *self.extras_len.get();
                (*self.extras[j].get()).write(x);
                *self.extras_len.get() = j + 1;
                slot.extra = j as u32 + 1;
            }
            *self.aux_len.get() = k + 1;
            ev.aux = k as u32 + 1;
            self.publish(ev)
        }
    }

    /// Stages the inline-argument record of `ev`, the event about to be pushed next (by
    /// [`Stage::push`] or [`Stage::push_with_aux`], which publish both): one 32-byte store.
    ///
    /// # Safety
    /// As [`Stage::push`], and the event must be pushed next.
    #[inline(always)]
    pub(crate) unsafe fn attach_args(&self, ev: &mut RawEvent, rec: &ArgRec) {
        // SAFETY: `args_len` and the slots at or above it are the writer's alone (unpublished
        // until the event naming them is), and it stays below STAGE: one record per event at
        // most, and the stage is never full here.
        unsafe {
            let k = *self.args_len.get();
            debug_assert!(k < STAGE);
            let base = self.args_ptr.load(Ordering::Relaxed);
            base.add(k).write(*rec);
            // As for events: a moved-out buffer's successor is cold.
            prefetch(base.wrapping_add(k + 2 * PREFETCH_AHEAD).cast());
            *self.args_len.get() = k + 1;
            ev.args = k as u16 + 1;
        }
    }

    /// Writes `ev` into slot `len` and publishes it.
    ///
    /// # Safety
    /// As [`Stage::push`].
    #[inline(always)]
    unsafe fn publish(&self, ev: RawEvent) -> bool {
        let n = self.len.load(Ordering::Relaxed);
        debug_assert!(n < STAGE);
        let base = self.ptr.load(Ordering::Relaxed);
        // SAFETY: slot `n` < STAGE is within `buf`'s capacity and unpublished: no reader looks
        // at it and only this thread writes it.
        unsafe { write_fields(base.add(n), &ev) };
        prefetch(base.wrapping_add(n + PREFETCH_AHEAD).cast());
        self.len.store(n + 1, Ordering::Release);
        n + 1 == STAGE
    }

    /// Moves the staged events out as a chunk and continues in `fresh` (emptied, capacity
    /// [`STAGE`] at least). Side records are copied out (one `memcpy`), extras moved; argument
    /// records are copied out when few, or else move whole and `fresh_args` gives the buffer
    /// to continue in.
    ///
    /// # Safety
    /// Only the owner thread may call this, with the shard's lock held.
    pub(crate) unsafe fn take(
        &self,
        mut fresh: Vec<RawEvent>,
        fresh_args: impl FnOnce() -> Vec<ArgRec>,
    ) -> Chunk {
        fresh.clear();
        fresh.reserve(STAGE);
        let n = self.len.load(Ordering::Relaxed);
        // SAFETY: the owner with the lock held: nobody else touches the buffers, the counts or
        // the slots; the first `n` events, `aux_len` side records and `extras_len` extras are
        // initialised (published).
        unsafe {
            let buf = &mut *self.buf.get();
            buf.set_len(n);
            self.ptr.store(fresh.as_mut_ptr(), Ordering::Relaxed);
            let events = std::mem::replace(buf, fresh);
            let k = std::mem::replace(&mut *self.aux_len.get(), 0);
            // `UnsafeCell<MaybeUninit<Aux>>` has the layout of `Aux`, and `Aux` is `Copy`.
            let aux = std::slice::from_raw_parts(self.aux.as_ptr().cast::<Aux>(), k).to_vec();
            let j = std::mem::replace(&mut *self.extras_len.get(), 0);
            let extras = self.extras[..j]
                .iter()
                .map(|s| (*s.get()).assume_init_read())
                .collect();
            let a = std::mem::replace(&mut *self.args_len.get(), 0);
            let args = if a == 0 {
                Vec::new()
            } else if a <= ARGS_COPY_MAX {
                std::slice::from_raw_parts(self.args_ptr.load(Ordering::Relaxed), a).to_vec()
            } else {
                let mut next = fresh_args();
                next.clear();
                next.reserve(STAGE);
                self.args_ptr.store(next.as_mut_ptr(), Ordering::Relaxed);
                let buf = &mut *self.args.get();
                buf.set_len(a);
                std::mem::replace(buf, next)
            };
            self.len.store(0, Ordering::Release);
            Chunk {
                events,
                aux,
                extras,
                args,
            }
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
            // SAFETY: published by the writer's `Release` store of `len` (as is every aux and
            // extra slot a published event names), and not taken while the caller holds the
            // lock.
            unsafe {
                let ev = &*ptr.add(i);
                let aux = ev
                    .aux
                    .checked_sub(1)
                    .map(|k| (*self.aux[k as usize].get()).assume_init_ref());
                let extra = aux
                    .and_then(|a| a.extra.checked_sub(1))
                    .map(|j| (*self.extras[j as usize].get()).assume_init_ref());
                let args_ptr = self.args_ptr.load(Ordering::Relaxed);
                let args = ev
                    .args
                    .checked_sub(1)
                    .map(|j| &*args_ptr.add(usize::from(j)));
                f(EventRef {
                    ev,
                    aux,
                    extra,
                    args,
                });
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
                    Some(&a) => {
                        let mut a = a;
                        a.extra = match e.extra {
                            Some(x) => {
                                c.extras.push(x.clone());
                                c.extras.len() as u32
                            }
                            None => 0,
                        };
                        c.aux.push(a);
                        c.aux.len() as u32
                    }
                    None => 0,
                };
                ev.args = match e.args {
                    Some(&r) => {
                        c.args.push(r);
                        c.args.len() as u16
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
        let j = *self.extras_len.get_mut();
        for slot in &mut self.extras[..j] {
            // SAFETY: extra slots below `extras_len` are initialised and owned by the stage.
            unsafe { slot.get_mut().assume_init_drop() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stages `n` events; every `every`-th has a side record with an owned metric `m<i>`
    /// (and, for odd ones, an inline metric too). Returns what was staged: (start, has aux).
    fn stage_some(s: &Stage, first: u64, n: u64, every: u64) -> Vec<(u64, bool)> {
        let mut staged = Vec::new();
        for i in first..first + n {
            let (e, _, x) = Chunk::test_event(i);
            let with = i % every == 0;
            // SAFETY: single-threaded test: this thread is the owner.
            let full = unsafe {
                if with {
                    s.push_with_aux(e, |a| {
                        a.alloc.allocations = i;
                        if i % 2 == 1 {
                            a.inline[0] = ("inline", 2.0);
                            a.n_inline = 1;
                        }
                        Some(x)
                    })
                } else {
                    s.push(e)
                }
            };
            staged.push((i, with));
            assert_eq!(full, staged.len() == STAGE);
        }
        staged
    }

    fn seen(c: &Chunk) -> Vec<(u64, bool)> {
        c.iter()
            .map(|e| (e.ev.start_raw, e.aux.is_some()))
            .collect()
    }

    /// Every event's side records are its own: the allocation count, its metrics in order.
    fn check_records(c: &Chunk) {
        for e in c.iter() {
            let i = e.ev.start_raw;
            let Some(a) = e.aux else { continue };
            assert_eq!(a.alloc.allocations, i);
            let mut names = Vec::new();
            e.for_each_metric(|k, _| names.push(k.to_owned()));
            let mut want = Vec::new();
            if i % 2 == 1 {
                want.push("inline".to_owned());
            }
            want.push(format!("m{i}"));
            assert_eq!(names, want, "event {i}");
        }
    }

    #[test]
    fn a_full_stage_keeps_every_event_and_side_record_once_and_goes_on_after_a_take() {
        let s = Stage::new();
        let staged = stage_some(&s, 0, STAGE as u64, 2);
        let mut visited = Vec::new();
        // SAFETY: as above.
        unsafe { s.for_each(|e| visited.push((e.ev.start_raw, e.aux.is_some()))) };
        assert_eq!(visited, staged);
        // SAFETY: as above.
        let copy = unsafe { s.copy() };
        // SAFETY: as above.
        let chunk = unsafe { s.take(Vec::new(), Vec::new) };
        assert_eq!(chunk.aux.len(), STAGE / 2);
        assert_eq!(chunk.extras.len(), STAGE / 2);
        for c in [&copy, &chunk] {
            assert_eq!(seen(c), staged);
            check_records(c);
        }
        assert!(s.is_empty());
        // The stage goes on in the fresh buffers; the taken chunk is untouched by it.
        let more = stage_some(&s, 10_000, 100, 3);
        // SAFETY: as above.
        let next = unsafe { s.take(Vec::new(), Vec::new) };
        assert_eq!(seen(&next), more);
        check_records(&next);
        check_records(&chunk);
    }

    #[test]
    fn a_partial_stage_takes_just_its_side_records() {
        let s = Stage::new();
        let staged = stage_some(&s, 0, 40, 5);
        // SAFETY: as above.
        let chunk = unsafe { s.take(Vec::new(), Vec::new) };
        assert_eq!(seen(&chunk), staged);
        assert_eq!(chunk.aux.len(), 8);
        assert_eq!(chunk.extras.len(), 8);
        check_records(&chunk);
        // Staged extras (owned data) are dropped with the stage.
        stage_some(&s, 0, 3, 1);
        drop(s);
    }
}
