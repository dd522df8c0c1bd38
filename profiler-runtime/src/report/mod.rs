//! Reports: [`PerformanceReport`] (per-operation statistics, totals per kind, throughput,
//! monitor summary), the bottleneck analysis rendered as text and Markdown, and [`diff`] of two
//! profiles. Everything here renders what [`analysis`](crate::analysis) computes.

pub mod diff;
mod doc;
mod render;
mod render_processes;
mod render_report;
mod render_sections;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::analysis::{
    cpu_energy, energy_by_component, process_shares, BackgroundLoad, Fragmentation,
    MachineAnalysis, ProcessShare, SessionCounters,
};
use crate::model::energy::{CpuEnergy, DEFAULT_WATTS_PER_CORE};
use crate::model::event::EventKind;
use crate::model::otlp_status::OtlpStatus;
use crate::model::profile::Profile;
use crate::model::stats::{saturating_fadd, saturating_sum, OperationStats, FOLDED_NAMES_TRACKED};
use crate::model::system::SystemInfo;
use crate::model::units::{fmt_bytes, fmt_ns, fmt_pj};
use doc::clean;

/// Statistics of one operation, ready to print.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationReport {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: EventKind,
    /// Calls.
    pub count: u64,
    /// Total wall time, ns.
    pub total_ns: u64,
    /// Total self time, ns.
    pub self_ns: u64,
    /// Mean wall time, ns.
    pub mean_ns: f64,
    /// Standard deviation of wall time, ns.
    pub std_ns: f64,
    /// Shortest call, ns.
    pub min_ns: u64,
    /// Longest call, ns.
    pub max_ns: u64,
    /// Median, ns.
    pub p50_ns: u64,
    /// 90th percentile, ns.
    pub p90_ns: u64,
    /// 99th percentile, ns.
    pub p99_ns: u64,
    /// Calls per second of the operation's own wall time (`count / total`).
    pub ops_per_sec: f64,
    /// Bytes per second, where the operation reports a `bytes` metric.
    pub bytes_per_sec: Option<f64>,
    /// Energy, where the operation reports `energy_pj`.
    pub energy_pj: Option<f64>,
    /// Bytes allocated (inclusive of children), where a counting allocator is installed.
    pub allocated_bytes: Option<u64>,
    /// Calls that returned an error.
    pub errors: u64,
    /// Calls that panicked.
    pub panics: u64,
    /// Metric values that were NaN or infinite (left out of every sum).
    #[serde(default)]
    pub non_finite: u64,
    /// For an `<other>` operation: distinct names folded into it beyond the profiler's cap
    /// on distinct operations.
    #[serde(default)]
    pub folded_names: u64,
}

impl OperationReport {
    /// Builds the printable form of an operation's aggregates.
    pub fn from_stats(o: &OperationStats, alloc_tracking: bool) -> Self {
        let secs = o.total_ns as f64 / 1e9;
        let per_sec = |x: f64| if secs > 0.0 { x / secs } else { 0.0 };
        OperationReport {
            name: o.name.to_string(),
            kind: o.kind,
            count: o.count,
            total_ns: o.total_ns,
            self_ns: o.self_ns,
            mean_ns: o.mean_ns(),
            std_ns: o.std_ns(),
            min_ns: o.min_ns,
            max_ns: o.max_ns,
            p50_ns: o.p50_ns(),
            p90_ns: o.p90_ns(),
            p99_ns: o.p99_ns(),
            ops_per_sec: per_sec(o.count as f64),
            bytes_per_sec: o.metrics.get("bytes").map(|m| per_sec(m.sum)),
            energy_pj: o.metrics.get("energy_pj").map(|m| m.sum),
            allocated_bytes: (alloc_tracking && o.alloc_count > 0)
                .then_some(o.alloc.allocated_bytes),
            errors: o.errors,
            panics: o.panics,
            non_finite: o.non_finite(),
            folded_names: o.folded_names,
        }
    }
}

/// Totals of one kind of event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindTotals {
    /// The kind.
    pub kind: EventKind,
    /// Events.
    pub count: u64,
    /// Wall time, ns (inclusive: nested spans of the same kind count twice).
    pub total_ns: u64,
    /// Self time, ns (adds up across kinds).
    pub self_ns: u64,
    /// Energy reported by spans of this kind, pJ.
    pub energy_pj: f64,
}

/// Summary of the monitor's samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorSummary {
    /// Number of samples.
    pub samples: usize,
    /// Peak RSS, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// Mean RSS, bytes.
    pub mean_rss_bytes: Option<f64>,
    /// Mean CPU use, percent of one core.
    pub mean_cpu_percent: Option<f64>,
    /// Peak CPU use, percent of one core.
    pub peak_cpu_percent: Option<f64>,
}

impl MonitorSummary {
    /// Summarises a profile's samples.
    pub fn from_profile(p: &Profile) -> Self {
        let n = p.samples.len();
        if n == 0 {
            return MonitorSummary::default();
        }
        MonitorSummary {
            samples: n,
            peak_rss_bytes: p.samples.iter().map(|s| s.rss_bytes).max(),
            mean_rss_bytes: Some(
                p.samples.iter().map(|s| s.rss_bytes as f64).sum::<f64>() / n as f64,
            ),
            mean_cpu_percent: Some(
                p.samples
                    .iter()
                    .map(|s| f64::from(s.cpu_percent))
                    .sum::<f64>()
                    / n as f64,
            ),
            peak_cpu_percent: p
                .samples
                .iter()
                .map(|s| f64::from(s.cpu_percent))
                .reduce(f64::max),
        }
    }
}

/// The performance report: what `get_performance_report()` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceReport {
    /// Events in total (exact).
    pub total_events: u64,
    /// Events by kind (exact).
    pub event_counts_by_type: BTreeMap<EventKind, u64>,
    /// The machine.
    pub system_info: SystemInfo,
    /// Derived figures: `events_per_second`, `total_energy_pj`, `mean_event_ns`, ...
    pub derived_metrics: BTreeMap<String, f64>,
    /// Per-operation statistics, largest total time first.
    pub operations: Vec<OperationReport>,
    /// Totals per kind.
    pub kinds: Vec<KindTotals>,
    /// The monitor's samples, summarised.
    pub monitor: MonitorSummary,
    /// Raw events the bounded buffer dropped (aggregates still count them).
    pub dropped_events: u64,
    /// Raw events kept.
    pub kept_events: usize,
    /// Length of the profile, ns.
    pub profile_duration_ns: u64,
    /// Whether per-span memory is known (a counting allocator was installed).
    pub alloc_tracking: bool,
    /// CPU energy over the profile: from the RAPL package counters the monitor sampled where it
    /// could read them, otherwise modelled from CPU use; labelled by its `source` wherever it
    /// is printed.
    #[serde(default)]
    pub cpu_energy: Option<CpuEnergy>,
    /// Energy by circuit component (`energy.<component>_pj` metrics), pJ.
    #[serde(default)]
    pub energy_by_component: BTreeMap<String, f64>,
    /// Distinct operation names folded into `<other>` operations because the profiler's cap on
    /// distinct operations was reached (0: none; at least
    /// [`FOLDED_NAMES_TRACKED`] is a lower bound).
    #[serde(default)]
    pub folded_names: u64,
    /// Metric values that were NaN or infinite, over all operations (left out of every sum).
    #[serde(default)]
    pub non_finite_metrics: u64,
    /// Per-process figures of a profile of several processes ([`Profile::merge`]); empty for
    /// one process.
    #[serde(default)]
    pub processes: Vec<ProcessShare>,
    /// What the live OTLP stream sent and dropped, where the profiler streamed.
    #[serde(default)]
    pub otlp: Option<OtlpStatus>,
    /// What the profiler could not see, in words (the profile's warnings, and a note when the
    /// report has no events at all); printed first in every form of the report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Live heap against the allocator's footprint and RSS over the monitor's samples.
    #[serde(default)]
    pub fragmentation: Option<Fragmentation>,
    /// The rest of the machine's CPU load and steal time over the monitor's samples.
    #[serde(default)]
    pub background: Option<BackgroundLoad>,
    /// Each finished session's hardware counters, or why there are none.
    #[serde(default)]
    pub hardware_counters: Vec<SessionCounters>,
}

impl PerformanceReport {
    /// Builds the report of a profile (CPU energy from RAPL samples where the profile has
    /// them, else modelled at the profile's own
    /// [`cpu_watts_per_core`](Profile::cpu_watts_per_core) or the default).
    pub fn from_profile(p: &Profile) -> Self {
        Self::from_profile_with_cpu_watts(p, None)
    }

    /// [`from_profile`](Self::from_profile), modelling CPU energy (where there are no RAPL
    /// samples) at `watts_per_core` when given (the CLI's `--cpu-watts`).
    pub fn from_profile_with_cpu_watts(p: &Profile, watts_per_core: Option<f64>) -> Self {
        let mut ops: Vec<&OperationStats> = p.operations.iter().collect();
        ops.sort_by(|a, b| {
            b.total_ns
                .cmp(&a.total_ns)
                .then_with(|| a.name.cmp(&b.name))
        });
        let operations: Vec<OperationReport> = ops
            .iter()
            .map(|o| OperationReport::from_stats(o, p.alloc_tracking))
            .collect();
        let mut kinds: BTreeMap<EventKind, KindTotals> = BTreeMap::new();
        for o in &p.operations {
            let k = kinds.entry(o.kind).or_insert(KindTotals {
                kind: o.kind,
                count: 0,
                total_ns: 0,
                self_ns: 0,
                energy_pj: 0.0,
            });
            k.count = k.count.saturating_add(o.count);
            k.total_ns = k.total_ns.saturating_add(o.total_ns);
            k.self_ns = k.self_ns.saturating_add(o.self_ns);
            k.energy_pj = saturating_fadd(k.energy_pj, o.metric_sum("energy_pj"));
        }
        let machine = MachineAnalysis::from_profile(p);
        let total_events = p.total_events();
        let total_self = saturating_sum(p.operations.iter().map(|o| o.self_ns));
        let mut derived = BTreeMap::new();
        let secs = p.duration_ns as f64 / 1e9;
        if secs > 0.0 {
            derived.insert("events_per_second".to_owned(), total_events as f64 / secs);
        }
        if total_events > 0 {
            let total_ns = saturating_sum(p.operations.iter().map(|o| o.total_ns));
            derived.insert(
                "mean_event_ns".to_owned(),
                total_ns as f64 / total_events as f64,
            );
        }
        derived.insert("total_self_ns".to_owned(), total_self as f64);
        let energy = p.metric_total("energy_pj");
        if energy != 0.0 {
            derived.insert("total_energy_pj".to_owned(), energy);
        }
        if p.alloc_tracking {
            let allocated = saturating_sum(p.operations.iter().map(|o| o.alloc.allocated_bytes));
            derived.insert("allocated_bytes_inclusive".to_owned(), allocated as f64);
        }
        let bytes: f64 = p.metric_total("bytes");
        if bytes != 0.0 && secs > 0.0 {
            derived.insert("total_bytes".to_owned(), bytes);
            derived.insert("bytes_per_second".to_owned(), bytes / secs);
        }
        if secs > 0.0 && energy != 0.0 {
            // pJ over ns is mW.
            derived.insert("mean_power_mw".to_owned(), energy / p.duration_ns as f64);
        }
        derived.insert("dropped_events".to_owned(), p.dropped_events as f64);
        derived.insert(
            "kept_event_fraction".to_owned(),
            if total_events == 0 {
                1.0
            } else {
                p.events.len() as f64 / total_events as f64
            },
        );
        PerformanceReport {
            total_events,
            event_counts_by_type: p.event_counts_by_kind(),
            system_info: p.system.clone(),
            derived_metrics: derived,
            operations,
            kinds: kinds.into_values().collect(),
            monitor: MonitorSummary::from_profile(p),
            dropped_events: p.dropped_events,
            kept_events: p.events.len(),
            profile_duration_ns: p.duration_ns,
            alloc_tracking: p.alloc_tracking,
            cpu_energy: Some(cpu_energy(
                p,
                watts_per_core
                    .or(p.cpu_watts_per_core)
                    .unwrap_or(DEFAULT_WATTS_PER_CORE),
            )),
            energy_by_component: energy_by_component(p),
            folded_names: saturating_sum(p.operations.iter().map(|o| o.folded_names)),
            non_finite_metrics: saturating_sum(p.operations.iter().map(OperationStats::non_finite)),
            processes: process_shares(p),
            otlp: p.otlp.clone(),
            warnings: p.warnings_for_readers(total_events),
            fragmentation: Fragmentation::of(&p.samples),
            background: machine.background,
            hardware_counters: machine.hardware_counters,
        }
    }
}

impl fmt::Display for PerformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.system_info;
        writeln!(f, "Performance report")?;
        for w in &self.warnings {
            writeln!(f, "  warning: {}", crate::report::doc::clean(w))?;
        }
        writeln!(
            f,
            "  system: {} ({}), {} x {}, {} MiB",
            s.os_version, s.arch, s.cpu_count, s.cpu_model, s.memory_total_mb
        )?;
        writeln!(
            f,
            "  events: {} over {} ({} kept, {} dropped from the raw buffer)",
            self.total_events,
            fmt_ns(self.profile_duration_ns as f64),
            self.kept_events,
            self.dropped_events
        )?;
        if let Some(line) = self.folded_line() {
            writeln!(f, "  {line}")?;
        }
        if let Some(line) = self.non_finite_line() {
            writeln!(f, "  {line}")?;
        }
        for line in render_processes::short_lines(self) {
            writeln!(f, "  {line}")?;
        }
        if let Some(peak) = self.monitor.peak_rss_bytes {
            writeln!(
                f,
                "  memory: peak RSS {}, mean RSS {}, mean CPU {:.0}%{}",
                fmt_bytes(peak as f64),
                fmt_bytes(self.monitor.mean_rss_bytes.unwrap_or(0.0)),
                self.monitor.mean_cpu_percent.unwrap_or(0.0),
                if self.alloc_tracking {
                    ""
                } else {
                    " (per-span memory unknown: no CountingAllocator)"
                }
            )?;
        }
        if let Some(c) = &self.cpu_energy {
            writeln!(
                f,
                "  cpu energy: {:.3} J, {:.2} W mean [{}: {}]",
                c.energy_j,
                c.mean_power_w,
                c.source.label(),
                c.method
            )?;
        }
        if !self.energy_by_component.is_empty() {
            let parts: Vec<String> = self
                .energy_by_component
                .iter()
                .map(|(k, v)| format!("{k} {}", fmt_pj(*v)))
                .collect();
            writeln!(f, "  energy by component: {}", parts.join(", "))?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "  {:<34} {:>16} {:>9} {:>11} {:>11} {:>11} {:>11} {:>11}",
            "operation", "kind", "count", "total", "self", "p50", "p99", "energy"
        )?;
        for o in self
            .operations
            .iter()
            .filter(|o| o.errors > 0 || o.panics > 0)
        {
            writeln!(
                f,
                "  failures: {} returned an error {} time(s) and panicked {} time(s) in {} call(s)",
                crate::report::doc::clean(&o.name),
                o.errors,
                o.panics,
                o.count
            )?;
        }
        for o in &self.operations {
            let energy = o.energy_pj.map_or_else(|| "-".to_owned(), fmt_pj);
            writeln!(
                f,
                "  {:<34} {:>16} {:>9} {:>11} {:>11} {:>11} {:>11} {:>11}",
                truncate(&clean(&o.name), 34),
                o.kind.as_str(),
                o.count,
                fmt_ns(o.total_ns as f64),
                fmt_ns(o.self_ns as f64),
                fmt_ns(o.p50_ns as f64),
                fmt_ns(o.p99_ns as f64),
                energy
            )?;
        }
        Ok(())
    }
}

impl PerformanceReport {
    /// The line that says names were folded into `<other>` (none when nothing was).
    pub(crate) fn folded_line(&self) -> Option<String> {
        (self.folded_names > 0).then(|| {
            let at_least = if self.folded_names >= FOLDED_NAMES_TRACKED {
                "at least "
            } else {
                ""
            };
            format!(
                "operations: the cap on distinct operations was reached; {at_least}{} more names \
                 were folded into <other> (their calls are counted exactly there)",
                self.folded_names
            )
        })
    }

    /// The line that counts NaN and infinite metric values (none when there were none).
    pub(crate) fn non_finite_line(&self) -> Option<String> {
        (self.non_finite_metrics > 0).then(|| {
            let ops: Vec<String> = self
                .operations
                .iter()
                .filter(|o| o.non_finite > 0)
                .take(5)
                .map(|o| format!("{} ({})", clean(&o.name), o.non_finite))
                .collect();
            format!(
                "non-finite metrics: {} NaN or infinite values left out of every sum: {}",
                self.non_finite_metrics,
                ops.join(", ")
            )
        })
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
