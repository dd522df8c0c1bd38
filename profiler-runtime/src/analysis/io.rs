//! I/O analysis: the share of blocking I/O, and whether I/O runs one request at a time.

use serde::{Deserialize, Serialize};

use crate::model::event::EventKind;
use crate::model::profile::Profile;

use super::scan::Scan;
use super::severity::share;

/// Name fragments of operations that serialise or parse data (case-insensitive).
pub const SERIALISATION_HINTS: [&str; 8] = [
    "serial",
    "serde",
    "json",
    "encode",
    "decode",
    "parse",
    "to_string",
    "format",
];

/// An operation that (by its name) serialises or parses data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SerialisationOp {
    /// Operation name.
    pub name: String,
    /// Calls.
    pub calls: u64,
    /// Self time, ns.
    pub self_ns: u64,
    /// Share of all profiled self time.
    pub time_share: f64,
}

/// I/O in the profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoAnalysis {
    /// `io_operation` events (exact).
    pub events: u64,
    /// Their self time, ns.
    pub self_ns: u64,
    /// Their wall time, ns (includes time blocked waiting).
    pub wall_ns: u64,
    /// Share of all profiled self time.
    pub time_share: f64,
    /// Mean number of I/O requests in flight while any is (kept events): sum of their wall
    /// times over the union of their intervals. 1.0 means strictly one at a time.
    pub concurrency: Option<f64>,
    /// Whether I/O ran one request at a time (concurrency below 1.05 over at least 2 requests).
    pub serialised: bool,
    /// Threads that did I/O (kept events, up to 64).
    pub threads: usize,
    /// Operations that serialise or parse data, by name.
    pub serialisation_ops: Vec<SerialisationOp>,
}

impl IoAnalysis {
    pub(crate) fn build(p: &Profile, scan: &Scan, total_self_ns: u64) -> Self {
        let (mut events, mut self_ns, mut wall_ns) = (0u64, 0u64, 0u64);
        for o in p
            .operations
            .iter()
            .filter(|o| o.kind == EventKind::IoOperation)
        {
            events = events.saturating_add(o.count);
            self_ns = self_ns.saturating_add(o.self_ns);
            wall_ns = wall_ns.saturating_add(o.total_ns);
        }
        let concurrency =
            (scan.io_union_ns > 0).then(|| scan.io_sum_ns as f64 / scan.io_union_ns as f64);
        let mut ser: Vec<SerialisationOp> = p
            .operations
            .iter()
            .filter(|o| {
                let n = o.name.to_ascii_lowercase();
                SERIALISATION_HINTS.iter().any(|h| n.contains(h))
            })
            .map(|o| SerialisationOp {
                name: o.name.to_string(),
                calls: o.count,
                self_ns: o.self_ns,
                time_share: share(o.self_ns as f64, total_self_ns as f64),
            })
            .collect();
        ser.sort_by_key(|s| std::cmp::Reverse(s.self_ns));
        IoAnalysis {
            events,
            self_ns,
            wall_ns,
            time_share: share(self_ns as f64, total_self_ns as f64),
            concurrency,
            serialised: scan.io_events >= 2 && concurrency.is_some_and(|c| c < 1.05),
            threads: scan.io_threads.len(),
            serialisation_ops: ser,
        }
    }
}
