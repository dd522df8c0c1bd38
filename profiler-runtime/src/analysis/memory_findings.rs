//! Memory findings: leaks (memory that stays live), heavy allocators, heap fragmentation, and
//! pools for many small allocations of one size.

use crate::model::event::{AllocSizes, PerformanceMetric};
use crate::model::units::fmt_bytes;

use super::bottleneck::BottleneckAnalysis;
use super::severity::{share, Basis, Bottleneck, Category, Severity};

/// Unused heap (footprint less live) from which fragmentation is a finding, bytes.
pub const FRAGMENTATION_MIN_BYTES: u64 = 32 << 20;
/// Unused share of the allocator's footprint from which fragmentation is a finding.
pub const FRAGMENTATION_MIN_SHARE: f64 = 0.5;

pub(crate) fn memory_findings(a: &BottleneckAnalysis, out: &mut Vec<Bottleneck>) {
    let m = &a.memory_analysis;
    for l in &m.leak_suspects {
        let s = share(l.retained_bytes as f64, m.total_allocated_bytes as f64);
        let fate = match l.heap_growth_bytes {
            Some(g) => format!(
                "the process's live heap grew {} over the profile, so it was not freed",
                fmt_bytes(g as f64)
            ),
            None => "whether it was freed after the profile is unknown (no live-heap readings)"
                .to_owned(),
        };
        out.push(Bottleneck {
            category: Category::Memory,
            metric: PerformanceMetric::MemoryUsage,
            basis: l.basis,
            severity: Severity::from_share(s).max(Severity::Medium),
            subject: l.name.clone(),
            share: s,
            title: format!("`{}` leaks: its memory stays live and grows with every call", l.name),
            evidence: format!(
                "+{} per call over {} calls (fit R^2 {:.2}; +{} per call over the last quarter), {} retained; {}",
                fmt_bytes(l.growth_per_call_bytes),
                l.calls,
                l.r_squared,
                fmt_bytes(l.late_growth_per_call_bytes),
                fmt_bytes(l.retained_bytes as f64),
                fate
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
            metric: PerformanceMetric::MemoryUsage,
            basis: Basis::Measured,
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
    if let Some(f) = &m.fragmentation {
        if let (Some(unused), Some(sh), Some(fp)) = (
            f.last_unused_bytes,
            f.last_unused_share,
            f.last_footprint_bytes,
        ) {
            if unused >= FRAGMENTATION_MIN_BYTES && sh >= FRAGMENTATION_MIN_SHARE {
                out.push(Bottleneck {
                    category: Category::Memory,
                    metric: PerformanceMetric::MemoryUsage,
                    basis: Basis::Measured,
                    severity: if sh >= 0.75 {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    subject: "heap".to_owned(),
                    share: sh,
                    title: format!(
                        "the allocator holds {} it does not use ({:.0}% of its footprint)",
                        fmt_bytes(unused as f64),
                        sh * 100.0
                    ),
                    evidence: format!(
                        "at the last of {} samples: live heap {}, allocator footprint {}, RSS peak {}; worst unused {}",
                        f.samples,
                        fmt_bytes(f.last_live_bytes as f64),
                        fmt_bytes(fp as f64),
                        fmt_bytes(f.peak_rss_bytes as f64),
                        fmt_bytes(f.worst_unused_bytes.unwrap_or(0) as f64)
                    ),
                    recommendation: "free memory is scattered between live blocks: keep long-lived and short-lived allocations apart, reuse buffers instead of reallocating growing ones, or try an allocator that returns memory (jemalloc, mimalloc; `malloc_trim` with glibc)".to_owned(),
                });
            }
        }
    }
    for z in m.sizes.iter().filter(|z| z.pool_candidate) {
        let s = share(
            z.allocations as f64,
            m.total_allocations.max(z.allocations) as f64,
        );
        out.push(Bottleneck {
            category: Category::Memory,
            metric: PerformanceMetric::MemoryUsage,
            basis: Basis::Measured,
            severity: Severity::from_share(s).min(Severity::Medium),
            subject: z.name.clone(),
            share: s,
            title: format!(
                "`{}` makes many small allocations of one size ({})",
                z.name,
                AllocSizes::class_label(z.dominant_class)
            ),
            evidence: format!(
                "{} allocations over {} calls, {:.0}% of them of {}",
                z.allocations,
                z.calls,
                z.dominant_share * 100.0,
                AllocSizes::class_label(z.dominant_class)
            ),
            recommendation: "allocate them from a pool or arena (a free list of fixed-size blocks, `typed-arena`, `bumpalo`), or keep one buffer and reuse it across calls".to_owned(),
        });
    }
}
