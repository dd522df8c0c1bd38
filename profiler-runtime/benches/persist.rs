//! Save and load of a profile with 1M raw events (the budget: save + load together in at
//! most 3 s, release build). Rows:
//!
//! - `persist_1M/save`: `Profile::save` (atomic: temp file, fsync, rename);
//! - `persist_1M/load`: `Profile::load`;
//! - `persist_1M/save_load`: both, the number the budget is about.
//!
//! Run: `cargo bench -p profiler-runtime --bench persist`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use profiler_runtime::model::stats::{MetricAggregate, OperationStats};
use profiler_runtime::{AllocStats, EventKind, MonitorSample, Profile, ProfileEvent, ThreadInfo};

/// Events in the profile.
const EVENTS: u64 = 1_000_000;

/// A profile shaped like a solver run: nested iterations and crossbar operations on four threads,
/// each event with two or three metrics, every fourth with allocation stats, plus RSS samples
/// and per-operation aggregates.
fn big_profile() -> Profile {
    const NAMES: [(&str, EventKind); 4] = [
        ("hp_inv.iteration", EventKind::AlgorithmStep),
        ("crossbar.mvm", EventKind::HardwareAccess),
        ("crossbar.write", EventKind::HardwareAccess),
        ("solver.residual", EventKind::Computation),
    ];
    let mut p = Profile::empty();
    p.started_at_unix_ns = 1_700_000_000_000_000_000;
    p.alloc_tracking = true;
    p.raw_capacity = EVENTS as usize;
    p.threads = (1..=4)
        .map(|id| ThreadInfo {
            id,
            name: format!("worker-{id}"),
        })
        .collect();
    let mut ops: BTreeMap<usize, OperationStats> = BTreeMap::new();
    p.events.reserve(EVENTS as usize);
    for i in 0..EVENTS {
        let which = (i % 4) as usize;
        let (name, kind) = NAMES[which];
        let start = i * 1_000 + (i * 7919) % 500;
        let wall = 200 + (i * 104_729) % 700;
        let mut metrics = BTreeMap::new();
        metrics.insert(
            "energy_pj".to_owned(),
            12.5 + (i % 1000) as f64 * 0.123_456_789,
        );
        metrics.insert("n".to_owned(), 64.0);
        if which == 0 {
            metrics.insert(
                "residual".to_owned(),
                0.5f64.powi((i % 60) as i32) * 1.000_000_1,
            );
        }
        let mut e = ProfileEvent::new(
            i + 1,
            name.into(),
            kind,
            1 + (i / 4) % 4,
            start,
            start + wall,
        );
        e.parent = (which != 0).then(|| i - which as u64 + 1);
        e.busy_ns = wall - 3;
        e.self_ns = wall / 2;
        e.metrics = metrics;
        e.alloc = (i % 4 == 0).then_some(AllocStats {
            allocated_bytes: 4096 + i,
            freed_bytes: 4096,
            allocations: 3,
        });
        let o = ops
            .entry(which)
            .or_insert_with(|| OperationStats::new(name.into(), kind));
        o.count += 1;
        o.total_ns += wall;
        o.histogram.record(wall);
        for (k, v) in &e.metrics {
            o.metrics
                .entry(k.clone())
                .and_modify(|m| m.add(*v))
                .or_insert_with(|| MetricAggregate::of(*v));
        }
        p.events.push(e);
    }
    p.operations = ops.into_values().collect();
    p.samples = (0..10_000)
        .map(|i| MonitorSample {
            t_ns: i * 100_000,
            rss_bytes: (40 << 20) + i * 4096,
            cpu_percent: 97.5,
            ..MonitorSample::default()
        })
        .collect();
    p.duration_ns = EVENTS * 1_000 + 1_000;
    p
}

fn persist(c: &mut Criterion) {
    let p = big_profile();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("big.json");
    p.save(&path).expect("save");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "persist: {EVENTS} events, {:.1} MiB on disk",
        size as f64 / (1024.0 * 1024.0)
    );
    assert_eq!(
        Profile::load(&path).expect("load"),
        p,
        "the round trip must be lossless"
    );

    let mut g = c.benchmark_group("persist_1M");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(2));
    g.bench_function("save", |b| b.iter(|| p.save(&path).expect("save")));
    // Dropping the loaded profile is not part of loading it.
    g.bench_function("load", |b| {
        b.iter_with_large_drop(|| black_box(Profile::load(&path).expect("load")))
    });
    g.bench_function("save_load", |b| {
        b.iter_with_large_drop(|| {
            p.save(&path).expect("save");
            black_box(Profile::load(&path).expect("load"))
        })
    });
    g.finish();
}

criterion_group!(benches, persist);
criterion_main!(benches);
