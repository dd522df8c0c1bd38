//! Silicon area of arrays and their periphery.
//!
//! One array of `rows x cols` differential pairs occupies `2 rows cols` 1T1R cells, plus its
//! periphery: op-amps on the rows (an INV array has two per row: the loop amplifier and the
//! inverting buffer that drives the G- devices with -V; an MVM array one TIA per row), one
//! ADC per output line and one DAC per input line. Sources of each area are on the
//! parameters: [`DeviceParams::cell_area_f2`], [`DeviceParams::feature_size_nm`],
//! [`PeripheryParams::opamp_area_um2`], [`PeripheryParams::adc_area_8bit_um2`],
//! [`PeripheryParams::dac_area_1bit_um2`].

use serde::{Deserialize, Serialize};

use crate::device::DeviceParams;
use crate::periphery::PeripheryParams;

/// What an array is used for: sets the op-amps per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArrayKind {
    /// Closed-loop inversion: two op-amps per row (loop amplifier and inverting buffer).
    Inv,
    /// Matrix-vector multiplication: one TIA per row.
    Mvm,
}

impl ArrayKind {
    /// Op-amps per row.
    pub fn opamps_per_row(self) -> usize {
        match self {
            ArrayKind::Inv => 2,
            ArrayKind::Mvm => 1,
        }
    }
}

/// Area by component, µm².
///
/// ```
/// use rram_sim::area::{array_area, ArrayKind, AreaBreakdown};
/// use rram_sim::{DeviceParams, PeripheryParams};
/// let a = array_area(&DeviceParams::taox_3bit(), &PeripheryParams::default(), 8, 8, ArrayKind::Inv);
/// // 128 cells of 48 F^2 at F = 40 nm: 128 x 0.0768 um^2.
/// assert!((a.cells_um2 - 128.0 * 0.0768).abs() < 1e-9);
/// assert_eq!(a.total_um2(), a.cells_um2 + a.opamp_um2 + a.adc_um2 + a.dac_um2);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AreaBreakdown {
    /// 1T1R cells, µm².
    pub cells_um2: f64,
    /// Op-amps and TIAs, µm².
    pub opamp_um2: f64,
    /// ADCs, µm².
    pub adc_um2: f64,
    /// DACs, µm².
    pub dac_um2: f64,
}

impl AreaBreakdown {
    /// Total area, µm².
    pub fn total_um2(&self) -> f64 {
        self.cells_um2 + self.opamp_um2 + self.adc_um2 + self.dac_um2
    }

    /// Total area, mm².
    pub fn total_mm2(&self) -> f64 {
        self.total_um2() * 1e-6
    }

    /// Adds another block of hardware beside this one.
    pub fn add(&mut self, o: &AreaBreakdown) {
        self.cells_um2 += o.cells_um2;
        self.opamp_um2 += o.opamp_um2;
        self.adc_um2 += o.adc_um2;
        self.dac_um2 += o.dac_um2;
    }

    /// This area `count` times.
    pub fn times(&self, count: f64) -> AreaBreakdown {
        AreaBreakdown {
            cells_um2: self.cells_um2 * count,
            opamp_um2: self.opamp_um2 * count,
            adc_um2: self.adc_um2 * count,
            dac_um2: self.dac_um2 * count,
        }
    }
}

/// Area of one 1T1R cell, µm²: `cell_area_f2` F² at F = `feature_size_nm`.
pub fn cell_area_um2(device: &DeviceParams) -> f64 {
    let f_um = device.feature_size_nm * 1e-3;
    device.cell_area_f2 * f_um * f_um
}

/// Area of one ADC of `bits` bits, µm²: the 8-bit point scaled by 2^(bits - 8) (a SAR ADC's
/// capacitor array doubles per bit; the scaling is an assumption).
pub fn adc_area_um2(periphery: &PeripheryParams, bits: u32) -> f64 {
    periphery.adc_area_8bit_um2 * (f64::from(bits) - 8.0).exp2()
}

/// Area of one DAC of `bits` bits, µm²: the 1-bit point scaled by 2^(bits - 1) (a
/// current-steering DAC's unit cells; the scaling is an assumption).
pub fn dac_area_um2(periphery: &PeripheryParams, bits: u32) -> f64 {
    periphery.dac_area_1bit_um2 * (f64::from(bits) - 1.0).exp2()
}

/// Area of one array of `rows x cols` differential pairs with its periphery: cells, op-amps
/// per row ([`ArrayKind`]), one ADC (`periphery.adc_bits`) per output line and one DAC
/// (`periphery.dac_bits`) per input line. INV takes its input on the rows and gives its
/// output on the columns; MVM the other way round.
pub fn array_area(
    device: &DeviceParams,
    periphery: &PeripheryParams,
    rows: usize,
    cols: usize,
    kind: ArrayKind,
) -> AreaBreakdown {
    let (r, c) = (rows as f64, cols as f64);
    let (outputs, inputs) = match kind {
        ArrayKind::Inv => (c, r),
        ArrayKind::Mvm => (r, c),
    };
    AreaBreakdown {
        cells_um2: 2.0 * r * c * cell_area_um2(device),
        opamp_um2: r * kind.opamps_per_row() as f64 * periphery.opamp_area_um2,
        adc_um2: outputs * adc_area_um2(periphery, periphery.adc_bits),
        dac_um2: inputs * dac_area_um2(periphery, periphery.dac_bits),
    }
}
