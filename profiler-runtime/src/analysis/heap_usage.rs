//! How the heap is used: the live heap against what the allocator holds (fragmentation) over
//! the monitor's samples, and allocation sizes per operation with pool advice.

use serde::{Deserialize, Serialize};

use crate::model::event::{AllocSizes, EventKind};
use crate::model::profile::Profile;
use crate::model::sample::MonitorSample;

use super::scan::Scan;

/// Fewest allocations (in an operation's own code) before pool advice is given.
pub const POOL_MIN_ALLOCATIONS: u64 = 1000;
/// Largest size class pool advice is given for (class 7: up to 1 KiB).
pub const POOL_MAX_CLASS: usize = 7;
/// Smallest share of an operation's allocations in one size class for pool advice.
pub const POOL_MIN_SHARE: f64 = 0.5;

/// The live heap against the allocator's footprint and RSS over the monitor's samples.
///
/// Live bytes are what the program allocated through the `CountingAllocator` and has not freed
/// (every thread); the footprint is what the system allocator holds (glibc `mallinfo2`: its
/// arenas and mmapped chunks). The difference is memory the allocator keeps without live data
/// in it: free chunks between live ones (fragmentation), chunk overhead, and freed memory not
/// yet returned to the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fragmentation {
    /// Samples with a live-heap reading.
    pub samples: usize,
    /// Largest live heap, bytes.
    pub peak_live_bytes: u64,
    /// Largest footprint, bytes (`None`: the allocator's footprint is unknown here).
    pub peak_footprint_bytes: Option<u64>,
    /// Largest RSS among those samples, bytes.
    pub peak_rss_bytes: u64,
    /// Live heap at the last sample, bytes.
    pub last_live_bytes: u64,
    /// Footprint at the last sample, bytes.
    pub last_footprint_bytes: Option<u64>,
    /// Footprint less live heap at the last sample, bytes.
    pub last_unused_bytes: Option<u64>,
    /// That as a share of the footprint, in `[0, 1]`.
    pub last_unused_share: Option<f64>,
    /// The largest footprint less live heap over the samples, bytes, and when (ns).
    pub worst_unused_bytes: Option<u64>,
    /// When the worst was sampled, ns since the profiler started.
    pub worst_at_ns: Option<u64>,
    /// Mean over the samples of the unused share of the footprint.
    pub mean_unused_share: Option<f64>,
}

impl Fragmentation {
    /// A sentence when the live heap's peak is more than twice the RSS peak: most of what was
    /// allocated was never touched (reserved buffers, for example a linear-algebra library's
    /// per-thread scratch), so it costs address space, not memory. `None` otherwise.
    ///
    /// ```
    /// use profiler_runtime::analysis::Fragmentation;
    /// use profiler_runtime::MonitorSample;
    /// let s = |live: u64, rss: u64| MonitorSample {
    ///     heap_live_bytes: Some(live),
    ///     rss_bytes: rss,
    ///     ..MonitorSample::default()
    /// };
    /// let f = Fragmentation::of(&[s(1 << 30, 100 << 20)]).unwrap();
    /// assert!(f.untouched_note().unwrap().contains("never touched"));
    /// let f = Fragmentation::of(&[s(50 << 20, 100 << 20)]).unwrap();
    /// assert!(f.untouched_note().is_none());
    /// ```
    pub fn untouched_note(&self) -> Option<String> {
        (self.peak_rss_bytes > 0 && self.peak_live_bytes / 2 > self.peak_rss_bytes).then(|| {
            format!(
                "the live heap's peak ({}) is above the RSS peak ({}): most of it was allocated \
                 but never touched (reserved buffers, such as a linear-algebra library's \
                 per-thread scratch), which costs address space, not memory",
                crate::model::units::fmt_bytes(self.peak_live_bytes as f64),
                crate::model::units::fmt_bytes(self.peak_rss_bytes as f64)
            )
        })
    }

    /// Summarises the samples that read the live heap (`None` without any: no counting
    /// allocator, or no monitor).
    pub fn of(samples: &[MonitorSample]) -> Option<Fragmentation> {
        let with_live: Vec<&MonitorSample> = samples
            .iter()
            .filter(|s| s.heap_live_bytes.is_some())
            .collect();
        let last = *with_live.last()?;
        let live = |s: &MonitorSample| s.heap_live_bytes.unwrap_or(0);
        let unused = |s: &MonitorSample| s.heap_footprint_bytes.map(|f| f.saturating_sub(live(s)));
        let share = |s: &MonitorSample| {
            s.heap_footprint_bytes
                .filter(|f| *f > 0)
                .map(|f| f.saturating_sub(live(s)) as f64 / f as f64)
        };
        let worst = with_live
            .iter()
            .filter_map(|s| unused(s).map(|u| (u, s.t_ns)))
            .max_by_key(|&(u, t)| (u, std::cmp::Reverse(t)));
        let shares: Vec<f64> = with_live.iter().filter_map(|s| share(s)).collect();
        Some(Fragmentation {
            samples: with_live.len(),
            peak_live_bytes: with_live.iter().map(|s| live(s)).max().unwrap_or(0),
            peak_footprint_bytes: with_live
                .iter()
                .filter_map(|s| s.heap_footprint_bytes)
                .max(),
            peak_rss_bytes: with_live.iter().map(|s| s.rss_bytes).max().unwrap_or(0),
            last_live_bytes: live(last),
            last_footprint_bytes: last.heap_footprint_bytes,
            last_unused_bytes: unused(last),
            last_unused_share: share(last),
            worst_unused_bytes: worst.map(|w| w.0),
            worst_at_ns: worst.map(|w| w.1),
            mean_unused_share: (!shares.is_empty())
                .then(|| shares.iter().sum::<f64>() / shares.len() as f64),
        })
    }
}

/// Allocation sizes of one operation (its own code, child spans excluded), from the spans
/// that counted them (`alloc = "process"`, `profile_function`, the hardware profiler).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeProfile {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: EventKind,
    /// Calls with size classes.
    pub calls: u64,
    /// Allocations by size class.
    pub sizes: AllocSizes,
    /// Allocations in all classes.
    pub allocations: u64,
    /// The class with the most allocations.
    pub dominant_class: usize,
    /// Its share of the allocations.
    pub dominant_share: f64,
    /// Whether many small allocations of one size class make a pool (or a reused buffer) worth
    /// it: at least [`POOL_MIN_ALLOCATIONS`] allocations, [`POOL_MIN_SHARE`] of them in one
    /// class of at most 1 KiB.
    pub pool_candidate: bool,
}

impl SizeProfile {
    /// The operations with size classes, most allocations first.
    pub(crate) fn of(p: &Profile, scan: &Scan) -> Vec<SizeProfile> {
        let mut v: Vec<SizeProfile> = p
            .operations
            .iter()
            .zip(&scan.ops)
            .filter(|(_, s)| s.size_events > 0 && s.sizes.total() > 0)
            .map(|(o, s)| {
                let allocations = s.sizes.total();
                let (dominant_class, &top) = s
                    .sizes
                    .counts
                    .iter()
                    .enumerate()
                    .max_by_key(|&(k, c)| (*c, std::cmp::Reverse(k)))
                    .unwrap_or((0, &0));
                let dominant_share = top as f64 / allocations.max(1) as f64;
                SizeProfile {
                    name: o.name.to_string(),
                    kind: o.kind,
                    calls: s.size_events,
                    sizes: s.sizes,
                    allocations,
                    dominant_class,
                    dominant_share,
                    pool_candidate: allocations >= POOL_MIN_ALLOCATIONS
                        && dominant_class <= POOL_MAX_CLASS
                        && dominant_share >= POOL_MIN_SHARE,
                }
            })
            .collect();
        v.sort_by(|a, b| b.allocations.cmp(&a.allocations).then(a.name.cmp(&b.name)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: u64, live: u64, footprint: Option<u64>) -> MonitorSample {
        MonitorSample {
            t_ns: t,
            rss_bytes: footprint.unwrap_or(live) + 1000,
            heap_live_bytes: Some(live),
            heap_footprint_bytes: footprint,
            ..MonitorSample::default()
        }
    }

    #[test]
    fn unused_heap_is_footprint_less_live() {
        assert_eq!(Fragmentation::of(&[MonitorSample::default()]), None);
        let f = Fragmentation::of(&[
            sample(1, 100, Some(200)),
            sample(2, 100, Some(1000)),
            sample(3, 300, Some(400)),
        ])
        .unwrap();
        assert_eq!(f.samples, 3);
        assert_eq!(f.worst_unused_bytes, Some(900));
        assert_eq!(f.worst_at_ns, Some(2));
        assert_eq!(f.last_unused_bytes, Some(100));
        assert_eq!(f.last_unused_share, Some(0.25));
        assert_eq!(f.peak_footprint_bytes, Some(1000));
        let no_footprint = Fragmentation::of(&[sample(1, 100, None)]).unwrap();
        assert_eq!(no_footprint.last_unused_bytes, None);
        assert_eq!(no_footprint.mean_unused_share, None);
    }
}
