//! The per-operation aggregates (`Profile::operations`, a session's `metrics_summary.operations`)
//! agree with the raw events they summarise.
//!
//! What the aggregates are, per `OperationStats`: `count`; `total_ns`, `min_ns`, `max_ns`,
//! `sum_sq_ns` and the histogram over each event's wall time (`end_ns - start_ns`); `busy_ns`
//! and `self_ns` as sums of the events' `busy_ns` / `self_ns`; `mean_ns` = total / count;
//! `std_ns` the population standard deviation of the wall times; `percentile_ns(q)` the
//! log-linear histogram's value at rank `max(1, ceil(q * count))` of the sorted wall times
//! (nearest rank), documented to be within 0.79% (and so 1%) of it.

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;

use profiler_runtime::{profile, OperationStats, ProfileEvent};

#[profile(kind = "computation")]
fn work(iters: u64, sleep_us: u64) -> u64 {
    let mut x = 0u64;
    for i in 0..iters {
        x = black_box(x.wrapping_mul(31).wrapping_add(i));
    }
    if sleep_us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(sleep_us));
    }
    x
}

#[profile(kind = "algorithm_step")]
fn batch(seed: u64, n: u64) -> u64 {
    let mut r = seed;
    let mut acc = 0u64;
    for _ in 0..n {
        r = next(r);
        acc = acc.wrapping_add(work((r >> 33) % 2000, 0));
    }
    acc.wrapping_add(work(0, 0))
}

/// A 64-bit LCG (Knuth's MMIX constants).
fn next(r: u64) -> u64 {
    r.wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407)
}

/// `calls` calls of `work` with widely varied lengths: a quadratic spread of loop lengths
/// (0 to about 32k iterations) and, every 16th call, a sleep of up to 300 µs.
fn run_varied(seed: u64, calls: usize) {
    let mut r = seed;
    for i in 0..calls {
        r = next(r);
        let k = (r >> 40) % 64;
        let sleep_us = if i % 16 == 0 { (r >> 20) % 300 } else { 0 };
        black_box(work(k * k * 8, sleep_us));
    }
}

fn rel_err(got: f64, want: f64) -> f64 {
    if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    }
}

/// The exact nearest-rank percentile of sorted `xs`: rank `max(1, ceil(q * n))`.
fn nearest_rank(xs: &[u64], q: f64) -> u64 {
    let n = xs.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    xs[rank - 1]
}

/// Checks every timing aggregate of `op` against `evs`; min and max only when `min_max`
/// (a session window's min/max are documented as approximate).
fn assert_timing_agrees(op: &OperationStats, evs: &[&ProfileEvent], min_max: bool) {
    let name = &*op.name;
    assert!(!evs.is_empty(), "{name}: no events");
    let mut walls: Vec<u64> = evs.iter().map(|e| e.end_ns - e.start_ns).collect();
    walls.sort_unstable();
    let n = walls.len() as u64;
    assert_eq!(op.count, n, "{name}: count");
    assert_eq!(op.histogram.len(), n, "{name}: histogram count");

    let total: u64 = walls.iter().sum();
    assert_eq!(
        op.total_ns, total,
        "{name}: total_ns is the sum of wall times"
    );
    let busy: u64 = evs.iter().map(|e| e.busy_ns).sum();
    assert_eq!(op.busy_ns, busy, "{name}: busy_ns");
    let self_ns: u64 = evs.iter().map(|e| e.self_ns).sum();
    assert_eq!(op.self_ns, self_ns, "{name}: self_ns");
    let sum_sq: u128 = walls.iter().map(|&w| u128::from(w) * u128::from(w)).sum();
    assert_eq!(op.sum_sq_ns, sum_sq, "{name}: sum of squares");
    if min_max {
        assert_eq!(op.min_ns, walls[0], "{name}: min");
        assert_eq!(op.max_ns, walls[walls.len() - 1], "{name}: max");
    }

    let mean = total as f64 / n as f64;
    let var = walls
        .iter()
        .map(|&w| (w as f64 - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    let std = var.sqrt();
    assert!(
        rel_err(op.mean_ns(), mean) < 1e-6,
        "{name}: mean {} vs {mean}",
        op.mean_ns()
    );
    assert!(
        rel_err(op.std_ns(), std) < 1e-6,
        "{name}: std {} vs {std}",
        op.std_ns()
    );

    for q in [0.5, 0.9, 0.99] {
        let exact = nearest_rank(&walls, q);
        let got = op.percentile_ns(q);
        assert!(
            rel_err(got as f64, exact as f64) <= 0.01,
            "{name}: p{} = {got} ns, exact nearest-rank {exact} ns ({:.3}% off; n = {n}, \
             min {} max {})",
            q * 100.0,
            rel_err(got as f64, exact as f64) * 100.0,
            walls[0],
            walls[walls.len() - 1]
        );
    }
    for (q, got) in [(0.5, op.p50_ns()), (0.9, op.p90_ns()), (0.99, op.p99_ns())] {
        assert_eq!(got, op.percentile_ns(q), "{name}: the named percentiles");
    }
}

/// Checks the metric aggregates of `op` against `evs`.
fn assert_metrics_agree(op: &OperationStats, evs: &[&ProfileEvent]) {
    let mut want: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for e in evs {
        for (k, v) in &e.metrics {
            want.entry(k).or_default().push(*v);
        }
    }
    let got: Vec<&str> = op.metrics.keys().map(String::as_str).collect();
    assert_eq!(got, want.keys().copied().collect::<Vec<_>>(), "{}", op.name);
    for (k, vs) in want {
        let m = &op.metrics[k];
        assert_eq!(m.count, vs.len() as u64, "{}.{k}: count", op.name);
        let sum: f64 = vs.iter().sum();
        assert!(rel_err(m.sum, sum) < 1e-12, "{}.{k}: sum", op.name);
        let min = vs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = vs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!((m.min, m.max), (min, max), "{}.{k}: min/max", op.name);
    }
}

common::both_paths! {
    #[test]
    fn operation_aggregates_agree_with_the_raw_events() {
        let p = common::profiler();
        PATH.in_scope(&p, || {
            run_varied(1, 2000);
            for seed in 0..20 {
                black_box(batch(seed, 25));
            }
        });
        let snap = p.snapshot();
        assert_eq!(snap.dropped_events, 0, "every raw event is kept");
        for name in ["work", "batch"] {
            let op = snap.operation(name).unwrap();
            let evs: Vec<_> = snap.events_named(name).collect();
            assert_timing_agrees(&op, &evs, true);
            assert_metrics_agree(&op, &evs);
        }
        assert_eq!(snap.operation("work").unwrap().count, 2000 + 20 * 26);
        let batch = snap.operation("batch").unwrap();
        assert!(
            batch.self_ns < batch.busy_ns,
            "a batch's children are not its own time"
        );
        assert_eq!(snap.total_events(), snap.events.len() as u64);
    }

    #[test]
    fn aggregates_over_several_threads_agree_with_the_raw_events() {
        let p = common::profiler();
        std::thread::scope(|s| {
            for t in 0..2 {
                let p = p.clone();
                s.spawn(move || PATH.in_scope(&p, || run_varied(100 + t, 1000)));
            }
        });
        let snap = p.snapshot();
        assert_eq!(snap.dropped_events, 0);
        assert_eq!(snap.threads.len(), 2);
        let op = snap.operation("work").unwrap();
        let evs: Vec<_> = snap.events_named("work").collect();
        assert_eq!(op.count, 2000);
        assert_timing_agrees(&op, &evs, true);
        assert_metrics_agree(&op, &evs);
    }

    #[test]
    fn a_session_window_agrees_with_its_raw_events() {
        let p = common::profiler();
        let results = PATH.in_scope(&p, || {
            run_varied(7, 500);
            p.start_profiling("window");
            run_varied(8, 1500);
            p.stop_profiling("window").unwrap()
        });
        assert_eq!(results.events_count, 1500);
        assert_eq!(results.metrics_summary.dropped_events, 0);
        let op = results
            .metrics_summary
            .operations
            .iter()
            .find(|o| &*o.name == "work")
            .expect("the window has work");
        let evs: Vec<_> = results
            .events
            .iter()
            .filter(|e| &*e.name == "work")
            .collect();
        assert_timing_agrees(op, &evs, false);
        let wall: u64 = evs.iter().map(|e| e.duration_ns()).sum();
        assert_eq!(
            results.average_event_time.as_nanos(),
            u128::from(wall / 1500)
        );
        // The whole stream still agrees too.
        let snap = p.snapshot();
        let all: Vec<_> = snap.events_named("work").collect();
        assert_timing_agrees(&snap.operation("work").unwrap(), &all, true);
    }
}
