//! The machine around the profile: the load of other processes and steal time over the
//! monitor's samples, and the sessions' hardware counters.

use serde::{Deserialize, Serialize};

use crate::model::counters::HardwareCounters;
use crate::model::profile::Profile;

/// CPU used by the rest of the machine while the profile ran (monitor samples of `/proc/stat`).
///
/// Percentages are of one core (200% = two cores busy), as the monitor's CPU% is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackgroundLoad {
    /// Samples with a reading of the machine.
    pub samples: usize,
    /// CPUs of the machine.
    pub cpus: usize,
    /// Mean CPU used by every process, this one included.
    pub mean_machine_cpu_percent: f64,
    /// Mean CPU used by this process.
    pub mean_own_cpu_percent: f64,
    /// Mean CPU used by every other process (machine less own, never below 0).
    pub mean_other_cpu_percent: f64,
    /// Highest CPU used by other processes in one interval.
    pub peak_other_cpu_percent: f64,
    /// Mean CPU time the hypervisor gave to other guests (steal).
    pub mean_steal_percent: f64,
    /// Highest steal in one interval.
    pub peak_steal_percent: f64,
}

impl BackgroundLoad {
    /// The other processes' mean load as a share of the machine's capacity, in `[0, 1]`.
    pub fn other_share(&self) -> f64 {
        let cap = self.cpus.max(1) as f64 * 100.0;
        (self.mean_other_cpu_percent / cap).clamp(0.0, 1.0)
    }

    /// Mean steal as a share of the machine's capacity, in `[0, 1]`.
    pub fn steal_share(&self) -> f64 {
        let cap = self.cpus.max(1) as f64 * 100.0;
        (self.mean_steal_percent / cap).clamp(0.0, 1.0)
    }

    /// Summarises the samples that read the machine (`None` without any).
    pub fn of(p: &Profile) -> Option<BackgroundLoad> {
        let rows: Vec<(f64, f64, f64)> = p
            .samples
            .iter()
            .filter_map(|s| {
                let machine = f64::from(s.machine_cpu_percent?);
                let own = f64::from(s.cpu_percent);
                Some((machine, own, f64::from(s.steal_percent.unwrap_or(0.0))))
            })
            .filter(|(m, o, st)| m.is_finite() && o.is_finite() && st.is_finite())
            .collect();
        if rows.is_empty() {
            return None;
        }
        let n = rows.len() as f64;
        let other = |&(m, o, _): &(f64, f64, f64)| (m - o).max(0.0);
        Some(BackgroundLoad {
            samples: rows.len(),
            cpus: p.system.cpu_count,
            mean_machine_cpu_percent: rows.iter().map(|r| r.0).sum::<f64>() / n,
            mean_own_cpu_percent: rows.iter().map(|r| r.1).sum::<f64>() / n,
            mean_other_cpu_percent: rows.iter().map(other).sum::<f64>() / n,
            peak_other_cpu_percent: rows.iter().map(other).fold(0.0, f64::max),
            mean_steal_percent: rows.iter().map(|r| r.2).sum::<f64>() / n,
            peak_steal_percent: rows.iter().map(|r| r.2).fold(0.0, f64::max),
        })
    }
}

/// One session's hardware counters, or why there are none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionCounters {
    /// The session.
    pub session: String,
    /// Its counters.
    pub counters: HardwareCounters,
}

/// The machine around the profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineAnalysis {
    /// The rest of the machine's load, where the monitor read it.
    pub background: Option<BackgroundLoad>,
    /// Hardware counters of each finished session that tried to read them.
    pub hardware_counters: Vec<SessionCounters>,
}

impl MachineAnalysis {
    /// The machine analysis of a profile.
    pub fn from_profile(p: &Profile) -> Self {
        MachineAnalysis {
            background: BackgroundLoad::of(p),
            hardware_counters: p
                .sessions
                .iter()
                .filter_map(|s| {
                    Some(SessionCounters {
                        session: s.name.clone(),
                        counters: s.hardware_counters.clone()?,
                    })
                })
                .collect(),
        }
    }
}
