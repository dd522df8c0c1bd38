//! What the recorder adds for trustworthy findings: every thread's allocations for spans that
//! ask for them, backtraces of slow events, span paths, and whether every argument was
//! recorded.

mod common;

use std::time::Duration;

use profiler_runtime::{profile, CountingAllocator, EventKind, PerformanceProfiler};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

const MIB: usize = 1 << 20;

/// Four scoped worker threads each allocate (and free) 16 MiB.
fn fan_out() -> usize {
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let v = vec![1u8; 16 * MIB];
                    std::hint::black_box(&v).len()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("worker")).sum()
    })
}

#[profile(kind = "computation", alloc = "process")]
fn process_wide() -> usize {
    fan_out()
}

#[profile(kind = "computation")]
fn own_thread_only() -> usize {
    fan_out()
}

#[test]
fn a_process_span_counts_its_worker_threads_allocations() {
    let p = common::profiler();
    p.in_scope(|| {
        assert_eq!(process_wide(), 64 * MIB);
        assert_eq!(own_thread_only(), 64 * MIB);
    });
    let snap = p.snapshot();
    let e = snap.events_named("process_wide").next().expect("event");
    let pa = e.process_alloc.expect("every thread's allocations");
    assert!(pa.allocated_bytes >= 64 * MIB as u64, "{pa:?}");
    assert!(pa.freed_bytes >= 64 * MIB as u64, "{pa:?}");
    // Its own thread allocated next to nothing: the work was on the workers.
    let own = e.alloc.expect("own thread's allocations");
    assert!(own.allocated_bytes < MIB as u64, "{own:?}");
    // Four allocations above 128 KiB, in the last size class.
    let sizes = e.alloc_sizes.expect("size classes");
    assert!(sizes.counts[15] >= 4, "{sizes:?}");
    // A span without `alloc = "process"` keeps the fast path: no process-wide figures.
    let plain = snap.events_named("own_thread_only").next().expect("event");
    assert_eq!(plain.process_alloc, None);
    assert!(plain.alloc.expect("own").allocated_bytes < MIB as u64);
}

#[test]
fn profile_function_counts_every_thread() {
    let p = common::profiler();
    let (n, m) = p.profile_function("fan_out", fan_out);
    assert_eq!(n, 64 * MIB);
    let pa = m.process_alloc.expect("every thread's allocations");
    assert!(pa.allocated_bytes >= 64 * MIB as u64, "{pa:?}");
    assert!(m.allocated_bytes.expect("own thread") < MIB as u64);
    let snap = p.snapshot();
    let e = snap.events_named("fan_out").next().expect("event");
    assert!(e.process_alloc.expect("on the event").allocated_bytes >= 64 * MIB as u64);
}

#[profile]
fn slow() {
    std::thread::sleep(Duration::from_millis(30));
}

#[profile]
fn fast(n: u64) -> u64 {
    std::hint::black_box(n + 1)
}

#[test]
fn a_slow_event_has_a_backtrace_and_a_fast_one_none() {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .backtrace_slower_than(Duration::from_millis(10))
        .build()
        .expect("valid config");
    p.in_scope(|| {
        slow();
        for i in 0..100 {
            fast(i);
        }
    });
    let snap = p.snapshot();
    let bt = snap
        .events_named("slow")
        .next()
        .and_then(|e| e.backtrace.clone())
        .expect("a backtrace for the slow event");
    assert!(bt.contains("slow"), "{bt}");
    assert!(snap.events_named("fast").all(|e| e.backtrace.is_none()));
    // Without the option, nothing is captured.
    let q = common::profiler();
    q.in_scope(slow);
    assert!(q.snapshot().events.iter().all(|e| e.backtrace.is_none()));
}

#[profile]
fn outer() {
    middle();
}

#[profile]
fn middle() {
    inner();
}

#[profile]
fn inner() {}

#[test]
fn stack_of_gives_the_span_path() {
    let p = common::profiler();
    p.in_scope(outer);
    let snap = p.snapshot();
    let id = snap.events_named("inner").next().expect("inner").id;
    assert_eq!(snap.stack_of(id), ["outer", "middle", "inner"]);
    let top = snap.events_named("outer").next().expect("outer").id;
    assert_eq!(snap.stack_of(top), ["outer"]);
    assert!(snap.stack_of(u64::MAX).is_empty());
}

struct Config {
    tol: f64,
}

#[profile]
fn every_argument(n: u64, tol: f64) -> f64 {
    n as f64 * tol
}

#[profile(skip(cfg))]
fn skips_one(n: u64, cfg: &Config) -> f64 {
    n as f64 * cfg.tol
}

#[test]
fn events_say_whether_every_argument_was_recorded() {
    let p = common::profiler();
    p.in_scope(|| {
        every_argument(3, 0.5);
        skips_one(3, &Config { tol: 0.5 });
    });
    p.record_event("by_hand", EventKind::FunctionCall, [("n", 3.0)]);
    let snap = p.snapshot();
    let flag = |n: &str| snap.events_named(n).next().expect(n).args_recorded;
    assert!(flag("every_argument"));
    assert!(!flag("skips_one"));
    assert!(!flag("by_hand"));
}
