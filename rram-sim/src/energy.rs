//! The energy/latency ledger by circuit component, and one function per physical formula.
//!
//! Units: conductance uS, voltage V, time ns, power uW, energy pJ. Useful identities:
//! V^2 x uS x ns = 1e-15 J = 1e-3 pJ, and uW x ns = 1e-3 pJ.

use serde::{Deserialize, Serialize};
use std::ops::AddAssign;

use crate::periphery::{AdcModel, PeripheryParams};

/// Energy by component plus latency, for one operation or summed over many.
///
/// The total is computed from the components, so they always add up to it.
///
/// ```
/// use rram_sim::EnergyLedger;
/// let mut a = EnergyLedger { adc_pj: 2.0, latency_ns: 10.0, ..Default::default() };
/// let b = EnergyLedger { array_pj: 1.0, latency_ns: 5.0, ..Default::default() };
/// a.add_sequential(&b);
/// assert_eq!(a.total_pj(), 3.0);
/// assert_eq!(a.latency_ns, 15.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergyLedger {
    /// Energy dissipated in the cells (V^2 G t), pJ.
    pub array_pj: f64,
    /// DAC conversions, pJ.
    pub dac_pj: f64,
    /// ADC conversions, pJ.
    pub adc_pj: f64,
    /// Op-amps and TIAs, pJ.
    pub opamp_pj: f64,
    /// Write drivers (programming pulses), pJ.
    pub write_driver_pj: f64,
    /// Digital logic (shift-and-add, accumulation, digital pre-processing), pJ.
    pub digital_pj: f64,
    /// Latency, ns: sums along sequential steps, maximum across parallel ones.
    pub latency_ns: f64,
}

impl EnergyLedger {
    /// Component names, in the order of [`Self::components`].
    pub const COMPONENTS: [&'static str; 6] =
        ["array", "dac", "adc", "opamp", "write_driver", "digital"];

    /// Total energy, pJ: the sum of the components.
    pub fn total_pj(&self) -> f64 {
        self.components().iter().sum()
    }

    /// The components as an array in the order of [`Self::COMPONENTS`].
    pub fn components(&self) -> [f64; 6] {
        [
            self.array_pj,
            self.dac_pj,
            self.adc_pj,
            self.opamp_pj,
            self.write_driver_pj,
            self.digital_pj,
        ]
    }

    /// Adds a step that runs after this one: energies and latencies add.
    pub fn add_sequential(&mut self, other: &EnergyLedger) {
        self.add_energy(other);
        self.latency_ns += other.latency_ns;
    }

    /// Adds a step that runs at the same time: energies add, latency is the maximum.
    pub fn add_parallel(&mut self, other: &EnergyLedger) {
        self.add_energy(other);
        self.latency_ns = self.latency_ns.max(other.latency_ns);
    }

    fn add_energy(&mut self, o: &EnergyLedger) {
        self.array_pj += o.array_pj;
        self.dac_pj += o.dac_pj;
        self.adc_pj += o.adc_pj;
        self.opamp_pj += o.opamp_pj;
        self.write_driver_pj += o.write_driver_pj;
        self.digital_pj += o.digital_pj;
    }

    /// Reports this ledger to the current profiler span: `energy_pj`, `latency_ns` and
    /// `energy.<component>_pj` through `profiler_runtime::metrics!`.
    pub fn emit_metrics(&self) {
        profiler_runtime::metrics!(
            energy_pj = self.total_pj(),
            latency_ns = self.latency_ns,
            energy.array_pj = self.array_pj,
            energy.dac_pj = self.dac_pj,
            energy.adc_pj = self.adc_pj,
            energy.opamp_pj = self.opamp_pj,
            energy.write_driver_pj = self.write_driver_pj,
            energy.digital_pj = self.digital_pj
        );
    }
}

impl AddAssign<&EnergyLedger> for EnergyLedger {
    /// Same as [`EnergyLedger::add_sequential`].
    fn add_assign(&mut self, rhs: &EnergyLedger) {
        self.add_sequential(rhs);
    }
}

/// Energy of one cell held at `v` volts for `t_ns`: E = V^2 G t, pJ.
/// Used for reads, MVM and INV (array component) and write pulses (write-driver component).
pub fn cell_energy_pj(v: f64, g_us: f64, t_ns: f64) -> f64 {
    v * v * g_us * t_ns * 1e-3
}

/// Array energy of one analogue step: sum_j V_j^2 (sum_i G_ij) t, pJ, given the voltage on each
/// input line and the total conductance on that line (both devices of each pair).
pub fn array_energy_pj(
    line_voltages_v: impl IntoIterator<Item = f64>,
    line_conductance_us: &[f64],
    t_ns: f64,
) -> f64 {
    line_voltages_v
        .into_iter()
        .zip(line_conductance_us)
        .map(|(v, g)| cell_energy_pj(v, *g, t_ns))
        .sum()
}

/// Energy of one DAC conversion at `bits`: e_level (2^bits - 1), pJ (MNSIM's points).
pub fn dac_energy_pj(p: &PeripheryParams, bits: u32, temp_k: f64) -> f64 {
    p.dac_energy_per_level_pj * crate::quantize::max_level(bits) * p.power_factor(temp_k)
}

/// Energy of one ADC conversion at `bits` under the periphery's ADC model, pJ.
/// SAR: (0.538 b + 4.38) uW x (b + 1) ns x temperature factor; flash: e6 2^(b - 6) x factor.
pub fn adc_energy_pj(p: &PeripheryParams, bits: u32, temp_k: f64) -> f64 {
    let b = f64::from(bits);
    let f = p.power_factor(temp_k);
    match p.adc_model {
        AdcModel::NeuroSimSar => (0.538 * b + 4.38) * adc_latency_ns(p, bits) * 1e-3 * f,
        AdcModel::MnsimFlash { energy_6bit_pj } => energy_6bit_pj * (b - 6.0).exp2() * f,
    }
}

/// Latency of one ADC conversion, ns: SAR (bits + 1) ns, flash 1 ns.
pub fn adc_latency_ns(p: &PeripheryParams, bits: u32) -> f64 {
    match p.adc_model {
        AdcModel::NeuroSimSar => f64::from(bits) + 1.0,
        AdcModel::MnsimFlash { .. } => 1.0,
    }
}

/// Energy of `count` op-amps on for `t_ns`: count x P x t x temperature factor, pJ.
pub fn opamp_energy_pj(p: &PeripheryParams, count: usize, t_ns: f64, temp_k: f64) -> f64 {
    count as f64 * p.opamp_power_uw * t_ns * 1e-3 * p.power_factor(temp_k)
}

/// Energy of `ops` digital shift-and-add operations, pJ.
pub fn digital_energy_pj(p: &PeripheryParams, ops: f64) -> f64 {
    ops * p.digital_add_pj
}

/// Settling time of the closed-loop INV circuit, ns: ln(2^(bits+1)) / (2 pi GBW lambda_min),
/// the number of time constants to settle within half an LSB of a `bits`-bit ADC, times the
/// loop's slowest time constant 1 / (2 pi GBW lambda_min) (Sun et al., IEEE TED 2020).
pub fn inv_settling_ns(p: &PeripheryParams, lambda_min: f64, bits: u32) -> f64 {
    let tau_s = 1.0 / (std::f64::consts::TAU * p.opamp_gbw_hz * lambda_min.max(1e-12));
    (f64::from(bits) + 1.0) * std::f64::consts::LN_2 * tau_s * 1e9
}

/// Digital baseline for `G x = b` by LU: (2/3 n^3 + 2 n^2) flops, and its energy in pJ.
pub fn digital_lu_baseline(p: &PeripheryParams, n: usize) -> (f64, f64) {
    let n = n as f64;
    let flops = 2.0 / 3.0 * n * n * n + 2.0 * n * n;
    (flops, flops * p.digital_flop_pj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn cell_energy_matches_table_rows() {
        // RRAM.md: 0.1 V, 35 uS, 10 ns -> 0.0035 pJ; write 3 V, 10 ns, 10 kOhm -> 9 pJ.
        assert!(close(cell_energy_pj(0.1, 35.0, 10.0), 0.0035));
        assert!(close(cell_energy_pj(3.0, 100.0, 10.0), 9.0));
        // 4 V, 50 ns, 240 kOhm -> 3.33 pJ.
        assert!((cell_energy_pj(4.0, 1e6 / 240e3, 50.0) - 3.333).abs() < 1e-3);
    }

    #[test]
    fn one_mvm_on_a_2x2_array_by_hand() {
        // G = [[10, 20], [30, 40]] uS, column voltages 0.1 V and 0.2 V, 10 ns:
        // column sums 40 and 60 uS; E = (0.01 * 40 + 0.04 * 60) * 10 * 1e-3 = 0.028 pJ.
        let e = array_energy_pj([0.1, 0.2], &[40.0, 60.0], 10.0);
        assert!(close(e, 0.028), "{e}");
    }

    #[test]
    fn dac_points_match_mnsim() {
        let p = PeripheryParams::default();
        assert!(close(dac_energy_pj(&p, 4, 300.0), 0.19));
        assert!((dac_energy_pj(&p, 1, 300.0) - 0.012).abs() < 1e-3);
    }

    #[test]
    fn sar_adc_by_hand() {
        let p = PeripheryParams::default();
        // 8 bits: P = 0.538*8 + 4.38 = 8.684 uW, t = 9 ns -> 0.078156 pJ.
        assert!(close(adc_latency_ns(&p, 8), 9.0));
        assert!(close(adc_energy_pj(&p, 8, 300.0), 8.684 * 9.0 * 1e-3));
        // +100 K: x (1 + 0.13).
        assert!(close(
            adc_energy_pj(&p, 8, 400.0),
            8.684 * 9.0 * 1e-3 * 1.13
        ));
    }

    #[test]
    fn flash_adc_by_hand() {
        let p = PeripheryParams {
            adc_model: AdcModel::mnsim_flash(),
            ..Default::default()
        };
        assert!(close(adc_energy_pj(&p, 6, 300.0), 10.0));
        assert!(close(adc_energy_pj(&p, 8, 300.0), 40.0));
        assert!(close(adc_latency_ns(&p, 8), 1.0));
    }

    #[test]
    fn opamp_digital_settling_baseline_by_hand() {
        let p = PeripheryParams::default();
        // 3 op-amps x 100 uW x 50 ns = 15 pJ.
        assert!(close(opamp_energy_pj(&p, 3, 50.0, 300.0), 15.0));
        assert!(close(digital_energy_pj(&p, 10.0), 1.0));
        // lambda 0.3, 9 bits: 10 ln2 / (2 pi 30e6 0.3) s = 122.6 ns.
        let t = inv_settling_ns(&p, 0.3, 9);
        assert!(
            (t - 10.0 * std::f64::consts::LN_2 / (std::f64::consts::TAU * 30e6 * 0.3) * 1e9).abs()
                < 1e-9
        );
        assert!(t > 110.0 && t < 130.0, "{t}");
        let (flops, e) = digital_lu_baseline(&p, 3);
        assert!(close(flops, 18.0 + 18.0));
        assert!(close(e, 360.0));
    }

    #[test]
    fn ledger_components_add_up() {
        let mut a = EnergyLedger {
            array_pj: 1.0,
            dac_pj: 2.0,
            adc_pj: 3.0,
            opamp_pj: 4.0,
            write_driver_pj: 5.0,
            digital_pj: 6.0,
            latency_ns: 7.0,
        };
        assert!(close(a.total_pj(), 21.0));
        let b = a;
        a.add_parallel(&b);
        assert!(close(a.total_pj(), 42.0));
        assert!(close(a.latency_ns, 7.0));
    }
}
