//! Per-process figures of a profile that holds several processes ([`Profile::merge`]): each
//! process's exact events, time, energy and peak memory, and its share of the total.

use serde::{Deserialize, Serialize};

use crate::model::process::ProcessTotals;
use crate::model::profile::Profile;

use super::share;

/// One process of a merged profile, with its exact figures (measured: from that process's
/// aggregates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessShare {
    /// How reports name it: its label (the input file), host and pid.
    pub name: String,
    /// Host name.
    pub hostname: String,
    /// Process id (0 where unknown).
    pub pid: u32,
    /// Its figures.
    pub totals: ProcessTotals,
    /// Its share of the profile's total self time (0 to 1).
    pub self_share: f64,
    /// Its share of the profile's reported energy (0 to 1).
    pub energy_share: f64,
}

/// The processes of a profile of several, in the profile's order; empty for a profile of one
/// process (its figures are the profile's).
pub fn process_shares(p: &Profile) -> Vec<ProcessShare> {
    if !p.is_multi_process() {
        return Vec::new();
    }
    let figures = p.process_figures();
    let mut total = ProcessTotals::default();
    for f in &figures {
        total.add(&f.totals);
    }
    figures
        .iter()
        .map(|f| ProcessShare {
            name: f.process.display_name(),
            hostname: f.process.hostname.clone(),
            pid: f.process.pid,
            totals: f.totals,
            self_share: share(f.totals.self_ns as f64, total.self_ns as f64),
            energy_share: share(f.totals.energy_pj, total.energy_pj),
        })
        .collect()
}

/// The figures of every process added up (saturating): the "total" row under
/// [`process_shares`].
pub fn process_total(shares: &[ProcessShare]) -> ProcessTotals {
    let mut total = ProcessTotals::default();
    for s in shares {
        total.add(&s.totals);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;

    fn part(n: usize) -> Profile {
        let p = crate::PerformanceProfiler::builder()
            .without_monitor()
            .build()
            .expect("valid config");
        for _ in 0..n {
            p.record_event("solve", EventKind::Computation, [("energy_pj", 1.0)]);
        }
        p.snapshot()
    }

    #[test]
    fn shares_of_a_merged_profile_add_up() {
        assert!(process_shares(&part(1)).is_empty(), "one process: no rows");
        let all = Profile::merge([part(1), part(3)]).expect("two runs");
        let rows = process_shares(&all);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].totals.events, 1);
        assert_eq!(rows[1].totals.events, 3);
        assert!((rows[1].energy_share - 0.75).abs() < 1e-12);
        assert_eq!(process_total(&rows).events, all.total_events());
    }
}
