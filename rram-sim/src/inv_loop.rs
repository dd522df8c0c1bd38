//! The steady state of a closed INV loop built from programmed arrays: what the circuit
//! settles to, with DAC and ADC rounding and read noise, and the loop's dynamics.
//!
//! The loop of effective matrix M (value units, the programmed arrays' image) whose nodes see
//! total conductances D (µS) settles, with op-amps of DC gain A, to (M + diag(D u) / A) x = b,
//! where u is the value per µS of differential conductance: the finite-gain term of
//! [`crate::dynamics`]. A crossbar's INV and every BlockAMC loop are one of these.

use std::ops::Range;

use nalgebra::DMatrix;

use crate::dynamics::{loop_dynamics, LoopDynamics};
use crate::error::SimError;
use crate::linalg::{norm2, Lu};
use crate::periphery::PeripheryParams;
use crate::quantize::{adc_round_in_place, full_scale, max_level, quantize_signed};
use crate::rng::CounterRng;

/// A factored, stable loop.
#[derive(Debug)]
pub(crate) struct InvLoop {
    lu: Lu,
    /// Stability and settling.
    pub dynamics: LoopDynamics,
    /// Value units per µS (to turn device read noise into value units).
    value_per_us: f64,
}

impl InvLoop {
    /// The loop of `m` (value units, square) with node conductances `node_g_us` and
    /// `value_per_us`. Errors: [`SimError::Singular`] (naming `input`, with `why`) if the loop
    /// matrix cannot be factored or is singular to within the op-amps' gain,
    /// [`SimError::Unstable`] if an eigenvalue has a non-positive real part.
    pub(crate) fn build(
        m: &DMatrix<f64>,
        node_g_us: &[f64],
        value_per_us: f64,
        periphery: &PeripheryParams,
        input: &'static str,
        label: &str,
        why: &str,
    ) -> Result<Self, SimError> {
        let n = m.nrows();
        let gain = periphery.opamp_gain;
        let mut loop_m = m.clone();
        for (i, &d) in node_g_us.iter().enumerate().take(n) {
            loop_m[(i, i)] += d * value_per_us / gain;
        }
        let lu = Lu::factor(&loop_m, input, why)?;
        let g_us = m / value_per_us;
        let dynamics = loop_dynamics(&g_us, node_g_us, periphery, label)?;
        // Below this the loop's own finite-gain error swamps the matrix: singular as far as the
        // circuit can tell, and its output would be saturated noise.
        let floor = 10.0 / gain;
        if dynamics.min_abs_lambda < floor {
            return Err(SimError::Singular {
                input,
                why: format!(
                    "{label} is singular to within the op-amps' finite gain (smallest |eigenvalue| of the normalised loop D^-1 G {:.3e} < 10 / gain = {floor:.3e})",
                    dynamics.min_abs_lambda
                ),
            });
        }
        Ok(Self {
            lu,
            dynamics,
            value_per_us,
        })
    }

    /// Order of the loop.
    pub(crate) fn n(&self) -> usize {
        self.lu.n()
    }

    /// The noise-free steady state: `x <- (M + D u / A)^-1 x`.
    pub(crate) fn solve_ideal(&self, x: &mut [f64]) {
        self.lu.solve_in_place(x);
    }

    /// What the circuit settles to for input `b` (one entry per node; zero where a node gets
    /// no input): `b` through `dac_bits` DACs (auto-ranged), the loop with every device's
    /// read noise (`read_noise_us` per device, input-referred), and the outputs in `out`
    /// through the `adc_bits` ADC (auto-ranged). Returns every node's output; only `out` is
    /// digitised.
    pub(crate) fn settle(
        &self,
        b: &[f64],
        out: Range<usize>,
        periphery: &PeripheryParams,
        read_noise_us: f64,
        noise: CounterRng,
    ) -> Vec<f64> {
        let fs = full_scale(b);
        let q = max_level(periphery.dac_bits);
        let mut x: Vec<f64> = b
            .iter()
            .map(|&v| quantize_signed(v, fs, periphery.dac_bits) * fs / q)
            .collect();
        self.lu.solve_in_place(&mut x);
        let sigma = read_noise_us * self.value_per_us * std::f64::consts::SQRT_2 * norm2(&x);
        if sigma > 0.0 {
            let mut eps: Vec<f64> = (0..x.len())
                .map(|i| sigma * noise.normal(i as u64))
                .collect();
            self.lu.solve_in_place(&mut eps);
            x.iter_mut().zip(&eps).for_each(|(a, e)| *a += e);
        }
        adc_round_in_place(&mut x[out], periphery.adc_bits);
        x
    }
}
