//! A hand-built profile for the output tests (`tests/outputs_*.rs`): nested spans with energy
//! metrics, a convergence run, a scaling series, two overlapping async spans on one thread, an
//! orphan whose parent was dropped, an error and a panic, allocation stats and RSS samples.
#![allow(dead_code)]

use std::collections::BTreeMap;

use profiler_runtime::model::stats::{MetricAggregate, OperationStats};
use profiler_runtime::{AllocStats, EventKind, MonitorSample, Profile, ProfileEvent, ThreadInfo};

/// An event with no metrics; `self_ns` is fixed up by [`finish`].
pub fn ev(
    id: u64,
    parent: Option<u64>,
    name: &str,
    kind: EventKind,
    thread: u64,
    start: u64,
    end: u64,
) -> ProfileEvent {
    ProfileEvent {
        id,
        parent,
        name: name.into(),
        kind,
        thread_id: thread,
        start_ns: start,
        end_ns: end,
        busy_ns: end - start,
        self_ns: 0,
        metrics: BTreeMap::new(),
        alloc: None,
        error: None,
        panicked: false,
        process_alloc: None,
        alloc_sizes: None,
        backtrace: None,
        args_recorded: false,
    }
}

/// Sets `self_ns` (busy less children's wall time) and rebuilds the aggregates from the events.
pub fn finish(mut p: Profile) -> Profile {
    let mut child_ns: BTreeMap<u64, u64> = BTreeMap::new();
    for e in &p.events {
        if let Some(parent) = e.parent {
            *child_ns.entry(parent).or_default() += e.duration_ns();
        }
    }
    for e in &mut p.events {
        e.self_ns = e
            .busy_ns
            .saturating_sub(child_ns.get(&e.id).copied().unwrap_or(0));
    }
    p.events.sort_by_key(|e| (e.start_ns, e.id));
    let mut ops: BTreeMap<(String, EventKind), OperationStats> = BTreeMap::new();
    for e in &p.events {
        let o = ops
            .entry((e.name.to_string(), e.kind))
            .or_insert_with(|| OperationStats::new(e.name.clone(), e.kind));
        let wall = e.duration_ns();
        if o.count == 0 || wall < o.min_ns {
            o.min_ns = wall;
        }
        o.max_ns = o.max_ns.max(wall);
        o.count += 1;
        o.total_ns += wall;
        o.busy_ns += e.busy_ns;
        o.self_ns += e.self_ns;
        o.sum_sq_ns += u128::from(wall) * u128::from(wall);
        o.histogram.record(wall);
        for (k, v) in &e.metrics {
            match o.metrics.get_mut(k) {
                Some(m) => m.add(*v),
                None => {
                    o.metrics.insert(k.clone(), MetricAggregate::of(*v));
                }
            }
        }
        if let Some(a) = &e.alloc {
            o.alloc.add(a);
            o.alloc_count += 1;
        }
        o.errors += u64::from(e.error.is_some());
        o.panics += u64::from(e.panicked);
    }
    p.operations = ops.into_values().collect();
    p.duration_ns = p.events.iter().map(|e| e.end_ns).max().unwrap_or(0);
    p
}

/// The fixture.
pub fn profile() -> Profile {
    let mut p = Profile::empty();
    p.started_at_unix_ns = 1_700_000_000_123_456_789;
    p.alloc_tracking = true;
    p.raw_capacity = 1 << 18;
    p.dropped_events = 3;
    p.threads = vec![
        ThreadInfo {
            id: 1,
            name: "main".into(),
        },
        ThreadInfo {
            id: 2,
            name: "worker-1".into(),
        },
        ThreadInfo {
            id: 3,
            name: "async-rt".into(),
        },
    ];
    let mut evs = Vec::new();
    // Thread 1: a solve with 8 iterations, each with one crossbar MVM.
    let mut solve = ev(
        1,
        None,
        "hp_inv.solve",
        EventKind::Computation,
        1,
        1_000,
        1_001_000,
    );
    solve.metrics.insert("n".into(), 64.0);
    solve.alloc = Some(AllocStats {
        allocated_bytes: 3 << 20,
        freed_bytes: 1 << 20,
        allocations: 40,
    });
    evs.push(solve);
    let mut id = 10;
    for k in 0..8u64 {
        let s = 1_001 + k * 120_000 + 333;
        let mut it = ev(
            id,
            Some(1),
            "hp_inv.iteration",
            EventKind::AlgorithmStep,
            1,
            s,
            s + 110_017,
        );
        it.metrics.insert("k".into(), k as f64);
        it.metrics
            .insert("residual".into(), 0.5f64.powi(3 * k as i32 + 1) * 1.0000001);
        it.metrics.insert("energy_pj".into(), 12.5 + k as f64 * 0.1);
        it.alloc = Some(AllocStats {
            allocated_bytes: 4096 * (k + 1),
            freed_bytes: 4096 * k,
            allocations: 3,
        });
        evs.push(it);
        let mut mvm = ev(
            id + 1,
            Some(id),
            "crossbar.mvm",
            EventKind::HardwareAccess,
            1,
            s + 10_001,
            s + 90_999,
        );
        mvm.metrics.insert("energy_pj".into(), 250.75);
        mvm.metrics.insert("energy.adc_pj".into(), 180.5);
        mvm.metrics.insert("energy.array_pj".into(), 50.25);
        mvm.metrics.insert("energy.dac_pj".into(), 20.0);
        evs.push(mvm);
        id += 2;
    }
    // An orphan: its parent (id 999) was dropped from the raw buffer.
    let mut orphan = ev(
        50,
        Some(999),
        "crossbar.write",
        EventKind::HardwareAccess,
        1,
        1_100_000,
        1_150_000,
    );
    orphan.metrics.insert("energy_pj".into(), 1e4);
    orphan.error = Some("write verify failed at (3, 4)".into());
    evs.push(orphan);
    let mut boom = ev(
        51,
        None,
        "explodes",
        EventKind::FunctionCall,
        1,
        1_200_000,
        1_200_500,
    );
    boom.panicked = true;
    evs.push(boom);
    // Thread 2: a scaling series, t ~ n^3.
    let mut t = 0;
    for (j, n) in [16u64, 32, 64, 128].into_iter().enumerate() {
        for rep in 0..3 {
            let d = n * n * n / 4 + rep * 7;
            let mut e = ev(
                100 + j as u64 * 3 + rep,
                None,
                "matmul",
                EventKind::Computation,
                2,
                t,
                t + d,
            );
            e.metrics.insert("n".into(), n as f64);
            evs.push(e);
            t += d + 1_000;
        }
    }
    // Thread 3: two interleaved async spans (overlapping, not nested), and a child of the second.
    let mut a = ev(
        200,
        None,
        "fetch_tile",
        EventKind::IoOperation,
        3,
        5_000,
        50_000,
    );
    a.busy_ns = 9_000;
    let mut b = ev(
        201,
        None,
        "fetch_tile",
        EventKind::IoOperation,
        3,
        20_000,
        80_000,
    );
    b.busy_ns = 12_000;
    evs.push(a);
    evs.push(b);
    evs.push(ev(
        202,
        Some(201),
        "decode",
        EventKind::Computation,
        3,
        60_000,
        70_000,
    ));
    p.events = evs;
    p.samples = (0..20)
        .map(|i| MonitorSample {
            t_ns: i * 65_000,
            rss_bytes: (40 << 20) + i * 350_000 + (i % 3) * 20_000,
            cpu_percent: 95.5 + i as f32 * 0.25,
            ..MonitorSample::default()
        })
        .collect();
    finish(p)
}

/// A profile with one event.
pub fn one_event() -> Profile {
    let mut p = Profile::empty();
    let mut e = ev(1, None, "only", EventKind::Computation, 1, 10, 1_010);
    e.metrics.insert("energy_pj".into(), 3.5);
    p.events.push(e);
    p.threads.push(ThreadInfo {
        id: 1,
        name: "main".into(),
    });
    finish(p)
}
