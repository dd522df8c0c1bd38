//! BottleneckAnalyzer on profiles with known answers: a planted slow function ranks first with
//! the right severity; energy by component sums to the total; repeated calls, convergence,
//! rendering and JSON.

mod common;

use std::time::Duration;

use profiler_runtime::analysis::{Category, Severity, UNATTRIBUTED};
use profiler_runtime::{profile, BottleneckAnalyzer, EventKind, OptimizationAnalysis};

#[profile]
fn planted_slow() {
    std::thread::sleep(Duration::from_millis(40));
}

#[profile(kind = "computation")]
fn quick(k: u64) -> u64 {
    std::hint::black_box((0..200u64).fold(k, |a, b| a.wrapping_mul(31).wrapping_add(b)))
}

#[test]
fn planted_slow_function_ranks_first_and_is_critical() {
    let p = common::profiler();
    p.in_scope(|| {
        for k in 0..50 {
            quick(k);
        }
        planted_slow();
        for k in 0..50 {
            quick(k);
        }
    });
    let analyzer = BottleneckAnalyzer::new(&p);
    let a = analyzer.analyze_bottlenecks();
    let top = &a.bottleneck_analysis.slowest_operations[0];
    assert_eq!(top.name, "planted_slow");
    assert_eq!(top.kind, EventKind::FunctionCall);
    assert!(top.execution_time >= Duration::from_millis(40));
    assert!(top.self_time >= Duration::from_millis(40));
    assert_eq!(top.severity, Severity::Critical, "share {}", top.time_share);
    let first = &a.bottleneck_analysis.bottlenecks[0];
    assert_eq!(first.subject, "planted_slow");
    assert_eq!(first.severity, Severity::Critical);
    assert_eq!(first.category, Category::Compute);
    assert!(first.evidence.contains('%'), "{}", first.evidence);
    assert!(!first.recommendation.is_empty());
    // `quick` was called 100 times with 50 distinct arguments: 50 repeats.
    let rep = a
        .bottleneck_analysis
        .compute_analysis
        .repeated_calls
        .iter()
        .find(|r| r.name == "quick")
        .expect("repeated identical calls of quick");
    assert_eq!(rep.repeated_calls, 50);
    assert_eq!(rep.groups, 50);
    let text = analyzer.generate_optimization_report();
    assert!(
        text.contains("planted_slow") && text.contains("critical"),
        "{text}"
    );
    assert!(
        text.contains("modelled"),
        "CPU energy must be labelled modelled:\n{text}"
    );
    assert!(a.bottleneck_analysis.recommendations[0].contains("planted_slow"));
}

#[test]
fn energy_by_component_sums_to_the_total() {
    let p = common::profiler();
    for i in 0..100 {
        let f = f64::from(i);
        p.record_event(
            "crossbar.matrix_vector_multiply",
            EventKind::HardwareAccess,
            [
                ("energy_pj", 10.0 + f),
                ("energy.adc_pj", 6.0 + f),
                ("energy.array_pj", 3.0),
                ("energy.dac_pj", 1.0),
                ("bytes", 64.0),
            ],
        );
    }
    for _ in 0..10 {
        // Energy without components: the remainder is "unattributed".
        p.record_event(
            "crossbar.write_matrix",
            EventKind::HardwareAccess,
            [("energy_pj", 50.0)],
        );
    }
    let a = BottleneckAnalyzer::new(&p).analyze_bottlenecks();
    let e = &a.energy;
    let expected_total = (0..100).map(|i| 10.0 + f64::from(i)).sum::<f64>() + 500.0;
    assert!((e.total_energy_pj - expected_total).abs() < 1e-6);
    assert!((e.component_sum_pj() - e.total_energy_pj).abs() < 1e-6 * e.total_energy_pj);
    assert_eq!(e.component("array"), Some(300.0));
    assert_eq!(e.component(UNATTRIBUTED), Some(500.0));
    assert_eq!(e.by_component[0].component, "adc");
    assert_eq!(e.by_operation[0].name, "crossbar.matrix_vector_multiply");
    let cum = e.timeline.last().unwrap().cumulative_pj;
    assert!(
        (cum - expected_total).abs() < 1e-6,
        "timeline ends at the total"
    );
    // The ADC is the largest component: an energy bottleneck with ADC advice.
    let adc = a
        .bottleneck_analysis
        .bottlenecks
        .iter()
        .find(|b| b.subject == "adc")
        .unwrap();
    assert_eq!(adc.category, Category::Energy);
    assert!(adc.recommendation.contains("ADC"));
    // Many small transfers on the MVM.
    let h = &a.bottleneck_analysis.hardware_analysis;
    assert_eq!(h.energy_share, 1.0);
    assert!(h.transfers.iter().any(|t| t.many_small));
}

#[profile(kind = "algorithm_step", name = "solver.iteration")]
fn iteration(p: &profiler_runtime::PerformanceProfiler, k: u32) {
    let r = 2f64.powi(-3 * (k as i32 + 1));
    p.record_event(
        "solver.iteration",
        EventKind::AlgorithmStep,
        [("residual", r), ("k", f64::from(k)), ("energy_pj", 2.0)],
    );
}

#[profile(name = "solver.run")]
fn run(p: &profiler_runtime::PerformanceProfiler) {
    for k in 0..9 {
        iteration(p, k);
    }
}

#[test]
fn convergence_bits_per_iteration_and_energy_to_precision() {
    let p = common::profiler();
    p.in_scope(|| {
        run(&p);
        run(&p);
    });
    let a = BottleneckAnalyzer::new(&p).analyze_bottlenecks();
    let c = &a.convergence;
    let runs: Vec<_> = c.runs.iter().filter(|r| r.residuals.len() == 9).collect();
    assert_eq!(runs.len(), 2, "{:?}", c.runs);
    let r = runs[0];
    assert!((r.mean_bits_per_iteration.unwrap() - 3.0).abs() < 1e-9);
    assert!(r.reached_target);
    assert_eq!(r.iterations_to_target, Some(7), "2^-24 reached at k = 7");
    assert_eq!(r.energy_to_precision_pj, Some(16.0));
    let s = c.stability.iter().find(|s| s.runs == 2).unwrap();
    assert_eq!(s.success_rate, 1.0);
    assert_eq!(s.final_bits.unwrap().std, 0.0);
}

#[test]
fn analysis_renders_markdown_and_round_trips_json() {
    let p = common::profiler();
    p.in_scope(|| {
        planted_slow();
        quick(1);
    });
    p.record_event("io.read", EventKind::IoOperation, [("bytes", 4096.0)]);
    let analyzer = BottleneckAnalyzer::new(&p);
    let a = analyzer.analyze_bottlenecks();
    let md = a.to_markdown();
    assert!(md.starts_with("# Optimization report"), "{md}");
    assert!(md.contains("| operation | kind |"), "{md}");
    assert!(md.contains("modelled"));
    let json = a.to_json().unwrap();
    let back = OptimizationAnalysis::from_json(&json).unwrap();
    assert_eq!(
        back.bottleneck_analysis.slowest_operations[0].name,
        "planted_slow"
    );
    assert_eq!(back.summary, a.summary);
    assert!(OptimizationAnalysis::from_json("{").is_err());
    let report = p.get_performance_report();
    let md = report.to_markdown();
    assert!(
        md.contains("# Performance report") && md.contains("p99") && md.contains("dropped"),
        "{md}"
    );
    assert!(report.to_string().contains("modelled"));
}

#[test]
fn empty_profile_analyses_without_panicking() {
    let profile = profiler_runtime::Profile::empty();
    let analyzer = BottleneckAnalyzer::from_profile(&profile);
    let a = analyzer.analyze_bottlenecks();
    assert!(a.bottleneck_analysis.slowest_operations.is_empty());
    assert!(a.bottleneck_analysis.bottlenecks.is_empty());
    assert!(analyzer
        .generate_optimization_report()
        .contains("No bottleneck"));
}
