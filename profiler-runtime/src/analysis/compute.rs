//! Computational analysis: repeated identical calls, complexity exponents from scaling fits,
//! compute- against memory-bound operations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::event::EventKind;
use crate::model::profile::Profile;
use crate::model::stats::saturating_sum;

use super::fit::fit_power_law;
use super::scan::{is_output_metric, RepeatGroup, Scan};
use super::series::scaling_series_scanned;
use super::severity::share;
use super::trend::{find_trend_break, TrendBreak, BREAK_TOLERANCE};
use crate::contract::{BYTES, FLOPS};

/// Default machine balance, flops per byte of memory traffic: the arithmetic intensity below
/// which an operation is memory-bound. 4 is typical of a current x86 core (tens of GFLOP/s of
/// double precision against 10-20 GB/s of DRAM bandwidth per core); set it per machine with
/// [`BottleneckAnalyzer::machine_balance`](crate::analysis::BottleneckAnalyzer::machine_balance).
pub const DEFAULT_MACHINE_BALANCE: f64 = 4.0;

/// How many repeated-call rows the analysis lists.
pub const TOP_REPEATS: usize = 10;

/// Calls of one operation repeated with identical arguments (every numeric field and metric
/// that is not an outcome: see [`is_output_metric`](crate::analysis::is_output_metric)).
///
/// Only the recorded fields are compared: arguments left out with `skip(..)` are invisible,
/// so a repeat is a lead to check, not a proof. `algorithm_step` spans are never repeats:
/// an iteration's index (`k`) recurs in every run while the solver's state moves on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatedCall {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: EventKind,
    /// Distinct argument sets called more than once.
    pub groups: u64,
    /// Calls that repeated an earlier call's arguments.
    pub repeated_calls: u64,
    /// Wall time of those repeats, ns: what memoisation could save.
    pub repeated_ns: u64,
    /// The arguments of the most repeated set.
    pub example_args: BTreeMap<String, f64>,
    /// How often that set was called.
    pub example_calls: u64,
}

/// A fitted complexity exponent: `time ~ n^exponent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplexityFit {
    /// Operation name.
    pub operation: String,
    /// Fitted exponent of median time against `n`.
    pub exponent: f64,
    /// R² of the log-log fit.
    pub r_squared: f64,
    /// Distinct sizes.
    pub points: usize,
    /// Smallest size.
    pub min_n: f64,
    /// Largest size.
    pub max_n: f64,
    /// Exponent of median energy against `n`, where reported.
    pub energy_exponent: Option<f64>,
    /// Exponent of median allocated bytes against `n`, where known.
    pub memory_exponent: Option<f64>,
    /// Where the trend breaks, if it does.
    pub trend_break: Option<TrendBreak>,
}

impl ComplexityFit {
    /// `time ~ n^2.9`.
    pub fn label(&self) -> String {
        format!("time ~ n^{:.1}", self.exponent)
    }
}

/// Whether an operation is limited by arithmetic or by memory traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// Arithmetic intensity at or above the machine balance.
    Compute,
    /// Below it.
    Memory,
}

/// Arithmetic intensity of an operation that reports both `flops` and `bytes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intensity {
    /// Operation name.
    pub name: String,
    /// Floating-point operations (exact sum).
    pub flops: f64,
    /// Bytes moved (exact sum).
    pub bytes: f64,
    /// Flops per byte.
    pub flops_per_byte: f64,
    /// Achieved GFLOP/s over its busy time.
    pub gflops_per_sec: f64,
    /// Compute- or memory-bound against the machine balance.
    pub bound: Bound,
}

/// The computational analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputeAnalysis {
    /// Self time of `computation` and `function_call` spans, ns.
    pub compute_self_ns: u64,
    /// Its share of all profiled self time.
    pub time_share: f64,
    /// Operations called repeatedly with identical arguments, most repeated time first.
    pub repeated_calls: Vec<RepeatedCall>,
    /// Complexity exponents of operations seen at several sizes (`n`), steepest first.
    pub complexity: Vec<ComplexityFit>,
    /// Arithmetic intensity where `flops` and `bytes` are reported.
    pub intensity: Vec<Intensity>,
    /// The balance used, flops per byte.
    pub machine_balance_flops_per_byte: f64,
}

impl ComputeAnalysis {
    pub(crate) fn build(p: &Profile, scan: &mut Scan, total_self_ns: u64, balance: f64) -> Self {
        let compute_self_ns = saturating_sum(
            p.operations
                .iter()
                .filter(|o| matches!(o.kind, EventKind::Computation | EventKind::FunctionCall))
                .map(|o| o.self_ns),
        );
        ComputeAnalysis {
            compute_self_ns,
            time_share: share(compute_self_ns as f64, total_self_ns as f64),
            repeated_calls: repeated(p, scan),
            complexity: complexity(p, scan),
            intensity: intensity(p, balance),
            machine_balance_flops_per_byte: balance,
        }
    }
}

fn repeated(p: &Profile, scan: &mut Scan) -> Vec<RepeatedCall> {
    // Groups of more than one call, in the order of their first call (deterministic).
    let mut groups: Vec<RepeatGroup> = scan
        .repeats
        .drain()
        .map(|(_, g)| g)
        .filter(|g| g.calls > 1)
        .collect();
    groups.sort_unstable_by_key(|g| g.first);
    let mut per_op: BTreeMap<u32, RepeatedCall> = BTreeMap::new();
    for g in groups {
        let op = &p.operations[g.op as usize];
        let r = per_op.entry(g.op).or_insert_with(|| RepeatedCall {
            name: op.name.to_string(),
            kind: op.kind,
            groups: 0,
            repeated_calls: 0,
            repeated_ns: 0,
            example_args: BTreeMap::new(),
            example_calls: 0,
        });
        r.groups += 1;
        r.repeated_calls = r.repeated_calls.saturating_add(g.calls - 1);
        r.repeated_ns = r.repeated_ns.saturating_add(g.repeat_ns);
        if g.calls > r.example_calls {
            r.example_calls = g.calls;
            r.example_args = p.events[g.first as usize]
                .metrics
                .iter()
                .filter(|(k, _)| !is_output_metric(k))
                .map(|(k, v)| (k.clone(), *v))
                .collect();
        }
    }
    let mut v: Vec<RepeatedCall> = per_op.into_values().collect();
    v.sort_by(|a, b| b.repeated_ns.cmp(&a.repeated_ns).then(a.name.cmp(&b.name)));
    v.truncate(TOP_REPEATS);
    v
}

fn complexity(p: &Profile, scan: &Scan) -> Vec<ComplexityFit> {
    let mut v: Vec<ComplexityFit> = scaling_series_scanned(p, scan)
        .into_iter()
        .filter_map(|s| {
            let t: Vec<(f64, f64)> = s.points.iter().map(|q| (q.n, q.median_ns)).collect();
            let fit = fit_power_law(&t)?;
            let e: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter_map(|q| q.median_energy_pj.map(|e| (q.n, e)))
                .collect();
            let m: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter_map(|q| q.median_alloc_bytes.map(|b| (q.n, b)))
                .collect();
            Some(ComplexityFit {
                operation: s.operation,
                exponent: fit.exponent,
                r_squared: fit.r_squared,
                points: fit.points,
                min_n: t.first().map_or(0.0, |q| q.0),
                max_n: t.last().map_or(0.0, |q| q.0),
                energy_exponent: fit_power_law(&e).map(|f| f.exponent),
                memory_exponent: fit_power_law(&m).map(|f| f.exponent),
                trend_break: find_trend_break(&t, BREAK_TOLERANCE),
            })
        })
        .collect();
    v.sort_by(|a, b| b.exponent.total_cmp(&a.exponent));
    v
}

fn intensity(p: &Profile, balance: f64) -> Vec<Intensity> {
    let mut v: Vec<Intensity> = p
        .operations
        .iter()
        .filter_map(|o| {
            let flops = o.metrics.get(FLOPS)?.sum;
            let bytes = o.metrics.get(BYTES)?.sum;
            if bytes <= 0.0 || flops < 0.0 {
                return None;
            }
            let fpb = flops / bytes;
            let busy = o.busy_ns.max(1) as f64;
            Some(Intensity {
                name: o.name.to_string(),
                flops,
                bytes,
                flops_per_byte: fpb,
                gflops_per_sec: flops / busy,
                bound: if fpb < balance {
                    Bound::Memory
                } else {
                    Bound::Compute
                },
            })
        })
        .collect();
    v.sort_by(|a, b| b.flops.total_cmp(&a.flops));
    v
}
