//! CPU energy figures and where they came from (measured or modelled).

use serde::{Deserialize, Serialize};

/// Default modelled power of one fully busy core, W: a 65 W desktop part over 6-8 cores, or a
/// 200 W server part over 24-32 cores, both land near 8-10 W per busy core. An assumption,
/// labelled as such wherever it is used; override it with `--cpu-watts` or the builder.
pub const DEFAULT_WATTS_PER_CORE: f64 = 10.0;

/// How a CPU energy figure was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergySource {
    /// Read from RAPL package counters.
    Rapl,
    /// Estimated: watts per busy core times CPU use. Not a measurement.
    Modelled,
}

impl EnergySource {
    /// `measured (RAPL)` or `modelled`.
    pub const fn label(self) -> &'static str {
        match self {
            EnergySource::Rapl => "measured (RAPL)",
            EnergySource::Modelled => "modelled",
        }
    }
}

/// CPU energy over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuEnergy {
    /// Energy, J.
    pub energy_j: f64,
    /// Mean power over the window, W.
    pub mean_power_w: f64,
    /// Length of the window, s.
    pub duration_s: f64,
    /// Measured or modelled.
    pub source: EnergySource,
    /// How it was obtained, in words (the model and its inputs).
    pub method: String,
}
