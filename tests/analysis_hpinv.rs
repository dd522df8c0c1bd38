//! End to end: rram-sim's HP-INV under the profiler. The analysis names the crossbar
//! operations and solver steps, the energy components (which add up to the total), and the
//! solver's convergence to 24-bit precision.

#[path = "../profiler-runtime/tests/common/mod.rs"]
mod common;

use nalgebra::{DMatrix, DVector};
use profiler_runtime::analysis::UNATTRIBUTED;
use profiler_runtime::{BottleneckAnalyzer, EventKind};
use rram_sim::{hp_inv, HpInvConfig};

/// A well-conditioned 16x16 system (as in rram-sim's own HP-INV example).
fn system(n: usize) -> (DMatrix<f64>, DVector<f64>) {
    let g = rram_sim::systems::diagonally_dominant(n);
    let b = rram_sim::systems::smooth_rhs(n);
    (g, b)
}

/// The circuit components rram-sim's energy model reports.
const COMPONENTS: [&str; 6] = ["array", "dac", "adc", "opamp", "write_driver", "digital"];
/// The operations one HP-INV solve is made of.
const OPERATIONS: [&str; 5] = [
    "hp_inv",
    "hp_inv.iteration",
    "hp_mvm",
    "crossbar.inv",
    "crossbar.write_matrix",
];

#[test]
fn hp_inv_report_names_top_operations_and_energy_components() {
    let p = common::profiler();
    let (g, b) = system(16);
    let out = p
        .in_scope(|| hp_inv(&g, &b, &HpInvConfig::default()))
        .expect("HP-INV solves");
    assert!(out.info.converged);
    let analyzer = BottleneckAnalyzer::new(&p);
    let a = analyzer.analyze_bottlenecks();
    let ba = &a.bottleneck_analysis;

    // Top operations: the solve encloses everything; its steps and crossbar ops are ranked.
    assert_eq!(ba.slowest_operations[0].name, "hp_inv");
    let ranked: Vec<&str> = ba
        .slowest_operations
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    for op in OPERATIONS {
        assert!(ranked.contains(&op), "{op} missing from {ranked:?}");
    }
    let iteration = ba
        .slowest_operations
        .iter()
        .find(|o| o.name == "hp_inv.iteration")
        .unwrap();
    assert_eq!(iteration.kind, EventKind::AlgorithmStep);
    assert_eq!(iteration.count, out.iterations as u64);
    for op in ["hp_mvm", "crossbar.inv", "crossbar.write_matrix"] {
        let o = ba.slowest_operations.iter().find(|o| o.name == op).unwrap();
        assert_eq!(o.kind, EventKind::HardwareAccess, "{op}");
        assert!(o.energy_pj.unwrap() > 0.0, "{op} reports energy");
    }
    // One LP-INV and one HP-MVM per iteration.
    let inv = ba
        .slowest_operations
        .iter()
        .find(|o| o.name == "crossbar.inv")
        .unwrap();
    assert_eq!(inv.count, out.iterations as u64);

    // Energy: every component present, adding up to the total; all of it in hardware spans.
    let e = &a.energy;
    assert!(e.total_energy_pj > 0.0);
    // Every picojoule of the solver's ledger was reported by some span, once.
    let ledger = out.energy.total_pj();
    assert!(
        (e.total_energy_pj - ledger).abs() <= 1e-6 * ledger,
        "spans report {} pJ, the ledger {ledger} pJ",
        e.total_energy_pj
    );
    for c in COMPONENTS {
        assert!(
            e.component(c).unwrap_or(0.0) > 0.0,
            "component {c}: {:?}",
            e.by_component
        );
    }
    assert!((e.component_sum_pj() - e.total_energy_pj).abs() <= 1e-9 * e.total_energy_pj);
    assert!(e.component(UNATTRIBUTED).unwrap_or(0.0).abs() <= 1e-9 * e.total_energy_pj);
    assert!((ba.hardware_analysis.energy_share - 1.0).abs() < 1e-12);
    let energetic: Vec<&str> = e.by_operation.iter().map(|o| o.name.as_str()).collect();
    assert!(
        energetic.contains(&"hp_mvm") && energetic.contains(&"crossbar.inv"),
        "{energetic:?}"
    );
    // The energy and component bottlenecks name a hardware operation and a component.
    let energy_subjects: Vec<&str> = ba
        .bottlenecks
        .iter()
        .filter(|b| b.category == profiler_runtime::analysis::Category::Energy)
        .map(|b| b.subject.as_str())
        .collect();
    assert!(
        energy_subjects.iter().any(|s| energetic.contains(s)),
        "{energy_subjects:?}"
    );
    assert!(
        energy_subjects.iter().any(|s| COMPONENTS.contains(s)),
        "{energy_subjects:?}"
    );

    // Convergence: one run of n = 16 to 2^-24, a few bits per iteration, energy to precision
    // from the crossbar operations inside the iterations.
    let runs: Vec<_> = a
        .convergence
        .runs
        .iter()
        .filter(|r| r.operation == "hp_inv.iteration")
        .collect();
    assert_eq!(runs.len(), 1, "{:?}", a.convergence.runs);
    let r = runs[0];
    assert_eq!(r.n, Some(16.0));
    assert_eq!(r.iterations, out.iterations);
    assert!(r.reached_target && r.final_bits >= 24.0, "{r:?}");
    assert!(
        (r.final_residual - out.info.final_residual).abs() <= 1e-12,
        "{r:?}"
    );
    assert!(r.mean_bits_per_iteration.unwrap() > 1.0, "{r:?}");
    let to_target = r.energy_to_precision_pj.unwrap();
    assert!(to_target > 0.0 && to_target <= e.total_energy_pj, "{r:?}");
    assert!(r.time_to_precision_ns.unwrap() > 0);

    // The reports a person reads name all of it.
    let text = analyzer.generate_optimization_report();
    let md = a.to_markdown();
    for s in OPERATIONS.iter().chain(&COMPONENTS) {
        assert!(text.contains(s), "text report lacks {s}:\n{text}");
        assert!(md.contains(s), "markdown report lacks {s}:\n{md}");
    }
    assert!(text.contains("modelled"));
    let report = p.get_performance_report();
    let row = report
        .operations
        .iter()
        .find(|o| o.name == "hp_mvm")
        .unwrap();
    assert_eq!(row.count, out.iterations as u64);
    assert!(row.p50_ns <= row.p90_ns && row.p90_ns <= row.p99_ns && row.p99_ns <= row.max_ns);
    assert!(row.min_ns <= row.p50_ns);
    assert!(row.bytes_per_sec.unwrap() > 0.0);
    for c in COMPONENTS {
        assert!(report.energy_by_component.contains_key(c), "{c}");
    }
}

#[test]
fn repeated_hp_inv_runs_give_stability_not_repeat_warnings() {
    let p = common::profiler();
    let (g, b) = system(16);
    let outs: Vec<_> = p.in_scope(|| {
        (0..3)
            .map(|seed| {
                let cfg = HpInvConfig {
                    seed,
                    ..HpInvConfig::default()
                };
                hp_inv(&g, &b, &cfg).expect("HP-INV solves")
            })
            .collect()
    });
    let a = BottleneckAnalyzer::new(&p).analyze_bottlenecks();
    let runs: Vec<_> = a
        .convergence
        .runs
        .iter()
        .filter(|r| r.operation == "hp_inv.iteration")
        .collect();
    assert_eq!(runs.len(), 3);
    for (r, out) in runs.iter().zip(&outs) {
        assert_eq!(r.iterations, out.iterations);
    }
    let s = a
        .convergence
        .stability
        .iter()
        .find(|s| s.operation == "hp_inv.iteration")
        .unwrap();
    assert_eq!(s.runs, 3);
    assert_eq!(s.success_rate, 1.0);
    let bits = s.final_bits.unwrap();
    assert!(bits.min >= 24.0 && bits.std >= 0.0, "{bits:?}");
    assert!(s.energy_to_precision_pj.unwrap().mean > 0.0);
    // Iteration k of one run is not a repeat of iteration k of another.
    let c = &a.bottleneck_analysis.compute_analysis;
    assert!(
        c.repeated_calls
            .iter()
            .all(|r| r.name != "hp_inv.iteration"),
        "{:?}",
        c.repeated_calls
    );
}
