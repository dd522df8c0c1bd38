//! The per-process part of the reports (a profile merged from several processes) and the
//! line on a live OTLP stream: shared by the performance report and the analysis.

use super::doc::{clean, pct, Doc};
use crate::analysis::{process_total, ProcessShare};
use crate::model::otlp_status::OtlpStatus;
use crate::model::units::{fmt_bytes, fmt_ns, fmt_pj};
use crate::report::PerformanceReport;

/// A "Processes" section: one row per process and a total row (nothing for one process).
pub(crate) fn render_processes(d: &mut Doc, processes: &[ProcessShare]) {
    if processes.is_empty() {
        return;
    }
    d.heading(2, "Processes");
    let rss = |b: Option<u64>| b.map_or_else(|| "-".to_owned(), |b| fmt_bytes(b as f64));
    let mut rows: Vec<Vec<String>> = processes
        .iter()
        .map(|p| {
            let t = &p.totals;
            vec![
                p.name.clone(),
                t.events.to_string(),
                t.kept_events.to_string(),
                t.dropped_events.to_string(),
                fmt_ns(t.duration_ns as f64),
                fmt_ns(t.self_ns as f64),
                pct(p.self_share),
                fmt_pj(t.energy_pj),
                t.errors.to_string(),
                rss(t.peak_rss_bytes),
            ]
        })
        .collect();
    let t = process_total(processes);
    rows.push(vec![
        format!("total ({} processes)", processes.len()),
        t.events.to_string(),
        t.kept_events.to_string(),
        t.dropped_events.to_string(),
        fmt_ns(t.duration_ns as f64),
        fmt_ns(t.self_ns as f64),
        pct(1.0),
        fmt_pj(t.energy_pj),
        t.errors.to_string(),
        rss(t.peak_rss_bytes),
    ]);
    d.table(
        &[
            "process",
            "events",
            "kept",
            "dropped",
            "duration",
            "self time",
            "share",
            "energy",
            "errors",
            "peak RSS",
        ],
        &rows,
    );
    d.line(
        "Each process's figures are exact (its own aggregates); times of different processes \
         are aligned on their wall clocks. The total's duration is the longest process's; its \
         peak RSS is the highest single process's.",
    );
    d.gap();
}

/// The line on a live OTLP stream's deliveries and drops (`None` without a stream).
pub(crate) fn otlp_line(s: Option<&OtlpStatus>) -> Option<String> {
    let s = s?;
    let mut line = format!(
        "OTLP stream to {}: {} spans sent, {} dropped, {} queued; {} metric exports sent, {} dropped",
        clean(&s.endpoint),
        s.spans_sent,
        s.spans_dropped,
        s.spans_queued,
        s.metric_exports_sent,
        s.metric_exports_dropped
    );
    if s.failed_requests > 0 {
        line.push_str(&format!("; {} requests failed", s.failed_requests));
    }
    if let Some(e) = &s.last_error {
        line.push_str(&format!(" (last: {})", clean(e)));
    }
    line.push('.');
    Some(line)
}

/// The short report's lines: one per process of a merged profile, and the OTLP stream's.
pub(crate) fn short_lines(r: &PerformanceReport) -> Vec<String> {
    let mut out: Vec<String> = r
        .processes
        .iter()
        .map(|p| {
            format!(
                "process {}: {} events, self time {} ({}), energy {}",
                clean(&p.name),
                p.totals.events,
                fmt_ns(p.totals.self_ns as f64),
                pct(p.self_share),
                fmt_pj(p.totals.energy_pj)
            )
        })
        .collect();
    out.extend(otlp_line(r.otlp.as_ref()));
    out
}
