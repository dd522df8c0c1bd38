//! The parameters that move headline results without a source: each is named in every solve's
//! report ([`crate::SolveInfo::assumptions`]) with its value, so a reader knows which figures
//! rest on them.

use crate::device::DeviceParams;
use crate::periphery::PeripheryParams;

/// One line per unsourced parameter that moves energy, latency, area or accuracy: name,
/// value and what it drives. Sourced parameters (with a citation on their field) are not
/// listed.
///
/// ```
/// use rram_sim::{assumptions::assumptions, DeviceParams, PeripheryParams};
/// let a = assumptions(&DeviceParams::taox_3bit(), &PeripheryParams::default());
/// assert!(a.iter().any(|l| l.starts_with("opamp_power_uw = 100")));
/// ```
pub fn assumptions(device: &DeviceParams, periphery: &PeripheryParams) -> Vec<String> {
    vec![
        format!(
            "opamp_power_uw = {} uW per op-amp (assumption): sets op-amp energy, the largest INV component",
            periphery.opamp_power_uw
        ),
        format!(
            "opamp_gbw_hz = {:.3e} Hz (assumption, calibrated to the chip's ~120 ns 8x8 INV): sets INV settling time",
            periphery.opamp_gbw_hz
        ),
        format!(
            "opamp_gain = {:.0e} (assumption): finite-gain error of the INV loop",
            periphery.opamp_gain
        ),
        format!(
            "opamp_area_um2 = {} um^2 per op-amp (assumption): op-amp area",
            periphery.opamp_area_um2
        ),
        format!(
            "ADC/DAC area scaling 2^(bits - 8) / 2^(bits - 1) from ISAAC's 8-bit and 1-bit points (assumption): ADC and DAC area at {} / {} bits",
            periphery.adc_bits, periphery.dac_bits
        ),
        format!(
            "digital_add_pj = {} pJ per shift-and-add, digital_flop_pj = {} pJ per flop (assumptions after Horowitz, ISSCC 2014, 45 nm): digital energy and the LU baseline",
            periphery.digital_add_pj, periphery.digital_flop_pj
        ),
        format!(
            "read_noise_us = {} uS per device per read (assumption; aihwkit lists 1/f read noise without this magnitude): INV and MVM noise",
            device.read_noise_us
        ),
        format!(
            "verify_step_sigma = {}, verify_floor_sigma_us = {} uS (assumptions): write-verify pulses and programming error",
            device.verify_step_sigma, device.verify_floor_sigma_us
        ),
        "INV input is a current (DAC and V-to-I stage) that adds no conductance to the loop's nodes (assumption): loop eigenvalues and settling".to_owned(),
    ]
}
