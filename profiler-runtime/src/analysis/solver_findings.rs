//! Solver findings: failed solves (diverged, errored, not converged) and slow convergence.

use crate::model::event::PerformanceMetric;

use super::convergence::ConvergenceAnalysis;
use super::severity::{Basis, Bottleneck, Category, Severity};

pub(crate) fn convergence_findings(c: &ConvergenceAnalysis, out: &mut Vec<Bottleneck>) {
    // Failed solves, by solver: a diverging solve is a stability failure, any other an
    // accuracy failure; both are critical (the result is not the answer).
    let mut ops: Vec<&str> = c
        .failed_solves
        .iter()
        .map(|f| f.operation.as_str())
        .collect();
    ops.sort_unstable();
    ops.dedup();
    for op in ops {
        let fails: Vec<_> = c
            .failed_solves
            .iter()
            .filter(|f| f.operation == op)
            .collect();
        let diverged = fails.iter().filter(|f| f.diverged).count();
        let temps: Vec<f64> = fails.iter().filter_map(|f| f.temperature_k).collect();
        let at = match (
            temps.iter().copied().reduce(f64::min),
            temps.iter().copied().reduce(f64::max),
        ) {
            (Some(a), Some(b)) if a == b => format!(" at {a:.0} K"),
            (Some(a), Some(b)) => format!(" at {a:.0}-{b:.0} K"),
            _ => String::new(),
        };
        let example = fails
            .iter()
            .find_map(|f| f.error.as_deref())
            .map_or_else(String::new, |e| format!("; e.g. \"{e}\""));
        let sizes: Vec<String> = fails
            .iter()
            .filter_map(|f| f.n.map(|n| format!("{n}")))
            .collect();
        let (metric, what) = if diverged > 0 {
            (
                PerformanceMetric::Stability,
                format!(" ({diverged} diverged)"),
            )
        } else {
            (
                PerformanceMetric::Accuracy,
                " (did not converge)".to_owned(),
            )
        };
        out.push(Bottleneck {
            category: Category::Algorithm,
            metric,
            basis: Basis::Measured,
            severity: Severity::Critical,
            subject: op.to_owned(),
            share: 1.0,
            title: format!("`{op}` failed in {} solve(s){at}{what}", fails.len()),
            evidence: format!(
                "{} failed solve(s), {diverged} diverging{}{example}",
                fails.len(),
                if sizes.is_empty() {
                    String::new()
                } else {
                    format!(", n = {}", sizes.join(", "))
                }
            ),
            recommendation: if diverged > 0 {
                "the iteration's contraction factor is >= 1: use more bits in the low-precision inverse, precondition or rescale the matrix, or run the arrays cooler".to_owned()
            } else {
                "the result is not at the requested precision: allow more iterations, use more bits or slices, or loosen the tolerance knowingly".to_owned()
            },
        });
    }
    for s in &c.stability {
        let runs: Vec<_> = c
            .runs
            .iter()
            .filter(|r| r.operation == s.operation)
            .collect();
        // Runs whose solve is already a failed-solve finding are not repeated.
        let diverged = runs
            .iter()
            .filter(|r| r.diverged && !r.failed_solve_listed(c))
            .count();
        if diverged > 0 {
            out.push(Bottleneck {
                category: Category::Algorithm,
                metric: PerformanceMetric::Stability,
                basis: Basis::Measured,
                severity: Severity::Critical,
                subject: s.operation.clone(),
                share: diverged as f64 / runs.len().max(1) as f64,
                title: format!("`{}` diverged in {diverged} of {} runs", s.operation, runs.len()),
                evidence: format!("residual grew from first to last iteration in {diverged} runs"),
                recommendation: "the iteration's contraction factor is >= 1: use more bits in the low-precision inverse, or precondition / rescale the matrix".to_owned(),
            });
        }
        let any_failed = runs.iter().any(|r| r.failed);
        if let Some(b) = runs
            .iter()
            .filter_map(|r| r.mean_bits_per_iteration)
            .reduce(f64::min)
        {
            if b < 1.0 && !any_failed {
                out.push(Bottleneck {
                    category: Category::Algorithm,
                    metric: PerformanceMetric::Accuracy,
                    basis: Basis::Measured,
                    severity: Severity::Medium,
                    subject: s.operation.clone(),
                    share: 0.0,
                    title: format!("`{}` converges slowly", s.operation),
                    evidence: format!("as few as {b:.2} bits gained per iteration"),
                    recommendation: "improve the low-precision inverse (more bits per slice, better conditioning) so each step gains more bits".to_owned(),
                });
            }
        }
    }
}
