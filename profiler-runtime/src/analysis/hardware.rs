//! Hardware analysis: time and energy in `hardware_access` spans, transfer sizes, utilisation
//! imbalance across devices or tiles.

use serde::{Deserialize, Serialize};

use crate::model::event::EventKind;
use crate::model::profile::Profile;
use crate::model::stats::saturating_fadd;

use super::scan::Scan;
use super::severity::share;
use crate::contract::ENERGY_PJ;
use crate::contract::{BYTES, UTILIZATION};

/// Mean bytes per call below which transfers count as small.
pub const SMALL_TRANSFER_BYTES: f64 = 4096.0;
/// Fewest calls before small transfers count as "many".
pub const MANY_TRANSFERS: u64 = 64;
/// Busiest device's load over the mean above which load counts as imbalanced (1.25: the busiest
/// does 25% more than the average).
pub const IMBALANCE_RATIO: f64 = 1.25;

/// Transfer figures of one operation that reports `bytes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferStats {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: EventKind,
    /// Calls (exact).
    pub calls: u64,
    /// Bytes moved (exact).
    pub total_bytes: f64,
    /// Mean bytes per call.
    pub mean_bytes: f64,
    /// Bytes per second of the operation's wall time.
    pub bytes_per_sec: f64,
    /// Fixed cost per call, ns: the intercept of wall time against bytes over kept events
    /// (`None` where all calls moved the same amount).
    pub fixed_cost_ns: Option<f64>,
    /// Share of the operation's time that is fixed per-call cost, in `[0, 1]`.
    pub fixed_cost_share: Option<f64>,
    /// Whether these are many small transfers (mean below [`SMALL_TRANSFER_BYTES`], at least
    /// [`MANY_TRANSFERS`] calls).
    pub many_small: bool,
}

/// Load of one device or tile (events reporting a `tile`, `device` or `array` id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceLoad {
    /// The metric that named it (`tile`, `device`, `array`).
    pub key: String,
    /// Its id.
    pub id: i64,
    /// Events on it.
    pub events: u64,
    /// Busy time on it, ns.
    pub busy_ns: u64,
    /// Energy on it, pJ.
    pub energy_pj: f64,
    /// Mean reported `utilization`, where reported.
    pub mean_utilization: Option<f64>,
}

/// How unevenly work is spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imbalance {
    /// What was compared: `utilization` or `busy time`.
    pub measure: String,
    /// Busiest over mean (1: perfectly even).
    pub max_over_mean: f64,
    /// Coefficient of variation across devices.
    pub cv: f64,
    /// The busiest device or operation.
    pub busiest: String,
    /// The idlest.
    pub idlest: String,
}

/// Hardware use of the profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardwareAnalysis {
    /// `hardware_access` events (exact).
    pub events: u64,
    /// Their self time, ns.
    pub self_ns: u64,
    /// Share of all profiled self time.
    pub time_share: f64,
    /// Their energy, pJ.
    pub energy_pj: f64,
    /// Share of all reported energy.
    pub energy_share: f64,
    /// Operations that report `bytes`, most bytes first.
    pub transfers: Vec<TransferStats>,
    /// Per device or tile, busiest first.
    pub devices: Vec<DeviceLoad>,
    /// Spread of load across devices (or of utilisation across operations), where measurable.
    pub imbalance: Option<Imbalance>,
}

impl HardwareAnalysis {
    pub(crate) fn build(p: &Profile, scan: &Scan, total_self_ns: u64, total_energy: f64) -> Self {
        let hw = p
            .operations
            .iter()
            .filter(|o| o.kind == EventKind::HardwareAccess);
        let (mut events, mut self_ns, mut energy) = (0u64, 0u64, 0.0);
        for o in hw {
            events = events.saturating_add(o.count);
            self_ns = self_ns.saturating_add(o.self_ns);
            energy = saturating_fadd(energy, o.metric_sum(ENERGY_PJ));
        }
        let mut transfers: Vec<TransferStats> = p
            .operations
            .iter()
            .zip(&scan.ops)
            .filter_map(|(o, s)| {
                let b = o.metrics.get(BYTES)?;
                let secs = o.total_ns as f64 / 1e9;
                let mean_bytes = b.sum / b.count.max(1) as f64;
                let fixed = s.transfer.fit().map(|(_, intercept, _)| intercept.max(0.0));
                Some(TransferStats {
                    name: o.name.to_string(),
                    kind: o.kind,
                    calls: o.count,
                    total_bytes: b.sum,
                    mean_bytes,
                    bytes_per_sec: if secs > 0.0 { b.sum / secs } else { 0.0 },
                    fixed_cost_ns: fixed,
                    fixed_cost_share: fixed.map(|f| share(f * o.count as f64, o.total_ns as f64)),
                    many_small: mean_bytes < SMALL_TRANSFER_BYTES && o.count >= MANY_TRANSFERS,
                })
            })
            .collect();
        transfers.sort_by(|a, b| b.total_bytes.total_cmp(&a.total_bytes));
        let mut devices: Vec<DeviceLoad> = scan
            .devices
            .iter()
            .map(|((k, id), d)| DeviceLoad {
                key: (*k).to_owned(),
                id: *id,
                events: d.events,
                busy_ns: d.busy_ns,
                energy_pj: d.energy_pj,
                mean_utilization: (d.utilization_n > 0)
                    .then(|| d.utilization_sum / d.utilization_n as f64),
            })
            .collect();
        devices.sort_by(|a, b| b.busy_ns.cmp(&a.busy_ns).then(a.id.cmp(&b.id)));
        let imbalance = device_imbalance(&devices).or_else(|| utilization_spread(p));
        HardwareAnalysis {
            events,
            self_ns,
            time_share: share(self_ns as f64, total_self_ns as f64),
            energy_pj: energy,
            energy_share: share(energy, total_energy),
            transfers,
            devices,
            imbalance,
        }
    }
}

fn spread(values: &[(String, f64)], measure: &str) -> Option<Imbalance> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|v| v.1).sum::<f64>() / n;
    if mean <= 0.0 {
        return None;
    }
    let var = values.iter().map(|v| (v.1 - mean).powi(2)).sum::<f64>() / n;
    let max = values.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let min = values.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(Imbalance {
        measure: measure.to_owned(),
        max_over_mean: max.1 / mean,
        cv: var.sqrt() / mean,
        busiest: max.0.clone(),
        idlest: min.0.clone(),
    })
}

/// Across devices: by mean utilisation where every device reports it, else by busy time.
fn device_imbalance(devices: &[DeviceLoad]) -> Option<Imbalance> {
    let label = |d: &DeviceLoad| format!("{} {}", d.key, d.id);
    if devices.iter().all(|d| d.mean_utilization.is_some()) {
        let v: Vec<(String, f64)> = devices
            .iter()
            .map(|d| (label(d), d.mean_utilization.unwrap_or(0.0)))
            .collect();
        return spread(&v, UTILIZATION);
    }
    let v: Vec<(String, f64)> = devices
        .iter()
        .map(|d| (label(d), d.busy_ns as f64))
        .collect();
    spread(&v, "busy time")
}

/// Without device ids: the spread of mean `utilization` across operations.
fn utilization_spread(p: &Profile) -> Option<Imbalance> {
    let v: Vec<(String, f64)> = p
        .operations
        .iter()
        .filter_map(|o| {
            o.metrics
                .get(UTILIZATION)
                .map(|m| (o.name.to_string(), m.mean()))
        })
        .collect();
    spread(&v, UTILIZATION)
}
