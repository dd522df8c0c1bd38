//! The PerformanceProfiler API: sessions, parents and self time, async, threads, panics,
//! standalone events, profile_function / profile_algorithm. No counting allocator here:
//! memory per span must be unknown (`None`), never a fake zero.

mod common;

use std::time::Duration;

use profiler_runtime::{metrics, profile, EventKind, MemorySource};

#[profile]
fn leaf(i: u64) -> u64 {
    std::hint::black_box((0..2000u64).fold(i, |a, b| a.wrapping_mul(31).wrapping_add(b)))
}

#[profile(kind = "computation")]
fn parent() -> u64 {
    let mut s = 0;
    for k in 0..5 {
        s = leaf(k).wrapping_add(s);
    }
    std::thread::sleep(Duration::from_millis(2));
    s
}

#[test]
fn sessions_overlap_and_nest_with_exact_counts() {
    let p = common::profiler();
    p.in_scope(|| {
        p.start_profiling("outer");
        leaf(1);
        p.start_profiling("inner");
        leaf(2);
        leaf(3);
        p.start_profiling("overlap");
        let inner = p.stop_profiling("inner").unwrap();
        leaf(4);
        let overlap = p.stop_profiling("overlap").unwrap();
        let outer = p.stop_profiling("outer").unwrap();
        assert_eq!(inner.events_count, 2);
        assert_eq!(inner.events.len(), 2);
        assert_eq!(overlap.events_count, 1);
        assert_eq!(outer.events_count, 4);
        assert_eq!(
            outer.metrics_summary.events_by_kind[&EventKind::FunctionCall],
            4
        );
        assert!(outer.total_time >= inner.total_time);
        assert!(outer.average_event_time > Duration::ZERO);
        assert_eq!(
            outer.metrics_summary.average_event_time,
            outer.average_event_time
        );
    });
    assert!(p.stop_profiling("outer").is_err(), "stopped twice");
    let err = p.stop_profiling("never").unwrap_err().to_string();
    assert!(err.contains("never"), "{err}");
    let snap = p.snapshot();
    assert_eq!(snap.sessions.len(), 3);
}

#[test]
fn same_name_sessions_nest() {
    let p = common::profiler();
    p.in_scope(|| {
        p.start_profiling("s");
        leaf(1);
        p.start_profiling("s");
        leaf(2);
        assert_eq!(p.stop_profiling("s").unwrap().events_count, 1);
        assert_eq!(p.stop_profiling("s").unwrap().events_count, 2);
    });
}

#[test]
fn parent_links_and_self_time() {
    let p = common::profiler();
    p.in_scope(parent);
    let snap = p.snapshot();
    let par = snap.events_named("parent").next().unwrap();
    let leaves: Vec<_> = snap.events_named("leaf").collect();
    assert_eq!(leaves.len(), 5);
    for l in &leaves {
        assert_eq!(l.parent, Some(par.id));
        assert_eq!(l.self_ns, l.busy_ns, "a leaf's self time is its busy time");
        assert!(l.start_ns >= par.start_ns && l.end_ns <= par.end_ns);
    }
    let children: u64 = leaves.iter().map(|l| l.duration_ns()).sum();
    assert_eq!(par.self_ns, par.busy_ns - children);
    assert!(
        par.self_ns >= 2_000_000,
        "the sleep is the parent's own time"
    );
    let agg = snap.operation("parent").unwrap();
    assert_eq!(agg.self_ns, par.self_ns);
    assert!(par.alloc.is_none(), "no counting allocator: memory unknown");
    assert!(!snap.alloc_tracking);
}

#[profile(kind = "io_operation")]
async fn waits(ms: u64) -> u64 {
    common::yield_once().await;
    leaf(ms)
}

#[profile]
async fn outer_async() -> u64 {
    waits(30).await + waits(1).await
}

/// How long the executor sleeps while a future is pending.
const PAUSE: Duration = Duration::from_millis(30);

#[test]
fn async_spans_follow_the_future_and_busy_is_less_than_wall() {
    let p = common::profiler();
    // Each `waits` is pending once, and the executor sleeps PAUSE between its two polls: its
    // wall time includes that gap and its busy time cannot (no poll runs meanwhile), whatever
    // the machine's load does to the polls themselves.
    p.in_scope(|| common::block_on_pausing(outer_async(), PAUSE));
    let snap = p.snapshot();
    let outer = snap.events_named("outer_async").next().unwrap();
    let waits: Vec<_> = snap.events_named("waits").collect();
    assert_eq!(waits.len(), 2);
    for w in &waits {
        assert!(
            w.duration_ns() >= w.busy_ns + PAUSE.as_nanos() as u64,
            "the pending gap is wall time, not busy time: busy {} wall {}",
            w.busy_ns,
            w.duration_ns()
        );
    }
    let long = waits.iter().find(|e| e.metric("ms") == Some(30.0)).unwrap();
    assert_eq!(long.parent, Some(outer.id));
    let leaf = snap
        .events_named("leaf")
        .find(|e| e.parent == Some(long.id));
    assert!(
        leaf.is_some(),
        "a sync span inside an async one links to it"
    );
    assert!(outer.duration_ns() >= outer.busy_ns + 2 * PAUSE.as_nanos() as u64);
}

#[test]
fn counts_are_exact_across_threads() {
    let p = common::profiler();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let p = p.clone();
            s.spawn(move || {
                p.in_scope(|| {
                    for k in 0..10_000 {
                        leaf(k);
                    }
                })
            });
        }
    });
    let snap = p.snapshot();
    assert_eq!(snap.operation("leaf").unwrap().count, 80_000);
    assert_eq!(snap.threads.len(), 8);
    let mut ids: Vec<u64> = snap.events.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), snap.events.len(), "event ids are unique");
}

#[test]
fn snapshots_while_threads_record_are_exact_and_never_go_backwards() {
    let p = common::profiler();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let p = p.clone();
                s.spawn(move || {
                    p.in_scope(|| {
                        for k in 0..20_000 {
                            leaf(k);
                        }
                    })
                })
            })
            .collect();
        s.spawn(|| {
            let mut last = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let snap = p.snapshot();
                let count = snap.operation("leaf").map_or(0, |o| o.count);
                assert!(count >= last, "counts never go backwards: {count} < {last}");
                assert_eq!(
                    snap.events.len() as u64 + snap.dropped_events,
                    snap.total_events()
                );
                last = count;
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let snap = p.snapshot();
    assert_eq!(snap.operation("leaf").unwrap().count, 80_000);
    let mut ids: Vec<u64> = snap.events.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), snap.events.len(), "no event is seen twice");
}

#[test]
fn bounded_buffer_drops_raw_events_but_not_counts() {
    let p = profiler_runtime::PerformanceProfiler::builder()
        .raw_capacity(1000)
        .without_monitor()
        .build()
        .unwrap();
    p.in_scope(|| {
        p.start_profiling("s");
        for k in 0..5000 {
            leaf(k);
        }
        let r = p.stop_profiling("s").unwrap();
        assert_eq!(r.events_count, 5000);
        assert_eq!(r.events.len(), 1000);
        assert_eq!(r.metrics_summary.dropped_events, 4000);
    });
    let snap = p.snapshot();
    assert_eq!(snap.total_events(), 5000);
    assert_eq!(snap.events.len(), 1000);
    assert_eq!(snap.dropped_events, 4000);
    assert_eq!(
        snap.events.last().unwrap().metric("i"),
        Some(4999.0),
        "the newest are kept"
    );
}

#[profile]
fn tagged(i: u64) {
    std::hint::black_box(i);
}

/// Events leave a tiny raw buffer far faster than they are folded into the aggregates (on the
/// fold worker's thread): every one is still counted once, with its metric, while snapshots run.
#[test]
fn a_tiny_raw_buffer_under_many_threads_keeps_aggregates_exact() {
    const THREADS: u64 = 4;
    const CALLS: u64 = 50_000;
    let p = profiler_runtime::PerformanceProfiler::builder()
        .raw_capacity(100)
        .without_monitor()
        .build()
        .unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..THREADS)
            .map(|_| {
                let p = p.clone();
                s.spawn(move || p.in_scope(|| (0..CALLS).for_each(tagged)))
            })
            .collect();
        s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let snap = p.snapshot();
                assert!(snap.events.len() <= 100);
                assert_eq!(
                    snap.events.len() as u64 + snap.dropped_events,
                    snap.total_events()
                );
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let snap = p.snapshot();
    let op = snap.operation("tagged").unwrap();
    assert_eq!(op.count, THREADS * CALLS);
    let k = &op.metrics["i"];
    assert_eq!(k.count, THREADS * CALLS);
    // Each thread's 0 + 1 + ... + (CALLS - 1): a chunk folded twice or never would show here.
    assert_eq!(k.sum, (THREADS * CALLS * (CALLS - 1) / 2) as f64);
    assert_eq!(snap.events.len(), 100);
    assert_eq!(snap.dropped_events, THREADS * CALLS - 100);
}

#[profile]
fn explodes(boom: bool) -> u32 {
    if boom {
        panic!("boom");
    }
    1
}

#[test]
fn a_panic_closes_the_event_and_the_profiler_keeps_working() {
    let p = common::profiler();
    p.in_scope(|| {
        let r = std::panic::catch_unwind(|| explodes(true));
        assert!(r.is_err());
        assert_eq!(explodes(false), 1);
        leaf(1);
    });
    let snap = p.snapshot();
    let evs: Vec<_> = snap.events_named("explodes").collect();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs.iter().filter(|e| e.panicked).count(), 1);
    assert_eq!(snap.operation("explodes").unwrap().panics, 1);
    let l = snap.events_named("leaf").next().unwrap();
    assert_eq!(
        l.parent, None,
        "the panicked span is not left open as a parent"
    );
}

#[test]
fn record_event_and_metrics_outside_spans() {
    let p = common::profiler();
    p.in_scope(|| {
        p.record_event(
            "calibrate",
            EventKind::HardwareAccess,
            [("energy_pj", 4.0), ("cells", 64.0)],
        );
        p.record_event(
            "count",
            EventKind::Computation,
            vec![("n".to_string(), 3usize)],
        );
        metrics!(loose = 1.5);
    });
    let snap = p.snapshot();
    let c = snap.events_named("calibrate").next().unwrap();
    assert_eq!(c.kind, EventKind::HardwareAccess);
    assert_eq!(c.metric("energy_pj"), Some(4.0));
    assert_eq!(
        snap.events_named("count").next().unwrap().metric("n"),
        Some(3.0)
    );
    assert_eq!(
        snap.events_named("metrics").next().unwrap().metric("loose"),
        Some(1.5)
    );
}

#[test]
fn profile_function_and_algorithm() {
    let p = common::profiler();
    p.in_scope(|| {
        let (v, m) = p.profile_function("sum", || (0..10u64).map(leaf).count());
        assert_eq!(v, 10);
        assert!(m.execution_time > Duration::ZERO);
        assert_eq!(m.allocated_bytes, None, "no counting allocator");
        assert_ne!(m.memory_source, MemorySource::Allocator);

        let (_, a) = p.profile_algorithm("solve", parent);
        assert_eq!(a.events_count, 7, "solve + parent + 5 leaves");
        assert!(a.metrics_summary.average_event_time > Duration::ZERO);
        assert!(a.function.execution_time >= Duration::from_millis(2));
    });
    let snap = p.snapshot();
    let sum = snap.events_named("sum").next().unwrap();
    assert_eq!(
        snap.events_named("leaf")
            .filter(|e| e.parent == Some(sum.id))
            .count(),
        10
    );
    let solve = snap.events_named("solve").next().unwrap();
    assert_eq!(solve.kind, EventKind::Computation);
    let par = snap.events_named("parent").next().unwrap();
    assert_eq!(par.parent, Some(solve.id));
}

#[test]
fn report_has_percentiles_and_system_info() {
    let p = common::profiler();
    p.in_scope(|| {
        for k in 0..100 {
            leaf(k);
        }
    });
    let r = p.get_performance_report();
    assert_eq!(r.total_events, 100);
    assert_eq!(r.event_counts_by_type[&EventKind::FunctionCall], 100);
    assert!(r.system_info.cpu_count >= 1);
    assert!(r.system_info.memory_total_mb > 0);
    assert!(!r.system_info.platform.is_empty());
    let leaf = &r.operations[0];
    assert_eq!(leaf.name, "leaf");
    assert!(leaf.min_ns <= leaf.p50_ns && leaf.p50_ns <= leaf.p90_ns && leaf.p90_ns <= leaf.p99_ns);
    assert!(leaf.p99_ns <= leaf.max_ns);
    assert!(r.to_string().contains("leaf"));
}

#[test]
fn monitor_samples_rss_and_stops_on_drop() {
    let p = profiler_runtime::PerformanceProfiler::builder()
        .monitor_interval(Duration::from_millis(5))
        .build()
        .unwrap();
    std::thread::sleep(Duration::from_millis(60));
    let snap = p.snapshot();
    assert!(snap.samples.len() >= 3, "{} samples", snap.samples.len());
    assert!(snap.samples.iter().all(|s| s.rss_bytes > 0));
    assert!(snap.samples.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
    drop(p); // joins the monitor thread; hangs here if it did not stop
    let bad = profiler_runtime::PerformanceProfiler::builder()
        .monitor_interval(Duration::ZERO)
        .build();
    assert!(bad.is_err());
}

#[profile(kind = "hardware_access", fields(rows = n, cols = n))]
fn few_metrics(n: u64) {
    metrics!(energy_pj = 2.0 * n as f64);
    metrics!(energy_pj = 1.0);
}

#[profile(fields(a = n, b = n + 1))]
fn many_metrics(n: u64) {
    metrics!(c = 3.0, d = 4.0, e = 5.0);
}

#[test]
fn metrics_from_fields_and_metrics_macro_survive_every_path() {
    let p = common::profiler();
    p.in_scope(|| {
        // Fewer than 600 calls stay staged; more than 600 reach the ring: both are read.
        for i in 0..600 {
            few_metrics(i % 4);
            many_metrics(i % 4);
        }
    });
    let snap = p.snapshot();
    let few: Vec<_> = snap.events_named("few_metrics").collect();
    assert_eq!(few.len(), 600);
    for e in &few {
        let n = e.metric("rows").unwrap();
        assert_eq!(e.metric("cols"), Some(n));
        // Repeats of a key are summed.
        assert_eq!(e.metric("energy_pj"), Some(2.0 * n + 1.0));
    }
    let many: Vec<_> = snap.events_named("many_metrics").collect();
    assert_eq!(many.len(), 600);
    for e in &many {
        let a = e.metric("a").unwrap();
        assert_eq!(e.metric("b"), Some(a + 1.0));
        assert_eq!(
            (e.metric("c"), e.metric("d"), e.metric("e")),
            (Some(3.0), Some(4.0), Some(5.0))
        );
    }
    let op = snap.operation("few_metrics").unwrap();
    assert_eq!(op.count, 600);
    // energy_pj over n = 0..3 repeating: (1 + 3 + 5 + 7) * 150.
    assert_eq!(op.metrics["energy_pj"].sum, 2400.0);
    assert_eq!(
        snap.operation("many_metrics").unwrap().metrics["e"].sum,
        3000.0
    );
}
