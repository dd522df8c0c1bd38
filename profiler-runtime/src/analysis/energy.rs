//! Energy and power: per span, operation, kind and component; cumulative energy over time;
//! average power per operation; temperature dependence; CPU energy (measured or modelled).
//!
//! Units: energy in pJ (`_pj`), power in mW (`_mw`). One pJ per ns is one mW, so an
//! operation's mean power is its energy in pJ over its wall time in ns.

use serde::{Deserialize, Serialize};

use crate::model::event::EventKind;
use crate::model::profile::Profile;

use super::scan::Scan;
use super::series::energy_by_component;
use super::severity::share;
use crate::contract::ENERGY_PJ;
use crate::model::energy::CpuEnergy;

/// Name of the component that holds energy not attributed to any reported component.
pub const UNATTRIBUTED: &str = "unattributed";

/// Energy of one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationEnergy {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: EventKind,
    /// Calls (exact).
    pub calls: u64,
    /// Energy, pJ (exact).
    pub energy_pj: f64,
    /// Share of all reported energy.
    pub share: f64,
    /// Mean energy per call, pJ.
    pub energy_per_call_pj: f64,
    /// Mean power while running: energy over wall time, mW.
    pub mean_power_mw: f64,
}

/// Energy of one circuit component (from `energy.<component>_pj` metrics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentEnergy {
    /// Component name (`adc`, `dac`, `array`, ...; [`UNATTRIBUTED`] for the remainder).
    pub component: String,
    /// Energy, pJ.
    pub energy_pj: f64,
    /// Share of all reported energy.
    pub share: f64,
}

/// Energy of one kind of span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindEnergy {
    /// The kind.
    pub kind: EventKind,
    /// Energy, pJ.
    pub energy_pj: f64,
    /// Energy by component within this kind, pJ (kept events).
    pub components: Vec<(String, f64)>,
}

/// One of the most energetic spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEnergy {
    /// Event id.
    pub id: u64,
    /// Operation name.
    pub name: String,
    /// Energy, pJ.
    pub energy_pj: f64,
    /// Wall time, ns.
    pub duration_ns: u64,
}

/// Cumulative energy at a point in time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnergyPoint {
    /// Time, ns since the profiler started.
    pub t_ns: u64,
    /// Energy of the kept spans that ended by then, pJ.
    pub cumulative_pj: f64,
}

/// Energy per call against device temperature for one operation (spans that report
/// `temperature_k` and `energy_pj`): a least-squares line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperatureDependence {
    /// Operation name.
    pub name: String,
    /// Calls with a temperature.
    pub calls: u64,
    /// Lowest temperature seen, K.
    pub min_k: f64,
    /// Highest, K.
    pub max_k: f64,
    /// Slope of energy per call against temperature, pJ/K (`None` at a single temperature).
    pub pj_per_k: Option<f64>,
    /// The slope relative to the mean energy per call, 1/K.
    pub relative_per_k: Option<f64>,
    /// Estimated energy per call at 300 K, pJ.
    pub estimate_300k_pj: Option<f64>,
    /// Estimated energy per call at 350 K, pJ.
    pub estimate_350k_pj: Option<f64>,
    /// Whether 300 K or 350 K lies outside the measured range (an extrapolation).
    pub extrapolated: bool,
}

/// The energy analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyAnalysis {
    /// Sum of `energy_pj` over every operation (exact), pJ.
    pub total_energy_pj: f64,
    /// By operation, most first.
    pub by_operation: Vec<OperationEnergy>,
    /// By kind.
    pub by_kind: Vec<KindEnergy>,
    /// By component, most first; includes [`UNATTRIBUTED`] for the part of the total that no
    /// component names (so the rows sum to the total), or a negative remainder where components
    /// exceed it.
    pub by_component: Vec<ComponentEnergy>,
    /// The most energetic spans (kept events).
    pub top_spans: Vec<SpanEnergy>,
    /// Cumulative energy over time (kept events, binned).
    pub timeline: Vec<EnergyPoint>,
    /// Mean power over the whole profile, mW.
    pub mean_power_mw: f64,
    /// Events reporting `energy_pj` inside a span that also does: their energy may be counted
    /// twice in totals (report energy on leaf operations).
    pub nested_energy_events: u64,
    /// Temperature dependence, where reported.
    pub temperature: Vec<TemperatureDependence>,
    /// CPU energy, measured (RAPL) or modelled: see its `source`.
    pub cpu: CpuEnergy,
}

impl EnergyAnalysis {
    pub(crate) fn build(p: &Profile, scan: &Scan, cpu: CpuEnergy) -> Self {
        let total = p.metric_total(ENERGY_PJ);
        let mut by_operation: Vec<OperationEnergy> = p
            .operations
            .iter()
            .filter_map(|o| {
                let e = o.metrics.get(ENERGY_PJ)?.sum;
                Some(OperationEnergy {
                    name: o.name.to_string(),
                    kind: o.kind,
                    calls: o.count,
                    energy_pj: e,
                    share: share(e, total),
                    energy_per_call_pj: e / o.count.max(1) as f64,
                    mean_power_mw: if o.total_ns > 0 {
                        e / o.total_ns as f64
                    } else {
                        0.0
                    },
                })
            })
            .collect();
        by_operation.sort_by(|a, b| b.energy_pj.total_cmp(&a.energy_pj));
        let mut by_kind: Vec<KindEnergy> = Vec::new();
        for o in &p.operations {
            let e = o.metric_sum(ENERGY_PJ);
            if e == 0.0 {
                continue;
            }
            match by_kind.iter_mut().find(|k| k.kind == o.kind) {
                Some(k) => k.energy_pj += e,
                None => by_kind.push(KindEnergy {
                    kind: o.kind,
                    energy_pj: e,
                    components: Vec::new(),
                }),
            }
        }
        for (kind, c, e) in &scan.component_by_kind {
            if let Some(k) = by_kind.iter_mut().find(|k| k.kind == *kind) {
                k.components.push((c.clone(), *e));
            }
        }
        by_kind.sort_by(|a, b| b.energy_pj.total_cmp(&a.energy_pj));
        let comps = energy_by_component(p);
        let named: f64 = comps.values().sum();
        let mut by_component: Vec<ComponentEnergy> = comps
            .into_iter()
            .map(|(c, e)| ComponentEnergy {
                component: c,
                energy_pj: e,
                share: share(e, total),
            })
            .collect();
        let rest = total - named;
        if rest.abs() > 1e-9 * total.abs().max(1.0) {
            by_component.push(ComponentEnergy {
                component: UNATTRIBUTED.to_owned(),
                energy_pj: rest,
                share: share(rest, total),
            });
        }
        by_component.sort_by(|a, b| b.energy_pj.total_cmp(&a.energy_pj));
        let top_spans = scan
            .top_energy
            .iter()
            .map(|&(e, i)| {
                let ev = &p.events[i as usize];
                SpanEnergy {
                    id: ev.id,
                    name: ev.name.to_string(),
                    energy_pj: e,
                    duration_ns: ev.duration_ns(),
                }
            })
            .collect();
        let mut acc = 0.0;
        let timeline = scan
            .energy_bins
            .iter()
            .enumerate()
            .map(|(i, e)| {
                acc += e;
                EnergyPoint {
                    t_ns: (i as u64 + 1).saturating_mul(scan.bin_ns),
                    cumulative_pj: acc,
                }
            })
            .collect();
        let temperature = p
            .operations
            .iter()
            .zip(&scan.ops)
            .filter(|(_, s)| s.temperature.n > 0.0)
            .map(|(o, s)| {
                let fit = s.temperature.fit();
                let mean = s.temperature.mean_y();
                let at = |t: f64| fit.map(|(k, b, _)| k * t + b);
                TemperatureDependence {
                    name: o.name.to_string(),
                    calls: s.temperature.n as u64,
                    min_k: s.t_min,
                    max_k: s.t_max,
                    pj_per_k: fit.map(|f| f.0),
                    relative_per_k: fit.and_then(|f| (mean != 0.0).then(|| f.0 / mean)),
                    estimate_300k_pj: at(300.0),
                    estimate_350k_pj: at(350.0),
                    extrapolated: s.t_min > 300.0 || s.t_max < 350.0,
                }
            })
            .collect();
        EnergyAnalysis {
            total_energy_pj: total,
            by_operation,
            by_kind,
            by_component,
            top_spans,
            timeline,
            mean_power_mw: if p.duration_ns > 0 {
                total / p.duration_ns as f64
            } else {
                0.0
            },
            nested_energy_events: scan.ops.iter().map(|o| o.nested_energy).sum(),
            temperature,
            cpu,
        }
    }

    /// Sum of the component rows (equal to [`total_energy_pj`](Self::total_energy_pj) up to
    /// rounding: the [`UNATTRIBUTED`] row holds the remainder).
    pub fn component_sum_pj(&self) -> f64 {
        self.by_component.iter().map(|c| c.energy_pj).sum()
    }

    /// Energy of one component, if reported.
    pub fn component(&self, name: &str) -> Option<f64> {
        self.by_component
            .iter()
            .find(|c| c.component == name)
            .map(|c| c.energy_pj)
    }
}
