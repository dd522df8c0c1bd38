//! Modelled CPU energy of a profile (labelled modelled: never a measurement).

use crate::model::energy::{CpuEnergy, EnergySource, DEFAULT_WATTS_PER_CORE};
use crate::model::profile::Profile;
use crate::model::stats::saturating_sum;

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
    fn modelled_without_samples_uses_self_time() {
        let p = Profile::empty();
        let e = modelled_cpu_energy(&p, 10.0);
        assert_eq!(e.source, EnergySource::Modelled);
        assert_eq!(e.energy_j, 0.0);
        assert!(e.method.contains("no monitor samples"));
    }
}
