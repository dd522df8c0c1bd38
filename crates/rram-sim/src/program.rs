//! Programming a matrix of signed levels onto differential pairs by write-verify, with the
//! cost of every pulse. Two threads split the columns; each device has its own counter-keyed
//! generator, so the result does not depend on the split.

use nalgebra::DMatrix;

use crate::device::DeviceParams;
use crate::energy::{adc_energy_pj, adc_latency_ns, cell_energy_pj, EnergyLedger};
use crate::mapping::ConductanceMap;
use crate::periphery::PeripheryParams;
use crate::rng::DeviceRng;

/// What programming one matrix cost and achieved.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ProgramStats {
    /// Pulses over all devices.
    pub pulses_total: u64,
    /// Most pulses any device needed.
    pub pulses_max: u32,
    /// Devices still outside tolerance after the maximum number of pulses.
    pub failed: u64,
    /// Largest |G - target| over all devices, uS.
    pub max_error_us: f64,
    /// Energy and latency (rows in sequence, the devices of a row in parallel).
    pub ledger: EnergyLedger,
}

/// Programmed conductances (uS) of a matrix, both devices of each pair.
#[derive(Debug, Clone)]
pub(crate) struct Pairs {
    pub g_pos: DMatrix<f64>,
    pub g_neg: DMatrix<f64>,
}

struct Partial {
    pulses_total: u64,
    pulses_max: u32,
    failed: u64,
    max_error_us: f64,
    driver_pj: f64,
    verify_array_pj: f64,
    row_max: Vec<u32>,
}

/// Programs `levels` (signed level per cell) with `map` on `device`; `key` seeds the devices.
pub(crate) fn program_levels(
    device: &DeviceParams,
    periphery: &PeripheryParams,
    map: &ConductanceMap,
    levels: &DMatrix<f64>,
    key: u64,
    temp_k: f64,
) -> (Pairs, ProgramStats) {
    let (rows, cols) = levels.shape();
    let mut g_pos = DMatrix::zeros(rows, cols);
    let mut g_neg = DMatrix::zeros(rows, cols);
    let threads = if rows * cols >= 1 << 14 { 2 } else { 1 };
    let split = cols.div_ceil(threads).max(1) * rows.max(1);
    let parts: Vec<Partial> = std::thread::scope(|s| {
        let handles: Vec<_> = levels
            .as_slice()
            .chunks(split)
            .zip(g_pos.as_mut_slice().chunks_mut(split))
            .zip(g_neg.as_mut_slice().chunks_mut(split))
            .enumerate()
            .map(|(t, ((lv, gp), gn))| {
                let offset = (t * split) as u64;
                s.spawn(move || program_chunk(device, map, lv, gp, gn, rows, offset, key))
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut st = ProgramStats::default();
    let mut row_max = vec![0u32; rows];
    let (mut driver_pj, mut verify_pj) = (0.0, 0.0);
    for p in parts {
        st.pulses_total += p.pulses_total;
        st.pulses_max = st.pulses_max.max(p.pulses_max);
        st.failed += p.failed;
        st.max_error_us = st.max_error_us.max(p.max_error_us);
        driver_pj += p.driver_pj;
        verify_pj += p.verify_array_pj;
        for (r, m) in row_max.iter_mut().zip(p.row_max) {
            *r = (*r).max(m);
        }
    }
    let step_ns = device.write_pulse_ns
        + device.read_pulse_ns
        + adc_latency_ns(periphery, periphery.adc_bits);
    st.ledger = EnergyLedger {
        write_driver_pj: driver_pj,
        array_pj: verify_pj,
        adc_pj: st.pulses_total as f64 * adc_energy_pj(periphery, periphery.adc_bits, temp_k),
        latency_ns: row_max.iter().map(|&p| f64::from(p)).sum::<f64>() * step_ns,
        ..Default::default()
    };
    (Pairs { g_pos, g_neg }, st)
}

#[allow(clippy::too_many_arguments)]
fn program_chunk(
    device: &DeviceParams,
    map: &ConductanceMap,
    levels: &[f64],
    g_pos: &mut [f64],
    g_neg: &mut [f64],
    rows: usize,
    offset: u64,
    key: u64,
) -> Partial {
    let rows = rows.max(1);
    let mut p = Partial {
        pulses_total: 0,
        pulses_max: 0,
        failed: 0,
        max_error_us: 0.0,
        driver_pj: 0.0,
        verify_array_pj: 0.0,
        row_max: vec![0; rows],
    };
    let write_e = cell_energy_pj(device.write_voltage_v, 1.0, device.write_pulse_ns);
    let read_e = cell_energy_pj(device.read_voltage_v, 1.0, device.read_pulse_ns);
    let mut row = (offset as usize) % rows;
    for (k, &level) in levels.iter().enumerate() {
        let idx = offset + k as u64;
        let (tp, tn) = map.targets(level);
        let mut rngs = [
            DeviceRng::new(key, idx * 2),
            DeviceRng::new(key, idx * 2 + 1),
        ];
        let programmed = device.program_pair([tp, tn], &mut rngs);
        g_pos[k] = programmed[0].0;
        g_neg[k] = programmed[1].0;
        for (target, (g, pulses)) in [tp, tn].into_iter().zip(programmed) {
            let err = (g - target).abs();
            p.max_error_us = p.max_error_us.max(err);
            if err > device.write_verify_tol_us {
                p.failed += 1;
            }
            p.pulses_total += u64::from(pulses);
            p.pulses_max = p.pulses_max.max(pulses);
            p.row_max[row] = p.row_max[row].max(pulses);
            p.driver_pj += f64::from(pulses) * write_e * target;
            p.verify_array_pj += f64::from(pulses) * read_e * target;
        }
        row += 1;
        if row == rows {
            row = 0;
        }
    }
    p
}
