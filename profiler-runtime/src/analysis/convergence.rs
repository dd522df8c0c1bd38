//! Accuracy and convergence: residual and bits gained per iteration, time- and
//! energy-to-precision, and stability across repeated runs, from `algorithm_step` spans that
//! report a `residual` (see [`convergence_runs`]).

use serde::{Deserialize, Serialize};

use crate::contract::{SIZE, TEMPERATURE_K};
use crate::model::profile::Profile;

use super::scan::{scan, Scan};
use super::series::{convergence_runs_scanned, ConvergenceRun, RunOutcome};

/// The default target residual: 2^-24, "24-bit" (FP32-like) precision.
pub const DEFAULT_TARGET_RESIDUAL: f64 = 5.960_464_477_539_063e-8;

/// Cap on reported bits of precision (a residual of exactly 0 reports this).
pub const MAX_BITS: f64 = 64.0;

/// One solver run, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The iteration span's operation name.
    pub operation: String,
    /// The run's event id (the iterations' parent), if any.
    pub run_id: Option<u64>,
    /// The problem size, where the run reports `n`.
    pub n: Option<f64>,
    /// Iterations.
    pub iterations: usize,
    /// Residual after each iteration.
    pub residuals: Vec<f64>,
    /// Bits of precision gained in each iteration after the first.
    pub bits_per_iteration: Vec<f64>,
    /// Mean bits gained per iteration.
    pub mean_bits_per_iteration: Option<f64>,
    /// Residual after the last iteration.
    pub final_residual: f64,
    /// Bits of precision reached: `-log2(final_residual)`, capped at [`MAX_BITS`].
    pub final_bits: f64,
    /// Whether the target residual was reached.
    pub reached_target: bool,
    /// Iterations to reach the target.
    pub iterations_to_target: Option<u64>,
    /// Time from the run's start to the end of the first iteration at or below the target, ns.
    pub time_to_precision_ns: Option<u64>,
    /// Energy spent up to that iteration, pJ.
    pub energy_to_precision_pj: Option<f64>,
    /// Energy of all iterations, pJ.
    pub total_energy_pj: f64,
    /// Whether the run diverged: the residual grew over it (last above first), or the solver
    /// said so.
    pub diverged: bool,
    /// The solver's own verdict on convergence, where it reported one.
    #[serde(default)]
    pub converged: Option<bool>,
    /// The error the solver returned, if any.
    #[serde(default)]
    pub error: Option<String>,
    /// Whether the solve failed: an error, divergence, or a verdict of not converged.
    #[serde(default)]
    pub failed: bool,
    /// The device temperature, where reported.
    #[serde(default)]
    pub temperature_k: Option<f64>,
}

impl RunSummary {
    /// Whether this run's solve is among `c`'s failed solves.
    pub(crate) fn failed_solve_listed(&self, c: &ConvergenceAnalysis) -> bool {
        self.run_id
            .is_some_and(|id| c.failed_solves.iter().any(|f| f.event_id == id))
    }
}

/// A solver call that failed: it returned an error, diverged, or stopped without converging.
/// Found on the solver's own span (which reports [`CONVERGED`](crate::contract::CONVERGED) /
/// [`DIVERGED`](crate::contract::DIVERGED) or an error),
/// with or without iterations recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedSolve {
    /// The solver's operation name.
    pub operation: String,
    /// Its event id.
    pub event_id: u64,
    /// The problem size, where reported.
    pub n: Option<f64>,
    /// The device temperature, where reported.
    pub temperature_k: Option<f64>,
    /// Whether it diverged (then the finding's metric is stability; otherwise accuracy).
    pub diverged: bool,
    /// The error it returned, if any.
    pub error: Option<String>,
    /// The final relative residual it reported, if any.
    pub final_residual: Option<f64>,
}

/// Spread of one figure across runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Runs that had the figure.
    pub runs: usize,
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (`None` when empty).
    pub fn of(values: &[f64]) -> Option<Spread> {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        Some(Spread {
            runs: v.len(),
            mean,
            std,
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// Coefficient of variation (`std / |mean|`; 0 when the mean is 0).
    pub fn cv(&self) -> f64 {
        if self.mean == 0.0 {
            0.0
        } else {
            self.std / self.mean.abs()
        }
    }
}

/// Stability of one solver (operation) across its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stability {
    /// The iteration span's operation name.
    pub operation: String,
    /// Runs.
    pub runs: usize,
    /// Spread of the final bits of precision.
    pub final_bits: Option<Spread>,
    /// Spread of the iteration counts.
    pub iterations: Option<Spread>,
    /// Spread of the time to precision, ns (runs that reached it).
    pub time_to_precision_ns: Option<Spread>,
    /// Spread of the energy to precision, pJ (runs that reached it).
    pub energy_to_precision_pj: Option<Spread>,
    /// Share of runs that reached the target.
    pub success_rate: f64,
}

/// The convergence analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvergenceAnalysis {
    /// The target residual used.
    pub target_residual: f64,
    /// Every run, in time order.
    pub runs: Vec<RunSummary>,
    /// Per solver, across its runs.
    pub stability: Vec<Stability>,
    /// Solver calls that failed (diverged, returned an error, or did not converge), in time
    /// order.
    #[serde(default)]
    pub failed_solves: Vec<FailedSolve>,
}

impl ConvergenceAnalysis {
    /// Analyses the convergence runs of a profile against `target_residual` (relative; values
    /// that are not positive and finite fall back to [`DEFAULT_TARGET_RESIDUAL`]).
    pub fn from_profile(p: &Profile, target_residual: f64) -> Self {
        Self::from_scan(p, &scan(p), target_residual)
    }

    /// [`from_profile`](Self::from_profile) from a finished scan.
    pub(crate) fn from_scan(p: &Profile, sc: &Scan, target_residual: f64) -> Self {
        let runs = convergence_runs_scanned(p, sc);
        let mut a = Self::from_runs(&runs, target_residual);
        a.failed_solves = failed_solves(p, sc, &runs);
        a
    }

    /// Analyses runs already extracted (see [`convergence_runs`](super::convergence_runs)).
    pub fn from_runs(runs: &[ConvergenceRun], target_residual: f64) -> Self {
        let target = if target_residual.is_finite() && target_residual > 0.0 {
            target_residual
        } else {
            DEFAULT_TARGET_RESIDUAL
        };
        let runs: Vec<RunSummary> = runs.iter().map(|r| summarise(r, target)).collect();
        let mut ops: Vec<&str> = runs.iter().map(|r| r.operation.as_str()).collect();
        ops.sort_unstable();
        ops.dedup();
        let stability = ops
            .into_iter()
            .map(|op| {
                let rs: Vec<&RunSummary> = runs.iter().filter(|r| r.operation == op).collect();
                let pick = |f: &dyn Fn(&RunSummary) -> Option<f64>| -> Option<Spread> {
                    Spread::of(&rs.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
                };
                Stability {
                    operation: op.to_owned(),
                    runs: rs.len(),
                    final_bits: pick(&|r| Some(r.final_bits)),
                    iterations: pick(&|r| Some(r.iterations as f64)),
                    time_to_precision_ns: pick(&|r| r.time_to_precision_ns.map(|t| t as f64)),
                    energy_to_precision_pj: pick(&|r| r.energy_to_precision_pj),
                    success_rate: rs.iter().filter(|r| r.reached_target).count() as f64
                        / rs.len().max(1) as f64,
                }
            })
            .collect();
        ConvergenceAnalysis {
            target_residual: target,
            runs,
            stability,
            failed_solves: Vec::new(),
        }
    }
}

/// Every failed solver call: spans with a verdict of failure, and the spans around
/// convergence runs that returned an error.
fn failed_solves(p: &Profile, sc: &Scan, runs: &[ConvergenceRun]) -> Vec<FailedSolve> {
    let ev = &p.events;
    let mut positions: Vec<u32> = sc
        .verdicts
        .iter()
        .copied()
        .filter(|&i| RunOutcome::of(&ev[i as usize]).failed())
        .collect();
    let run_ids: std::collections::HashSet<u64> = runs
        .iter()
        .filter(|r| r.outcome.error.is_some())
        .filter_map(|r| r.run_id)
        .collect();
    if !run_ids.is_empty() {
        positions.extend(
            ev.iter()
                .enumerate()
                .filter(|(_, e)| run_ids.contains(&e.id))
                .map(|(i, _)| i as u32),
        );
    }
    positions.sort_unstable();
    positions.dedup();
    positions
        .into_iter()
        .map(|i| {
            let e = &ev[i as usize];
            let o = RunOutcome::of(e);
            let grew = runs.iter().any(|r| {
                r.run_id == Some(e.id)
                    && matches!((r.points.first(), r.points.last()),
                        (Some(a), Some(b)) if r.points.len() > 1 && (b.residual > a.residual || !b.residual.is_finite()))
            });
            FailedSolve {
                operation: e.name.to_string(),
                event_id: e.id,
                n: e.metric(SIZE),
                temperature_k: e.metric(TEMPERATURE_K),
                diverged: o.diverged || grew,
                error: o.error,
                final_residual: e.metric("final_residual"),
            }
        })
        .collect()
}

fn summarise(r: &ConvergenceRun, target: f64) -> RunSummary {
    let residuals: Vec<f64> = r.points.iter().map(|p| p.residual).collect();
    let bits: Vec<f64> = r
        .points
        .iter()
        .filter_map(|p| p.bits_gained)
        .filter(|b| b.is_finite())
        .collect();
    let mean_bits = (!bits.is_empty()).then(|| bits.iter().sum::<f64>() / bits.len() as f64);
    let hit = r
        .points
        .iter()
        .find(|p| p.residual.is_finite() && p.residual <= target);
    let final_residual = residuals.last().copied().unwrap_or(f64::NAN);
    RunSummary {
        operation: r.operation.clone(),
        run_id: r.run_id,
        n: r.n,
        iterations: r.points.len(),
        final_bits: if final_residual > 0.0 {
            (-final_residual.log2()).min(MAX_BITS)
        } else {
            MAX_BITS
        },
        diverged: r.outcome.diverged
            || match (residuals.first(), residuals.last()) {
                (Some(a), Some(b)) => residuals.len() > 1 && (b > a || !b.is_finite()),
                _ => false,
            },
        converged: r.outcome.converged,
        error: r.outcome.error.clone(),
        failed: r.outcome.failed()
            || matches!((residuals.first(), residuals.last()),
                (Some(a), Some(b)) if residuals.len() > 1 && (b > a || !b.is_finite())),
        temperature_k: r.outcome.temperature_k,
        residuals,
        bits_per_iteration: bits,
        mean_bits_per_iteration: mean_bits,
        final_residual,
        reached_target: hit.is_some(),
        iterations_to_target: hit.map(|p| p.iteration),
        time_to_precision_ns: hit.map(|p| p.elapsed_ns),
        energy_to_precision_pj: hit.map(|p| p.cumulative_energy_pj),
        total_energy_pj: r.points.last().map_or(0.0, |p| p.cumulative_energy_pj),
    }
}
