//! Turns the analyses into ranked [`Bottleneck`]s, each with evidence and a concrete next step.

use crate::model::event::EventKind;
use crate::model::units::{fmt_bytes, fmt_ns, fmt_pj};

use super::bottleneck::{BottleneckAnalysis, SlowOperation};
use super::compute::Bound;
use super::convergence::ConvergenceAnalysis;
use super::energy::{EnergyAnalysis, UNATTRIBUTED};
use super::severity::{share, Bottleneck, Category, Severity, MEDIUM_SHARE};

/// Smallest share of profiled self time for an operation to be listed as a time bottleneck.
pub const MIN_LISTED_SHARE: f64 = 0.05;
/// How many time hotspots are considered.
pub const MAX_HOTSPOTS: usize = 5;

fn category_of(kind: EventKind) -> Category {
    match kind {
        EventKind::FunctionCall | EventKind::Computation => Category::Compute,
        EventKind::MemoryUsage => Category::Memory,
        EventKind::IoOperation => Category::Io,
        EventKind::HardwareAccess => Category::Hardware,
        EventKind::AlgorithmStep => Category::Algorithm,
    }
}

fn kind_advice(kind: EventKind) -> &'static str {
    match kind {
        EventKind::FunctionCall | EventKind::Computation => {
            "optimise its own code first: hoist invariant work out of loops, vectorise the inner loop, avoid recomputation, or parallelise across cores"
        }
        EventKind::MemoryUsage => "reuse buffers instead of allocating and copying per call",
        EventKind::IoOperation => "overlap the I/O with compute (async or a background thread) and batch requests",
        EventKind::HardwareAccess => {
            "batch hardware operations and keep matrices resident on the array (program once, reuse for many MVM/INV calls)"
        }
        EventKind::AlgorithmStep => {
            "cut iterations: a better initial guess or preconditioner, or stop at the precision actually needed"
        }
    }
}

fn component_advice(c: &str) -> String {
    let lc = c.to_ascii_lowercase();
    let a = if lc.contains("adc") {
        "lower the ADC resolution where the bit-sliced sum allows it, share ADCs across columns, or use a lower-energy ADC model (SAR over flash)"
    } else if lc.contains("dac") {
        "slice inputs into fewer DAC bits or reuse DAC outputs across arrays"
    } else if lc.contains("write") || lc.contains("program") || lc.contains("verify") {
        "program less often: keep matrices resident between solves and loosen the write-verify tolerance where precision allows"
    } else if lc.contains("array") || lc.contains("read") {
        "lower the read voltage or pulse width, or use lower-conductance states (cell energy is V^2 G t)"
    } else if lc.contains("opamp") || lc.contains("tia") || lc.contains("amp") {
        "shorten settling (better-conditioned blocks settle faster, t ~ 1 / lambda_min) or power-gate idle amplifiers"
    } else if lc.contains("shift") || lc.contains("digital") || lc.contains("add") {
        "use fewer bit slices, or accumulate in lower precision until the last iterations"
    } else if c == UNATTRIBUTED {
        "report `energy.<component>_pj` from the code that spends it, so this remainder can be attributed"
    } else {
        "reduce how often this component is used per operation"
    };
    a.to_owned()
}

fn hotspot(op: &SlowOperation, a: &BottleneckAnalysis) -> Bottleneck {
    let mut advice: Vec<String> = Vec::new();
    if op.mean_ns < 1_000.0 && op.count >= 10_000 {
        advice.push(format!(
            "{} calls at a mean of {}: per-call overhead dominates; batch the work per call or inline it (and drop `#[profile]` from so hot a leaf)",
            op.count,
            fmt_ns(op.mean_ns)
        ));
    }
    if op.p50_ns > 0 && op.p99_ns > op.p50_ns.saturating_mul(10) {
        advice.push(format!(
            "p99 is {:.0}x the median: look for contention, allocation spikes or page faults in the slow calls",
            op.p99_ns as f64 / op.p50_ns as f64
        ));
    }
    if let Some(c) = a
        .compute_analysis
        .complexity
        .iter()
        .find(|c| c.operation == op.name)
    {
        if c.exponent >= 1.5 {
            advice.push(format!(
                "it grows as {} (R^2 {:.2}): a lower-complexity algorithm or blocking pays most at large n",
                c.label(),
                c.r_squared
            ));
        }
    }
    if let Some(r) = a
        .compute_analysis
        .repeated_calls
        .iter()
        .find(|r| r.name == op.name)
    {
        advice.push(format!(
            "{} calls repeat earlier arguments: memoise the result",
            r.repeated_calls
        ));
    }
    advice.push(kind_advice(op.kind).to_owned());
    Bottleneck {
        category: category_of(op.kind),
        severity: op.severity,
        subject: op.name.clone(),
        share: op.time_share,
        title: format!(
            "`{}` takes {:.0}% of profiled time",
            op.name,
            op.time_share * 100.0
        ),
        evidence: format!(
            "self time {} of {} profiled ({:.1}%); {} calls, mean {}, p50 {}, p99 {}; inclusive {}",
            fmt_ns(op.self_time.as_nanos() as f64),
            fmt_ns(a.type_analysis.total_self_ns as f64),
            op.time_share * 100.0,
            op.count,
            fmt_ns(op.mean_ns),
            fmt_ns(op.p50_ns as f64),
            fmt_ns(op.p99_ns as f64),
            fmt_ns(op.execution_time.as_nanos() as f64)
        ),
        recommendation: advice.join("; "),
    }
}

fn energy_findings(e: &EnergyAnalysis, out: &mut Vec<Bottleneck>) {
    for o in e.by_operation.iter().filter(|o| o.share >= MEDIUM_SHARE) {
        out.push(Bottleneck {
            category: Category::Energy,
            severity: Severity::from_share(o.share),
            subject: o.name.clone(),
            share: o.share,
            title: format!(
                "`{}` spends {:.0}% of reported energy",
                o.name,
                o.share * 100.0
            ),
            evidence: format!(
                "{} of {} over {} calls ({} per call, mean power {:.3} mW)",
                fmt_pj(o.energy_pj),
                fmt_pj(e.total_energy_pj),
                o.calls,
                fmt_pj(o.energy_per_call_pj),
                o.mean_power_mw
            ),
            recommendation: format!(
                "call it less often or make each call cheaper; {}",
                kind_advice(o.kind)
            ),
        });
    }
    for c in e.by_component.iter().filter(|c| c.share >= MEDIUM_SHARE) {
        out.push(Bottleneck {
            category: Category::Energy,
            severity: Severity::from_share(c.share),
            subject: c.component.clone(),
            share: c.share,
            title: format!(
                "component `{}` takes {:.0}% of energy",
                c.component,
                c.share * 100.0
            ),
            evidence: format!("{} of {}", fmt_pj(c.energy_pj), fmt_pj(e.total_energy_pj)),
            recommendation: component_advice(&c.component),
        });
    }
}

fn memory_findings(a: &BottleneckAnalysis, out: &mut Vec<Bottleneck>) {
    let m = &a.memory_analysis;
    for l in &m.leak_suspects {
        let s = share(l.retained_bytes as f64, m.total_allocated_bytes as f64);
        out.push(Bottleneck {
            category: Category::Memory,
            severity: Severity::from_share(s).max(Severity::Medium),
            subject: l.name.clone(),
            share: s,
            title: format!("`{}` leaks or keeps growing memory", l.name),
            evidence: format!(
                "net +{} per call over {} calls (fit R^2 {:.2}), {} retained; {} of the calls grew",
                fmt_bytes(l.growth_per_call_bytes),
                l.calls,
                l.r_squared,
                fmt_bytes(l.retained_bytes as f64),
                l.growing_calls
            ),
            recommendation: "free what each call allocates, or bound the cache or collection it grows (an LRU, a capacity limit, clearing between runs)".to_owned(),
        });
    }
    if let Some(t) = m
        .top_allocators
        .first()
        .filter(|t| t.share >= 0.25 && t.self_allocations >= 1000)
    {
        out.push(Bottleneck {
            category: Category::Memory,
            severity: Severity::from_share(t.share * a.type_analysis.kind(t.kind).map_or(0.0, |k| k.time_share)),
            subject: t.name.clone(),
            share: t.share,
            title: format!("`{}` does {:.0}% of all allocation", t.name, t.share * 100.0),
            evidence: format!(
                "{} in {} allocations ({} per call), {:.0} allocations/s overall",
                fmt_bytes(t.self_allocated_bytes as f64),
                t.self_allocations,
                fmt_bytes(t.bytes_per_call),
                m.allocations_per_sec
            ),
            recommendation: "allocate once and reuse: pass in a scratch buffer, use `Vec::with_capacity`, or `clear()` instead of re-creating".to_owned(),
        });
    }
}

fn hardware_findings(a: &BottleneckAnalysis, out: &mut Vec<Bottleneck>) {
    let h = &a.hardware_analysis;
    let total = a.type_analysis.total_self_ns as f64;
    for t in h.transfers.iter().filter(|t| t.many_small) {
        let op_share = a
            .slowest_operations
            .iter()
            .find(|o| o.name == t.name)
            .map_or(0.0, |o| o.time_share);
        let fixed = t.fixed_cost_ns.map_or_else(String::new, |f| {
            format!(
                ", fixed cost {} per call ({:.0}% of its time)",
                fmt_ns(f),
                t.fixed_cost_share.unwrap_or(0.0) * 100.0
            )
        });
        out.push(Bottleneck {
            category: Category::Hardware,
            severity: Severity::from_share(op_share),
            subject: t.name.clone(),
            share: op_share,
            title: format!("`{}`: many small transfers", t.name),
            evidence: format!(
                "{} calls of {} on average ({} at {}/s){fixed}",
                t.calls,
                fmt_bytes(t.mean_bytes),
                fmt_bytes(t.total_bytes),
                fmt_bytes(t.bytes_per_sec)
            ),
            recommendation: "batch transfers into fewer, larger ones (whole rows or tiles at a time) to amortise the per-call cost".to_owned(),
        });
    }
    if let Some(i) = h
        .imbalance
        .as_ref()
        .filter(|i| i.max_over_mean >= super::hardware::IMBALANCE_RATIO)
    {
        let s = h.time_share * (1.0 - 1.0 / i.max_over_mean);
        out.push(Bottleneck {
            category: Category::Hardware,
            severity: Severity::from_share(s),
            subject: i.busiest.clone(),
            share: s,
            title: format!("uneven {} across hardware", i.measure),
            evidence: format!(
                "busiest ({}) at {:.2}x the mean, idlest {}; coefficient of variation {:.2}",
                i.busiest, i.max_over_mean, i.idlest, i.cv
            ),
            recommendation: "rebalance: spread blocks evenly over tiles, or map the hottest block to several arrays".to_owned(),
        });
    }
    let _ = total;
}

fn io_findings(a: &BottleneckAnalysis, out: &mut Vec<Bottleneck>) {
    let io = &a.io_analysis;
    if io.time_share >= MEDIUM_SHARE || (io.serialised && io.time_share >= MEDIUM_SHARE / 2.0) {
        let how = if io.serialised {
            "requests run strictly one at a time: issue them concurrently (async, a thread pool) and batch small ones"
        } else {
            kind_advice(EventKind::IoOperation)
        };
        out.push(Bottleneck {
            category: Category::Io,
            severity: Severity::from_share(io.time_share),
            subject: "io_operation".to_owned(),
            share: io.time_share,
            title: format!(
                "blocking I/O takes {:.0}% of profiled time",
                io.time_share * 100.0
            ),
            evidence: format!(
                "{} I/O events, self {} (wall {}), concurrency {}",
                io.events,
                fmt_ns(io.self_ns as f64),
                fmt_ns(io.wall_ns as f64),
                io.concurrency
                    .map_or_else(|| "-".to_owned(), |c| format!("{c:.2}"))
            ),
            recommendation: how.to_owned(),
        });
    }
    for s in io
        .serialisation_ops
        .iter()
        .filter(|s| s.time_share >= MEDIUM_SHARE)
    {
        out.push(Bottleneck {
            category: Category::Io,
            severity: Severity::from_share(s.time_share),
            subject: s.name.clone(),
            share: s.time_share,
            title: format!("serialisation in `{}` takes {:.0}%", s.name, s.time_share * 100.0),
            evidence: format!("{} calls, self {}", s.calls, fmt_ns(s.self_ns as f64)),
            recommendation: "use a binary format or stream instead of building whole documents; serialise less often".to_owned(),
        });
    }
}

fn compute_findings(a: &BottleneckAnalysis, out: &mut Vec<Bottleneck>) {
    let c = &a.compute_analysis;
    let total = a.type_analysis.total_self_ns as f64;
    for r in &c.repeated_calls {
        let s = share(r.repeated_ns as f64, total);
        if s < MIN_LISTED_SHARE {
            continue;
        }
        out.push(Bottleneck {
            category: Category::Compute,
            severity: Severity::from_share(s),
            subject: r.name.clone(),
            share: s,
            title: format!("`{}` recomputes identical calls", r.name),
            evidence: format!(
                "{} repeated calls in {} argument sets (by recorded fields) cost {}; {:?} was called {} times",
                r.repeated_calls,
                r.groups,
                fmt_ns(r.repeated_ns as f64),
                r.example_args,
                r.example_calls
            ),
            recommendation:
                "memoise the result by its arguments, or hoist the call out of the loop".to_owned(),
        });
    }
    for f in c
        .complexity
        .iter()
        .filter(|f| f.exponent >= 2.0 && f.r_squared >= 0.8)
    {
        let s = a
            .slowest_operations
            .iter()
            .find(|o| o.name == f.operation)
            .map_or(0.0, |o| o.time_share);
        out.push(Bottleneck {
            category: Category::Algorithm,
            severity: Severity::from_share(s),
            subject: f.operation.clone(),
            share: s,
            title: format!("`{}` scales as {}", f.operation, f.label()),
            evidence: format!(
                "log-log fit over n = {}..{} ({} sizes), R^2 {:.2}{}",
                f.min_n,
                f.max_n,
                f.points,
                f.r_squared,
                f.trend_break.map_or_else(String::new, |b| format!("; trend breaks after n = {}", b.at_n))
            ),
            recommendation: "at large n this dominates: use a lower-complexity method (blocking, BlockAMC-style partitioning, iterative refinement) or cap n per call".to_owned(),
        });
    }
    for i in c.intensity.iter().filter(|i| i.bound == Bound::Memory) {
        let s = a
            .slowest_operations
            .iter()
            .find(|o| o.name == i.name)
            .map_or(0.0, |o| o.time_share);
        if s < MIN_LISTED_SHARE {
            continue;
        }
        out.push(Bottleneck {
            category: Category::Compute,
            severity: Severity::from_share(s),
            subject: i.name.clone(),
            share: s,
            title: format!("`{}` is memory-bound", i.name),
            evidence: format!(
                "{:.2} flops/byte against a machine balance of {:.1}; {:.2} GFLOP/s achieved",
                i.flops_per_byte, c.machine_balance_flops_per_byte, i.gflops_per_sec
            ),
            recommendation: "raise data reuse: block or tile the loops so operands stay in cache, fuse passes over the same data".to_owned(),
        });
    }
}

fn convergence_findings(c: &ConvergenceAnalysis, out: &mut Vec<Bottleneck>) {
    for s in &c.stability {
        let runs: Vec<_> = c
            .runs
            .iter()
            .filter(|r| r.operation == s.operation)
            .collect();
        let diverged = runs.iter().filter(|r| r.diverged).count();
        if diverged > 0 {
            out.push(Bottleneck {
                category: Category::Algorithm,
                severity: Severity::High,
                subject: s.operation.clone(),
                share: diverged as f64 / runs.len().max(1) as f64,
                title: format!("`{}` diverged in {diverged} of {} runs", s.operation, runs.len()),
                evidence: format!("residual grew from first to last iteration in {diverged} runs"),
                recommendation: "the iteration's contraction factor is >= 1: use more bits in the low-precision inverse, or precondition / rescale the matrix".to_owned(),
            });
        }
        if let Some(b) = runs
            .iter()
            .filter_map(|r| r.mean_bits_per_iteration)
            .reduce(f64::min)
        {
            if b < 1.0 && diverged == 0 {
                out.push(Bottleneck {
                    category: Category::Algorithm,
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

/// Every finding, most severe (then largest share) first.
pub(crate) fn bottlenecks(
    a: &BottleneckAnalysis,
    e: &EnergyAnalysis,
    c: &ConvergenceAnalysis,
) -> Vec<Bottleneck> {
    let mut out: Vec<Bottleneck> = a
        .slowest_operations
        .iter()
        .take(MAX_HOTSPOTS)
        .filter(|o| o.time_share >= MIN_LISTED_SHARE)
        .map(|o| hotspot(o, a))
        .collect();
    energy_findings(e, &mut out);
    memory_findings(a, &mut out);
    hardware_findings(a, &mut out);
    io_findings(a, &mut out);
    compute_findings(a, &mut out);
    convergence_findings(c, &mut out);
    out.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then(y.share.total_cmp(&x.share))
    });
    out
}

/// The recommendation lines, one per bottleneck, in rank order, plus a note where memory per
/// span is unknown.
pub(crate) fn recommendation_lines(list: &[Bottleneck], alloc_tracked: bool) -> Vec<String> {
    let mut v: Vec<String> = list
        .iter()
        .map(|b| {
            format!(
                "[{}] {} ({}): {}",
                b.severity, b.subject, b.category, b.recommendation
            )
        })
        .collect();
    if !alloc_tracked {
        v.push(
            "[low] memory: per-span memory is unknown; install `profiler_runtime::CountingAllocator` as the `#[global_allocator]` to find allocators and leaks".to_owned(),
        );
    }
    v
}
