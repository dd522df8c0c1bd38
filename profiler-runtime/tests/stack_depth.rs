//! Deep recursion: a `#[profile]` function uses no more stack per level than the same function
//! under `#[tracing::instrument]` (the profiler's per-span state lives on the heap, not in the
//! caller's frame), so a profiled recursion goes as deep as an instrumented one.
//!
//! Measured without overflowing: each level notes the address of a local, and the stack used
//! per level is the distance between the outermost and the innermost level over the depth.
//! Both run on a fresh thread with the same fixed stack size, under the same subscriber.

use std::cell::Cell;

use profiler_runtime::{profile, PerformanceProfiler};

const DEPTH: u32 = 2_000;
const STACK: usize = 64 << 20;

thread_local! {
    /// (highest, lowest) address of a level's local seen on this thread.
    static SEEN: Cell<(usize, usize)> = const { Cell::new((0, usize::MAX)) };
}

fn note_level() {
    let marker = 0u8;
    let at = std::hint::black_box(std::ptr::addr_of!(marker)) as usize;
    SEEN.with(|s| {
        let (hi, lo) = s.get();
        s.set((hi.max(at), lo.min(at)));
    });
}

#[profile]
#[inline(never)]
fn profiled(depth: u32) -> u32 {
    note_level();
    if depth == 0 {
        return 0;
    }
    std::hint::black_box(profiled(depth - 1)) + 1
}

#[tracing::instrument]
#[inline(never)]
fn instrumented(depth: u32) -> u32 {
    note_level();
    if depth == 0 {
        return 0;
    }
    std::hint::black_box(instrumented(depth - 1)) + 1
}

#[inline(never)]
fn plain(depth: u32) -> u32 {
    note_level();
    if depth == 0 {
        return 0;
    }
    std::hint::black_box(plain(depth - 1)) + 1
}

/// Stack bytes per recursion level of `f` at [`DEPTH`], on a fresh thread of [`STACK`] bytes
/// with `p` as its subscriber.
fn bytes_per_level(p: &PerformanceProfiler, f: fn(u32) -> u32) -> usize {
    let p = p.clone();
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            p.in_scope(|| {
                assert_eq!(f(DEPTH), DEPTH);
                let (hi, lo) = SEEN.with(Cell::get);
                (hi - lo) / DEPTH as usize
            })
        })
        .expect("spawn")
        .join()
        .expect("no overflow at this depth")
}

#[test]
fn a_profiled_recursion_uses_no_more_stack_per_level_than_an_instrumented_one() {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .expect("valid config");
    let profiled_bytes = bytes_per_level(&p, profiled);
    let instrumented_bytes = bytes_per_level(&p, instrumented);
    let plain_bytes = bytes_per_level(&p, plain);
    println!(
        "stack per level: plain {plain_bytes} B, #[profile] {profiled_bytes} B, \
         #[tracing::instrument] {instrumented_bytes} B"
    );
    assert!(
        profiled_bytes <= instrumented_bytes,
        "#[profile] takes {profiled_bytes} B of stack per level, #[instrument] {instrumented_bytes} B"
    );
    // Every level was recorded, with its parent: the depth is not bought by dropping events.
    let snap = p.snapshot();
    let op = snap
        .operations
        .iter()
        .find(|o| &*o.name == "profiled")
        .expect("profiled recorded");
    assert_eq!(op.count, u64::from(DEPTH) + 1);
}
