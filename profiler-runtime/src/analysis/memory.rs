//! Memory analysis: top allocators, allocation rate, leak suspects.

use serde::{Deserialize, Serialize};

use crate::model::event::EventKind;
use crate::model::profile::Profile;
use crate::model::stats::saturating_sum;

use super::scan::Scan;
use super::severity::share;

/// Fewest allocation-tracked calls of an operation before it can be a leak suspect.
pub const LEAK_MIN_CALLS: u64 = 3;
/// Smallest fitted growth per call (bytes) that counts as a leak.
pub const LEAK_MIN_BYTES_PER_CALL: f64 = 1.0;
/// Smallest R² of cumulative growth against call index that counts as steady growth.
pub const LEAK_MIN_R_SQUARED: f64 = 0.8;
/// How many allocators the analysis lists.
pub const TOP_ALLOCATORS: usize = 10;

/// One operation's heap traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allocator {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: EventKind,
    /// Calls (exact).
    pub calls: u64,
    /// Bytes allocated inclusive of child spans (exact, from aggregates).
    pub allocated_bytes: u64,
    /// Bytes allocated in the operation's own code (child spans excluded; kept events only).
    pub self_allocated_bytes: u64,
    /// Allocations in its own code (kept events only).
    pub self_allocations: u64,
    /// Mean self-allocated bytes per call.
    pub bytes_per_call: f64,
    /// Share of all self-allocated bytes, in `[0, 1]`.
    pub share: f64,
}

/// An operation whose memory keeps growing across calls.
///
/// Criterion (all of): at least [`LEAK_MIN_CALLS`] allocation-tracked calls; the cumulative
/// self net growth (allocated less freed in the operation's own code, child spans excluded)
/// against the call index fits a line whose slope is at least [`LEAK_MIN_BYTES_PER_CALL`] with
/// R² at least [`LEAK_MIN_R_SQUARED`]; and the total retained is positive. A one-time cache
/// fill is a step, not a slope, and does not qualify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeakSuspect {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: EventKind,
    /// Allocation-tracked calls examined.
    pub calls: u64,
    /// Fitted growth per call, bytes.
    pub growth_per_call_bytes: f64,
    /// Net bytes retained over all examined calls.
    pub retained_bytes: i64,
    /// R² of the linear fit of cumulative growth against call index.
    pub r_squared: f64,
    /// Calls whose own net growth was positive.
    pub growing_calls: u64,
}

/// Heap use of the profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryAnalysis {
    /// Whether per-span memory is known (a `CountingAllocator` was installed).
    pub tracked: bool,
    /// Largest self allocators first.
    pub top_allocators: Vec<Allocator>,
    /// Self-allocated bytes over all kept events.
    pub total_allocated_bytes: u64,
    /// Allocations over all kept events.
    pub total_allocations: u64,
    /// Bytes allocated per second of profile.
    pub allocation_rate_bytes_per_sec: f64,
    /// Allocations per second of profile.
    pub allocations_per_sec: f64,
    /// Operations that keep growing, largest growth first.
    pub leak_suspects: Vec<LeakSuspect>,
    /// Peak RSS among the monitor's samples.
    pub peak_rss_bytes: Option<u64>,
    /// Last RSS sample less the first.
    pub rss_growth_bytes: Option<i64>,
}

impl MemoryAnalysis {
    pub(crate) fn build(p: &Profile, scan: &Scan) -> Self {
        let total_allocated_bytes = saturating_sum(scan.ops.iter().map(|o| o.self_allocated));
        let total_allocations = saturating_sum(scan.ops.iter().map(|o| o.self_allocations));
        let mut top: Vec<Allocator> = p
            .operations
            .iter()
            .zip(&scan.ops)
            .filter(|(o, s)| o.alloc_count > 0 || s.alloc_events > 0)
            .map(|(o, s)| Allocator {
                name: o.name.to_string(),
                kind: o.kind,
                calls: o.count,
                allocated_bytes: o.alloc.allocated_bytes,
                self_allocated_bytes: s.self_allocated,
                self_allocations: s.self_allocations,
                bytes_per_call: if s.alloc_events > 0 {
                    s.self_allocated as f64 / s.alloc_events as f64
                } else {
                    0.0
                },
                share: share(s.self_allocated as f64, total_allocated_bytes as f64),
            })
            .collect();
        top.sort_by(|a, b| {
            b.self_allocated_bytes
                .cmp(&a.self_allocated_bytes)
                .then(b.allocated_bytes.cmp(&a.allocated_bytes))
        });
        top.truncate(TOP_ALLOCATORS);
        let mut leaks: Vec<LeakSuspect> = p
            .operations
            .iter()
            .zip(&scan.ops)
            .filter_map(|(o, s)| {
                if s.alloc_events < LEAK_MIN_CALLS || s.self_net <= 0 {
                    return None;
                }
                let (slope, _, r2) = s.growth.fit()?;
                (slope >= LEAK_MIN_BYTES_PER_CALL && r2 >= LEAK_MIN_R_SQUARED).then(|| {
                    LeakSuspect {
                        name: o.name.to_string(),
                        kind: o.kind,
                        calls: s.alloc_events,
                        growth_per_call_bytes: slope,
                        retained_bytes: s.self_net,
                        r_squared: r2,
                        growing_calls: s.growing_calls,
                    }
                })
            })
            .collect();
        leaks.sort_by_key(|l| std::cmp::Reverse(l.retained_bytes));
        let secs = p.duration_ns as f64 / 1e9;
        let per_sec = |x: f64| if secs > 0.0 { x / secs } else { 0.0 };
        let rss_growth_bytes = match (p.samples.first(), p.samples.last()) {
            (Some(a), Some(b)) if p.samples.len() > 1 => {
                Some(b.rss_bytes as i64 - a.rss_bytes as i64)
            }
            _ => None,
        };
        MemoryAnalysis {
            tracked: p.alloc_tracking,
            top_allocators: top,
            total_allocated_bytes,
            total_allocations,
            allocation_rate_bytes_per_sec: per_sec(total_allocated_bytes as f64),
            allocations_per_sec: per_sec(total_allocations as f64),
            leak_suspects: leaks,
            peak_rss_bytes: p.peak_rss_bytes(),
            rss_growth_bytes,
        }
    }
}
