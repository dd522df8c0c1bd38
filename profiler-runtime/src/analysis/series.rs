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

use crate::model::event::EventKind;
use crate::model::profile::Profile;

use crate::contract::{component_of, CONVERGED, DIVERGED, ENERGY_PJ, SIZE, TEMPERATURE_K};

use super::fit::median;
use super::scan::{effective_alloc, scan, Scan, StepRec};

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
            let e = o.metric_sum(ENERGY_PJ);
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

/// Scaling series for every operation whose kept events report at least two distinct sizes
/// (`n`).
pub fn scaling_series(profile: &Profile) -> Vec<ScalingSeries> {
    scaling_series_scanned(profile, &scan(profile))
}

/// [`scaling_series`] from a finished scan (no further walk over the events' metrics).
pub(crate) fn scaling_series_scanned(profile: &Profile, sc: &Scan) -> Vec<ScalingSeries> {
    if sc.sized.is_empty() {
        return Vec::new();
    }
    // Operations of one name (of any kind) form one series: rank operations by name.
    let ops = &profile.operations;
    let mut names: Vec<&str> = ops.iter().map(|o| &*o.name).collect();
    names.sort_unstable();
    names.dedup();
    let rank: Vec<u32> = ops
        .iter()
        .map(|o| names.binary_search(&&*o.name).unwrap_or(0) as u32)
        .collect();
    // Sizes are positive and finite, so their bit patterns sort as the numbers do.
    let mut v: Vec<(u32, u64, u32)> = sc
        .sized
        .iter()
        .map(|&(op, n, pos)| (rank[op as usize], n.to_bits(), pos))
        .collect();
    v.sort_unstable();
    let events = &profile.events;
    let mut out = Vec::new();
    for series in v.chunk_by(|a, b| a.0 == b.0) {
        let points: Vec<ScalingPoint> = series
            .chunk_by(|a, b| a.1 == b.1)
            .map(|size| {
                let evs = || size.iter().map(|&(_, _, pos)| pos as usize);
                let mut t: Vec<f64> = evs().map(|i| events[i].duration_ns() as f64).collect();
                let mut en: Vec<f64> = evs()
                    .map(|i| sc.own_energy[i])
                    .filter(|e| !e.is_nan())
                    .collect();
                let mut al: Vec<f64> = evs()
                    .filter_map(|i| effective_alloc(&events[i]).map(|a| a.allocated_bytes as f64))
                    .collect();
                ScalingPoint {
                    n: f64::from_bits(size[0].1),
                    median_ns: median(&mut t).unwrap_or(0.0),
                    median_energy_pj: median(&mut en),
                    median_alloc_bytes: median(&mut al),
                    samples: size.len(),
                }
            })
            .collect();
        if points.len() >= 2 {
            out.push(ScalingSeries {
                operation: names[series[0].0 as usize].to_owned(),
                points,
            });
        }
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
    /// What the solver said of the run, on its span (the iterations' parent), where kept.
    #[serde(default)]
    pub outcome: RunOutcome,
}

/// What a solver's own span says of its run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// The solver's verdict ([`CONVERGED`](crate::contract::CONVERGED)), where reported.
    pub converged: Option<bool>,
    /// Whether the solver reported it diverging ([`DIVERGED`](crate::contract::DIVERGED)).
    pub diverged: bool,
    /// The error the solver returned (`#[profile(err)]`), if it failed.
    pub error: Option<String>,
    /// The device temperature it ran at, where reported.
    pub temperature_k: Option<f64>,
}

impl RunOutcome {
    /// What `e` (a solver's span) says of its run.
    pub fn of(e: &crate::model::event::ProfileEvent) -> RunOutcome {
        RunOutcome {
            converged: e.metric(CONVERGED).map(|v| v != 0.0),
            diverged: e.metric(DIVERGED).is_some_and(|v| v != 0.0),
            error: e.error.clone(),
            temperature_k: e.metric(TEMPERATURE_K),
        }
    }

    /// Whether the solve failed: it returned an error, diverged, or said it did not converge.
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.diverged || self.converged == Some(false)
    }
}

/// Convergence runs: `algorithm_step` events that report a `residual`, grouped by the run
/// they belong to, in time order.
///
/// A run is the call around the iterations: an iteration's parent, skipping enclosing
/// `algorithm_step` spans of the same name, so an event recorded inside its own iteration
/// span (`record_event("solver.iteration", ..)` within `#[profile(name =
/// "solver.iteration")]`) belongs to the solver call around that span, like the span itself.
/// Energy per iteration is inclusive: the iteration's own `energy_pj` and that of the
/// operations nested in it (the crossbar operations inside a solver step).
pub fn convergence_runs(profile: &Profile) -> Vec<ConvergenceRun> {
    convergence_runs_scanned(profile, &scan(profile))
}

/// [`convergence_runs`] from a finished scan.
pub(crate) fn convergence_runs_scanned(profile: &Profile, sc: &Scan) -> Vec<ConvergenceRun> {
    if sc.steps.is_empty() {
        return Vec::new();
    }
    let ev = &profile.events;
    let pp = &sc.parent_pos;
    // (run id, scope root position, step): the root is the outermost enclosing iteration span
    // of the step's name (or the step itself).
    let mut keyed: Vec<(Option<u64>, u32, &StepRec)> = sc
        .steps
        .iter()
        .map(|st| {
            let name = &ev[st.pos as usize].name;
            let mut root = st.pos;
            // Bounded walk: a malformed (cyclic) profile cannot loop forever.
            for _ in 0..64 {
                let p = pp[root as usize];
                if p == u32::MAX {
                    break;
                }
                let pe = &ev[p as usize];
                if pe.kind != EventKind::AlgorithmStep || pe.name != *name {
                    break;
                }
                root = p;
            }
            (ev[root as usize].parent, root, st)
        })
        .collect();
    // Stable: steps stay in start order within a run.
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| ev[a.2.pos as usize].name.cmp(&ev[b.2.pos as usize].name))
    });
    let same = |a: &(Option<u64>, u32, &StepRec), b: &(Option<u64>, u32, &StepRec)| {
        a.0 == b.0 && ev[a.2.pos as usize].name == ev[b.2.pos as usize].name
    };
    let mut out: Vec<(u64, ConvergenceRun)> = keyed
        .chunk_by(same)
        .map(|group| {
            let (run_id, root0, first) = group[0];
            // The run's event, where it was kept.
            let run_pos = pp[root0 as usize];
            let run_ev = (run_pos != u32::MAX).then(|| &ev[run_pos as usize]);
            let run_start = run_ev.map_or(ev[first.pos as usize].start_ns, |r| r.start_ns);
            let mut energy = 0.0;
            let mut prev: Option<f64> = None;
            let mut counted = u32::MAX;
            let points = group
                .iter()
                .enumerate()
                .map(|(i, &(_, root, st))| {
                    let r = st.residual;
                    // Steps recorded in one iteration span share its energy: count it once.
                    if root != counted {
                        energy += sc.incl_energy[root as usize];
                        counted = root;
                    }
                    let bits = st
                        .bits
                        .or_else(|| prev.filter(|p| *p > 0.0 && r > 0.0).map(|p| (p / r).log2()));
                    prev = Some(r);
                    ConvergencePoint {
                        iteration: st.k.map_or(i as u64, |k| k as u64),
                        residual: r,
                        bits_gained: bits,
                        elapsed_ns: ev[st.pos as usize].end_ns.saturating_sub(run_start),
                        cumulative_energy_pj: energy,
                    }
                })
                .collect();
            let run = ConvergenceRun {
                operation: ev[first.pos as usize].name.to_string(),
                run_id,
                n: run_ev.and_then(|r| r.metric(SIZE)),
                points,
                outcome: run_ev.map(RunOutcome::of).unwrap_or_default(),
            };
            (run_start, run)
        })
        .collect();
    out.sort_by_key(|(start, r)| (*start, r.run_id));
    out.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::event::ProfileEvent;
    use crate::model::stats::OperationStats;

    /// An event `id` under `parent` on `thread`, from `start` to `end` ns, with `metrics`.
    fn ev(
        id: u64,
        parent: Option<u64>,
        name: &str,
        kind: EventKind,
        thread: u64,
        span: (u64, u64),
        metrics: &[(&str, f64)],
    ) -> ProfileEvent {
        ProfileEvent {
            id,
            parent,
            name: name.into(),
            kind,
            thread_id: thread,
            start_ns: span.0,
            end_ns: span.1,
            busy_ns: span.1 - span.0,
            self_ns: span.1 - span.0,
            metrics: metrics
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect::<BTreeMap<_, _>>(),
            alloc: None,
            error: None,
            panicked: false,
            process_alloc: None,
            alloc_sizes: None,
            backtrace: None,
            args_recorded: false,
        }
    }

    fn profile(events: Vec<ProfileEvent>) -> Profile {
        let mut p = Profile::empty();
        for e in &events {
            if !p
                .operations
                .iter()
                .any(|o| o.name == e.name && o.kind == e.kind)
            {
                let mut o = OperationStats::new(e.name.clone(), e.kind);
                o.count = 1;
                p.operations.push(o);
            }
        }
        p.events = events;
        p
    }

    #[test]
    fn iteration_energy_includes_nested_operations_and_cross_thread_parents() {
        use EventKind::{AlgorithmStep as Step, Computation as Comp, HardwareAccess as Hw};
        let p = profile(vec![
            ev(1, None, "solve", Comp, 1, (0, 100), &[("n", 8.0)]),
            ev(
                2,
                Some(1),
                "it",
                Step,
                1,
                (10, 40),
                &[("residual", 0.125), ("k", 1.0)],
            ),
            ev(
                3,
                Some(2),
                "xbar.mvm",
                Hw,
                1,
                (11, 20),
                &[("energy_pj", 5.0)],
            ),
            // Recorded on another thread under the first iteration: found through the id map.
            ev(
                4,
                Some(2),
                "xbar.inv",
                Hw,
                2,
                (12, 30),
                &[("energy_pj", 7.0)],
            ),
            ev(
                5,
                Some(1),
                "it",
                Step,
                1,
                (50, 90),
                &[("residual", 0.015625), ("k", 2.0), ("energy_pj", 1.0)],
            ),
            ev(
                6,
                Some(5),
                "xbar.mvm",
                Hw,
                1,
                (51, 60),
                &[("energy_pj", 5.0)],
            ),
        ]);
        let runs = convergence_runs(&p);
        assert_eq!(runs.len(), 1);
        let r = &runs[0];
        assert_eq!((r.run_id, r.n), (Some(1), Some(8.0)));
        let e: Vec<f64> = r.points.iter().map(|q| q.cumulative_energy_pj).collect();
        assert_eq!(e, [12.0, 18.0]);
        assert_eq!(r.points[1].bits_gained, Some(3.0));
        assert_eq!(r.points[1].elapsed_ns, 90);
    }

    #[test]
    fn scaling_series_groups_sizes_by_name_with_medians() {
        let mut events = Vec::new();
        for (i, (n, ns)) in [(8.0, 10), (8.0, 30), (8.0, 20), (16.0, 80), (4.0, 5)]
            .into_iter()
            .enumerate()
        {
            let t = i as u64 * 100;
            events.push(ev(
                i as u64 + 1,
                None,
                "op",
                EventKind::Computation,
                1,
                (t, t + ns),
                &[("n", n)],
            ));
        }
        events.push(ev(
            9,
            None,
            "single",
            EventKind::Computation,
            1,
            (900, 901),
            &[("n", 3.0)],
        ));
        let s = scaling_series(&profile(events));
        assert_eq!(s.len(), 1, "one size is no series");
        let pts: Vec<(f64, f64, usize)> = s[0]
            .points
            .iter()
            .map(|q| (q.n, q.median_ns, q.samples))
            .collect();
        assert_eq!(pts, [(4.0, 5.0, 1), (8.0, 20.0, 3), (16.0, 80.0, 1)]);
    }
}
