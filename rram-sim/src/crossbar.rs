//! One crossbar array: write (write-verify), read, analogue MVM and closed-loop analogue INV,
//! each a `hardware_access` profiler span reporting its energy, latency and bytes.
//!
//! Physical state: the programmed conductances of both devices of every differential pair. What
//! an operation sees is the *effective* matrix at the array's current age and temperature:
//! G(t, T) = (G_prog + drift(t, T)) (1 + alpha (T - T_ref)), reduced by first-order IR drop
//! G / (1 + G R_wire (i + j + 2)), mapped back to values by `ConductanceMap`. It is cached and
//! recomputed only after a write or a change of age or temperature.

mod inv;

use nalgebra::{DMatrix, DVector};
use profiler_runtime::profile;

use crate::area::{array_area, AreaBreakdown, ArrayKind};
use crate::device::DeviceParams;
use crate::effective::Effective;
use crate::energy::{self, EnergyLedger};
use crate::error::{check_finite, SimError};
use crate::inv_loop::InvLoop;
use crate::linalg::{gemm_into, gemv, view};
use crate::mapping::ConductanceMap;
use crate::periphery::PeripheryParams;
use crate::program::{program_levels, Pairs};
use crate::quantize::{adc_round_in_place, full_scale, max_level, quantize_signed};
use crate::report::{MvmReport, OpCost, ReadReport, WriteReport};
use crate::rng::{stream, CounterRng};

/// One RRAM crossbar array of `rows x cols` differential pairs with its periphery.
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// use rram_sim::{Crossbar, DeviceParams};
///
/// let mut xbar = Crossbar::new(2, 2, DeviceParams::taox_3bit(), 42);
/// let m = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, -0.25, 1.0]);
/// let w = xbar.write_matrix(&m).unwrap();
/// assert!(w.pulses_total >= 8);                       // 4 pairs, at least one pulse per device
/// let y = xbar.matrix_vector_multiply(&DVector::from_vec(vec![1.0, 1.0])).unwrap();
/// assert!((y.y[0] - 1.5).abs() < 0.1);                // 3-bit weights, 7-bit inputs
/// let x = xbar.solve(&DVector::from_vec(vec![1.0, 0.0])).unwrap();   // analogue INV
/// assert!(x.cost.energy.total_pj() > 0.0 && x.settling_ns > 0.0);
/// ```
#[derive(Debug, Clone)]
pub struct Crossbar {
    rows: usize,
    cols: usize,
    device: DeviceParams,
    periphery: PeripheryParams,
    seed: u64,
    temperature_k: f64,
    age_s: f64,
    ops: u64,
    state: Option<Programmed>,
    eff: Option<Effective>,
    inv: Option<std::sync::Arc<InvLoop>>,
    total: EnergyLedger,
}

#[derive(Debug, Clone)]
struct Programmed {
    map: ConductanceMap,
    pairs: Pairs,
}

impl Crossbar {
    /// An unprogrammed array with the default periphery, at the device's reference temperature.
    /// Parameters are validated by each operation, which returns the error.
    pub fn new(rows: usize, cols: usize, device: DeviceParams, seed: u64) -> Self {
        let temperature_k = device.reference_temp_k;
        Self {
            rows,
            cols,
            device,
            periphery: PeripheryParams::default(),
            seed,
            temperature_k,
            age_s: 0.0,
            ops: 0,
            state: None,
            eff: None,
            inv: None,
            total: EnergyLedger::default(),
        }
    }

    /// Replaces the periphery parameters.
    pub fn with_periphery(mut self, periphery: PeripheryParams) -> Self {
        self.periphery = periphery;
        self.invalidate();
        self
    }

    /// (rows, cols) of the array.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// The device parameters.
    pub fn device(&self) -> &DeviceParams {
        &self.device
    }

    /// The periphery parameters.
    pub fn periphery(&self) -> &PeripheryParams {
        &self.periphery
    }

    /// Area of this array and its periphery used as `kind` ([`crate::area`]).
    pub fn area(&self, kind: ArrayKind) -> AreaBreakdown {
        array_area(&self.device, &self.periphery, self.rows, self.cols, kind)
    }

    /// Shape of the matrix last written, if any.
    pub fn programmed_shape(&self) -> Option<(usize, usize)> {
        self.state.as_ref().map(|s| s.pairs.g_pos.shape())
    }

    /// Energy and latency of every operation so far, summed sequentially.
    pub fn total_energy(&self) -> &EnergyLedger {
        &self.total
    }

    /// Temperature of the array, K.
    pub fn temperature_k(&self) -> f64 {
        self.temperature_k
    }

    /// Sets the temperature (K, in (0, 2000]); conductance and periphery power follow it.
    pub fn set_temperature_k(&mut self, temp_k: f64) -> Result<(), SimError> {
        crate::error::check_range(
            "temperature_k",
            temp_k,
            1.0,
            2000.0,
            "must lie in [1, 2000] K",
        )?;
        self.temperature_k = temp_k;
        self.invalidate();
        Ok(())
    }

    /// Time since the last write, s.
    pub fn age_s(&self) -> f64 {
        self.age_s
    }

    /// Sets the time since the last write (s, >= 0); conductances drift with it.
    pub fn set_age_s(&mut self, age_s: f64) -> Result<(), SimError> {
        crate::error::check_range("age_s", age_s, 0.0, 1e12, "must lie in [0, 1e12] s")?;
        self.age_s = age_s;
        self.invalidate();
        Ok(())
    }

    fn invalidate(&mut self) {
        self.eff = None;
        self.inv = None;
    }

    fn validate(&self) -> Result<(), SimError> {
        self.device.validate()?;
        self.periphery.validate()?;
        if self.rows == 0 || self.cols == 0 {
            return Err(SimError::Empty {
                input: "crossbar shape",
            });
        }
        Ok(())
    }

    fn charge(&mut self, energy: &EnergyLedger) {
        self.total.add_sequential(energy);
        energy.emit_metrics();
    }

    /// Reports the array's temperature to the current span: once, at the start of each
    /// profiled operation (never from `charge`, which also runs inside other spans, such as
    /// BlockAMC's tile programming, where a repeated metric would add up).
    fn report_temperature(&self) {
        profiler_runtime::metrics!(temperature_k = self.temperature_k);
    }

    fn next_noise(&mut self) -> CounterRng {
        self.ops += 1;
        CounterRng::new(self.seed, stream::READ).derive(self.ops)
    }

    /// Programs `m` (at most rows x cols) by write-verify: 3-bit (per the device) levels on
    /// differential pairs, scaled so max |m| is the top level. Resets the age to 0.
    #[profile(
        kind = "hardware_access",
        name = "crossbar.write_matrix",
        skip_all,
        err
    )]
    pub fn write_matrix(&mut self, m: &DMatrix<f64>) -> Result<WriteReport, SimError> {
        self.report_temperature();
        self.write_scaled(m, None)
    }

    /// [`Self::write_matrix`] with `w_max` (the magnitude mapped to the top level) given, so
    /// several arrays share one value-to-conductance scale and their currents add up in one
    /// circuit (BlockAMC's blocks). `None`: max |m|.
    pub(crate) fn write_scaled(
        &mut self,
        m: &DMatrix<f64>,
        w_max: Option<f64>,
    ) -> Result<WriteReport, SimError> {
        self.validate()?;
        let (r, c) = m.shape();
        if r == 0 || c == 0 {
            return Err(SimError::Empty { input: "m" });
        }
        if r > self.rows || c > self.cols {
            return Err(SimError::DoesNotFit {
                input: "m",
                rows: r,
                cols: c,
                array_rows: self.rows,
                array_cols: self.cols,
            });
        }
        check_finite("m", m.as_slice())?;
        let map = ConductanceMap::new(
            &self.device,
            w_max.unwrap_or_else(|| full_scale(m.as_slice())),
        );
        let levels = m.map(|v| map.level(v));
        let key = CounterRng::new(self.seed, stream::PROGRAM).key();
        let (pairs, st) = program_levels(
            &self.device,
            &self.periphery,
            &map,
            &levels,
            key,
            self.temperature_k,
        );
        self.state = Some(Programmed { map, pairs });
        self.age_s = 0.0;
        self.invalidate();
        let cost = OpCost {
            energy: st.ledger,
            bytes: (m.len() as u64).saturating_mul(8),
            cells_used: (m.len() as u64).saturating_mul(2),
            area_um2: self.area(ArrayKind::Mvm).total_um2(),
        };
        self.charge(&cost.energy);
        profiler_runtime::metrics!(bytes = cost.bytes, write_pulses = st.pulses_total);
        Ok(WriteReport {
            cost,
            pulses_total: st.pulses_total,
            pulses_max: st.pulses_max,
            cells_failed: st.failed,
            max_error_us: st.max_error_us,
        })
    }

    pub(crate) fn effective(&mut self) -> Result<&Effective, SimError> {
        if self.eff.is_none() {
            let st = self.state.as_ref().ok_or(SimError::NotProgrammed)?;
            self.eff = Some(Effective::compute(
                &st.pairs,
                &st.map,
                &self.device,
                &self.periphery,
                self.seed,
                self.age_s,
                self.temperature_k,
            ));
        }
        self.eff.as_ref().ok_or(SimError::NotProgrammed)
    }

    /// Matrix value per µS of differential conductance (1 before anything is programmed).
    pub(crate) fn value_per_us(&self) -> f64 {
        self.state.as_ref().map_or(1.0, |s| s.map.value_per_us())
    }

    /// The noise-free matrix the array represents now (after quantisation, programming error,
    /// drift, temperature and IR drop). Free: a simulator view, not a hardware operation.
    pub fn effective_matrix(&mut self) -> Result<DMatrix<f64>, SimError> {
        Ok(self.effective()?.m.clone())
    }

    /// Reads every cell (one column at a time, rows in parallel) through the ADC, with read noise.
    #[profile(kind = "hardware_access", name = "crossbar.read_matrix", skip_all, err)]
    pub fn read_matrix(&mut self) -> Result<ReadReport, SimError> {
        self.report_temperature();
        self.validate()?;
        let noise = self.next_noise();
        let (temp, dev, per) = (
            self.temperature_k,
            self.device.clone(),
            self.periphery.clone(),
        );
        let value_per_us = self.value_per_us();
        let eff = self.effective()?;
        let (r, c) = eff.m.shape();
        let range_us = dev.g_max_us - dev.g_min_us;
        let q = max_level(per.adc_bits - 1);
        let mut out = eff.m.clone();
        for (k, v) in out.as_mut_slice().iter_mut().enumerate() {
            let diff_us = *v / value_per_us
                + dev.read_noise_us * std::f64::consts::SQRT_2 * noise.normal(k as u64);
            *v = (diff_us / range_us * q).round().clamp(-q, q) * range_us / q * value_per_us;
        }
        let line_g: f64 = eff.line_g_us.iter().sum();
        let t_adc = energy::adc_latency_ns(&per, per.adc_bits);
        let cells = (r * c) as f64;
        let e = EnergyLedger {
            array_pj: energy::cell_energy_pj(dev.read_voltage_v, line_g, dev.read_pulse_ns),
            adc_pj: cells * energy::adc_energy_pj(&per, per.adc_bits, temp),
            opamp_pj: energy::opamp_energy_pj(&per, r, dev.read_pulse_ns * c as f64, temp),
            digital_pj: 0.0,
            latency_ns: c as f64 * (dev.read_pulse_ns + t_adc),
            ..Default::default()
        };
        let cost = OpCost {
            energy: e,
            bytes: (r * c * 8) as u64,
            cells_used: (2 * r * c) as u64,
            area_um2: self.area(ArrayKind::Mvm).total_um2(),
        };
        self.charge(&cost.energy);
        profiler_runtime::metrics!(bytes = cost.bytes);
        Ok(ReadReport { matrix: out, cost })
    }

    /// Analogue y = M x: inputs quantised to `input_bits` and applied in bit slices of
    /// `dac_bits` (sign by polarity); each slice's outputs are digitised by the ADC (auto-ranged,
    /// `adc_bits`) and shift-added digitally. Read noise per device per slice.
    #[profile(kind = "hardware_access", name = "crossbar.mvm", skip_all, err)]
    pub fn matrix_vector_multiply(&mut self, x: &DVector<f64>) -> Result<MvmReport, SimError> {
        self.report_temperature();
        self.validate()?;
        let noise = self.next_noise();
        let (temp, dev, per) = (
            self.temperature_k,
            self.device.clone(),
            self.periphery.clone(),
        );
        let value_per_us = self.value_per_us();
        let eff = self.effective()?;
        let (r, c) = eff.m.shape();
        if x.len() != c {
            return Err(SimError::ShapeMismatch {
                input: "x",
                found: x.len(),
                expected: c,
                why: "x must have one entry per programmed column",
            });
        }
        check_finite("x", x.as_slice())?;
        let (b, d) = (per.input_bits, per.dac_bits.min(per.input_bits));
        let slices = b.div_ceil(d) as usize;
        let fs = full_scale(x.as_slice());
        let digit_max = max_level(d);
        // U: one column per input slice, integer digits with the input's sign.
        let mut u = DMatrix::<f64>::zeros(c, slices);
        for (j, &xj) in x.iter().enumerate() {
            let n = quantize_signed(xj, fs, b);
            let mag = n.abs() as u64;
            for k in 0..slices {
                let digit = ((mag >> (d as usize * k)) & ((1u64 << d) - 1)) as f64;
                u[(j, k)] = digit * n.signum();
            }
        }
        let mut y_slices = DMatrix::<f64>::zeros(r, slices);
        gemm_into(&mut y_slices, view(&eff.m), view(&u), 1.0, false);
        let mut array_pj = 0.0;
        let mut y = DVector::<f64>::zeros(r);
        for k in 0..slices {
            let uk = u.column(k);
            let sum_u2: f64 = uk.iter().map(|v| v * v).sum();
            let sigma = dev.read_noise_us * value_per_us * (2.0 * sum_u2).sqrt();
            let mut col: Vec<f64> = y_slices
                .column(k)
                .iter()
                .enumerate()
                .map(|(i, v)| v + sigma * noise.normal((k * r + i) as u64))
                .collect();
            adc_round_in_place(&mut col, per.adc_bits);
            let w = (d as f64 * k as f64).exp2();
            for (yi, v) in y.iter_mut().zip(&col) {
                *yi += w * v;
            }
            let volts = uk.iter().map(|v| v / digit_max * dev.read_voltage_v);
            array_pj += energy::array_energy_pj(volts, &eff.line_g_us, dev.read_pulse_ns);
        }
        if fs > 0.0 {
            y *= fs / max_level(b);
        }
        let s = slices as f64;
        let t_adc = energy::adc_latency_ns(&per, per.adc_bits);
        let e = EnergyLedger {
            array_pj,
            dac_pj: s * c as f64 * energy::dac_energy_pj(&per, d, temp),
            adc_pj: s * r as f64 * energy::adc_energy_pj(&per, per.adc_bits, temp),
            opamp_pj: energy::opamp_energy_pj(&per, r, s * dev.read_pulse_ns, temp),
            digital_pj: energy::digital_energy_pj(&per, s * r as f64),
            write_driver_pj: 0.0,
            latency_ns: s * (per.dac_latency_ns + dev.read_pulse_ns + t_adc)
                + per.digital_latency_ns,
        };
        let cost = OpCost {
            energy: e,
            bytes: ((r + c) * 8) as u64,
            cells_used: (2 * r * c) as u64,
            area_um2: self.area(ArrayKind::Mvm).total_um2(),
        };
        self.charge(&cost.energy);
        profiler_runtime::metrics!(bytes = cost.bytes);
        Ok(MvmReport {
            y,
            cost,
            input_slices: slices as u32,
        })
    }

    /// The linear, noise-free MVM (not charged): `M x`.
    pub(crate) fn mvm_ideal(&mut self, x: &[f64]) -> Result<DVector<f64>, SimError> {
        Ok(gemv(&self.effective()?.m, x))
    }
}
