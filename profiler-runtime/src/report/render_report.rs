//! Text and Markdown rendering of a [`PerformanceReport`].

use crate::model::event::EventKind;
use crate::model::units::{fmt_bytes, fmt_ns, fmt_pj};
use crate::report::PerformanceReport;

use super::doc::{cpu_line, Doc, Style};
use super::render_sections::counter_lines;
use crate::analysis::{share, MachineAnalysis};

/// Renders a performance report.
pub(crate) fn render_report(r: &PerformanceReport, style: Style) -> String {
    let mut d = Doc::new(style);
    let s = &r.system_info;
    d.heading(1, "Performance report");
    for w in &r.warnings {
        d.bullet(&format!("Warning: {w}"));
    }
    if !r.warnings.is_empty() {
        d.gap();
    }
    d.line(&format!(
        "System: {} ({}), {} x {}, {} MiB.",
        s.os_version, s.arch, s.cpu_count, s.cpu_model, s.memory_total_mb
    ));
    d.line(&format!(
        "Events: {} over {} ({} kept, {} dropped from the raw buffer).",
        r.total_events,
        fmt_ns(r.profile_duration_ns as f64),
        r.kept_events,
        r.dropped_events
    ));
    if let Some(line) = r.folded_line() {
        d.line(&format!("{}.", capitalize(&line)));
    }
    if let Some(line) = r.non_finite_line() {
        d.line(&format!("{}.", capitalize(&line)));
    }
    let m = &r.monitor;
    if m.samples > 0 {
        d.line(&format!(
            "Monitor: {} samples; RSS peak {}, mean {}; CPU mean {:.0}%, peak {:.0}%.",
            m.samples,
            m.peak_rss_bytes
                .map_or_else(|| "-".to_owned(), |b| fmt_bytes(b as f64)),
            m.mean_rss_bytes.map_or_else(|| "-".to_owned(), fmt_bytes),
            m.mean_cpu_percent.unwrap_or(0.0),
            m.peak_cpu_percent.unwrap_or(0.0)
        ));
    }
    if !r.alloc_tracking {
        d.line("Per-span memory unknown: no CountingAllocator installed.");
    }
    if let Some(c) = &r.cpu_energy {
        d.line(&cpu_line(c));
    }
    if let Some(line) = super::render_processes::otlp_line(r.otlp.as_ref()) {
        d.line(&line);
    }
    if let Some(f) = &r.fragmentation {
        d.line(&format!(
            "Heap: live peak {}, allocator footprint {} (last sample: {} live of {} held).",
            fmt_bytes(f.peak_live_bytes as f64),
            f.peak_footprint_bytes.map_or_else(
                || "unavailable".to_owned(),
                |b| format!("peak {}", fmt_bytes(b as f64))
            ),
            fmt_bytes(f.last_live_bytes as f64),
            f.last_footprint_bytes
                .map_or_else(|| "-".to_owned(), |b| fmt_bytes(b as f64))
        ));
        if let Some(note) = f.untouched_note() {
            d.line(&format!("  Note: {note}."));
        }
    }
    if let Some(b) = &r.background {
        d.line(&format!(
            "Background load: other processes {:.0}% CPU (of one core; peak {:.0}%), steal {:.1}%, over {} samples.",
            b.mean_other_cpu_percent, b.peak_other_cpu_percent, b.mean_steal_percent, b.samples
        ));
    }
    let machine = MachineAnalysis {
        background: None,
        hardware_counters: r.hardware_counters.clone(),
    };
    for l in counter_lines(&machine) {
        d.line(&format!("Hardware counters, {l}."));
    }
    d.gap();
    super::render_processes::render_processes(&mut d, &r.processes);
    d.heading(2, "Operations");
    let rows: Vec<Vec<String>> = r
        .operations
        .iter()
        .map(|o| {
            vec![
                o.name.clone(),
                o.kind.to_string(),
                o.count.to_string(),
                fmt_ns(o.total_ns as f64),
                fmt_ns(o.self_ns as f64),
                fmt_ns(o.mean_ns),
                fmt_ns(o.std_ns),
                fmt_ns(o.min_ns as f64),
                fmt_ns(o.max_ns as f64),
                fmt_ns(o.p50_ns as f64),
                fmt_ns(o.p90_ns as f64),
                fmt_ns(o.p99_ns as f64),
                format!("{:.0}", o.ops_per_sec),
                o.bytes_per_sec
                    .map_or_else(|| "-".to_owned(), |b| format!("{}/s", fmt_bytes(b))),
                o.energy_pj.map_or_else(|| "-".to_owned(), fmt_pj),
            ]
        })
        .collect();
    d.table(
        &[
            "operation",
            "kind",
            "count",
            "total",
            "self",
            "mean",
            "std",
            "min",
            "max",
            "p50",
            "p90",
            "p99",
            "ops/s",
            "bytes/s",
            "energy",
        ],
        &rows,
    );
    failures_table(
        &mut d,
        r.operations
            .iter()
            .map(|o| (o.name.as_str(), o.kind, o.count, o.errors, o.panics)),
    );
    d.heading(2, "By kind");
    let rows: Vec<Vec<String>> = r
        .kinds
        .iter()
        .map(|k| {
            vec![
                k.kind.to_string(),
                k.count.to_string(),
                fmt_ns(k.total_ns as f64),
                fmt_ns(k.self_ns as f64),
                fmt_pj(k.energy_pj),
            ]
        })
        .collect();
    d.table(&["kind", "events", "total", "self", "energy"], &rows);
    if !r.energy_by_component.is_empty() {
        d.heading(2, "Energy by component");
        let total: f64 = r.energy_by_component.values().sum();
        let rows: Vec<Vec<String>> = r
            .energy_by_component
            .iter()
            .map(|(c, e)| {
                vec![
                    c.clone(),
                    fmt_pj(*e),
                    format!("{:.1}%", 100.0 * share(*e, total)),
                ]
            })
            .collect();
        d.table(&["component", "energy", "share"], &rows);
    }
    d.heading(2, "Derived metrics");
    for (k, v) in &r.derived_metrics {
        d.bullet(&format!("{k}: {v:.6}"));
    }
    d.out
}

/// `s` with its first letter in upper case.
fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl PerformanceReport {
    /// The report as GitHub-flavoured Markdown.
    pub fn to_markdown(&self) -> String {
        render_report(self, Style::Markdown)
    }

    /// The report as plain text with every column (the `Display` form is the short one).
    pub fn to_text(&self) -> String {
        render_report(self, Style::Text)
    }
}

/// The "Errors and panics" section: operations with a failed call as (name, kind, calls,
/// errors, panics); nothing when none failed. Shared by the report and the analysis.
pub(crate) fn failures_table<'a>(
    d: &mut Doc,
    ops: impl Iterator<Item = (&'a str, EventKind, u64, u64, u64)>,
) {
    let rows: Vec<Vec<String>> = ops
        .filter(|&(_, _, _, errors, panics)| errors > 0 || panics > 0)
        .map(|(name, kind, calls, errors, panics)| {
            vec![
                name.to_owned(),
                kind.to_string(),
                calls.to_string(),
                errors.to_string(),
                panics.to_string(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        d.heading(2, "Errors and panics");
        d.table(&["operation", "kind", "calls", "errors", "panics"], &rows);
    }
}
