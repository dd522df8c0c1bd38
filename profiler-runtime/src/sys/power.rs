//! CPU energy meter: measured from RAPL (`/sys/class/powercap/intel-rapl:*/energy_uj`) where it can
//! be read, otherwise modelled from CPU use. Every figure carries its [`EnergySource`], and
//! reports print "modelled" next to a modelled one.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::ProfileError;
use crate::model::energy::{CpuEnergy, EnergySource, DEFAULT_WATTS_PER_CORE};

/// Where the RAPL counters live.
pub const POWERCAP_DIR: &str = "/sys/class/powercap";

/// One RAPL domain (a package).
#[derive(Debug, Clone)]
struct RaplDomain {
    energy: PathBuf,
    max_range_uj: u64,
}

/// Reads RAPL package energy counters.
#[derive(Debug, Clone)]
pub struct RaplReader {
    domains: Vec<RaplDomain>,
}

impl RaplReader {
    /// Opens every top-level `intel-rapl:N` domain under [`POWERCAP_DIR`] whose `energy_uj` is
    /// readable (often root-only).
    pub fn open() -> Result<Self, ProfileError> {
        Self::open_at(Path::new(POWERCAP_DIR))
    }

    /// As [`open`](Self::open), under another directory (for tests).
    pub fn open_at(dir: &Path) -> Result<Self, ProfileError> {
        let entries = fs::read_dir(dir).map_err(|source| ProfileError::Io {
            action: "listing RAPL domains in",
            path: dir.to_owned(),
            source,
        })?;
        let mut domains = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Top-level packages only (`intel-rapl:0`), not sub-zones (`intel-rapl:0:1`).
            if !name.starts_with("intel-rapl:") || name.matches(':').count() != 1 {
                continue;
            }
            let energy = entry.path().join("energy_uj");
            if read_u64(&energy).is_none() {
                continue;
            }
            let max_range_uj =
                read_u64(&entry.path().join("max_energy_range_uj")).unwrap_or(u64::MAX);
            domains.push(RaplDomain {
                energy,
                max_range_uj,
            });
        }
        if domains.is_empty() {
            return Err(ProfileError::InvalidInput(format!(
                "no readable RAPL counters (`intel-rapl:*/energy_uj`) under {}",
                dir.display()
            )));
        }
        Ok(RaplReader { domains })
    }

    /// The current counter of every domain, µJ.
    pub fn read_uj(&self) -> Vec<u64> {
        self.domains
            .iter()
            .map(|d| read_u64(&d.energy).unwrap_or(0))
            .collect()
    }

    /// Energy between two readings, J, allowing for counter wrap-around.
    pub fn delta_j(&self, before: &[u64], after: &[u64]) -> f64 {
        let uj: u64 = self
            .domains
            .iter()
            .zip(before.iter().zip(after))
            .map(|(d, (&b, &a))| {
                if a >= b {
                    a - b
                } else {
                    d.max_range_uj.saturating_sub(b) + a
                }
            })
            .sum();
        uj as f64 / 1e6
    }
}

fn read_u64(p: &Path) -> Option<u64> {
    fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// This process's CPU time so far (user + system), s, from `/proc/self/stat` (Linux; clock
/// ticks of 1/100 s).
pub fn process_cpu_seconds() -> Option<f64> {
    let s = fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Measures CPU energy over a window: RAPL where readable, else modelled from this process's
/// CPU time (`watts_per_core` x CPU seconds).
///
/// ```
/// use profiler_runtime::model::energy::DEFAULT_WATTS_PER_CORE;
/// use profiler_runtime::sys::CpuEnergyMeter;
/// let meter = CpuEnergyMeter::start(DEFAULT_WATTS_PER_CORE);
/// let e = meter.stop();
/// assert!(e.energy_j >= 0.0);
/// println!("{:.3} J ({})", e.energy_j, e.source.label());
/// ```
#[derive(Debug)]
pub struct CpuEnergyMeter {
    rapl: Option<(RaplReader, Vec<u64>)>,
    cpu_s: Option<f64>,
    t0: Instant,
    watts_per_core: f64,
}

impl CpuEnergyMeter {
    /// Starts measuring.
    pub fn start(watts_per_core: f64) -> Self {
        let rapl = RaplReader::open().ok().map(|r| {
            let b = r.read_uj();
            (r, b)
        });
        CpuEnergyMeter {
            rapl,
            cpu_s: process_cpu_seconds(),
            t0: Instant::now(),
            watts_per_core: if watts_per_core.is_finite() && watts_per_core > 0.0 {
                watts_per_core
            } else {
                DEFAULT_WATTS_PER_CORE
            },
        }
    }

    /// Whether the meter reads RAPL (otherwise it models).
    pub fn is_measured(&self) -> bool {
        self.rapl.is_some()
    }

    /// The energy since [`start`](Self::start).
    pub fn stop(&self) -> CpuEnergy {
        let dt = self.t0.elapsed().as_secs_f64();
        if let Some((r, before)) = &self.rapl {
            let j = r.delta_j(before, &r.read_uj());
            return CpuEnergy {
                energy_j: j,
                mean_power_w: if dt > 0.0 { j / dt } else { 0.0 },
                duration_s: dt,
                source: EnergySource::Rapl,
                method: "RAPL package counters (whole package, all processes)".to_owned(),
            };
        }
        let (cpu, how) = match (self.cpu_s, process_cpu_seconds()) {
            (Some(a), Some(b)) => ((b - a).max(0.0), "process CPU time from /proc/self/stat"),
            _ => (dt, "wall time x 1 busy core (CPU time unavailable)"),
        };
        let j = cpu * self.watts_per_core;
        CpuEnergy {
            energy_j: j,
            mean_power_w: if dt > 0.0 { j / dt } else { 0.0 },
            duration_s: dt,
            source: EnergySource::Modelled,
            method: format!(
                "{} W per busy core x {cpu:.3} CPU-s ({how})",
                self.watts_per_core
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rapl_from_a_fake_powercap_tree_handles_wrap() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("intel-rapl:0");
        fs::create_dir(&pkg).unwrap();
        fs::create_dir(dir.path().join("intel-rapl:0:0")).unwrap();
        fs::write(pkg.join("energy_uj"), "900\n").unwrap();
        fs::write(pkg.join("max_energy_range_uj"), "1000\n").unwrap();
        let r = RaplReader::open_at(dir.path()).unwrap();
        let before = r.read_uj();
        fs::write(pkg.join("energy_uj"), "100\n").unwrap();
        let j = r.delta_j(&before, &r.read_uj());
        assert!((j - 200e-6).abs() < 1e-12, "{j}");
        assert!(RaplReader::open_at(&dir.path().join("missing")).is_err());
    }
}
