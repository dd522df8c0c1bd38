//! Turns the analyses into ranked [`Bottleneck`]s, each with evidence, the performance metric
//! it concerns, how it is known ([`Basis`]) and a concrete next step. Memory findings are in
//! `memory_findings`, solver findings in `solver_findings`.

use crate::model::event::{EventKind, PerformanceMetric};
use crate::model::units::{fmt_bytes, fmt_ns, fmt_pj};

use super::bottleneck::{BottleneckAnalysis, SlowOperation};
use super::compute::Bound;
use super::convergence::ConvergenceAnalysis;
use super::energy::{EnergyAnalysis, UNATTRIBUTED};
use super::machine::MachineAnalysis;
use super::memory_findings::memory_findings;
use super::severity::{severity_cap, share, Basis, Bottleneck, Category, Severity, MEDIUM_SHARE};
use super::solver_findings::convergence_findings;

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
            "{} calls repeat earlier arguments: if it depends on nothing else, memoise the result",
            r.repeated_calls
        ));
    }
    advice.push(kind_advice(op.kind).to_owned());
    Bottleneck {
        category: category_of(op.kind),
        metric: PerformanceMetric::ExecutionTime,
        basis: Basis::Measured,
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
            metric: PerformanceMetric::PowerConsumption,
            basis: Basis::Measured,
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
            metric: PerformanceMetric::PowerConsumption,
            basis: Basis::Measured,
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

fn hardware_findings(a: &BottleneckAnalysis, out: &mut Vec<Bottleneck>) {
    let h = &a.hardware_analysis;
    let total = a.type_analysis.total_self_ns as f64;
    for t in h.transfers.iter().filter(|t| t.many_small) {
        let op_share = self_share(a, &t.name);
        let fixed = t.fixed_cost_ns.map_or_else(String::new, |f| {
            format!(
                ", fixed cost {} per call ({:.0}% of its time)",
                fmt_ns(f),
                t.fixed_cost_share.unwrap_or(0.0) * 100.0
            )
        });
        out.push(Bottleneck {
            category: Category::Hardware,
            metric: PerformanceMetric::Throughput,
            basis: Basis::Measured,
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
            metric: PerformanceMetric::Throughput,
            basis: Basis::Measured,
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
            metric: PerformanceMetric::ExecutionTime,
            basis: Basis::Measured,
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
            metric: PerformanceMetric::ExecutionTime,
            // Found by its name: the time is measured, that it serialises is a guess.
            basis: Basis::Heuristic,
            severity: Severity::from_share(s.time_share),
            subject: s.name.clone(),
            share: s.time_share,
            title: format!(
                "`{}` may be serialisation (by its name) and takes {:.0}%",
                s.name,
                s.time_share * 100.0
            ),
            evidence: format!(
                "{} calls, self {}; named like serialisation code (a guess from the name)",
                s.calls,
                fmt_ns(s.self_ns as f64)
            ),
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
            metric: PerformanceMetric::ExecutionTime,
            // Equal arguments are measured (every argument recorded); that the result is equal
            // too assumes the function depends on nothing else.
            basis: Basis::Heuristic,
            severity: Severity::from_share(s),
            subject: r.name.clone(),
            share: s,
            title: format!("`{}` is called again with identical arguments", r.name),
            evidence: format!(
                "{} repeated calls in {} argument sets (every argument recorded) cost {}; {:?} was called {} times",
                r.repeated_calls,
                r.groups,
                fmt_ns(r.repeated_ns as f64),
                r.example_args,
                r.example_calls
            ),
            recommendation:
                "if the result depends only on these arguments, memoise it or hoist the call out of the loop".to_owned(),
        });
    }
    for f in c
        .complexity
        .iter()
        .filter(|f| f.exponent >= 2.0 && f.r_squared >= 0.8)
    {
        let s = self_share(a, &f.operation);
        out.push(Bottleneck {
            category: Category::Algorithm,
            metric: PerformanceMetric::Scalability,
            basis: Basis::Measured,
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
        let s = self_share(a, &i.name);
        if s < MIN_LISTED_SHARE {
            continue;
        }
        out.push(Bottleneck {
            category: Category::Compute,
            metric: PerformanceMetric::Throughput,
            // Compared against an assumed machine balance.
            basis: Basis::Modelled,
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

/// The share of profiled self time of operation `name` (0 where it is not among the slowest).
pub(crate) fn self_share(a: &BottleneckAnalysis, name: &str) -> f64 {
    a.slowest_by_self_time
        .iter()
        .find(|o| o.name == name)
        .map_or(0.0, |o| o.time_share)
}

fn machine_findings(m: &MachineAnalysis, out: &mut Vec<Bottleneck>) {
    let Some(b) = &m.background else { return };
    let other = b.other_share();
    let steal = b.steal_share();
    if other < 0.25 && steal < 0.10 {
        return;
    }
    out.push(Bottleneck {
        category: Category::Compute,
        metric: PerformanceMetric::ExecutionTime,
        basis: Basis::Measured,
        // About how far the timings can be trusted, not about the program itself.
        severity: if other >= 0.5 || steal >= 0.25 {
            Severity::Medium
        } else {
            Severity::Low
        },
        subject: "machine".to_owned(),
        share: other.max(steal),
        title: format!(
            "other processes used {:.0}% of the machine while profiling",
            other * 100.0
        ),
        evidence: format!(
            "over {} samples on {} CPUs: the machine used {:.0}% CPU (of one core), this process {:.0}%, the rest {:.0}% (peak {:.0}%); steal {:.1}% (peak {:.1}%)",
            b.samples,
            b.cpus,
            b.mean_machine_cpu_percent,
            b.mean_own_cpu_percent,
            b.mean_other_cpu_percent,
            b.peak_other_cpu_percent,
            b.mean_steal_percent,
            b.peak_steal_percent
        ),
        recommendation: "timings may be inflated by competition for CPUs: profile on a quiet machine, pin the run to idle cores, or time with `ScalingClock::ThreadCpu`".to_owned(),
    });
}

/// Every finding, most severe first; at one severity, measured before modelled before
/// heuristic, then the largest share. A heuristic finding is capped at
/// [`Severity::Medium`].
pub(crate) fn bottlenecks(
    a: &BottleneckAnalysis,
    e: &EnergyAnalysis,
    c: &ConvergenceAnalysis,
    m: &MachineAnalysis,
) -> Vec<Bottleneck> {
    let mut out: Vec<Bottleneck> = a
        .slowest_by_self_time
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
    machine_findings(m, &mut out);
    for b in &mut out {
        b.severity = b.severity.min(severity_cap(b.basis));
    }
    out.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then(x.basis.cmp(&y.basis))
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
                "[{}] [{}] {} ({}): {}",
                b.severity, b.basis, b.subject, b.metric, b.recommendation
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
