//! Process-wide heap counters: every thread's allocations, readable from any thread.
//!
//! The [`CountingAllocator`](crate::CountingAllocator) keeps two views of the heap. Its
//! thread-local counters ([`alloc`](super::alloc)) give a span its own thread's traffic; the
//! counters here give the whole process's, for spans that count every thread's allocations
//! (`#[profile(alloc = "process")]`, `profile_function`, scaling studies, the hardware
//! profiler) and for the monitor's live-heap samples.
//!
//! Each thread owns one slot of a static table: it claims a free slot at its first
//! allocation (one compare-and-swap) and writes its counters there with plain relaxed
//! load-and-store pairs: no atomic read-modify-write, no lock and no shared cache line on the
//! allocation path. Any thread reads the totals by summing the slots in use. The counters of a
//! slot are cumulative over every thread that ever owned it: a thread that exits hands its
//! slot (at its thread-exit destructor, registered through a `pthread` key so the allocator
//! never uses a Rust thread-local with a destructor) to the next thread as it is, so sums stay
//! monotonic and nothing is lost when threads come and go. Where the table is full (more than
//! 256 threads alive at once) or a thread is past its exit destructor, its allocations go
//! to a shared overflow slot with atomic adds: correct, only slower.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::model::event::{AllocSizes, AllocStats, ALLOC_SIZE_CLASSES};

/// Threads that can hold a slot of their own at once.
pub(crate) const SLOTS: usize = 256;

/// One thread's cumulative counters (or those of every thread that owned the slot before it).
#[repr(C, align(64))]
struct Slot {
    /// Held by a live thread.
    owned: AtomicBool,
    /// User code's allocations (the profiler's own excluded).
    allocated: AtomicU64,
    freed: AtomicU64,
    allocations: AtomicU64,
    /// The profiler's own allocations and frees (in the live-heap total only).
    own_allocated: AtomicU64,
    own_freed: AtomicU64,
    /// User allocations by size class ([`AllocSizes::class_of`]).
    sizes: [AtomicU64; ALLOC_SIZE_CLASSES],
}

impl Slot {
    const fn new() -> Self {
        Slot {
            owned: AtomicBool::new(false),
            allocated: AtomicU64::new(0),
            freed: AtomicU64::new(0),
            allocations: AtomicU64::new(0),
            own_allocated: AtomicU64::new(0),
            own_freed: AtomicU64::new(0),
            sizes: [const { AtomicU64::new(0) }; ALLOC_SIZE_CLASSES],
        }
    }
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
/// Shared by threads without a slot of their own (atomic adds).
static OVERFLOW: Slot = Slot::new();
/// Slots ever claimed: readers sum `TABLE[..HIGH]` (threads claim the lowest free slot).
static HIGH: AtomicUsize = AtomicUsize::new(0);

/// This thread's slot index, or one of the two markers below.
const UNCLAIMED: usize = usize::MAX;
const SHARED: usize = usize::MAX - 1;

thread_local! {
    // Const-initialised and without a destructor: safe to use inside the global allocator.
    static MINE: Cell<usize> = const { Cell::new(UNCLAIMED) };
}

/// Adds `x` to a counter only this thread writes.
#[inline(always)]
fn bump(c: &AtomicU64, x: u64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(x), Ordering::Relaxed);
}

/// Records one allocation (or the new side of a reallocation) of `size` bytes.
#[inline(always)]
pub(crate) fn on_alloc(size: u64, own: bool) {
    let i = MINE.with(Cell::get);
    if let Some(s) = TABLE.get(i) {
        if own {
            bump(&s.own_allocated, size);
        } else {
            bump(&s.allocated, size);
            bump(&s.allocations, 1);
            bump(&s.sizes[AllocSizes::class_of(size)], 1);
        }
    } else {
        alloc_slow(size, own);
    }
}

/// Records one free (or the old side of a reallocation) of `size` bytes.
#[inline(always)]
pub(crate) fn on_free(size: u64, own: bool) {
    let i = MINE.with(Cell::get);
    if let Some(s) = TABLE.get(i) {
        bump(if own { &s.own_freed } else { &s.freed }, size);
    } else {
        free_slow(size, own);
    }
}

#[cold]
#[inline(never)]
fn alloc_slow(size: u64, own: bool) {
    if let Some(s) = claim() {
        return on_alloc_in(s, size, own, bump);
    }
    on_alloc_in(&OVERFLOW, size, own, |c, x| {
        c.fetch_add(x, Ordering::Relaxed);
    });
}

#[cold]
#[inline(never)]
fn free_slow(size: u64, own: bool) {
    let (s, shared) = match claim() {
        Some(s) => (s, false),
        None => (&OVERFLOW, true),
    };
    let c = if own { &s.own_freed } else { &s.freed };
    if shared {
        c.fetch_add(size, Ordering::Relaxed);
    } else {
        bump(c, size);
    }
}

#[inline(always)]
fn on_alloc_in(s: &Slot, size: u64, own: bool, add: impl Fn(&AtomicU64, u64)) {
    if own {
        add(&s.own_allocated, size);
    } else {
        add(&s.allocated, size);
        add(&s.allocations, 1);
        add(&s.sizes[AllocSizes::class_of(size)], 1);
    }
}

/// Claims a slot for this thread (the lowest free one), or `None` where the thread already
/// shares the overflow slot or the table is full (it then shares it from now on).
fn claim() -> Option<&'static Slot> {
    if MINE.with(Cell::get) != UNCLAIMED {
        return None;
    }
    for (i, s) in TABLE.iter().enumerate() {
        if !s.owned.load(Ordering::Relaxed)
            && s.owned
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            HIGH.fetch_max(i + 1, Ordering::Release);
            MINE.with(|m| m.set(i));
            release_at_exit(i);
            return Some(s);
        }
    }
    MINE.with(|m| m.set(SHARED));
    None
}

/// Hands slot `i` back at this thread's exit (unix: a `pthread` key destructor, which neither
/// allocates through the Rust allocator nor uses a Rust thread-local with a destructor).
#[cfg(unix)]
fn release_at_exit(i: usize) {
    use std::ffi::c_void;

    /// 0: not created yet; otherwise the key + 1.
    static KEY: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn release(p: *mut c_void) {
        let i = (p as usize).wrapping_sub(1);
        // Whatever this thread still allocates goes to the shared slot from now on.
        let _ = MINE.try_with(|m| m.set(SHARED));
        if let Some(s) = TABLE.get(i) {
            s.owned.store(false, Ordering::Release);
        }
    }

    let mut key = KEY.load(Ordering::Acquire);
    if key == 0 {
        let mut k: libc::pthread_key_t = 0;
        // SAFETY: `k` is a valid out-pointer; `release` has the destructor's signature.
        if unsafe { libc::pthread_key_create(&mut k, Some(release)) } != 0 {
            return; // No key: the slot stays this thread's (released never; still correct).
        }
        let mine = k as usize + 1;
        key = match KEY.compare_exchange(0, mine, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => mine,
            Err(theirs) => {
                // SAFETY: `k` was created above and never used.
                unsafe { libc::pthread_key_delete(k) };
                theirs
            }
        };
    }
    // SAFETY: the key is live (never deleted once published); the value is a non-null token.
    unsafe {
        libc::pthread_setspecific((key - 1) as libc::pthread_key_t, (i + 1) as *const c_void);
    }
}

#[cfg(not(unix))]
fn release_at_exit(_i: usize) {}

/// The process's heap counters so far, summed over every thread that allocated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HeapTotals {
    /// User code's traffic (the profiler's own excluded).
    pub user: AllocStats,
    /// User allocations by size class.
    pub sizes: AllocSizes,
    /// The profiler's own allocated and freed bytes.
    pub own_allocated: u64,
    pub own_freed: u64,
}

impl HeapTotals {
    /// Live heap bytes: everything allocated less everything freed, the profiler's own
    /// included (what the allocator holds for the program).
    pub(crate) fn live_bytes(&self) -> u64 {
        let alloc = self.user.allocated_bytes.wrapping_add(self.own_allocated);
        let freed = self.user.freed_bytes.wrapping_add(self.own_freed);
        alloc.saturating_sub(freed)
    }

    /// User code's allocated less freed bytes, wrapping: only differences of two readings mean
    /// something (the growth of user code's live heap between them), since the profiler's own
    /// memory freed in user code counts as freed here.
    pub(crate) fn user_net(&self) -> u64 {
        self.user
            .allocated_bytes
            .wrapping_sub(self.user.freed_bytes)
    }

    /// User traffic between `earlier` and `self`.
    pub(crate) fn since(&self, earlier: &HeapTotals) -> (AllocStats, AllocSizes) {
        (
            self.user.since(&earlier.user),
            self.sizes.since(&earlier.sizes),
        )
    }
}

fn add_slot(t: &mut HeapTotals, s: &Slot) {
    let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
    t.user.allocated_bytes = t.user.allocated_bytes.wrapping_add(r(&s.allocated));
    t.user.freed_bytes = t.user.freed_bytes.wrapping_add(r(&s.freed));
    t.user.allocations = t.user.allocations.wrapping_add(r(&s.allocations));
    t.own_allocated = t.own_allocated.wrapping_add(r(&s.own_allocated));
    t.own_freed = t.own_freed.wrapping_add(r(&s.own_freed));
    for (acc, c) in t.sizes.counts.iter_mut().zip(&s.sizes) {
        *acc = acc.wrapping_add(r(c));
    }
}

/// Every thread's counters so far, or `None` without a counting allocator. Reads the slots in
/// use (a few cache lines per thread): for span boundaries of opt-in spans and the monitor,
/// never per event.
pub(crate) fn totals() -> Option<HeapTotals> {
    if !super::alloc::is_active() {
        return None;
    }
    let mut t = HeapTotals::default();
    let n = HIGH.load(Ordering::Acquire).min(SLOTS);
    for s in &TABLE[..n] {
        add_slot(&mut t, s);
    }
    add_slot(&mut t, &OVERFLOW);
    Some(t)
}

/// Live heap bytes of the whole process (everything allocated through the
/// [`CountingAllocator`](crate::CountingAllocator) and not yet freed, the profiler's own
/// included), or `None` without it.
///
/// ```
/// // Without a counting allocator installed (as in this doctest) nothing is known.
/// assert_eq!(profiler_runtime::record::heap::live_heap_bytes(), None);
/// ```
pub fn live_heap_bytes() -> Option<u64> {
    totals().map(|t| t.live_bytes())
}

/// User code's allocated less freed bytes (wrapping; see [`HeapTotals::user_net`]), or `None`
/// without a counting allocator.
pub(crate) fn user_net() -> Option<u64> {
    totals().map(|t| t.user_net())
}

/// Growth of user code's live heap from the reading `start` (of [`user_net`]) to now.
pub(crate) fn user_growth_since(start: Option<u64>) -> Option<i64> {
    Some(user_net()?.wrapping_sub(start?) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_one_aligned_block_and_sizes_are_classed_by_powers_of_two() {
        assert_eq!(std::mem::align_of::<Slot>(), 64);
        assert_eq!(AllocSizes::class_of(1), 0);
        assert_eq!(AllocSizes::class_of(8), 0);
        assert_eq!(AllocSizes::class_of(9), 1);
        assert_eq!(AllocSizes::class_of(16), 1);
        assert_eq!(AllocSizes::class_of(17), 2);
        assert_eq!(AllocSizes::class_of(u64::MAX), ALLOC_SIZE_CLASSES - 1);
    }

    #[test]
    fn a_thread_that_exits_hands_its_counts_on() {
        // Without the allocator installed nothing is counted through it; drive the recording
        // functions directly on fresh threads.
        let before = {
            let mut t = HeapTotals::default();
            for s in &TABLE[..HIGH.load(Ordering::Acquire)] {
                add_slot(&mut t, s);
            }
            add_slot(&mut t, &OVERFLOW);
            t
        };
        for _ in 0..(SLOTS + 8) {
            std::thread::spawn(|| {
                on_alloc(100, false);
                on_free(40, false);
            })
            .join()
            .expect("thread");
        }
        let mut after = HeapTotals::default();
        for s in &TABLE[..HIGH.load(Ordering::Acquire)] {
            add_slot(&mut after, s);
        }
        add_slot(&mut after, &OVERFLOW);
        let (d, sizes) = after.since(&before);
        let n = (SLOTS + 8) as u64;
        assert!(d.allocated_bytes >= 100 * n, "{d:?}");
        assert!(d.freed_bytes >= 40 * n, "{d:?}");
        assert!(sizes.counts[AllocSizes::class_of(100)] >= n);
        // Threads came and went one at a time: their slots were reused, not used up.
        #[cfg(unix)]
        assert!(
            HIGH.load(Ordering::Acquire) < SLOTS,
            "slots are released at thread exit"
        );
    }
}
