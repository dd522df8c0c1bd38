//! Memory analysis: top allocators, allocation rate, leak suspects, heap fragmentation and
//! allocation sizes.
//!
//! Where an event counted every thread's allocations (`process_alloc`), that is what counts for
//! it here; elsewhere its own thread's (`alloc`).

use serde::{Deserialize, Serialize};

use crate::model::event::EventKind;
use crate::model::profile::Profile;
use crate::model::stats::saturating_sum;

use super::heap_usage::{Fragmentation, SizeProfile};
use super::scan::{effective_alloc, OpScan, Scan};
use super::severity::{share, Basis};

/// Fewest allocation-tracked calls of an operation before it can be a leak suspect.
pub const LEAK_MIN_CALLS: u64 = 3;
/// Smallest fitted growth per call (bytes) that counts as a leak.
pub const LEAK_MIN_BYTES_PER_CALL: f64 = 1.0;
/// Smallest R² of cumulative growth against call index that counts as steady growth.
pub const LEAK_MIN_R_SQUARED: f64 = 0.8;
/// Smallest growth per call over the last quarter of the calls, as a fraction of the growth
/// per call over all of them: below it the memory stopped growing (a cache that filled, then
/// plateaued).
pub const LEAK_MIN_LATE_GROWTH: f64 = 0.5;
/// Smallest share of a suspect's retained bytes that the process's live heap must have grown
/// by over the profile: below it the memory was freed after the calls (a buffer returned to a
/// caller that dropped it).
pub const LEAK_MIN_HEAP_GROWTH: f64 = 0.5;
/// Share of a suspect's growth that must lie inside enclosing spans which freed it (their own
/// net growth, children included, below half of what the suspect kept inside them) for the
/// memory to count as freed: the growth was held by a caller for a while (a solver's state, a
/// result being built), not leaked.
pub const LEAK_FREED_BY_CALLERS: f64 = 0.75;
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
    /// Bytes allocated inclusive of child spans: exact from the aggregates (its own thread's),
    /// or every thread's over the kept events where the operation counted them.
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

/// An operation whose memory stays live: it grows with the call count and is not freed by the
/// end of the profile.
///
/// Criterion (all of):
///
/// - at least [`LEAK_MIN_CALLS`] allocation-tracked calls;
/// - the cumulative self net growth (allocated less freed in the operation's own code, child
///   spans excluded) against the call index fits a line whose slope is at least
///   [`LEAK_MIN_BYTES_PER_CALL`] with R² at least [`LEAK_MIN_R_SQUARED`], and the total
///   retained is positive;
/// - it goes on growing: over the last quarter of the calls at least [`LEAK_MIN_LATE_GROWTH`]
///   of its overall growth per call (a cache that fills and then plateaus is not a leak);
/// - its enclosing spans did not free it: where the suspect's calls sit inside kept outer
///   spans, the growth inside each outermost one is compared with that span's own net growth
///   (children included); if spans holding at least [`LEAK_FREED_BY_CALLERS`] of the growth
///   ended with less than half of it still allocated, the callers freed it;
/// - the memory is still there at the end: the process's live heap (every thread, from the
///   counting allocator) grew over the profile by at least [`LEAK_MIN_HEAP_GROWTH`] of what the
///   suspects retain (a buffer returned to a caller that drops it is freed, so the heap does
///   not grow). Where the profile has no live-heap readings (files from older versions, merged
///   profiles) this cannot be checked: the suspect is then [`Basis::Heuristic`].
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
    /// Growth per call over the last quarter of the calls, bytes.
    #[serde(default)]
    pub late_growth_per_call_bytes: f64,
    /// Growth of the process's live heap over the profile, where known.
    #[serde(default)]
    pub heap_growth_bytes: Option<i64>,
    /// [`Basis::Measured`] when the live heap confirms the memory stayed; otherwise
    /// [`Basis::Heuristic`].
    #[serde(default = "heuristic")]
    pub basis: Basis,
}

fn heuristic() -> Basis {
    Basis::Heuristic
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
    /// Live heap against the allocator's footprint and RSS over time (monitor samples).
    #[serde(default)]
    pub fragmentation: Option<Fragmentation>,
    /// Allocation sizes of the operations that counted them, with pool advice.
    #[serde(default)]
    pub sizes: Vec<SizeProfile>,
    /// Growth of the process's live heap over the profile (counting allocator), where known.
    #[serde(default)]
    pub heap_growth_bytes: Option<i64>,
    /// Operations whose memory figures count every thread's allocations.
    #[serde(default)]
    pub process_wide: Vec<String>,
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
                // Exact from the aggregates (own thread), or every thread's over the kept
                // events where the operation counted them.
                allocated_bytes: if s.process_events > 0 {
                    s.incl_allocated
                } else {
                    o.alloc.allocated_bytes
                },
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
        let heap_growth_bytes = p.heap_growth_bytes;
        let mut leaks: Vec<LeakSuspect> = p
            .operations
            .iter()
            .zip(&scan.ops)
            .filter_map(|(o, s)| growing(o.name.to_string(), o.kind, s))
            .collect();
        leaks.retain(|l| !freed_by_callers(p, scan, &l.name, l.kind));
        leaks.sort_by_key(|l| std::cmp::Reverse(l.retained_bytes));
        // What stayed live must fit in what the heap kept: the largest suspects first, each
        // needing the heap to have grown by a share of what it retains.
        match heap_growth_bytes {
            Some(growth) => {
                let mut room = growth;
                leaks.retain_mut(|l| {
                    l.heap_growth_bytes = Some(growth);
                    let keep = room as f64 >= LEAK_MIN_HEAP_GROWTH * l.retained_bytes as f64;
                    if keep {
                        l.basis = Basis::Measured;
                        room = room.saturating_sub(l.retained_bytes).max(0);
                    }
                    keep
                });
            }
            None => leaks.iter_mut().for_each(|l| l.basis = Basis::Heuristic),
        }
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
            fragmentation: Fragmentation::of(&p.samples),
            sizes: SizeProfile::of(p, scan),
            heap_growth_bytes,
            process_wide: p
                .operations
                .iter()
                .zip(&scan.ops)
                .filter(|(_, s)| s.process_events > 0)
                .map(|(o, _)| o.name.to_string())
                .collect(),
        }
    }
}

/// A leak suspect by its growth alone (the live-heap check comes after), or `None`.
fn growing(name: String, kind: EventKind, s: &OpScan) -> Option<LeakSuspect> {
    if s.alloc_events < LEAK_MIN_CALLS || s.self_net <= 0 {
        return None;
    }
    let (slope, _, r2) = s.growth.fit()?;
    if slope < LEAK_MIN_BYTES_PER_CALL || r2 < LEAK_MIN_R_SQUARED {
        return None;
    }
    let late = late_growth_per_call(s)?;
    let overall = s.self_net as f64 / s.alloc_events as f64;
    (late >= LEAK_MIN_LATE_GROWTH * overall).then_some(LeakSuspect {
        name,
        kind,
        calls: s.alloc_events,
        growth_per_call_bytes: slope,
        retained_bytes: s.self_net,
        r_squared: r2,
        growing_calls: s.growing_calls,
        late_growth_per_call_bytes: late,
        heap_growth_bytes: None,
        basis: Basis::Heuristic,
    })
}

/// Whether the outermost kept spans around `name`'s calls freed what those calls kept: the
/// calls' net growth (children included) is summed per outermost ancestor, and an ancestor
/// whose own net growth is below half of that sum freed it. True when such ancestors hold at
/// least [`LEAK_FREED_BY_CALLERS`] of the calls' positive growth.
fn freed_by_callers(p: &Profile, scan: &Scan, name: &str, kind: EventKind) -> bool {
    let events = &p.events;
    let root = |mut i: usize| {
        // Parents come before their children: at most one step per event.
        while let Some(&up) = scan.parent_pos.get(i).filter(|&&u| u != u32::MAX) {
            i = up as usize;
        }
        i
    };
    let mut inside: std::collections::BTreeMap<usize, i64> = std::collections::BTreeMap::new();
    let mut total: i64 = 0;
    for (i, e) in events.iter().enumerate() {
        if &*e.name != name || e.kind != kind {
            continue;
        }
        let Some(net) = effective_alloc(e).map(|a| a.net_bytes()).filter(|&n| n > 0) else {
            continue;
        };
        total = total.saturating_add(net);
        let r = root(i);
        if r != i {
            let slot = inside.entry(r).or_insert(0);
            *slot = slot.saturating_add(net);
        }
    }
    if total <= 0 {
        return false;
    }
    let freed: i64 = inside
        .iter()
        .filter(|&(&r, &kept)| {
            let outer = events
                .get(r)
                .and_then(effective_alloc)
                .map_or(i64::MAX, |a| a.net_bytes());
            (outer as f64) < 0.5 * kept as f64
        })
        .fold(0i64, |t, (_, &kept)| t.saturating_add(kept));
    freed as f64 >= LEAK_FREED_BY_CALLERS * total as f64
}

/// Growth per call from the last mark at or before three quarters of the calls to the end.
fn late_growth_per_call(s: &OpScan) -> Option<f64> {
    let n = s.alloc_events;
    let three_quarters = n.saturating_mul(3) / 4;
    let &(at, net) = s
        .growth_marks
        .iter()
        .rev()
        .find(|(k, _)| *k <= three_quarters)?;
    let calls = n.checked_sub(at).filter(|c| *c > 0)?;
    Some(s.self_net.saturating_sub(net) as f64 / calls as f64)
}
