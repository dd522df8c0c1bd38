//! Type analysis: where time and energy go by kind of work.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::event::EventKind;
use crate::model::profile::Profile;
use crate::model::stats::{saturating_fadd, saturating_sum};

use super::severity::share;
use crate::contract::ENERGY_PJ;

/// Time and energy of one kind of span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindShare {
    /// The kind.
    pub kind: EventKind,
    /// Events (exact).
    pub count: u64,
    /// Self time (adds up across kinds without double counting).
    pub self_time: Duration,
    /// Inclusive wall time (nested spans of one kind count twice).
    pub total_time: Duration,
    /// Share of all profiled self time, in `[0, 1]`.
    pub time_share: f64,
    /// Energy reported by spans of this kind, pJ.
    pub energy_pj: f64,
    /// Share of all reported energy, in `[0, 1]`.
    pub energy_share: f64,
}

/// Time and energy by kind, largest self time first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeAnalysis {
    /// One row per kind that occurred.
    pub kinds: Vec<KindShare>,
    /// Sum of self times over every operation, ns: the profiled time every share is of.
    pub total_self_ns: u64,
    /// Sum of `energy_pj` over every operation, pJ.
    pub total_energy_pj: f64,
}

impl TypeAnalysis {
    /// The row of one kind, if it occurred.
    pub fn kind(&self, kind: EventKind) -> Option<&KindShare> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// Builds the analysis from a profile's exact aggregates.
    pub fn from_profile(p: &Profile) -> Self {
        let total_self_ns = saturating_sum(p.operations.iter().map(|o| o.self_ns));
        let total_energy_pj = p.metric_total(ENERGY_PJ);
        let mut kinds: Vec<KindShare> = Vec::new();
        for o in &p.operations {
            let i = match kinds.iter().position(|k| k.kind == o.kind) {
                Some(i) => i,
                None => {
                    kinds.push(KindShare {
                        kind: o.kind,
                        count: 0,
                        self_time: Duration::ZERO,
                        total_time: Duration::ZERO,
                        time_share: 0.0,
                        energy_pj: 0.0,
                        energy_share: 0.0,
                    });
                    kinds.len() - 1
                }
            };
            let k = &mut kinds[i];
            k.count = k.count.saturating_add(o.count);
            k.self_time = k.self_time.saturating_add(Duration::from_nanos(o.self_ns));
            k.total_time = k
                .total_time
                .saturating_add(Duration::from_nanos(o.total_ns));
            k.energy_pj = saturating_fadd(k.energy_pj, o.metric_sum(ENERGY_PJ));
        }
        for k in &mut kinds {
            k.time_share = share(k.self_time.as_nanos() as f64, total_self_ns as f64);
            k.energy_share = share(k.energy_pj, total_energy_pj);
        }
        kinds.sort_by(|a, b| b.self_time.cmp(&a.self_time).then(a.kind.cmp(&b.kind)));
        TypeAnalysis {
            kinds,
            total_self_ns,
            total_energy_pj,
        }
    }
}
