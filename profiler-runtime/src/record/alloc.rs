//! [`CountingAllocator`]: a `#[global_allocator]` wrapper that counts heap traffic per thread.
//!
//! Counters live in const-initialised thread-locals (plain `Cell`s, no destructor), so counting
//! costs a few instructions and no atomic read-modify-write on the allocation path. The
//! profiler reads them on span enter and exit; while the profiler itself runs, a per-thread flag
//! routes its own allocations to a separate counter so they never show up in a user's span.
//! Each allocation is also added to this thread's slot of the process-wide counters
//! ([`heap`]), which spans that count every thread's allocations and the monitor's live-heap
//! samples read.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::event::AllocStats;
use crate::record::heap;

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whose allocations the thread is making now (see [`OwnAllocations`]).
const USER: u8 = 0;
/// The profiler's internal state: left out of every user figure.
const OWN: u8 = 1;
/// Values the profiler hands back to its caller (snapshots, session results, reports): left
/// out of the calling thread's spans, but the caller's in the process-wide heap, so that the
/// caller dropping them later balances its books.
const RETURNED: u8 = 2;

struct Counters {
    allocated: Cell<u64>,
    freed: Cell<u64>,
    allocations: Cell<u64>,
    in_profiler: Cell<u8>,
    profiler_bytes: Cell<u64>,
}

thread_local! {
    static COUNTERS: Counters = const {
        Counters {
            allocated: Cell::new(0),
            freed: Cell::new(0),
            allocations: Cell::new(0),
            in_profiler: Cell::new(USER),
            profiler_bytes: Cell::new(0),
        }
    };
}

/// Counts allocations per thread, then forwards to the wrapped allocator.
///
/// ```
/// #[global_allocator]
/// static ALLOC: profiler_runtime::CountingAllocator = profiler_runtime::CountingAllocator::system();
/// # fn main() {}
/// ```
///
/// Without it installed, [`ProfileEvent::alloc`](crate::ProfileEvent::alloc) is `None`
/// ("unknown") and reports show only RSS samples.
#[derive(Debug, Default)]
pub struct CountingAllocator<A = System> {
    inner: A,
}

impl CountingAllocator<System> {
    /// Wraps the system allocator.
    pub const fn system() -> Self {
        CountingAllocator { inner: System }
    }
}

impl<A> CountingAllocator<A> {
    /// Wraps any allocator.
    pub const fn new(inner: A) -> Self {
        CountingAllocator { inner }
    }
}

#[inline(always)]
fn count(alloc_bytes: u64, free_bytes: u64, allocations: u64) {
    if !ACTIVE.load(Ordering::Relaxed) {
        ACTIVE.store(true, Ordering::Relaxed);
    }
    let own = COUNTERS.with(|c| {
        let mode = c.in_profiler.get();
        if mode != USER {
            c.profiler_bytes.set(c.profiler_bytes.get() + alloc_bytes);
        } else {
            c.allocated.set(c.allocated.get() + alloc_bytes);
            c.freed.set(c.freed.get() + free_bytes);
            c.allocations.set(c.allocations.get() + allocations);
        }
        mode == OWN
    });
    // The process-wide view (this thread's slot: plain stores, no atomic read-modify-write).
    if allocations != 0 {
        heap::on_alloc(alloc_bytes, own);
    }
    if free_bytes != 0 {
        heap::on_free(free_bytes, own);
    }
}

// SAFETY: every method forwards to the inner allocator with the caller's arguments unchanged;
// counting touches only thread-local `Cell`s that never allocate.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = self.inner.alloc(layout);
        if !p.is_null() {
            count(layout.size() as u64, 0, 1);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = self.inner.alloc_zeroed(layout);
        if !p.is_null() {
            count(layout.size() as u64, 0, 1);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.inner.dealloc(ptr, layout);
        count(0, layout.size() as u64, 0);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = self.inner.realloc(ptr, layout, new_size);
        if !p.is_null() {
            count(new_size as u64, layout.size() as u64, 1);
        }
        p
    }
}

/// Whether a [`CountingAllocator`] has served any allocation in this process.
#[inline]
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// This thread's counters so far (user code only), or `None` without the allocator.
#[inline(always)]
pub(crate) fn thread_counters() -> Option<AllocStats> {
    if !ACTIVE.load(Ordering::Relaxed) {
        return None;
    }
    Some(COUNTERS.with(|c| AllocStats {
        allocated_bytes: c.allocated.get(),
        freed_bytes: c.freed.get(),
        allocations: c.allocations.get(),
    }))
}

/// Bytes the profiler itself allocated on this thread.
pub fn profiler_allocated_bytes() -> u64 {
    COUNTERS.with(|c| c.profiler_bytes.get())
}

/// Routes this thread's allocations to the profiler's own counter until dropped.
pub(crate) struct OwnAllocations {
    was: u8,
}

impl OwnAllocations {
    /// The profiler's internal state: out of every user figure.
    #[inline(always)]
    pub(crate) fn begin() -> Self {
        let was = COUNTERS.with(|c| c.in_profiler.replace(OWN));
        OwnAllocations { was }
    }

    /// A value to be handed to the caller: out of the calling thread's spans, but the
    /// caller's in the process-wide heap (inside internal work it stays internal).
    #[inline(always)]
    pub(crate) fn returned() -> Self {
        let was = COUNTERS.with(|c| {
            let was = c.in_profiler.get();
            c.in_profiler.set(if was == OWN { OWN } else { RETURNED });
            was
        });
        OwnAllocations { was }
    }
}

impl Drop for OwnAllocations {
    #[inline(always)]
    fn drop(&mut self) {
        let was = self.was;
        COUNTERS.with(|c| c.in_profiler.set(was));
    }
}
