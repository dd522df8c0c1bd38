//! rram-sim under the profiler: a diverging solve is a critical finding and the convergence
//! section says so; solver and crossbar spans report the device temperature; a solve's memory
//! counts every thread that worked for it.

#[path = "../profiler-runtime/tests/common/mod.rs"]
mod common;

use nalgebra::{DMatrix, DVector};
use profiler_runtime::analysis::Category;
use profiler_runtime::hardware::HardwarePerformanceProfiler;
use profiler_runtime::{BottleneckAnalyzer, CountingAllocator, PerformanceMetric, Severity};
use rand::{Rng, SeedableRng};
use rram_sim::{block_amc, hp_inv, BlockAmcConfig, Crossbar, DeviceParams, HpInvConfig, SimError};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

/// The demo's test system: `G = I + (0.5 / sqrt n) U`, `U` and `b` uniform in `[-1, 1]`.
fn system(n: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let s = 0.5 / (n as f64).sqrt();
    let g = DMatrix::from_fn(
        n,
        n,
        |i, j| if i == j { 1.0 } else { 0.0 } + s * rng.random_range(-1.0..1.0),
    );
    let b = DVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0));
    (g, b)
}

#[test]
fn a_diverging_solve_is_a_critical_finding_and_the_convergence_section_says_so() {
    let p = common::profiler();
    // The demo's n = 16 system at 350 K, where the 3-bit inverse no longer contracts.
    let (g, b) = system(16, 7 ^ 16u64.wrapping_mul(0x9E37_79B9));
    let cfg = HpInvConfig {
        seed: 7,
        temperature_k: 350.0,
        ..HpInvConfig::default()
    };
    let r = p.in_scope(|| hp_inv(&g, &b, &cfg));
    assert!(matches!(r, Err(SimError::Divergence { .. })), "{r:?}");
    let analyzer = BottleneckAnalyzer::new(&p);
    let a = analyzer.analyze_bottlenecks();
    let c = &a.convergence;
    assert_eq!(c.failed_solves.len(), 1, "{:?}", c.failed_solves);
    let f = &c.failed_solves[0];
    assert!(f.diverged && f.error.is_some(), "{f:?}");
    assert_eq!((f.n, f.temperature_k), (Some(16.0), Some(350.0)));
    assert!(
        c.runs.iter().all(|r| r.diverged && r.failed),
        "every run of the diverged solve says so: {:?}",
        c.runs
    );
    let finding = a
        .bottleneck_analysis
        .bottlenecks
        .iter()
        .find(|b| b.subject == "hp_inv" && b.category == Category::Algorithm)
        .expect("a finding on the failed solve");
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.metric, PerformanceMetric::Stability);
    assert_eq!(
        a.bottleneck_analysis.bottlenecks[0].severity,
        Severity::Critical
    );
    assert!(!a
        .bottleneck_analysis
        .bottlenecks
        .iter()
        .any(|b| b.title.contains("converges slowly")));
    let text = analyzer.generate_optimization_report();
    assert!(
        text.contains("FAILED: 1 solve(s) failed (1 diverged)"),
        "{text}"
    );
    assert!(text.contains("DIVERGED"), "{text}");
}

#[test]
fn solver_and_crossbar_spans_report_the_temperature_and_the_verdict() {
    let p = common::profiler();
    // A well-conditioned 16x16 system (as in rram-sim's own HP-INV example).
    let n = 16;
    let g = rram_sim::systems::diagonally_dominant(n);
    let b = rram_sim::systems::smooth_rhs(n);
    for t in [300.0, 310.0] {
        let cfg = HpInvConfig {
            temperature_k: t,
            ..HpInvConfig::default()
        };
        let out = p.in_scope(|| hp_inv(&g, &b, &cfg)).expect("solves");
        assert!(out.info.converged);
    }
    let block = BlockAmcConfig {
        tile_size: 8,
        ..BlockAmcConfig::default()
    };
    p.in_scope(|| block_amc(&g, &b, &block)).expect("solves");
    let snap = p.snapshot();
    // BlockAMC programs its tiles inside its own span: the temperature is still reported once.
    let t: Vec<f64> = snap
        .events_named("block_amc")
        .filter_map(|e| e.metric("temperature_k"))
        .collect();
    assert_eq!(t, [300.0]);
    let temps: Vec<f64> = snap
        .events_named("hp_inv")
        .filter_map(|e| e.metric("temperature_k"))
        .collect();
    assert_eq!(temps, [300.0, 310.0]);
    assert!(snap
        .events_named("hp_inv")
        .all(|e| e.metric("converged") == Some(1.0) && e.metric("diverged").is_none()));
    // Each crossbar operation reports the array's temperature once (not summed).
    for op in ["crossbar.inv", "crossbar.write_matrix", "hp_mvm"] {
        let t: Vec<f64> = snap
            .events_named(op)
            .filter_map(|e| e.metric("temperature_k"))
            .collect();
        assert!(!t.is_empty(), "{op}");
        assert!(t.iter().all(|t| *t == 300.0 || *t == 310.0), "{op}: {t:?}");
    }
    // The temperature analysis now has what it needs.
    let a = BottleneckAnalyzer::from_profile(&snap).analyze_bottlenecks();
    assert!(
        a.energy
            .temperature
            .iter()
            .any(|t| t.name == "crossbar.inv"),
        "{:?}",
        a.energy.temperature
    );
    // The solve counted every thread's allocations.
    let e = snap.events_named("hp_inv").next().expect("event");
    let pa = e.process_alloc.expect("every thread's allocations");
    let own = e.alloc.expect("its own thread's");
    assert!(pa.allocated_bytes >= own.allocated_bytes);
}

#[test]
fn the_hardware_profilers_calls_count_every_thread() {
    let p = common::profiler();
    let g = DMatrix::from_fn(8, 8, |i, j| if i == j { 1.0 } else { 0.05 });
    p.in_scope(|| {
        let mut hw =
            HardwarePerformanceProfiler::new(Crossbar::new(8, 8, DeviceParams::taox_3bit(), 3));
        hw.profile_write_matrix(&g).expect("written");
    });
    let snap = p.snapshot();
    let e = snap
        .events_named("hardware.write_matrix")
        .next()
        .expect("the hardware profiler's span");
    assert!(e.process_alloc.is_some(), "{e:?}");
}
