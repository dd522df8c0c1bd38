//! Profiles with `u64`-sized counts, durations, byte totals and energies (a long run, a merge
//! of many, or a hand-made file) are reported, analysed and exported without panicking (this
//! runs in the debug profile, where an overflowing `+` panics) and without wrapping (a count
//! of `u64::MAX` never prints as a small number).

use std::collections::BTreeMap;

use profiler_runtime::model::stats::{MetricAggregate, OperationStats};
use profiler_runtime::{
    AllocStats, BottleneckAnalyzer, EventKind, PerformanceReport, Profile, ProfileEvent,
};

const HUGE: u64 = u64::MAX;

fn huge_op(name: &str, kind: EventKind) -> OperationStats {
    let mut o = OperationStats::new(name.into(), kind);
    o.count = HUGE;
    o.total_ns = HUGE;
    o.busy_ns = HUGE;
    o.self_ns = HUGE;
    o.min_ns = 1;
    o.max_ns = HUGE;
    o.sum_sq_ns = u128::MAX;
    o.histogram.record_n(HUGE, HUGE);
    o.alloc = AllocStats {
        allocated_bytes: HUGE,
        freed_bytes: 0,
        allocations: HUGE,
    };
    o.alloc_count = HUGE;
    o.errors = HUGE;
    let mut m = BTreeMap::new();
    for k in ["energy_pj", "bytes", "energy.adc_pj"] {
        m.insert(
            k.to_owned(),
            MetricAggregate {
                sum: f64::MAX,
                count: HUGE,
                min: 0.0,
                max: f64::MAX,
                non_finite: HUGE,
            },
        );
    }
    o.metrics = m.into();
    o
}

fn huge_event(id: u64, parent: Option<u64>, kind: EventKind) -> ProfileEvent {
    let mut e = ProfileEvent::new(id, "solve".into(), kind, 1, 0, HUGE);
    e.parent = parent;
    e.busy_ns = HUGE;
    e.self_ns = HUGE;
    e.alloc = Some(AllocStats {
        allocated_bytes: HUGE,
        freed_bytes: 1,
        allocations: HUGE,
    });
    for k in ["energy_pj", "bytes", "energy.adc_pj", "temperature_k", "n"] {
        e.metrics.insert(k.to_owned(), f64::MAX);
    }
    e
}

fn huge_profile() -> Profile {
    let mut p = Profile::empty();
    p.duration_ns = HUGE;
    p.alloc_tracking = true;
    p.dropped_events = HUGE;
    for kind in [
        EventKind::Computation,
        EventKind::IoOperation,
        EventKind::HardwareAccess,
    ] {
        p.operations.push(huge_op("solve", kind));
        p.operations.push(huge_op("other", kind));
    }
    let kinds = [
        EventKind::IoOperation,
        EventKind::HardwareAccess,
        EventKind::Computation,
    ];
    for (i, kind) in kinds.into_iter().cycle().take(12).enumerate() {
        let id = i as u64 + 1;
        p.events
            .push(huge_event(id, (id > 1).then(|| id - 1), kind));
    }
    p
}

#[test]
fn totals_saturate_instead_of_wrapping_or_panicking() {
    let p = huge_profile();
    assert_eq!(p.total_events(), HUGE);
    assert!(p.event_counts_by_kind().values().all(|&n| n == HUGE));
    assert_eq!(p.metric_total("energy_pj"), f64::MAX);
    let merged = p.operation("solve").expect("merged across kinds");
    assert_eq!(
        (merged.count, merged.total_ns, merged.sum_sq_ns),
        (HUGE, HUGE, u128::MAX)
    );
    assert_eq!(merged.alloc.allocated_bytes, HUGE);
    assert_eq!(merged.metrics["energy_pj"].sum, f64::MAX);
    assert_eq!(merged.non_finite(), HUGE);
}

#[test]
fn the_report_of_u64_sized_counts_prints_them_exactly() {
    let p = huge_profile();
    let r = PerformanceReport::from_profile(&p);
    assert_eq!(r.total_events, HUGE);
    assert!(r
        .kinds
        .iter()
        .all(|k| k.count == HUGE && k.total_ns == HUGE));
    let text = r.to_text();
    assert!(text.contains(&format!("Events: {HUGE} ")), "{text}");
    assert!(!text.contains("Events: 202"));
    assert!(r.to_string().contains(&format!("events: {HUGE} ")));
    assert!(r.to_markdown().contains(&HUGE.to_string()));
    assert!(
        r.derived_metrics.values().all(|v| v.is_finite()),
        "{:?}",
        r.derived_metrics
    );
}

#[test]
fn the_analysis_and_exports_of_u64_sized_values_complete() {
    let p = huge_profile();
    let analyzer = BottleneckAnalyzer::from_profile(&p);
    let a = analyzer.analyze_bottlenecks();
    assert!(!a.bottleneck_analysis.slowest_operations.is_empty());
    assert!(!analyzer.generate_optimization_report().is_empty());
    let mut out = Vec::new();
    p.to_chrome_trace(&mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("one JSON document");
    assert!(v["traceEvents"].as_array().is_some_and(|a| !a.is_empty()));
    let mut folded = Vec::new();
    p.to_folded_stacks(&mut folded).unwrap();
    let text = String::from_utf8(folded).unwrap();
    assert!(
        text.lines().all(|l| l.ends_with(&format!(" {HUGE}"))),
        "{text}"
    );
}

#[test]
fn non_finite_metric_values_are_counted_not_summed_and_reported() {
    let p = profiler_runtime::PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    for v in [2.0, f64::NAN, 3.0, f64::INFINITY] {
        p.record_event(
            "program_tile",
            EventKind::HardwareAccess,
            [("energy_pj", v)],
        );
    }
    let op = p.snapshot().operation("program_tile").unwrap();
    let e = op.metrics["energy_pj"];
    assert_eq!((e.sum, e.count, e.non_finite), (5.0, 2, 2));
    assert_eq!(op.non_finite(), 2);
    let r = p.get_performance_report();
    assert_eq!(r.non_finite_metrics, 2);
    assert_eq!(r.operations[0].non_finite, 2);
    assert_eq!(r.derived_metrics["total_energy_pj"], 5.0);
    for text in [r.to_string(), r.to_text(), r.to_markdown()] {
        assert!(text.contains("2 NaN or infinite values"), "{text}");
        assert!(text.contains("program_tile (2)"), "{text}");
    }
}
