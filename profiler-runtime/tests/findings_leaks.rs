//! No false alarms on memory: a buffer returned to a caller that drops it is not a leak, nor is
//! a cache that fills and plateaus; memory leaked on every call is, with its bytes per call.
//!
//! One test on purpose: the leak check reads the process's live heap, so no other test of this
//! binary may allocate meanwhile.

use std::collections::HashMap;
use std::sync::Mutex;

use profiler_runtime::analysis::{Basis, MemoryAnalysis};
use profiler_runtime::{profile, BottleneckAnalyzer, CountingAllocator, PerformanceProfiler};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

const CALLS: usize = 200;

/// Returns a fresh 32 KiB buffer: the caller owns (and drops) it.
#[profile(kind = "memory_usage")]
fn make_buffer(i: usize) -> Vec<u8> {
    let mut v = vec![0u8; 32 << 10];
    v[0] = i as u8;
    v
}

/// Leaks 1 KiB on every call.
#[profile(kind = "memory_usage")]
fn leak_kib(i: usize) {
    let v = Box::leak(vec![i as u8; 1024].into_boxed_slice());
    std::hint::black_box(v);
}

static CACHE: Mutex<Option<HashMap<usize, Vec<u8>>>> = Mutex::new(None);

/// Caches 1 KiB per distinct key, with 120 keys: it fills over the first 120 of the 200 calls
/// (steadily enough that a straight line fits its growth with R^2 0.88), then plateaus.
#[profile(kind = "memory_usage")]
fn cached(i: usize) -> u8 {
    let mut c = CACHE.lock().expect("cache");
    let map = c.get_or_insert_with(|| HashMap::with_capacity(256));
    map.entry(i % 120).or_insert_with(|| vec![i as u8; 1024])[0]
}

/// One step of a solve: its state grows by 1 KiB a step and lives until the solve returns.
#[profile(kind = "algorithm_step")]
fn grow_state(state: &mut Vec<Vec<u8>>, i: usize) {
    state.push(vec![i as u8; 1024]);
}

/// A solve that holds its steps' state while it runs and frees it when it returns.
#[profile(kind = "computation")]
fn solve_holding_state(steps: usize) -> usize {
    let mut state = Vec::new();
    for i in 0..steps {
        grow_state(&mut state, i);
    }
    state.len()
}

/// A leak inside a caller: the caller's span cannot free it.
#[profile(kind = "computation")]
fn solve_leaking(steps: usize) {
    for i in 0..steps {
        leak_kib(i);
    }
}

/// A library's reserved scratch: 64 MiB allocated once, never touched, never freed (as faer's
/// per-thread GEMM pages are), so the live heap grows whatever else happens.
fn reserve_scratch_once() {
    static SCRATCH: Mutex<Option<Vec<u8>>> = Mutex::new(None);
    let mut s = SCRATCH.lock().expect("scratch");
    s.get_or_insert_with(|| Vec::with_capacity(64 << 20));
}

fn memory_of(f: impl Fn()) -> MemoryAnalysis {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .expect("valid config");
    p.in_scope(f);
    BottleneckAnalyzer::new(&p)
        .analyze_bottlenecks()
        .bottleneck_analysis
        .memory_analysis
}

#[test]
fn only_memory_that_stays_live_and_keeps_growing_is_a_leak() {
    // A returned buffer the caller drops: its span grows by 32 KiB a call, but the heap does not.
    let m = memory_of(|| {
        for i in 0..CALLS {
            let b = make_buffer(i);
            std::hint::black_box(&b);
        }
    });
    assert!(m.tracked);
    assert!(
        m.leak_suspects.is_empty(),
        "a returned, dropped buffer is not a leak: {:#?}",
        m.leak_suspects
    );
    assert!(m.heap_growth_bytes.expect("live heap known") < (CALLS as i64 * (32 << 10)) / 2);

    // A cache that fills and plateaus (still live at the end) is not a leak either.
    let m = memory_of(|| {
        for i in 0..CALLS {
            cached(i);
        }
    });
    assert!(
        m.leak_suspects.is_empty(),
        "a plateaued cache is not a leak: {:#?}",
        m.leak_suspects
    );

    // `Box::leak` on every call: a measured leak of about 1 KiB per call.
    let m = memory_of(|| {
        for i in 0..CALLS {
            leak_kib(i);
        }
    });
    let names: Vec<&str> = m.leak_suspects.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["leak_kib"], "{m:#?}");
    let l = &m.leak_suspects[0];
    assert_eq!(l.basis, Basis::Measured);
    assert!(
        (1024.0..1100.0).contains(&l.growth_per_call_bytes),
        "{} bytes per call",
        l.growth_per_call_bytes
    );
    assert!(l.retained_bytes >= (CALLS * 1024) as i64);
    assert_eq!(l.calls, CALLS as u64);

    // State a solve holds while it runs and frees when it returns is not a leak, even when the
    // live heap grew for another reason (a library's reserved scratch) over the profile.
    let m = memory_of(|| {
        reserve_scratch_once();
        for _ in 0..10 {
            solve_holding_state(CALLS / 10);
        }
    });
    assert!(m.heap_growth_bytes.expect("live heap known") >= 64 << 20);
    assert!(
        m.leak_suspects.is_empty(),
        "state freed by its caller is not a leak: {:#?}",
        m.leak_suspects
    );
    // The same shape leaking inside its caller still is.
    let m = memory_of(|| {
        for _ in 0..10 {
            solve_leaking(CALLS / 10);
        }
    });
    let names: Vec<&str> = m.leak_suspects.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["leak_kib"], "{m:#?}");
}
