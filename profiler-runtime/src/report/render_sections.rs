//! The memory, convergence and machine sections of the analysis report.

use crate::analysis::{MachineAnalysis, OptimizationAnalysis};
use crate::model::counters::HardwareCounters;
use crate::model::event::AllocSizes;
use crate::model::units::{fmt_bytes, fmt_ns, fmt_pj};

use super::doc::{pct, Doc};

pub(crate) fn render_memory(d: &mut Doc, a: &OptimizationAnalysis) {
    let m = &a.bottleneck_analysis.memory_analysis;
    d.heading(2, "Memory");
    if !m.tracked {
        d.line("Per-span memory unknown: no CountingAllocator installed.");
    } else {
        d.line(&format!(
            "{} allocated in {} allocations ({}/s, {:.0} allocations/s).",
            fmt_bytes(m.total_allocated_bytes as f64),
            m.total_allocations,
            fmt_bytes(m.allocation_rate_bytes_per_sec),
            m.allocations_per_sec
        ));
        if !m.process_wide.is_empty() {
            d.line(&format!(
                "Every thread's allocations count for: {} (the rest count their own thread's).",
                m.process_wide
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(g) = m.heap_growth_bytes {
            d.line(&format!(
                "Live heap (every thread) grew {} over the profile.",
                fmt_bytes(g as f64)
            ));
        }
    }
    if let Some(peak) = m.peak_rss_bytes {
        d.line(&format!(
            "Peak RSS {}{}.",
            fmt_bytes(peak as f64),
            m.rss_growth_bytes
                .map_or_else(String::new, |g| format!(", growth {}", fmt_bytes(g as f64)))
        ));
    }
    d.gap();
    let rows: Vec<Vec<String>> = m
        .top_allocators
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                t.calls.to_string(),
                fmt_bytes(t.self_allocated_bytes as f64),
                t.self_allocations.to_string(),
                fmt_bytes(t.bytes_per_call),
                pct(t.share),
            ]
        })
        .collect();
    d.table(
        &[
            "allocator",
            "calls",
            "self bytes",
            "allocations",
            "per call",
            "share",
        ],
        &rows,
    );
    for l in &m.leak_suspects {
        d.bullet(&format!(
            "leak suspect `{}` [{}]: +{} per call over {} calls, {} retained (R^2 {:.2})",
            l.name,
            l.basis,
            fmt_bytes(l.growth_per_call_bytes),
            l.calls,
            fmt_bytes(l.retained_bytes as f64),
            l.r_squared
        ));
    }
    if !m.leak_suspects.is_empty() {
        d.gap();
    }
    render_heap(d, a);
}

fn render_heap(d: &mut Doc, a: &OptimizationAnalysis) {
    let m = &a.bottleneck_analysis.memory_analysis;
    if let Some(f) = &m.fragmentation {
        d.heading(3, "Heap fragmentation");
        if let Some(note) = f.untouched_note() {
            d.line(&format!("Note: {note}."));
        }
        match (f.last_footprint_bytes, f.last_unused_share) {
            (Some(fp), Some(sh)) => d.line(&format!(
                "Over {} samples: live heap peak {}, allocator footprint peak {}, RSS peak {}. At the last sample the allocator held {} for {} live ({} unused); worst unused {}; mean unused share {}.",
                f.samples,
                fmt_bytes(f.peak_live_bytes as f64),
                fmt_bytes(f.peak_footprint_bytes.unwrap_or(0) as f64),
                fmt_bytes(f.peak_rss_bytes as f64),
                fmt_bytes(fp as f64),
                fmt_bytes(f.last_live_bytes as f64),
                pct(sh),
                fmt_bytes(f.worst_unused_bytes.unwrap_or(0) as f64),
                f.mean_unused_share.map_or_else(|| "-".to_owned(), pct)
            )),
            _ => d.line(&format!(
                "Over {} samples: live heap peak {}, RSS peak {}; the allocator's own footprint is unavailable here (glibc mallinfo2 only).",
                f.samples,
                fmt_bytes(f.peak_live_bytes as f64),
                fmt_bytes(f.peak_rss_bytes as f64)
            )),
        }
        d.gap();
    }
    if !m.sizes.is_empty() {
        d.heading(3, "Allocation sizes");
        let rows: Vec<Vec<String>> = m
            .sizes
            .iter()
            .take(10)
            .map(|z| {
                let top: Vec<String> = {
                    let mut c: Vec<(usize, u64)> = z
                        .sizes
                        .counts
                        .iter()
                        .copied()
                        .enumerate()
                        .filter(|(_, n)| *n > 0)
                        .collect();
                    c.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    c.iter()
                        .take(3)
                        .map(|(k, n)| format!("{} x{n}", AllocSizes::class_label(*k)))
                        .collect()
                };
                vec![
                    z.name.clone(),
                    z.calls.to_string(),
                    z.allocations.to_string(),
                    top.join(", "),
                    if z.pool_candidate { "pool" } else { "" }.to_owned(),
                ]
            })
            .collect();
        d.table(
            &["operation", "calls", "allocations", "most common sizes", ""],
            &rows,
        );
    }
}

pub(crate) fn render_convergence(d: &mut Doc, a: &OptimizationAnalysis) {
    let c = &a.convergence;
    if c.runs.is_empty() && c.failed_solves.is_empty() {
        return;
    }
    d.heading(2, "Convergence");
    d.line(&format!(
        "Target residual {:.3e} ({:.1} bits).",
        c.target_residual,
        -c.target_residual.log2()
    ));
    let failed = c.runs.iter().filter(|r| r.failed).count();
    let diverged = c.runs.iter().filter(|r| r.diverged).count();
    if !c.failed_solves.is_empty() || failed > 0 {
        d.line(&format!(
            "FAILED: {} solve(s) failed ({} diverged); their results are not solutions.",
            c.failed_solves.len().max(failed),
            c.failed_solves
                .iter()
                .filter(|f| f.diverged)
                .count()
                .max(diverged)
        ));
    }
    d.gap();
    let rows: Vec<Vec<String>> = c
        .runs
        .iter()
        .take(20)
        .map(|r| {
            vec![
                r.operation.clone(),
                r.n.map_or_else(|| "-".to_owned(), |n| n.to_string()),
                r.temperature_k
                    .map_or_else(|| "-".to_owned(), |t| format!("{t:.0}")),
                r.iterations.to_string(),
                format!("{:.2e}", r.final_residual),
                format!("{:.1}", r.final_bits),
                r.mean_bits_per_iteration
                    .map_or_else(|| "-".to_owned(), |b| format!("{b:.2}")),
                r.time_to_precision_ns
                    .map_or_else(|| "not reached".to_owned(), |t| fmt_ns(t as f64)),
                r.energy_to_precision_pj
                    .map_or_else(|| "-".to_owned(), fmt_pj),
                if r.diverged {
                    "DIVERGED"
                } else if r.failed {
                    "FAILED"
                } else {
                    "ok"
                }
                .to_owned(),
            ]
        })
        .collect();
    d.table(
        &[
            "solver",
            "n",
            "T (K)",
            "iters",
            "final residual",
            "bits",
            "bits/iter",
            "time to target",
            "energy to target",
            "outcome",
        ],
        &rows,
    );
    for f in &c.failed_solves {
        d.bullet(&format!(
            "`{}`{}{}: {}{}",
            f.operation,
            f.n.map_or_else(String::new, |n| format!(" n = {n}")),
            f.temperature_k
                .map_or_else(String::new, |t| format!(" at {t:.0} K")),
            if f.diverged {
                "diverged"
            } else {
                "failed to converge"
            },
            f.error
                .as_deref()
                .map_or_else(String::new, |e| format!(" ({e})"))
        ));
    }
    if !c.failed_solves.is_empty() {
        d.gap();
    }
    for s in &c.stability {
        if s.runs > 1 {
            d.bullet(&format!(
                "`{}` over {} runs: success {}, final bits {}, iterations {}",
                s.operation,
                s.runs,
                pct(s.success_rate),
                s.final_bits.map_or_else(
                    || "-".to_owned(),
                    |x| format!("{:.1} ± {:.1}", x.mean, x.std)
                ),
                s.iterations.map_or_else(
                    || "-".to_owned(),
                    |x| format!("{:.1} ± {:.1}", x.mean, x.std)
                )
            ));
        }
    }
    d.gap();
}

/// One line per session's hardware counters (or why there are none).
pub(crate) fn counter_lines(m: &MachineAnalysis) -> Vec<String> {
    m.hardware_counters
        .iter()
        .map(|s| match &s.counters {
            HardwareCounters::Measured(v) => format!(
                "session `{}`: {} cycles, {} instructions (IPC {}), {} cache references, {} misses ({}){}",
                s.session,
                v.cycles,
                v.instructions,
                v.ipc().map_or_else(|| "-".to_owned(), |x| format!("{x:.2}")),
                v.cache_references,
                v.cache_misses,
                v.cache_miss_rate().map_or_else(|| "-".to_owned(), pct),
                if v.multiplexed {
                    " [time-shared: scaled estimates]"
                } else {
                    ""
                }
            ),
            HardwareCounters::Unavailable { reason } => {
                format!("session `{}`: unavailable ({reason})", s.session)
            }
        })
        .collect()
}

pub(crate) fn render_machine(d: &mut Doc, m: &MachineAnalysis) {
    d.heading(2, "Machine");
    match &m.background {
        Some(b) => d.line(&format!(
            "Background load over {} samples ({} CPUs): other processes {:.0}% CPU (peak {:.0}%), steal {:.1}% (peak {:.1}%), this process {:.0}% (percent of one core).",
            b.samples,
            b.cpus,
            b.mean_other_cpu_percent,
            b.peak_other_cpu_percent,
            b.mean_steal_percent,
            b.peak_steal_percent,
            b.mean_own_cpu_percent
        )),
        None => d.line("Background load: not sampled (no monitor samples of /proc/stat)."),
    }
    let lines = counter_lines(m);
    if lines.is_empty() {
        d.line("Hardware counters: not collected (they are read per profiling session).");
    } else {
        d.line("Hardware counters:");
        for l in lines {
            d.bullet(&l);
        }
    }
    d.gap();
}
