//! `profile_algorithm`: run an iterative algorithm inside its own session and read back its
//! per-iteration spans.
//!
//! Two algorithms are profiled: a hand-written Jacobi solver whose iterations are
//! `algorithm_step` spans reporting `metrics!(residual = ..)`, and the simulator's HP-INV solver
//! (`rram_sim::hp_inv`), which is instrumented the same way (`hp_inv.iteration` spans) and also
//! reports the energy of every crossbar operation.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example profile_algorithm
//! ```

use nalgebra::{DMatrix, DVector};
use rram_profiler::rram_sim::{hp_inv, HpInvConfig};
use rram_profiler::{metrics, profile, EventKind, PerformanceProfiler};

/// One Jacobi sweep for `g x = b`; returns the relative residual after the sweep.
#[profile(kind = "algorithm_step", name = "jacobi.iteration", skip(g, b, x), fields(k = k))]
fn jacobi_step(k: usize, g: &DMatrix<f64>, b: &DVector<f64>, x: &mut DVector<f64>) -> f64 {
    let diag = g.diagonal();
    let r = b - g * &*x;
    *x += r.component_div(&diag);
    let residual = (b - g * &*x).norm() / b.norm();
    metrics!(residual = residual);
    residual
}

fn jacobi(g: &DMatrix<f64>, b: &DVector<f64>, tol: f64) -> DVector<f64> {
    let mut x = DVector::zeros(b.len());
    for k in 1..=100 {
        if jacobi_step(k, g, b, &mut x) <= tol {
            break;
        }
    }
    x
}

fn main() {
    let n = 16;
    // A diagonally dominant system: both solvers converge.
    let g = rram_sim::systems::diagonally_dominant(n);
    let b = rram_sim::systems::smooth_rhs(n);

    let profiler = PerformanceProfiler::new();
    // `in_scope` makes the profiler the subscriber of this thread for the closure only.
    profiler.in_scope(|| {
        let (_x, run) = profiler.profile_algorithm("jacobi", || jacobi(&g, &b, 1e-10));
        let steps: Vec<f64> = run
            .events
            .iter()
            .filter(|e| e.kind == EventKind::AlgorithmStep)
            .filter_map(|e| e.metric("residual"))
            .collect();
        println!(
            "jacobi: {} iterations in {:?}, average step {:?}, final residual {:.2e}",
            steps.len(),
            run.total_time,
            run.metrics_summary.average_event_time,
            steps.last().copied().unwrap_or(f64::NAN)
        );

        let cfg = HpInvConfig::default();
        let (out, run) = profiler.profile_algorithm("hp_inv", || hp_inv(&g, &b, &cfg));
        let out = out.expect("a diagonally dominant system converges");
        println!(
            "hp_inv: {} iterations, {} events, {:.1} pJ, converged: {}",
            out.iterations,
            run.events_count,
            run.metrics_summary.total_energy_pj,
            out.info.converged
        );
        for e in run.events.iter().filter(|e| &*e.name == "hp_inv.iteration") {
            println!(
                "  iteration {:>2}: residual {:.3e}, {:.1} bits gained",
                e.metric("k").unwrap_or(0.0),
                e.metric("residual").unwrap_or(f64::NAN),
                e.metric("bits_gained").unwrap_or(f64::NAN)
            );
        }
        assert!(out.info.converged);
    });
}
