//! Text and Markdown rendering of an [`OptimizationAnalysis`]. The
//! [`PerformanceReport`](crate::PerformanceReport) renders through the same document model
//! (`render_report.rs`), so both say things the same way.

use crate::model::units::{fmt_bytes, fmt_ns, fmt_pj};

use super::doc::{cpu_line, pct, Doc, Style};
use super::render_report::failures_table;
use super::render_sections::{render_convergence, render_machine, render_memory};
use crate::analysis::{BottleneckAnalyzer, OptimizationAnalysis, SlowOperation};
use crate::model::event::PerformanceMetric;

/// Renders an analysis.
pub(crate) fn render_analysis(a: &OptimizationAnalysis, style: Style) -> String {
    let mut d = Doc::new(style);
    let s = &a.summary;
    let b = &a.bottleneck_analysis;
    d.heading(1, "Optimization report");
    for w in &s.warnings {
        d.line(&format!("warning: {w}"));
    }
    d.line(&format!(
        "{} events over {} ({} kept, {} dropped from the raw buffer); profiled self time {}; reported energy {}.",
        s.total_events,
        fmt_ns(s.profile_duration_ns as f64),
        s.kept_events,
        s.dropped_events,
        fmt_ns(s.total_self_ns as f64),
        fmt_pj(s.total_energy_pj)
    ));
    d.line(&cpu_line(&a.energy.cpu));
    d.gap();
    super::render_processes::render_processes(&mut d, &s.processes);

    render_findings(&mut d, a);
    failures_table(
        &mut d,
        s.failures
            .iter()
            .map(|f| (f.name.as_str(), f.kind, f.calls, f.errors, f.panics)),
    );

    d.heading(2, "Slowest operations (inclusive time)");
    slow_table(&mut d, &b.slowest_operations);
    d.heading(2, "Where the time goes (self time)");
    slow_table(&mut d, &b.slowest_by_self_time);

    d.heading(2, "Time by kind");
    let rows: Vec<Vec<String>> = b
        .type_analysis
        .kinds
        .iter()
        .map(|k| {
            vec![
                k.kind.to_string(),
                k.count.to_string(),
                fmt_ns(k.self_time.as_nanos() as f64),
                pct(k.time_share),
                fmt_pj(k.energy_pj),
                pct(k.energy_share),
            ]
        })
        .collect();
    d.table(
        &[
            "kind",
            "events",
            "self",
            "time share",
            "energy",
            "energy share",
        ],
        &rows,
    );

    render_energy(&mut d, a);
    render_memory(&mut d, a);
    render_hw_io_compute(&mut d, a);
    render_convergence(&mut d, a);
    render_machine(&mut d, &a.machine);

    d.heading(2, "Recommendations");
    for r in &b.recommendations {
        d.bullet(r);
    }
    d.out
}

/// The findings, grouped by the performance metric they concern (most severe group first),
/// each with its severity and how it is known.
fn render_findings(d: &mut Doc, a: &OptimizationAnalysis) {
    let b = &a.bottleneck_analysis;
    d.heading(2, "Bottlenecks");
    if b.bottlenecks.is_empty() {
        d.line("No bottleneck above the reporting thresholds.");
        d.gap();
        return;
    }
    d.line("Basis: measured (timed, counted or reported), modelled (from stated assumptions), heuristic (inferred from names or patterns; never above medium).");
    d.gap();
    // Metrics in the order of their most severe finding (the list is ranked).
    let mut metrics: Vec<PerformanceMetric> = Vec::new();
    for x in &b.bottlenecks {
        if !metrics.contains(&x.metric) {
            metrics.push(x.metric);
        }
    }
    let mut i = 0;
    for m in metrics {
        d.heading(3, &capitalised(m.label()));
        for x in b.bottlenecks.iter().filter(|x| x.metric == m) {
            i += 1;
            d.line(&format!(
                "{i}. [{}] [{}] ({}) {}",
                x.severity, x.basis, x.category, x.title
            ));
            d.line(&format!("   evidence: {}", x.evidence));
            d.line(&format!("   do: {}", x.recommendation));
        }
        d.gap();
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn slow_table(d: &mut Doc, ops: &[SlowOperation]) {
    let rows: Vec<Vec<String>> = ops
        .iter()
        .take(10)
        .map(|o| {
            vec![
                o.name.clone(),
                o.kind.to_string(),
                o.count.to_string(),
                fmt_ns(o.execution_time.as_nanos() as f64),
                fmt_ns(o.self_time.as_nanos() as f64),
                pct(o.time_share),
                fmt_ns(o.mean_ns),
                fmt_ns(o.p99_ns as f64),
                o.severity.to_string(),
            ]
        })
        .collect();
    d.table(
        &[
            "operation",
            "kind",
            "calls",
            "inclusive",
            "self",
            "self share",
            "mean",
            "p99",
            "severity",
        ],
        &rows,
    );
}

fn render_energy(d: &mut Doc, a: &OptimizationAnalysis) {
    let e = &a.energy;
    if e.total_energy_pj == 0.0 && e.by_component.is_empty() {
        return;
    }
    d.heading(2, "Energy");
    d.line(&format!(
        "Total {} (mean power {:.3} mW over the profile).{}",
        fmt_pj(e.total_energy_pj),
        e.mean_power_mw,
        if e.nested_energy_events > 0 {
            format!(" Warning: {} spans report energy inside spans that also do; totals may count it twice.", e.nested_energy_events)
        } else {
            String::new()
        }
    ));
    d.gap();
    let rows: Vec<Vec<String>> = e
        .by_component
        .iter()
        .map(|c| vec![c.component.clone(), fmt_pj(c.energy_pj), pct(c.share)])
        .collect();
    d.table(&["component", "energy", "share"], &rows);
    let rows: Vec<Vec<String>> = e
        .by_operation
        .iter()
        .take(10)
        .map(|o| {
            vec![
                o.name.clone(),
                o.calls.to_string(),
                fmt_pj(o.energy_pj),
                pct(o.share),
                fmt_pj(o.energy_per_call_pj),
                format!("{:.3}", o.mean_power_mw),
            ]
        })
        .collect();
    d.table(
        &[
            "operation",
            "calls",
            "energy",
            "share",
            "per call",
            "power (mW)",
        ],
        &rows,
    );
    for t in &e.temperature {
        d.bullet(&format!(
            "`{}` at {:.0}-{:.0} K: {} per K ({}), {} per call at 300 K, {} at 350 K{}",
            t.name,
            t.min_k,
            t.max_k,
            t.pj_per_k.map_or_else(|| "-".to_owned(), fmt_pj),
            t.relative_per_k
                .map_or_else(|| "-".to_owned(), |r| format!("{:+.3}%/K", r * 100.0)),
            t.estimate_300k_pj.map_or_else(|| "-".to_owned(), fmt_pj),
            t.estimate_350k_pj.map_or_else(|| "-".to_owned(), fmt_pj),
            if t.extrapolated {
                " (extrapolated)"
            } else {
                ""
            }
        ));
    }
    if !e.temperature.is_empty() {
        d.gap();
    }
}

fn render_hw_io_compute(d: &mut Doc, a: &OptimizationAnalysis) {
    let b = &a.bottleneck_analysis;
    let h = &b.hardware_analysis;
    if h.events > 0 || !h.transfers.is_empty() {
        d.heading(2, "Hardware");
        d.line(&format!(
            "{} hardware_access events: {} of time, {} of energy.",
            h.events,
            pct(h.time_share),
            pct(h.energy_share)
        ));
        if let Some(i) = &h.imbalance {
            d.line(&format!(
                "Imbalance by {}: busiest {} at {:.2}x the mean, idlest {} (cv {:.2}).",
                i.measure, i.busiest, i.max_over_mean, i.idlest, i.cv
            ));
        }
        d.gap();
        let rows: Vec<Vec<String>> = h
            .transfers
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    t.calls.to_string(),
                    fmt_bytes(t.mean_bytes),
                    format!("{}/s", fmt_bytes(t.bytes_per_sec)),
                    t.fixed_cost_ns.map_or_else(|| "-".to_owned(), fmt_ns),
                    if t.many_small { "many small" } else { "" }.to_owned(),
                ]
            })
            .collect();
        d.table(
            &[
                "transfer",
                "calls",
                "mean size",
                "throughput",
                "fixed cost",
                "",
            ],
            &rows,
        );
    }
    let io = &b.io_analysis;
    if io.events > 0 {
        d.heading(2, "I/O");
        d.line(&format!(
            "{} io_operation events: {} of time; concurrency {}{}.",
            io.events,
            pct(io.time_share),
            io.concurrency
                .map_or_else(|| "-".to_owned(), |c| format!("{c:.2}")),
            if io.serialised {
                " (serialised: one request at a time)"
            } else {
                ""
            }
        ));
        d.gap();
    }
    let c = &b.compute_analysis;
    if !c.complexity.is_empty() || !c.repeated_calls.is_empty() || !c.intensity.is_empty() {
        d.heading(2, "Computation");
        for f in &c.complexity {
            d.bullet(&format!(
                "`{}`: {} (R^2 {:.2}, n = {}..{}){}",
                f.operation,
                f.label(),
                f.r_squared,
                f.min_n,
                f.max_n,
                f.trend_break.map_or_else(String::new, |t| format!(
                    ", trend breaks after n = {}",
                    t.at_n
                ))
            ));
        }
        for r in &c.repeated_calls {
            d.bullet(&format!(
                "`{}`: {} calls repeat earlier arguments ({})",
                r.name,
                r.repeated_calls,
                fmt_ns(r.repeated_ns as f64)
            ));
        }
        for i in &c.intensity {
            d.bullet(&format!(
                "`{}`: {:.2} flops/byte, {:.2} GFLOP/s: {:?}-bound",
                i.name, i.flops_per_byte, i.gflops_per_sec, i.bound
            ));
        }
        d.gap();
    }
}

impl BottleneckAnalyzer<'_> {
    /// The analysis rendered as plain text for a terminal.
    pub fn generate_optimization_report(&self) -> String {
        self.analyze_bottlenecks().to_text()
    }

    /// The analysis rendered as Markdown.
    pub fn generate_markdown_report(&self) -> String {
        self.analyze_bottlenecks().to_markdown()
    }
}

impl OptimizationAnalysis {
    /// Plain text for a terminal (what `generate_optimization_report` returns).
    pub fn to_text(&self) -> String {
        render_analysis(self, Style::Text)
    }

    /// GitHub-flavoured Markdown.
    pub fn to_markdown(&self) -> String {
        render_analysis(self, Style::Markdown)
    }
}
