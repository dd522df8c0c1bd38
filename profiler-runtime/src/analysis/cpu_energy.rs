//! CPU energy of a profile: measured from RAPL where the monitor read it, otherwise modelled
//! (and labelled modelled: never passed off as a measurement).

use crate::model::energy::{CpuEnergy, EnergySource, DEFAULT_WATTS_PER_CORE};
use crate::model::profile::Profile;
use crate::model::stats::saturating_sum;

/// CPU energy of a profile: measured from the RAPL package energy the monitor sampled (first
/// to last sample; the whole package, every process on it) where at least two samples have it,
/// otherwise [`modelled_cpu_energy`] with `watts_per_core`.
pub fn cpu_energy(p: &Profile, watts_per_core: f64) -> CpuEnergy {
    let rapl: Vec<(u64, u64)> = p
        .samples
        .iter()
        .filter_map(|s| s.cpu_energy_uj.map(|e| (s.t_ns, e)))
        .collect();
    if let (Some(&(t0, e0)), Some(&(t1, e1))) = (rapl.first(), rapl.last()) {
        if rapl.len() >= 2 && t1 > t0 {
            let j = e1.saturating_sub(e0) as f64 / 1e6;
            let s = (t1 - t0) as f64 / 1e9;
            return CpuEnergy {
                energy_j: j,
                mean_power_w: j / s,
                duration_s: s,
                source: EnergySource::Rapl,
                method: format!(
                    "RAPL package counters over {} monitor samples (whole package, all processes)",
                    rapl.len()
                ),
            };
        }
    }
    modelled_cpu_energy(p, watts_per_core)
}

/// Modelled CPU energy of a profile: `watts_per_core` x CPU use integrated over the monitor's
/// samples (each sample's CPU% held over the interval before it); without samples, the total
/// profiled self time counts as one busy core. Always [`EnergySource::Modelled`].
pub fn modelled_cpu_energy(p: &Profile, watts_per_core: f64) -> CpuEnergy {
    let w = if watts_per_core.is_finite() && watts_per_core > 0.0 {
        watts_per_core
    } else {
        DEFAULT_WATTS_PER_CORE
    };
    let duration_s = p.duration_ns as f64 / 1e9;
    let (cpu_s, how) = if p.samples.len() >= 2 {
        let cpu: f64 = p
            .samples
            .windows(2)
            .map(|s| {
                f64::from(s[1].cpu_percent) / 100.0 * s[1].t_ns.saturating_sub(s[0].t_ns) as f64
                    / 1e9
            })
            .sum();
        (cpu, format!("CPU% of {} monitor samples", p.samples.len()))
    } else {
        let self_ns = saturating_sum(p.operations.iter().map(|o| o.self_ns));
        (
            self_ns as f64 / 1e9,
            "profiled self time as one busy core (no monitor samples)".to_owned(),
        )
    };
    let j = cpu_s * w;
    CpuEnergy {
        energy_j: j,
        mean_power_w: if duration_s > 0.0 {
            j / duration_s
        } else {
            0.0
        },
        duration_s,
        source: EnergySource::Modelled,
        method: format!("{w} W per busy core x {cpu_s:.3} CPU-s ({how})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::energy::EnergySource;

    #[test]
    fn rapl_samples_are_measured_and_their_absence_is_modelled() {
        let mut p = Profile::empty();
        p.samples = (0..3u64)
            .map(|i| crate::MonitorSample {
                t_ns: i * 500_000_000,
                cpu_energy_uj: Some(i * 2_000_000),
                ..Default::default()
            })
            .collect();
        let e = cpu_energy(&p, 10.0);
        assert_eq!(e.source, EnergySource::Rapl);
        assert!((e.energy_j - 4.0).abs() < 1e-12 && (e.mean_power_w - 4.0).abs() < 1e-12);
        p.samples.iter_mut().for_each(|s| s.cpu_energy_uj = None);
        assert_eq!(cpu_energy(&p, 10.0).source, EnergySource::Modelled);
    }

    #[test]
    fn modelled_without_samples_uses_self_time() {
        let p = Profile::empty();
        let e = modelled_cpu_energy(&p, 10.0);
        assert_eq!(e.source, EnergySource::Modelled);
        assert_eq!(e.energy_j, 0.0);
        assert!(e.method.contains("no monitor samples"));
    }
}
