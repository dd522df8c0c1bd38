//! Closed-loop analogue INV on one array ([`Crossbar::solve`]).

use std::sync::Arc;

use nalgebra::DVector;
use profiler_runtime::profile;

use super::Crossbar;
use crate::area::ArrayKind;
use crate::energy::{self, EnergyLedger};
use crate::error::{check_finite, SimError};
use crate::inv_loop::InvLoop;
use crate::report::{InvReport, OpCost};

impl Crossbar {
    /// The array's INV loop (factored, checked for stability), cached until the next write or
    /// change of age or temperature.
    pub(crate) fn inv_loop(&mut self) -> Result<Arc<InvLoop>, SimError> {
        if let Some(c) = &self.inv {
            return Ok(c.clone());
        }
        let value_per_us = self.value_per_us();
        let periphery = self.periphery.clone();
        let eff = self.effective()?;
        let (r, c) = eff.m.shape();
        if r != c {
            return Err(SimError::NotSquare {
                input: "programmed matrix (INV needs a square array)",
                rows: r,
                cols: c,
            });
        }
        let lp = InvLoop::build(
            &eff.m,
            &eff.row_g_us,
            value_per_us,
            &periphery,
            "g",
            "the matrix on the INV array",
            "its image on the array (quantised, programmed, finite op-amp gain) cannot be inverted by the INV circuit",
        )?;
        let cache = Arc::new(lp);
        self.inv = Some(cache.clone());
        Ok(cache)
    }

    /// Closed-loop analogue INV: x with M x = b, where M is the array's effective matrix.
    ///
    /// Models DAC quantisation of b (auto-ranged), finite op-amp gain, read noise of every
    /// device (input-referred) and ADC quantisation of x. The loop settles in
    /// (adc_bits + 1) ln 2 / (2 pi GBW min Re lambda) for the eigenvalues lambda of D^-1 G + I/A
    /// ([`crate::dynamics`]); a loop with an eigenvalue of non-positive real part returns
    /// [`SimError::Unstable`] instead of an answer.
    #[profile(kind = "hardware_access", name = "crossbar.inv", skip_all, err)]
    pub fn solve(&mut self, b: &DVector<f64>) -> Result<InvReport, SimError> {
        self.report_temperature();
        self.validate()?;
        let noise = self.next_noise();
        let lp = self.inv_loop()?;
        let (temp, dev, per) = (
            self.temperature_k,
            self.device.clone(),
            self.periphery.clone(),
        );
        let n = lp.n();
        if b.len() != n {
            return Err(SimError::ShapeMismatch {
                input: "b",
                found: b.len(),
                expected: n,
                why: "b must have one entry per row of the array",
            });
        }
        check_finite("b", b.as_slice())?;
        let x = lp.settle(b.as_slice(), 0..n, &per, dev.read_noise_us, noise);
        let settle = lp.dynamics.settling_ns;
        let xs = crate::quantize::full_scale(&x);
        let line_g = self.effective()?.line_g_us.clone();
        let volts = x.iter().map(|v| {
            if xs > 0.0 {
                v / xs * dev.read_voltage_v
            } else {
                0.0
            }
        });
        let t_adc = energy::adc_latency_ns(&per, per.adc_bits);
        let e = EnergyLedger {
            array_pj: energy::array_energy_pj(volts, &line_g, settle),
            dac_pj: n as f64 * energy::dac_energy_pj(&per, per.dac_bits, temp),
            adc_pj: n as f64 * energy::adc_energy_pj(&per, per.adc_bits, temp),
            opamp_pj: energy::opamp_energy_pj(&per, 2 * n, settle, temp),
            digital_pj: energy::digital_energy_pj(&per, 2.0 * n as f64),
            write_driver_pj: 0.0,
            latency_ns: per.dac_latency_ns + settle + t_adc + per.digital_latency_ns,
        };
        let cost = OpCost {
            energy: e,
            bytes: (2 * n * 8) as u64,
            cells_used: (2 * n * n) as u64,
            area_um2: self.area(ArrayKind::Inv).total_um2(),
        };
        self.charge(&cost.energy);
        profiler_runtime::metrics!(bytes = cost.bytes, settling_ns = settle);
        Ok(InvReport {
            x: DVector::from_vec(x),
            cost,
            settling_ns: settle,
            lambda_min: lp.dynamics.min_re_lambda,
            dynamics: lp.dynamics,
        })
    }

    /// The linear, noise-free part of INV (no DAC/ADC rounding, no noise, not charged): for
    /// spectral-radius estimates. `x <- M_loop^-1 x`.
    pub(crate) fn solve_ideal(&mut self, x: &mut [f64]) -> Result<(), SimError> {
        self.inv_loop()?.solve_ideal(x);
        Ok(())
    }
}
