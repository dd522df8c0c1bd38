//! Device parameters of one RRAM cell, with presets, validation and the cell-level models:
//! write-verify programming, drift with time, temperature dependence.
//!
//! Units are in the names: conductance in microsiemens (`_us`), time in ns or s, voltage in V.
//! Sources refer to the rows of the parameter table in `shared/RRAM.md`.

use serde::{Deserialize, Serialize};

use crate::error::{check_range, SimError};
use rand_distr::StandardNormal;

/// The largest accepted [`DeviceParams::max_write_pulses`]: with a tolerance no device can
/// meet, every device takes this many pulses, so the bound keeps programming time bounded.
pub const MAX_WRITE_PULSES_LIMIT: u32 = 1000;

/// Boltzmann's constant in eV/K.
pub const BOLTZMANN_EV_PER_K: f64 = 8.617_333_262e-5;

/// Parameters of one RRAM cell (1T1R). Build with a preset and adjust fields.
///
/// ```
/// use rram_sim::DeviceParams;
/// let mut p = DeviceParams::taox_3bit();
/// p.bits_per_cell = 2;
/// assert!(p.validate().is_ok());
/// assert_eq!(p.levels(), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceParams {
    /// Lowest programmable conductance (HRS). Default 0.5 uS: RRAM.md row "conductance range,
    /// levels", 0.5 to 35 uS (Zuo 2025).
    pub g_min_us: f64,
    /// Highest programmable conductance (LRS). Default 35 uS: row "conductance range, levels"
    /// (Zuo 2025).
    pub g_max_us: f64,
    /// Bits per cell; levels = 2^bits, evenly spaced from `g_min_us` to `g_max_us`. Default 3:
    /// row "conductance range, levels", 8 levels (Zuo 2025).
    pub bits_per_cell: u32,
    /// Programming error of the first (coarse) pulse: sigma_G = intercept + slope * G, in uS.
    /// Default 4.78 uS: row "programming error", sigma_G = 4.78 - 0.0091 G uS (CrossSim RRAM_Milo).
    pub prog_sigma_intercept_us: f64,
    /// Slope of the programming error in G (dimensionless). Default -0.0091: row "programming
    /// error" (CrossSim RRAM_Milo).
    pub prog_sigma_slope: f64,
    /// Relative error of each corrective write-verify pulse: the remaining error e becomes
    /// `e * verify_step_sigma * N(0,1)`. Default 0.35, an assumption (RRAM.md has no row for
    /// incremental pulses; the row "programming error" gives cycle-to-cycle about 3.5% of range
    /// for full pulses, and corrective pulses are small). Calibration input.
    pub verify_step_sigma: f64,
    /// Additive noise floor of every corrective pulse, uS. Default 0.01 uS, an assumption in the
    /// spirit of row "programming error" (cycle-to-cycle noise); calibration input.
    pub verify_floor_sigma_us: f64,
    /// Write-verify tolerance: pulses stop once |G - target| <= this, uS. Default 0.1 uS, a design
    /// choice for the write-verify of Zuo 2025 (row "conductance range, levels": 8 levels 4.9 uS
    /// apart, so 0.1 uS is 2% of a level, tight enough for exact bit-sliced readout).
    pub write_verify_tol_us: f64,
    /// Maximum pulses per device (first pulse included), at most [`MAX_WRITE_PULSES_LIMIT`].
    /// Default 20, an assumption (NeuroSim-style
    /// bounded write-verify; row "write pulse energy" gives the pulse itself).
    pub max_write_pulses: u32,
    /// Write pulse amplitude, V. Default 3 V: row "write pulse energy" (MNSIM, 3 V, 10 ns).
    pub write_voltage_v: f64,
    /// Write pulse width, ns. Default 10 ns: row "write pulse energy" (MNSIM).
    pub write_pulse_ns: f64,
    /// Read voltage, V. Default 0.1 V: row "read voltage, pulse" (CrossSim).
    pub read_voltage_v: f64,
    /// Read pulse width, ns. Default 10 ns: row "read voltage, pulse" (NeuroSim).
    pub read_pulse_ns: f64,
    /// Read noise per device per read (white approximation of 1/f noise), uS. Default 0.025 uS:
    /// row "drift" (aihwkit CMO-HfOx model lists 1/f read noise); the magnitude is an assumption
    /// (0.07% of 35 uS). Calibration input.
    pub read_noise_us: f64,
    /// Mean drift per unit of ln(1 + t/t0), uS. Default -0.089: row "drift" (aihwkit CMO-HfOx).
    pub drift_mean_us_per_ln_t: f64,
    /// Device-to-device spread of drift per unit of ln(1 + t/t0), uS. Default 0.042: row "drift"
    /// (aihwkit CMO-HfOx; its constant 0.41 uS term is programming spread, modelled separately).
    pub drift_sigma_us_per_ln_t: f64,
    /// Drift reference time t0, s. Default 1 s: row "drift" (aihwkit uses t in s).
    pub drift_t0_s: f64,
    /// Relative change of conductance per kelvin: G(T) = G (1 + coeff (T - T_ref)). Default
    /// 0.002 /K: row "temperature", read coefficient about 0.002 / K.
    pub temp_coeff_per_k: f64,
    /// Activation energy of drift (relaxation), eV: time runs exp(Ea/k (1/T_ref - 1/T)) faster
    /// at T. Default 0.5 eV: row "temperature", Arrhenius relaxation, Ea about 0.5 eV.
    pub activation_energy_ev: f64,
    /// Reference temperature, K. Default 300 K: row "ADC" (NeuroSim's temperature reference).
    pub reference_temp_k: f64,
    /// Area of one 1T1R cell in units of F². Default 48 F² (4 F x 12 F): NeuroSim's 1T1R
    /// cell (`heightInFeatureSize1T1R = 4`, `widthInFeatureSize1T1R = 12` in its Param.cpp).
    #[serde(default = "default_cell_area_f2")]
    pub cell_area_f2: f64,
    /// Feature size F of the process, nm. Default 40 nm: Zuo et al. 2025 used a foundry
    /// 40-nm 1T1R RRAM chip.
    #[serde(default = "default_feature_size_nm")]
    pub feature_size_nm: f64,
}

fn default_cell_area_f2() -> f64 {
    48.0
}

fn default_feature_size_nm() -> f64 {
    40.0
}

impl Default for DeviceParams {
    fn default() -> Self {
        Self::taox_3bit()
    }
}

impl DeviceParams {
    /// The 1T1R TaOx cell of Zuo et al., Nature Electronics 2025: 3 bits, 0.5 to 35 uS,
    /// write-verify. Every field's default is documented on the field.
    pub fn taox_3bit() -> Self {
        Self {
            g_min_us: 0.5,
            g_max_us: 35.0,
            bits_per_cell: 3,
            prog_sigma_intercept_us: 4.78,
            prog_sigma_slope: -0.0091,
            verify_step_sigma: 0.35,
            verify_floor_sigma_us: 0.01,
            write_verify_tol_us: 0.1,
            max_write_pulses: 20,
            write_voltage_v: 3.0,
            write_pulse_ns: 10.0,
            read_voltage_v: 0.1,
            read_pulse_ns: 10.0,
            read_noise_us: 0.025,
            drift_mean_us_per_ln_t: -0.089,
            drift_sigma_us_per_ln_t: 0.042,
            drift_t0_s: 1.0,
            temp_coeff_per_k: 0.002,
            activation_energy_ev: 0.5,
            reference_temp_k: 300.0,
            cell_area_f2: default_cell_area_f2(),
            feature_size_nm: default_feature_size_nm(),
        }
    }

    /// The cell of Zuo et al., Nature Electronics 2025, with the chip's measured MVM latency:
    /// [`Self::taox_3bit`] (3 bits, 0.5 to 35 uS, write-verify, 40-nm 1T1R) with the read
    /// pulse set so one single-slice MVM (DAC 1 ns, read, 9-bit SAR ADC 10 ns, shift-add 1 ns)
    /// takes the chip's about 60 ns (RRAM.md row "INV / MVM latency"): 48 ns, a calibration.
    pub fn zuo2025() -> Self {
        Self {
            read_pulse_ns: 48.0,
            ..Self::taox_3bit()
        }
    }

    /// The same cell without non-idealities: exact programming in one pulse, no read noise, no
    /// drift, no temperature dependence. Conductance range and levels as [`Self::taox_3bit`].
    pub fn ideal() -> Self {
        Self {
            prog_sigma_intercept_us: 0.0,
            prog_sigma_slope: 0.0,
            verify_floor_sigma_us: 0.0,
            write_verify_tol_us: 0.0,
            read_noise_us: 0.0,
            drift_mean_us_per_ln_t: 0.0,
            drift_sigma_us_per_ln_t: 0.0,
            temp_coeff_per_k: 0.0,
            ..Self::taox_3bit()
        }
    }

    /// Number of conductance levels, 2^bits.
    pub fn levels(&self) -> u64 {
        1u64 << self.bits_per_cell.min(63)
    }

    /// Conductance step between adjacent levels, uS.
    pub fn level_step_us(&self) -> f64 {
        (self.g_max_us - self.g_min_us) / (self.levels() - 1) as f64
    }

    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.bits_per_cell == 0 {
            return Err(SimError::ZeroBits {
                name: "DeviceParams::bits_per_cell",
            });
        }
        if self.bits_per_cell > 16 {
            return Err(SimError::InvalidParameter {
                name: "DeviceParams::bits_per_cell",
                value: self.bits_per_cell.to_string(),
                why: "at most 16 bits per cell are modelled",
            });
        }
        check_range(
            "DeviceParams::g_min_us",
            self.g_min_us,
            0.0,
            1e6,
            "must be >= 0 uS",
        )?;
        if !(self.g_max_us.is_finite() && self.g_max_us > self.g_min_us) {
            return Err(SimError::InvalidParameter {
                name: "DeviceParams::g_max_us",
                value: format!("{}", self.g_max_us),
                why: "must be finite and greater than g_min_us",
            });
        }
        check_range(
            "DeviceParams::prog_sigma_intercept_us",
            self.prog_sigma_intercept_us,
            0.0,
            1e6,
            "must be >= 0",
        )?;
        check_range(
            "DeviceParams::prog_sigma_slope",
            self.prog_sigma_slope,
            -1.0,
            1.0,
            "must lie in [-1, 1]",
        )?;
        check_range(
            "DeviceParams::verify_step_sigma",
            self.verify_step_sigma,
            0.0,
            0.99,
            "must lie in [0, 0.99] so write-verify converges",
        )?;
        check_range(
            "DeviceParams::verify_floor_sigma_us",
            self.verify_floor_sigma_us,
            0.0,
            1e6,
            "must be >= 0",
        )?;
        check_range(
            "DeviceParams::write_verify_tol_us",
            self.write_verify_tol_us,
            0.0,
            1e6,
            "must be >= 0",
        )?;
        if self.max_write_pulses == 0 || self.max_write_pulses > MAX_WRITE_PULSES_LIMIT {
            return Err(SimError::InvalidParameter {
                name: "DeviceParams::max_write_pulses",
                value: self.max_write_pulses.to_string(),
                why: "must lie in 1..=1000 (write-verify chips stop after tens of pulses; a device that has not converged by then is reported as failed)",
            });
        }
        check_range(
            "DeviceParams::write_voltage_v",
            self.write_voltage_v,
            0.0,
            100.0,
            "must lie in [0, 100] V",
        )?;
        check_range(
            "DeviceParams::write_pulse_ns",
            self.write_pulse_ns,
            0.0,
            1e9,
            "must be >= 0 ns",
        )?;
        check_range(
            "DeviceParams::read_voltage_v",
            self.read_voltage_v,
            1e-6,
            10.0,
            "must lie in (0, 10] V",
        )?;
        check_range(
            "DeviceParams::read_pulse_ns",
            self.read_pulse_ns,
            1e-6,
            1e9,
            "must be > 0 ns",
        )?;
        check_range(
            "DeviceParams::read_noise_us",
            self.read_noise_us,
            0.0,
            1e6,
            "must be >= 0",
        )?;
        check_range(
            "DeviceParams::drift_mean_us_per_ln_t",
            self.drift_mean_us_per_ln_t,
            -1e6,
            1e6,
            "must be finite",
        )?;
        check_range(
            "DeviceParams::drift_sigma_us_per_ln_t",
            self.drift_sigma_us_per_ln_t,
            0.0,
            1e6,
            "must be >= 0",
        )?;
        check_range(
            "DeviceParams::drift_t0_s",
            self.drift_t0_s,
            1e-12,
            1e12,
            "must be > 0 s",
        )?;
        check_range(
            "DeviceParams::temp_coeff_per_k",
            self.temp_coeff_per_k,
            -0.1,
            0.1,
            "must lie in [-0.1, 0.1] per K",
        )?;
        check_range(
            "DeviceParams::activation_energy_ev",
            self.activation_energy_ev,
            0.0,
            10.0,
            "must lie in [0, 10] eV",
        )?;
        check_range(
            "DeviceParams::reference_temp_k",
            self.reference_temp_k,
            1.0,
            2000.0,
            "must lie in [1, 2000] K",
        )?;
        check_range(
            "DeviceParams::cell_area_f2",
            self.cell_area_f2,
            0.0,
            1e6,
            "must lie in [0, 1e6] F^2",
        )?;
        check_range(
            "DeviceParams::feature_size_nm",
            self.feature_size_nm,
            1.0,
            1e4,
            "must lie in [1, 1e4] nm",
        )?;
        Ok(())
    }

    /// Standard deviation of the first programming pulse at target conductance `g_us`:
    /// `max(0, intercept + slope * g)` (Milo's fit).
    pub fn prog_sigma_us(&self, g_us: f64) -> f64 {
        (self.prog_sigma_intercept_us + self.prog_sigma_slope * g_us).max(0.0)
    }

    /// Programs one device to `target_us` by write-verify and returns (conductance, pulses).
    ///
    /// Pulse 1 lands at `target + N(0, prog_sigma(target))`; while the error exceeds the
    /// tolerance and pulses remain, a corrective pulse turns the error e into
    /// `e * verify_step_sigma * N(0,1) + N(0, verify_floor_sigma)`. The conductance is kept >= 0.
    /// `rng` is the device's own stream, so the result is reproducible. This is the definition;
    /// arrays are programmed by [`crate::write_verify::WriteVerify`], many devices in lockstep
    /// with exactly these results.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn program_device<R: rand::Rng + ?Sized>(
        &self,
        target_us: f64,
        rng: &mut R,
    ) -> (f64, u32) {
        let sigma = self.prog_sigma_us(target_us);
        let mut e = if sigma > 0.0 {
            sigma * rng.sample::<f64, _>(StandardNormal)
        } else {
            0.0
        };
        let mut pulses = 1u32;
        let floor2 = self.verify_floor_sigma_us * self.verify_floor_sigma_us;
        while e.abs() > self.write_verify_tol_us && pulses < self.max_write_pulses {
            // e s z1 + f z2 with independent standard normals is N(0, (e s)^2 + f^2): one draw.
            let s = e * self.verify_step_sigma;
            let z: f64 = rng.sample(StandardNormal);
            e = (s * s + floor2).sqrt() * z;
            pulses += 1;
        }
        ((target_us + e).max(0.0), pulses)
    }

    /// Factor by which time runs faster at `temp_k` (Arrhenius): exp(Ea/k (1/T_ref - 1/T)).
    pub fn arrhenius_factor(&self, temp_k: f64) -> f64 {
        (self.activation_energy_ev / BOLTZMANN_EV_PER_K
            * (1.0 / self.reference_temp_k - 1.0 / temp_k))
            .exp()
    }

    /// Drift of one device after `t_s` seconds at `temp_k`, given its standard-normal drift
    /// coefficient `z`: (mean + sigma z) ln(1 + t_eff / t0), in uS.
    pub fn drift_us(&self, t_s: f64, temp_k: f64, z: f64) -> f64 {
        if t_s <= 0.0 {
            return 0.0;
        }
        let t_eff = t_s * self.arrhenius_factor(temp_k);
        (self.drift_mean_us_per_ln_t + self.drift_sigma_us_per_ln_t * z)
            * (1.0 + t_eff / self.drift_t0_s).ln()
    }

    /// Temperature factor of conductance, 1 + coeff (T - T_ref).
    pub fn temperature_factor(&self, temp_k: f64) -> f64 {
        1.0 + self.temp_coeff_per_k * (temp_k - self.reference_temp_k)
    }

    /// Conductance of a device programmed to `g_prog_us` when read `t_s` seconds later at
    /// `temp_k`: (g + drift) (1 + coeff dT), kept >= 0.
    pub fn conductance_at(&self, g_prog_us: f64, t_s: f64, temp_k: f64, z: f64) -> f64 {
        self.read_conditions(t_s, temp_k).conductance(g_prog_us, z)
    }

    /// [`Self::conductance_at`] for many devices read `t_s` seconds after programming at
    /// `temp_k`: the time and temperature factors computed once.
    pub(crate) fn read_conditions(&self, t_s: f64, temp_k: f64) -> ReadConditions {
        ReadConditions {
            drift_mean_us: self.drift_mean_us_per_ln_t,
            drift_sigma_us: self.drift_sigma_us_per_ln_t,
            drifts: t_s > 0.0 || t_s.is_nan(),
            ln_time: if t_s <= 0.0 {
                0.0
            } else {
                let t_eff = t_s * self.arrhenius_factor(temp_k);
                (1.0 + t_eff / self.drift_t0_s).ln()
            },
            temp_factor: self.temperature_factor(temp_k),
        }
    }
}

/// Drift and temperature at one age and temperature; see [`DeviceParams::read_conditions`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ReadConditions {
    drift_mean_us: f64,
    drift_sigma_us: f64,
    /// Whether the devices have drifted (`t_s > 0`; NaN drifts, as in `drift_us`).
    drifts: bool,
    /// ln(1 + t_eff / t0) if they have, else 0. A plain number either way: the compiler may
    /// evaluate the drift before selecting it, and a leftover subnormal would be slow.
    ln_time: f64,
    temp_factor: f64,
}

impl ReadConditions {
    /// Conductance of a device programmed to `g_prog_us` with standard-normal drift
    /// coefficient `z`: [`DeviceParams::conductance_at`], the same arithmetic.
    #[inline]
    pub(crate) fn conductance(&self, g_prog_us: f64, z: f64) -> f64 {
        let drift = if self.drifts {
            (self.drift_mean_us + self.drift_sigma_us * z) * self.ln_time
        } else {
            0.0
        };
        ((g_prog_us + drift).max(0.0) * self.temp_factor).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::DeviceRng;

    #[test]
    fn presets_validate_and_ideal_is_exact() {
        assert!(DeviceParams::taox_3bit().validate().is_ok());
        let ideal = DeviceParams::ideal();
        assert!(ideal.validate().is_ok());
        assert_eq!(
            ideal.program_device(10.35, &mut DeviceRng::new(1, 5)),
            (10.35, 1)
        );
        assert_eq!(ideal.conductance_at(10.0, 1e6, 350.0, 1.0), 10.0);
        assert_eq!(DeviceParams::taox_3bit().levels(), 8);
        assert!((DeviceParams::taox_3bit().level_step_us() - 34.5 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn pair_programming_matches_single_devices() {
        // Both devices of each pair (devices 2i and 2i + 1), programmed in one batch.
        let p = DeviceParams::taox_3bit();
        let targets: Vec<f64> = (0..500u64)
            .flat_map(|i| [0.5 + (i % 8) as f64 * p.level_step_us(), 0.5])
            .collect();
        let mut g = vec![0.0; targets.len()];
        let mut pulses = vec![0; targets.len()];
        crate::write_verify::WriteVerify::new(&p).program(9, 0, &targets, &mut g, &mut pulses);
        for (k, &t) in targets.iter().enumerate() {
            assert_eq!(
                (g[k], pulses[k]),
                p.program_device(t, &mut DeviceRng::new(9, k as u64))
            );
        }
    }

    #[test]
    fn write_verify_reaches_tolerance_and_counts_pulses() {
        let p = DeviceParams::taox_3bit();
        let mut total = 0u64;
        for i in 0..2000 {
            let (g, pulses) = p.program_device(20.0, &mut DeviceRng::new(3, i));
            assert!(pulses >= 1 && pulses <= p.max_write_pulses);
            if pulses < p.max_write_pulses {
                assert!((g - 20.0).abs() <= p.write_verify_tol_us);
            }
            total += u64::from(pulses);
        }
        let mean = total as f64 / 2000.0;
        assert!(mean > 2.0 && mean < 10.0, "mean pulses {mean}");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut p = DeviceParams::taox_3bit();
        p.bits_per_cell = 0;
        assert_eq!(
            p.validate(),
            Err(SimError::ZeroBits {
                name: "DeviceParams::bits_per_cell"
            })
        );
        let mut p = DeviceParams::taox_3bit();
        p.g_max_us = 0.1;
        assert!(p.validate().unwrap_err().to_string().contains("g_max_us"));
        let mut p = DeviceParams::taox_3bit();
        p.read_voltage_v = f64::NAN;
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("read_voltage_v"));
    }

    #[test]
    fn drift_and_temperature_follow_the_formulas() {
        let p = DeviceParams::taox_3bit();
        // t = e - 1 s at T_ref: ln(1 + t) = 1, so drift = mean + sigma z.
        let t = std::f64::consts::E - 1.0;
        assert!((p.drift_us(t, 300.0, 1.0) - (-0.089 + 0.042)).abs() < 1e-12);
        assert!((p.temperature_factor(310.0) - 1.02).abs() < 1e-12);
        assert!((p.arrhenius_factor(300.0) - 1.0).abs() < 1e-12);
        assert!(p.arrhenius_factor(350.0) > 1.0);
    }
}
