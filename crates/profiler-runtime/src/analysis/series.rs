//! Series extracted from a [`Profile`] by metric-name conventions; the analyzer and the charts
//! both read these.
//!
//! Conventions (what instrumented code reports through `metrics!` or numeric fields):
//! - `energy_pj`: a span's total energy; `energy.<component>_pj` its part in one circuit
//!   component (`energy.adc_pj`, `energy.array_pj`, ...).
//! - `n`: the problem size of a span (for scaling).
//! - `residual` (relative residual after the step) and `k` (iteration index) on
//!   `algorithm_step` spans; `bits_gained` optionally.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{EventKind, ProfileEvent};
use crate::profile::Profile;

use super::scan::IntMap;

/// Metric key of a span's total energy.
pub const ENERGY_KEY: &str = "energy_pj";
/// Prefix of per-component energy metrics (`energy.adc_pj`).
pub const COMPONENT_PREFIX: &str = "energy.";
/// Suffix of per-component energy metrics.
pub const COMPONENT_SUFFIX: &str = "_pj";
/// Metric key of a span's problem size.
pub const SIZE_KEY: &str = "n";
/// Metric key of the relative residual after an iteration.
pub const RESIDUAL_KEY: &str = "residual";
/// Metric key of the iteration index.
pub const ITERATION_KEY: &str = "k";

/// The component name of a metric key such as `energy.adc_pj` (`adc`), if it is one.
pub fn component_of(key: &str) -> Option<&str> {
    key.strip_prefix(COMPONENT_PREFIX)?
        .strip_suffix(COMPONENT_SUFFIX)
}

/// Energy by circuit component over the whole profile (exact: from aggregates), pJ.
///
/// Only the spans that report components count; nested spans that both report the same
/// energy would be counted twice, so instrumented code reports components on leaf operations.
pub fn energy_by_component(profile: &Profile) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for op in &profile.operations {
        for (k, m) in &op.metrics {
            if let Some(c) = component_of(k) {
                *out.entry(c.to_owned()).or_insert(0.0) += m.sum;
            }
        }
    }
    out
}

/// Energy by operation (exact), pJ, largest first.
pub fn energy_by_operation(profile: &Profile) -> Vec<(String, EventKind, f64)> {
    let mut v: Vec<(String, EventKind, f64)> = profile
        .operations
        .iter()
        .filter_map(|o| {
            let e = o.metric_sum(ENERGY_KEY);
            (e != 0.0).then(|| (o.name.to_string(), o.kind, e))
        })
        .collect();
    v.sort_by(|a, b| b.2.total_cmp(&a.2));
    v
}

/// One size of a scaling series: the median over the kept events of that size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScalingPoint {
    /// Problem size.
    pub n: f64,
    /// Median wall time, ns.
    pub median_ns: f64,
    /// Median energy, pJ, where reported.
    pub median_energy_pj: Option<f64>,
    /// Median bytes allocated, where known.
    pub median_alloc_bytes: Option<f64>,
    /// Events at this size.
    pub samples: usize,
}

/// Time (and energy, memory) against problem size for one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingSeries {
    /// The operation.
    pub operation: String,
    /// One point per distinct size, increasing.
    pub points: Vec<ScalingPoint>,
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// Scaling series for every operation whose kept events report at least two distinct sizes
/// (`n`).
pub fn scaling_series(profile: &Profile) -> Vec<ScalingSeries> {
    let mut by_op: BTreeMap<&str, BTreeMap<u64, Vec<&ProfileEvent>>> = BTreeMap::new();
    for e in &profile.events {
        if let Some(n) = e.metric(SIZE_KEY) {
            if n.is_finite() && n > 0.0 {
                by_op
                    .entry(&e.name)
                    .or_default()
                    .entry(n.to_bits())
                    .or_default()
                    .push(e);
            }
        }
    }
    let mut out = Vec::new();
    for (op, sizes) in by_op {
        if sizes.len() < 2 {
            continue;
        }
        let mut points: Vec<ScalingPoint> = sizes
            .into_iter()
            .map(|(bits, evs)| {
                let mut t: Vec<f64> = evs.iter().map(|e| e.duration_ns() as f64).collect();
                let mut en: Vec<f64> = evs.iter().filter_map(|e| e.metric(ENERGY_KEY)).collect();
                let mut al: Vec<f64> = evs
                    .iter()
                    .filter_map(|e| e.alloc.map(|a| a.allocated_bytes as f64))
                    .collect();
                ScalingPoint {
                    n: f64::from_bits(bits),
                    median_ns: median(&mut t).unwrap_or(0.0),
                    median_energy_pj: median(&mut en),
                    median_alloc_bytes: median(&mut al),
                    samples: evs.len(),
                }
            })
            .collect();
        points.sort_by(|a, b| a.n.total_cmp(&b.n));
        out.push(ScalingSeries {
            operation: op.to_owned(),
            points,
        });
    }
    out
}

/// One iteration of an iterative solver.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConvergencePoint {
    /// Iteration index (`k`, or the order within the run when absent).
    pub iteration: u64,
    /// Relative residual after the iteration.
    pub residual: f64,
    /// Bits of precision gained in the iteration (`-log2` of the residual ratio).
    pub bits_gained: Option<f64>,
    /// End of the iteration, ns since the start of the run.
    pub elapsed_ns: u64,
    /// Energy spent up to and including this iteration, pJ (where reported): the iterations'
    /// own `energy_pj` and that of the operations nested in them.
    pub cumulative_energy_pj: f64,
}

/// Residual per iteration of one run of an iterative solver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvergenceRun {
    /// The iteration span's operation name.
    pub operation: String,
    /// The enclosing run's event id (the iterations' parent), if any.
    pub run_id: Option<u64>,
    /// The run's problem size, where the parent reports `n`.
    pub n: Option<f64>,
    /// The iterations, in order.
    pub points: Vec<ConvergencePoint>,
}

/// The run an iteration event belongs to: its nearest ancestor that is not itself an
/// `algorithm_step` span of the same name. An event recorded inside its own iteration span
/// (`record_event("solver.iteration", ..)` within `#[profile(name = "solver.iteration")]`)
/// thus belongs to the solver call around that span, like the span itself.
fn run_of(e: &ProfileEvent, by_id: &IntMap<u64, &ProfileEvent>) -> Option<u64> {
    let mut parent = e.parent;
    // Bounded walk: a malformed (cyclic) profile cannot loop forever.
    for _ in 0..64 {
        match parent.and_then(|p| by_id.get(&p)) {
            Some(p) if p.kind == EventKind::AlgorithmStep && p.name == e.name => parent = p.parent,
            _ => break,
        }
    }
    parent
}

/// Energy spent inside each iteration, pJ, by the iteration event's id: the `energy_pj` of
/// every kept event nested in it (hardware operations under the iteration span), and of an
/// enclosing iteration span of the same name that the event was recorded in. The iteration
/// event's own `energy_pj` is not included.
fn inner_energy(
    profile: &Profile,
    steps: &[&ProfileEvent],
    by_id: &IntMap<u64, &ProfileEvent>,
) -> IntMap<u64, f64> {
    // Scope id (the step, or an iteration span around it) -> the step's id.
    let mut scope: IntMap<u64, u64> = IntMap::default();
    for e in steps {
        scope.insert(e.id, e.id);
        let mut parent = e.parent;
        for _ in 0..64 {
            match parent.and_then(|p| by_id.get(&p)) {
                Some(p) if p.kind == EventKind::AlgorithmStep && p.name == e.name => {
                    scope.entry(p.id).or_insert(e.id);
                    parent = p.parent;
                }
                _ => break,
            }
        }
    }
    let mut out: IntMap<u64, f64> = IntMap::default();
    for e in &profile.events {
        let Some(energy) = e.metric(ENERGY_KEY) else {
            continue;
        };
        if scope.get(&e.id) == Some(&e.id) {
            continue; // a step's own energy
        }
        let mut at = Some(e.id);
        for _ in 0..64 {
            let Some(id) = at else { break };
            if let Some(step) = scope.get(&id) {
                *out.entry(*step).or_insert(0.0) += energy;
                break;
            }
            at = by_id.get(&id).and_then(|x| x.parent);
        }
    }
    out
}

/// Convergence runs: `algorithm_step` events that report a `residual`, grouped by the run
/// they belong to (their parent, skipping enclosing iteration spans of the same name), in time
/// order.
pub fn convergence_runs(profile: &Profile) -> Vec<ConvergenceRun> {
    let steps: Vec<&ProfileEvent> = profile
        .events
        .iter()
        .filter(|e| e.kind == EventKind::AlgorithmStep && e.metric(RESIDUAL_KEY).is_some())
        .collect();
    if steps.is_empty() {
        return Vec::new();
    }
    let by_id: IntMap<u64, &ProfileEvent> = profile.events.iter().map(|e| (e.id, e)).collect();
    let inner = inner_energy(profile, &steps, &by_id);
    let mut runs: BTreeMap<(Option<u64>, &str), Vec<&ProfileEvent>> = BTreeMap::new();
    for e in steps {
        runs.entry((run_of(e, &by_id), &e.name))
            .or_default()
            .push(e);
    }
    let mut out: Vec<(u64, ConvergenceRun)> = runs
        .into_iter()
        .map(|((parent, op), mut evs)| {
            evs.sort_by_key(|e| (e.start_ns, e.id));
            let run_start = parent
                .and_then(|p| by_id.get(&p))
                .map_or_else(|| evs.first().map_or(0, |e| e.start_ns), |p| p.start_ns);
            let mut energy = 0.0;
            let mut prev: Option<f64> = None;
            let points = evs
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let r = e.metric(RESIDUAL_KEY).unwrap_or(f64::NAN);
                    energy += e.metric(ENERGY_KEY).unwrap_or(0.0)
                        + inner.get(&e.id).copied().unwrap_or(0.0);
                    let bits = e
                        .metric("bits_gained")
                        .or_else(|| prev.filter(|p| *p > 0.0 && r > 0.0).map(|p| (p / r).log2()));
                    prev = Some(r);
                    ConvergencePoint {
                        iteration: e.metric(ITERATION_KEY).map_or(i as u64, |k| k as u64),
                        residual: r,
                        bits_gained: bits,
                        elapsed_ns: e.end_ns.saturating_sub(run_start),
                        cumulative_energy_pj: energy,
                    }
                })
                .collect();
            let run = ConvergenceRun {
                operation: op.to_owned(),
                run_id: parent,
                n: parent
                    .and_then(|p| by_id.get(&p))
                    .and_then(|p| p.metric(SIZE_KEY)),
                points,
            };
            (run_start, run)
        })
        .collect();
    out.sort_by_key(|(start, r)| (*start, r.run_id));
    out.into_iter().map(|(_, r)| r).collect()
}
