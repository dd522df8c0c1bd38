//! High-precision MVM by bit slicing (HP-MVM): r = b - sum_i 2^(-s i) (A_i x), each slice on
//! its own arrays, inputs applied in bit slices, every partial sum digitised and shift-added.
//!
//! Digital recovery: a slice's digits are integers, so a column's partial sum over `R` rows
//! with integer inputs is an integer; an ADC with an LSB of one level reads it exactly when the
//! analogue error (programming, drift, temperature, read noise) stays below half a level. After
//! programming, the deterministic part is bounded per partial sum from the actual devices; the
//! read-noise part is Gaussian. If the chance of any rounding error over the whole solve is
//! below 1e-6, the product equals the sliced product A_q x_q and is computed as one GEMV
//! ("exact" mode); otherwise every partial sum is simulated with its noise and rounded
//! ("explicit" mode, O(S J n^2) per product).

use nalgebra::{DMatrix, DVector};
use profiler_runtime::profile;

use super::hp_slice::{program_slice, SliceArrays, SliceData};
use crate::device::DeviceParams;
use crate::energy::{self, EnergyLedger};
use crate::error::SimError;
use crate::linalg::gemv;
use crate::periphery::PeripheryParams;
use crate::quantize::{full_scale, max_level, quantize_signed, SlicedGrid};
use crate::rng::{stream, CounterRng};

/// Bit-sliced, digitally recovered MVM arrays holding one matrix.
#[derive(Debug)]
pub(crate) struct HpMvm {
    device: DeviceParams,
    periphery: PeripheryParams,
    bits: u32,
    input_bits: u32,
    input_slice_bits: u32,
    rows_per_adc: usize,
    w_max: f64,
    seed: u64,
    temp_k: f64,
    age_s: f64,
    max_products: f64,
    /// A quantised to the active slices (exact mode).
    a_q: DMatrix<f64>,
    /// Per slice, per input line: total conductance of the slice's column, uS.
    colsum_us: Vec<Vec<f64>>,
    /// Per slice: digits plus analogue error, in levels (explicit mode only).
    analog: Vec<Option<DMatrix<f64>>>,
    /// Largest deterministic partial-sum error per slice, levels.
    bound_levels: Vec<f64>,
    /// Energy and latency spent programming the slice arrays.
    pub programming: EnergyLedger,
    /// Write pulses spent programming.
    pub pulses: u64,
    /// Devices outside tolerance after programming.
    pub cells_failed: u64,
    /// Whether the last configuration reads exactly (see the module docs).
    pub exact: bool,
    /// Expected number of rounding errors over the solve in exact mode.
    pub expected_rounding_errors: f64,
    ops: u64,
}

impl HpMvm {
    /// Programs the first `slices` slices of `a`. `max_products` bounds the number of products
    /// the solve will run, for the exact-mode error budget.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        a: &DMatrix<f64>,
        device: &DeviceParams,
        periphery: &PeripheryParams,
        slices: usize,
        input_bits: u32,
        input_slice_bits: u32,
        rows_per_adc: usize,
        seed: u64,
        temp_k: f64,
        age_s: f64,
        max_products: usize,
    ) -> Self {
        let mut me = Self {
            device: device.clone(),
            periphery: periphery.clone(),
            bits: device.bits_per_cell,
            input_bits,
            input_slice_bits: input_slice_bits.min(input_bits),
            rows_per_adc: rows_per_adc.max(1),
            w_max: full_scale(a.as_slice()).max(f64::MIN_POSITIVE),
            seed,
            temp_k,
            age_s,
            max_products: max_products.max(1) as f64,
            a_q: DMatrix::zeros(0, 0),
            colsum_us: Vec::new(),
            analog: Vec::new(),
            bound_levels: Vec::new(),
            programming: EnergyLedger::default(),
            pulses: 0,
            cells_failed: 0,
            exact: true,
            expected_rounding_errors: 0.0,
            ops: 0,
        };
        for _ in 0..slices.max(1) {
            me.push_slice(a);
        }
        me.refresh(a);
        me
    }

    /// Active weight slices.
    pub(crate) fn slices(&self) -> usize {
        self.colsum_us.len()
    }

    /// Physical arrays: per slice, `rows_per_adc x rows_per_adc` tiles covering the matrix.
    pub(crate) fn arrays(&self) -> usize {
        let (r, c) = self.a_q.shape();
        self.slices() * r.div_ceil(self.rows_per_adc) * c.div_ceil(self.rows_per_adc)
    }

    /// Area of the slice arrays and their periphery (TIA and ADC per output row of a tile at
    /// HP-MVM's ADC resolution, a DAC of `input_slice_bits` per input line).
    pub(crate) fn area(&self) -> crate::area::AreaBreakdown {
        let p = PeripheryParams {
            adc_bits: self.adc_bits(),
            dac_bits: self.input_slice_bits,
            ..self.periphery.clone()
        };
        let t = self.rows_per_adc;
        crate::area::array_area(&self.device, &p, t, t, crate::area::ArrayKind::Mvm)
            .times(self.arrays() as f64)
    }

    /// Bits of A represented by the active slices: log2(q 2^(s (S-1))) + 1.
    pub(crate) fn weight_bits(&self) -> f64 {
        (max_level(self.bits)).log2() + f64::from(self.bits) * (self.slices() as f64 - 1.0) + 1.0
    }

    /// RMS estimate of ||y - A x|| for y = HP-MVM(x): the active slices represent each entry
    /// of A within half a step of the last slice (uniform), the inputs are rounded to
    /// `input_bits`; both errors are independent across entries.
    pub(crate) fn error_estimate(&self, x: &DVector<f64>) -> f64 {
        let (r, c) = self.a_q.shape();
        let step_bits = f64::from(self.bits) * (self.slices() as f64 - 1.0);
        let e_w = self.w_max / (2.0 * max_level(self.bits) * step_bits.exp2());
        let e_x = full_scale(x.as_slice()) / (2.0 * max_level(self.input_bits));
        let xnorm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        let weights = e_w * xnorm * (r as f64).sqrt();
        let inputs = e_x * self.w_max * ((r * c) as f64).sqrt();
        (weights * weights + inputs * inputs).sqrt() / 3f64.sqrt()
    }

    /// Programs one more slice (adaptive precision) and re-derives the exact-mode decision.
    pub(crate) fn add_slice(&mut self, a: &DMatrix<f64>) {
        self.push_slice(a);
        self.refresh(a);
    }

    /// Programs the next slice and records its cost, error bound and line conductances. Its
    /// per-device analogue image is not kept: [`Self::refresh`] re-derives it if needed
    /// (explicit mode only).
    #[profile(kind = "hardware_access", name = "hp_mvm.program_slice", skip_all)]
    fn push_slice(&mut self, a: &DMatrix<f64>) {
        let sd = self.program_slice(a, self.slices(), false);
        // The slice's own arrays report through this span, so the profile's energy adds up
        // to the solvers' ledgers.
        sd.ledger.emit_metrics();
        profiler_runtime::metrics!(temperature_k = self.temp_k);
        self.programming.add_parallel(&sd.ledger);
        self.pulses = self.pulses.saturating_add(sd.pulses);
        self.cells_failed = self.cells_failed.saturating_add(sd.failed);
        self.bound_levels.push(sd.bound);
        self.colsum_us.push(sd.colsum);
        self.analog.push(None);
    }

    /// Recomputes the sliced matrix and the exact-mode decision for the active slices.
    fn refresh(&mut self, a: &DMatrix<f64>) {
        let grid = SlicedGrid::new(self.bits, self.slices());
        self.a_q = a.map(|v| grid.value(v / self.w_max) * self.w_max);
        self.decide_mode(a.nrows(), a.ncols());
        if self.exact {
            self.analog.iter_mut().for_each(|m| *m = None);
        } else {
            // Re-derived from the same keys, so the same devices.
            for k in 0..self.analog.len() {
                if self.analog[k].is_none() {
                    self.analog[k] = self.program_slice(a, k, true).analog;
                }
            }
        }
    }

    /// Programs slice `i` of `a` and measures its analogue error at read conditions, keeping
    /// the analogue image if `keep_analog`.
    fn program_slice(&self, a: &DMatrix<f64>, i: usize, keep_analog: bool) -> SliceData {
        let arrays = SliceArrays {
            device: &self.device,
            periphery: &self.periphery,
            w_max: self.w_max,
            seed: self.seed,
            temp_k: self.temp_k,
            age_s: self.age_s,
            rows_per_adc: self.rows_per_adc,
        };
        program_slice(&arrays, a, i, keep_analog)
    }

    fn input_slices(&self) -> usize {
        self.input_bits.div_ceil(self.input_slice_bits) as usize
    }

    fn adc_bits(&self) -> u32 {
        let range = 2.0
            * self.rows_per_adc as f64
            * max_level(self.bits)
            * max_level(self.input_slice_bits)
            + 1.0;
        range.log2().ceil() as u32
    }

    fn decide_mode(&mut self, r: usize, c: usize) {
        let u_max = max_level(self.input_slice_bits);
        let det = u_max * self.bound_levels.iter().fold(0.0f64, |m, b| m.max(*b));
        let sigma = u_max * (2.0 * self.rows_per_adc as f64).sqrt() * self.device.read_noise_us
            / self.device.level_step_us();
        let margin = 0.5 - det;
        let conversions = self.slices() as f64
            * self.input_slices() as f64
            * r as f64
            * c.div_ceil(self.rows_per_adc) as f64;
        let p = if margin <= 0.0 {
            1.0
        } else if sigma == 0.0 {
            0.0
        } else {
            erfc(margin / (sigma * std::f64::consts::SQRT_2))
        };
        self.expected_rounding_errors = p * conversions * self.max_products;
        self.exact = self.expected_rounding_errors < 1e-6;
    }

    /// y ~ A x by HP-MVM; charges `ledger` with the product's energy and latency.
    #[profile(kind = "hardware_access", name = "hp_mvm", skip_all, err)]
    pub(crate) fn mvm(
        &mut self,
        x: &DVector<f64>,
        ledger: &mut EnergyLedger,
    ) -> Result<DVector<f64>, SimError> {
        self.ops += 1;
        let (r, c) = self.a_q.shape();
        let fs = full_scale(x.as_slice());
        let (b, d) = (self.input_bits, self.input_slice_bits);
        let j_count = self.input_slices();
        let qb = max_level(b);
        let n_int: Vec<f64> = x.iter().map(|&v| quantize_signed(v, fs, b)).collect();
        let digit_of = |n: f64, k: usize| -> f64 {
            (((n.abs() as u64) >> (d as usize * k)) & ((1u64 << d) - 1)) as f64 * n.signum()
        };
        let y = if self.exact {
            let xq: Vec<f64> = n_int.iter().map(|n| n * fs / qb).collect();
            gemv(&self.a_q, &xq)
        } else {
            self.explicit_product(&n_int, fs, &digit_of)
        };
        // Energy: per slice and input slice, each line's V^2 times its column conductance.
        let t_read = self.device.read_pulse_ns;
        let v_unit = self.device.read_voltage_v / max_level(d);
        let mut array_pj = 0.0;
        for colsum in &self.colsum_us {
            for k in 0..j_count {
                let volts = n_int.iter().map(|&n| digit_of(n, k).abs() * v_unit);
                array_pj += energy::array_energy_pj(volts, colsum, t_read);
            }
        }
        let (s, jc) = (self.slices() as f64, j_count as f64);
        let tiles = c.div_ceil(self.rows_per_adc) as f64;
        let conv = s * jc * r as f64 * tiles;
        let adc_bits = self.adc_bits();
        let per = &self.periphery;
        let e = EnergyLedger {
            array_pj,
            dac_pj: s * jc * c as f64 * energy::dac_energy_pj(per, d, self.temp_k),
            adc_pj: conv * energy::adc_energy_pj(per, adc_bits, self.temp_k),
            opamp_pj: energy::opamp_energy_pj(
                per,
                (s * r as f64 * tiles) as usize,
                jc * t_read,
                self.temp_k,
            ),
            digital_pj: energy::digital_energy_pj(per, conv + 2.0 * r as f64),
            write_driver_pj: 0.0,
            latency_ns: jc * (per.dac_latency_ns + t_read + energy::adc_latency_ns(per, adc_bits))
                + per.digital_latency_ns * (s * tiles).log2().ceil().max(1.0),
        };
        e.emit_metrics();
        profiler_runtime::metrics!(
            bytes = (r + c) * 8,
            adc_conversions = conv,
            temperature_k = self.temp_k
        );
        ledger.add_sequential(&e);
        Ok(y)
    }

    fn explicit_product(
        &self,
        n_int: &[f64],
        fs: f64,
        digit_of: &dyn Fn(f64, usize) -> f64,
    ) -> DVector<f64> {
        let (r, c) = self.a_q.shape();
        let j_count = self.input_slices();
        let q = max_level(self.bits);
        let noise = CounterRng::new(self.seed, stream::READ).derive(0x4850_4d56 ^ self.ops);
        let sigma_unit = (2.0f64).sqrt() * self.device.read_noise_us / self.device.level_step_us();
        let mut y = DVector::zeros(r);
        let mut counter = 0u64;
        for (i, w) in self.analog.iter().enumerate() {
            let Some(w) = w else { continue };
            let wi = (-(f64::from(self.bits)) * i as f64).exp2() / q;
            for k in 0..j_count {
                let u: Vec<f64> = n_int.iter().map(|&n| digit_of(n, k)).collect();
                let wk = wi * (f64::from(self.input_slice_bits) * k as f64).exp2();
                for j0 in (0..c).step_by(self.rows_per_adc) {
                    let j1 = (j0 + self.rows_per_adc).min(c);
                    let su2: f64 = u[j0..j1].iter().map(|v| v * v).sum();
                    if su2 == 0.0 {
                        continue;
                    }
                    let sigma = sigma_unit * su2.sqrt();
                    for row in 0..r {
                        let mut acc = 0.0;
                        for j in j0..j1 {
                            acc += w[(row, j)] * u[j];
                        }
                        counter += 1;
                        acc += sigma * noise.normal(counter);
                        y[row] += wk * acc.round();
                    }
                }
            }
        }
        y * (self.w_max * fs / max_level(self.input_bits))
    }
}

/// Complementary error function, Numerical Recipes' Chebyshev fit (fractional error < 1.2e-7
/// everywhere, tails included).
pub(crate) fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let ans = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        ans
    } else {
        2.0 - ans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(5.0) / 1.537_459_8e-12 - 1.0).abs() < 1e-5);
    }
}
