//! Periphery parameters: DACs, ADCs (with a pluggable energy model), op-amps, write drivers,
//! digital shift-and-add, wires. Sources refer to the rows of the table in `shared/RRAM.md`.

use serde::{Deserialize, Serialize};

use crate::error::{check_range, SimError};

/// Energy and latency model of an ADC. The two public models differ by one to two orders of
/// magnitude at similar resolution, so reports name the one they used ([`AdcModel::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum AdcModel {
    /// NeuroSim's SAR ADC: t = (bits + 1) ns, P = (0.538 bits + 4.38) uW x (1 + 1.3e-3 (T - 300 K)).
    /// RRAM.md row "ADC" (NeuroSim SarADC).
    NeuroSimSar,
    /// MNSIM's flash ADC, scaled from its 6-bit point: E = e6 2^(bits - 6), t = 1 ns.
    /// RRAM.md row "ADC" (MNSIM: 6-bit, 1.26 mW at 1 GS/s, "about 10 pJ per conversion").
    MnsimFlash {
        /// Energy of one 6-bit conversion, pJ. [`AdcModel::mnsim_flash`] uses 10 pJ, the row's
        /// "about 10 pJ"; note 1.26 mW at 1 GS/s alone would give 1.26 pJ.
        energy_6bit_pj: f64,
    },
}

impl AdcModel {
    /// MNSIM's flash ADC with the table's 10 pJ per 6-bit conversion.
    pub fn mnsim_flash() -> Self {
        AdcModel::MnsimFlash {
            energy_6bit_pj: 10.0,
        }
    }

    /// The model's name, for reports.
    pub fn name(&self) -> &'static str {
        match self {
            AdcModel::NeuroSimSar => "NeuroSim SAR",
            AdcModel::MnsimFlash { .. } => "MNSIM flash",
        }
    }
}

/// Parameters of the circuits around the array.
///
/// ```
/// use rram_sim::{AdcModel, PeripheryParams};
/// let p = PeripheryParams { adc_model: AdcModel::mnsim_flash(), ..PeripheryParams::default() };
/// assert_eq!(p.adc_model.name(), "MNSIM flash");
/// assert!(p.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeripheryParams {
    /// DAC magnitude resolution in bits; the sign is applied by the drive polarity. Default 7:
    /// row "I/O resolution" (aihwkit, DAC 7 bits).
    pub dac_bits: u32,
    /// Input precision of one MVM in bits; inputs wider than `dac_bits` are applied bit-serially
    /// in slices of `dac_bits` and shift-added. Default 7 (one slice): row "I/O resolution".
    pub input_bits: u32,
    /// DAC energy per conversion per output level: E = this x (2^bits - 1), pJ. Default 0.19/15
    /// pJ: row "DAC" (MNSIM: 1-bit 0.012 pJ, 4-bit 0.19 pJ per conversion).
    pub dac_energy_per_level_pj: f64,
    /// DAC conversion time, ns. Default 1 ns: row "DAC" (MNSIM, 1 GS/s).
    pub dac_latency_ns: f64,
    /// ADC resolution in bits, sign included. Default 9: row "I/O resolution" (aihwkit, ADC 9 bits).
    pub adc_bits: u32,
    /// ADC energy/latency model. Default NeuroSim SAR: row "ADC".
    pub adc_model: AdcModel,
    /// Op-amp open-loop DC gain. Default 1e4 (80 dB), an assumption (RRAM.md has no row; typical
    /// of CMOS op-amps). Sets the finite-gain error of the INV circuit.
    pub opamp_gain: f64,
    /// Op-amp gain-bandwidth product, Hz. Default 30 MHz: an assumption, calibrated to row
    /// "INV / MVM latency" (Zuo 2025's 8x8 INV takes about 120 ns): an 8x8 loop whose
    /// normalised matrix D^-1 G has min Re lambda about 0.3 then settles to 9 bits in about
    /// 120 ns (t = (b + 1) ln 2 / (2 pi GBW lambda), Sun 2020). No source gives the chip's
    /// op-amps; the settling time scales as 1 / GBW.
    pub opamp_gbw_hz: f64,
    /// Static power of one op-amp or TIA, uW. Default 100 uW, an assumption (no row in RRAM.md;
    /// a CMOS op-amp of tens of MHz GBW driving µS loads); op-amp energy scales with it.
    pub opamp_power_uw: f64,
    /// Area of one op-amp or TIA, µm². Default 1000 µm², an assumption (no public simulator
    /// models op-amps; a two-stage Miller op-amp with about 1 pF compensation in 40 nm).
    #[serde(default = "default_opamp_area_um2")]
    pub opamp_area_um2: f64,
    /// Area of one 8-bit ADC, µm². Default 1200 µm²: ISAAC (Shafiee et al., ISCA 2016,
    /// table 6: eight 8-bit 1.28 GS/s SAR ADCs take 0.0096 mm² at 32 nm). Other resolutions
    /// scale by 2^(bits - 8), an assumption.
    #[serde(default = "default_adc_area_8bit_um2")]
    pub adc_area_8bit_um2: f64,
    /// Area of one 1-bit DAC, µm². Default 0.166 µm²: ISAAC (table 6: 8 x 128 1-bit DACs take
    /// 0.00017 mm²). Wider DACs scale by 2^(bits - 1), an assumption.
    #[serde(default = "default_dac_area_1bit_um2")]
    pub dac_area_1bit_um2: f64,
    /// Energy of one digital shift-and-add (32-bit integer add), pJ. Default 0.1 pJ, an
    /// assumption from Horowitz (ISSCC 2014, 45 nm); not in RRAM.md.
    pub digital_add_pj: f64,
    /// Energy of one f64 floating-point operation in the digital baseline, pJ. Default 10 pJ, an
    /// assumption from Horowitz (ISSCC 2014, 45 nm, 64-bit FMA about 20 pJ per 2 flops).
    pub digital_flop_pj: f64,
    /// Throughput of the digital side for pre-processing (BlockAMC's Schur complements),
    /// flop/ns (= GFLOP/s). Default 100, an assumption (a desktop CPU core pair); not in RRAM.md.
    pub digital_gflops: f64,
    /// Latency of one digital shift-and-add stage, ns. Default 1 ns (1 GHz logic), an assumption.
    pub digital_latency_ns: f64,
    /// Wire resistance per cell, Ohm, for a first-order IR-drop model. Default 0.5 Ohm: row
    /// "wire resistance per cell", 0.15 to 2.8 Ohm (aihwkit; MNSIM).
    pub wire_resistance_ohm: f64,
    /// Relative change of periphery power per kelvin. Default 1.3e-3 /K: row "ADC" (NeuroSim's
    /// SAR temperature factor), applied to ADC, DAC and op-amps alike.
    pub power_temp_coeff_per_k: f64,
    /// Reference temperature of periphery power, K. Default 300 K: row "ADC" (NeuroSim).
    pub reference_temp_k: f64,
}

fn default_opamp_area_um2() -> f64 {
    1000.0
}

fn default_adc_area_8bit_um2() -> f64 {
    1200.0
}

fn default_dac_area_1bit_um2() -> f64 {
    0.00017e6 / 1024.0
}

impl Default for PeripheryParams {
    fn default() -> Self {
        Self {
            dac_bits: 7,
            input_bits: 7,
            dac_energy_per_level_pj: 0.19 / 15.0,
            dac_latency_ns: 1.0,
            adc_bits: 9,
            adc_model: AdcModel::NeuroSimSar,
            opamp_gain: 1e4,
            opamp_gbw_hz: 30e6,
            opamp_power_uw: 100.0,
            opamp_area_um2: default_opamp_area_um2(),
            adc_area_8bit_um2: default_adc_area_8bit_um2(),
            dac_area_1bit_um2: default_dac_area_1bit_um2(),
            digital_add_pj: 0.1,
            digital_flop_pj: 10.0,
            digital_gflops: 100.0,
            digital_latency_ns: 1.0,
            wire_resistance_ohm: 0.5,
            power_temp_coeff_per_k: 1.3e-3,
            reference_temp_k: 300.0,
        }
    }
}

impl PeripheryParams {
    /// Ideal periphery for the ideal device: no IR drop, infinite-gain op-amps (1e15), other
    /// values as the default (resolutions still apply).
    pub fn ideal() -> Self {
        Self {
            opamp_gain: 1e15,
            wire_resistance_ohm: 0.0,
            ..Self::default()
        }
    }

    /// The periphery of Zuo et al. 2025 as far as sources allow: the defaults (9-bit ADC and
    /// 7-bit DAC after aihwkit, NeuroSim's SAR ADC, MNSIM's DAC, ISAAC's areas), with the
    /// op-amps' gain-bandwidth product calibrated so that a typical 8x8 INV of the chip (min Re
    /// lambda of D^-1 G about 0.36 for the diagonally dominant systems of the paper) settles
    /// to 9 bits in the chip's about 120 ns (RRAM.md row "INV / MVM latency"): 25.5 MHz.
    /// Use with [`crate::DeviceParams::zuo2025`] and 8x8 tiles (`BlockAmcConfig::tile_size`
    /// 8, `HpInvConfig::mvm_rows_per_adc` 8).
    pub fn zuo2025() -> Self {
        Self {
            opamp_gbw_hz: 10.0 * std::f64::consts::LN_2 / (std::f64::consts::TAU * 0.36 * 120e-9),
            ..Self::default()
        }
    }

    /// Power scale factor at `temp_k`: 1 + coeff (T - T_ref).
    pub fn power_factor(&self, temp_k: f64) -> f64 {
        (1.0 + self.power_temp_coeff_per_k * (temp_k - self.reference_temp_k)).max(0.0)
    }

    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), SimError> {
        for (name, bits) in [
            ("PeripheryParams::dac_bits", self.dac_bits),
            ("PeripheryParams::input_bits", self.input_bits),
            ("PeripheryParams::adc_bits", self.adc_bits),
        ] {
            if bits == 0 {
                return Err(SimError::ZeroBits { name });
            }
            if bits > 40 {
                return Err(SimError::InvalidParameter {
                    name,
                    value: bits.to_string(),
                    why: "at most 40 bits are modelled",
                });
            }
        }
        if self.adc_bits < 2 {
            return Err(SimError::InvalidParameter {
                name: "PeripheryParams::adc_bits",
                value: "1".into(),
                why: "a signed ADC needs at least 2 bits",
            });
        }
        check_range(
            "PeripheryParams::dac_energy_per_level_pj",
            self.dac_energy_per_level_pj,
            0.0,
            1e6,
            "must be >= 0",
        )?;
        check_range(
            "PeripheryParams::dac_latency_ns",
            self.dac_latency_ns,
            0.0,
            1e9,
            "must be >= 0",
        )?;
        if let AdcModel::MnsimFlash { energy_6bit_pj } = self.adc_model {
            check_range(
                "PeripheryParams::adc_model.energy_6bit_pj",
                energy_6bit_pj,
                0.0,
                1e9,
                "must be >= 0",
            )?;
        }
        check_range(
            "PeripheryParams::opamp_gain",
            self.opamp_gain,
            1.0,
            1e18,
            "must lie in [1, 1e18]",
        )?;
        check_range(
            "PeripheryParams::opamp_gbw_hz",
            self.opamp_gbw_hz,
            1.0,
            1e15,
            "must be > 0 Hz",
        )?;
        check_range(
            "PeripheryParams::opamp_power_uw",
            self.opamp_power_uw,
            0.0,
            1e9,
            "must be >= 0",
        )?;
        for (name, v) in [
            ("PeripheryParams::opamp_area_um2", self.opamp_area_um2),
            ("PeripheryParams::adc_area_8bit_um2", self.adc_area_8bit_um2),
            ("PeripheryParams::dac_area_1bit_um2", self.dac_area_1bit_um2),
        ] {
            check_range(name, v, 0.0, 1e12, "must lie in [0, 1e12] um^2")?;
        }
        check_range(
            "PeripheryParams::digital_add_pj",
            self.digital_add_pj,
            0.0,
            1e9,
            "must be >= 0",
        )?;
        check_range(
            "PeripheryParams::digital_flop_pj",
            self.digital_flop_pj,
            0.0,
            1e9,
            "must be >= 0",
        )?;
        check_range(
            "PeripheryParams::digital_gflops",
            self.digital_gflops,
            1e-9,
            1e12,
            "must be > 0",
        )?;
        check_range(
            "PeripheryParams::digital_latency_ns",
            self.digital_latency_ns,
            0.0,
            1e9,
            "must be >= 0",
        )?;
        check_range(
            "PeripheryParams::wire_resistance_ohm",
            self.wire_resistance_ohm,
            0.0,
            1e6,
            "must be >= 0",
        )?;
        check_range(
            "PeripheryParams::power_temp_coeff_per_k",
            self.power_temp_coeff_per_k,
            -0.1,
            0.1,
            "must lie in [-0.1, 0.1]",
        )?;
        check_range(
            "PeripheryParams::reference_temp_k",
            self.reference_temp_k,
            1.0,
            2000.0,
            "must lie in [1, 2000] K",
        )?;
        Ok(())
    }
}
