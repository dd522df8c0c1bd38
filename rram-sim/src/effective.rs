//! The matrix a programmed array represents at its current age and temperature.
//!
//! Each device reads G(t, T) = (G_prog + drift(t, T)) (1 + alpha (T - T_ref)), reduced by
//! first-order IR drop G / (1 + G R_wire (i + j + 2)); a pair represents
//! (G+ - G-) w_max / (G_max - G_min).

use nalgebra::DMatrix;

use crate::device::DeviceParams;
use crate::mapping::ConductanceMap;
use crate::periphery::PeripheryParams;
use crate::program::Pairs;
use crate::rng::{stream, CounterRng, DeviceRng};
use crate::ziggurat::standard_normal;

/// What an array's operations see: the effective matrix and its lines' conductance.
#[derive(Debug, Clone)]
pub(crate) struct Effective {
    /// The matrix in value units.
    pub m: DMatrix<f64>,
    /// Per input line (column): total conductance of both devices over the rows, uS.
    pub line_g_us: Vec<f64>,
    /// Per row line: total conductance of both devices over the columns, uS (the node
    /// conductance of the INV circuit's summing node on that row).
    pub row_g_us: Vec<f64>,
}

impl Effective {
    /// The effective matrix of `pairs` (mapped by `map`) on `device` with `periphery`, read
    /// `age_s` after programming at `temp_k`; `seed` keys the devices' drift coefficients.
    pub(crate) fn compute(
        pairs: &Pairs,
        map: &ConductanceMap,
        device: &DeviceParams,
        periphery: &PeripheryParams,
        seed: u64,
        age_s: f64,
        temp_k: f64,
    ) -> Self {
        let (r, c) = pairs.g_pos.shape();
        let drift_key = (age_s > 0.0).then(|| CounterRng::new(seed, stream::DRIFT).key());
        let read = device.read_conditions(age_s, temp_k);
        let r_wire = periphery.wire_resistance_ohm * 1e-6; // uS * Ohm * 1e-6 is dimensionless
        let value_per_us = map.value_per_us();
        let mut m = DMatrix::zeros(r, c);
        let mut line_g_us = vec![0.0; c];
        let mut row_g_us = vec![0.0; r];
        let columns = m
            .as_mut_slice()
            .chunks_mut(r.max(1))
            .zip(pairs.g_pos.as_slice().chunks(r.max(1)))
            .zip(pairs.g_neg.as_slice().chunks(r.max(1)))
            .zip(line_g_us.iter_mut());
        for (j, (((m_col, pos), neg), line_g)) in columns.enumerate() {
            for (i, ((mij, &gp), &gn)) in m_col.iter_mut().zip(pos).zip(neg).enumerate() {
                let idx = (j * r + i) as u64 * 2;
                let lines = (i + j + 2) as f64;
                let read_back = |g: f64, device_idx: u64| {
                    let z = match drift_key {
                        Some(key) => standard_normal(&mut DeviceRng::new(key, device_idx)),
                        None => 0.0,
                    };
                    let ga = read.conductance(g, z);
                    ga / (1.0 + ga * r_wire * lines)
                };
                let (gp, gn) = (read_back(gp, idx), read_back(gn, idx + 1));
                *mij = (gp - gn) * value_per_us;
                *line_g += gp + gn;
                row_g_us[i] += gp + gn;
            }
        }
        Self {
            m,
            line_g_us,
            row_g_us,
        }
    }
}
