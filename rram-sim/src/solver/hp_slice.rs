//! Programming one weight slice of HP-MVM and measuring it at read conditions, in one pass.
//!
//! Column by column (the storage order, split between two threads), the slice's digits are
//! taken from the matrix, its devices programmed by write-verify and read back at the arrays'
//! age and temperature, and reduced at once to what HP-MVM keeps: each input line's total
//! conductance, the worst deterministic error of a partial sum over a group of
//! `rows_per_adc` lines, and (explicit mode only) the analogue image in levels. No per-device
//! matrix is stored on the way.

use std::ops::Range;

use nalgebra::DMatrix;

use crate::device::{DeviceParams, ReadConditions};
use crate::energy::EnergyLedger;
use crate::mapping::ConductanceMap;
use crate::periphery::PeripheryParams;
use crate::program::{column_split, program_columns, ColumnSink, Part};
use crate::quantize::SliceDigit;
use crate::rng::{stream, CounterRng, DeviceRng};
use crate::ziggurat::standard_normal;

/// The arrays a slice is programmed on, and how they are read.
#[derive(Debug, Clone, Copy)]
pub(super) struct SliceArrays<'a> {
    /// Device parameters (bits per cell included).
    pub device: &'a DeviceParams,
    /// Periphery (programming cost).
    pub periphery: &'a PeripheryParams,
    /// The magnitude of the matrix that maps to the top level.
    pub w_max: f64,
    /// Seed of the slices' devices.
    pub seed: u64,
    /// Temperature, K.
    pub temp_k: f64,
    /// Time between programming and reading, s.
    pub age_s: f64,
    /// Input lines summed per ADC conversion.
    pub rows_per_adc: usize,
}

/// One programmed slice, reduced.
pub(super) struct SliceData {
    /// Digits plus analogue error, in levels, if asked for.
    pub analog: Option<DMatrix<f64>>,
    /// Per input line (column): total conductance of its devices, uS.
    pub colsum: Vec<f64>,
    /// Largest deterministic partial-sum error, levels.
    pub bound: f64,
    /// Energy and latency of programming.
    pub ledger: EnergyLedger,
    /// Write pulses spent.
    pub pulses: u64,
    /// Devices outside tolerance after programming.
    pub failed: u64,
}

/// Programs slice `i` of `a` on `arrays` and measures its analogue error at read conditions;
/// the analogue image is kept if `keep_analog`. The devices are keyed by (seed, slice), so the
/// same slice programmed again gives the same devices.
pub(super) fn program_slice(
    arrays: &SliceArrays<'_>,
    a: &DMatrix<f64>,
    i: usize,
    keep_analog: bool,
) -> SliceData {
    let (r, c) = a.shape();
    let device = arrays.device;
    let digit = SliceDigit::new(device.bits_per_cell, i);
    let w_max = arrays.w_max;
    let level =
        |j: usize, out: &mut [f64]| digit.of_scaled(&a.as_slice()[j * r..][..r], w_max, out);
    let map = ConductanceMap::new(device, 1.0);
    let (key, drift_key) = slice_keys(arrays.seed, i);
    let read = Reader {
        conditions: device.read_conditions(arrays.age_s, arrays.temp_k),
        drift_key: (arrays.age_s > 0.0).then_some(drift_key),
        step_us: device.level_step_us(),
    };
    let rows_per_adc = arrays.rows_per_adc.max(1);
    let mut analog = keep_analog.then(|| DMatrix::zeros(r, c));
    let mut colsum = vec![0.0; c];
    let mut analog_rest = analog.as_mut().map(|m| m.as_mut_slice());
    let mut colsum_rest = colsum.as_mut_slice();
    let mut parts = Vec::new();
    for cols in column_split(r, c) {
        let (sums, rest) = std::mem::take(&mut colsum_rest).split_at_mut(cols.len());
        colsum_rest = rest;
        let image = analog_rest.take().map(|m| {
            let (mine, rest) = m.split_at_mut(cols.len() * r);
            analog_rest = Some(rest);
            mine
        });
        // This part owns the groups of input lines that start in it, and reads a group that
        // crosses into the next part to its end.
        let first_group = cols.start.div_ceil(rows_per_adc) * rows_per_adc;
        let lookahead_end = if first_group < cols.end {
            let last_group = (cols.end - 1) / rows_per_adc * rows_per_adc;
            (last_group + rows_per_adc).min(c).max(cols.end)
        } else {
            cols.end
        };
        parts.push(Part {
            lookahead_end,
            sink: SliceSink {
                read,
                cols: cols.clone(),
                total_cols: c,
                rows_per_adc,
                first_group,
                analog: image,
                colsum: sums,
                group: vec![0.0; r],
                bound: 0.0,
                read_us: vec![0.0; 2 * r],
                levels_read: vec![0.0; r],
            },
            cols,
        });
    }
    let (sinks, st) = program_columns(
        device,
        arrays.periphery,
        &map,
        r,
        key,
        arrays.temp_k,
        &level,
        parts,
    );
    let bound = sinks.iter().fold(0.0f64, |m, s| m.max(s.bound));
    SliceData {
        analog,
        colsum,
        bound,
        ledger: st.ledger,
        pulses: st.pulses_total,
        failed: st.failed,
    }
}

/// How a programmed device reads.
#[derive(Debug, Clone, Copy)]
struct Reader {
    conditions: ReadConditions,
    /// Key of the per-device drift coefficients, if the arrays have aged.
    drift_key: Option<u64>,
    /// Conductance per level, uS.
    step_us: f64,
}

impl Reader {
    /// Conductances at read conditions of the devices `first..first + g.len()`, programmed to
    /// `g` (uS), into `out`.
    #[inline]
    fn read(&self, first: u64, g: &[f64], out: &mut [f64]) {
        let c = self.conditions;
        match self.drift_key {
            Some(key) => {
                for ((o, &gk), idx) in out.iter_mut().zip(g).zip(first..) {
                    let z = standard_normal(&mut DeviceRng::new(key, idx));
                    *o = c.conductance(gk, z);
                }
            }
            None => {
                for (o, &gk) in out.iter_mut().zip(g) {
                    *o = c.conductance(gk, 0.0);
                }
            }
        }
    }
}

/// Reduces one part's columns of a slice.
struct SliceSink<'a> {
    read: Reader,
    /// The part's own columns.
    cols: Range<usize>,
    total_cols: usize,
    rows_per_adc: usize,
    /// First column of the first group of input lines this part owns.
    first_group: usize,
    /// The part's columns of the analogue image, if kept.
    analog: Option<&'a mut [f64]>,
    /// The part's line conductances.
    colsum: &'a mut [f64],
    /// Per output row, the error accumulated over the current group of input lines.
    group: Vec<f64>,
    /// Largest group error so far.
    bound: f64,
    /// Scratch for one column: both devices' conductance at read, uS.
    read_us: Vec<f64>,
    /// Scratch for one column: each pair's reading in levels.
    levels_read: Vec<f64>,
}

impl ColumnSink for SliceSink<'_> {
    fn column(&mut self, j: usize, levels: &[f64], g: &[f64]) {
        let r = levels.len();
        let own = j < self.cols.end;
        let in_group = j >= self.first_group;
        let (read, o) = (&mut self.read_us, &mut self.levels_read);
        self.read.read((j * r) as u64 * 2, g, read);
        // Each pair in levels: (G+ - G-) / step.
        let step = self.read.step_us;
        for (oi, pair) in o.iter_mut().zip(read.chunks_exact(2)) {
            *oi = (pair[0] - pair[1]) / step;
        }
        if own {
            let at = j - self.cols.start;
            self.colsum[at] = read.chunks_exact(2).fold(0.0, |s, p| s + (p[0] + p[1]));
            if let Some(image) = self.analog.as_deref_mut() {
                image[at * r..(at + 1) * r].copy_from_slice(o);
            }
        }
        if in_group {
            for ((group, &oi), &l) in self.group.iter_mut().zip(o.iter()).zip(levels) {
                *group += (oi - l).abs();
            }
            if (j + 1) % self.rows_per_adc == 0 || j + 1 == self.total_cols {
                self.bound = self.group.iter().fold(self.bound, |m, v| m.max(*v));
                self.group.iter_mut().for_each(|v| *v = 0.0);
            }
        }
    }
}

/// The programming and drift generator keys of slice `i` of the arrays seeded with `seed`.
fn slice_keys(seed: u64, i: usize) -> (u64, u64) {
    let of = |s| CounterRng::new(seed, s).derive(i as u64 + 1).key();
    (of(stream::PROGRAM), of(stream::DRIFT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::program_levels;
    use crate::quantize::digit;

    /// The slice as HP-MVM measured it before programming and reading were fused: all
    /// devices programmed and stored, then read back element by element.
    fn reference(arrays: &SliceArrays<'_>, a: &DMatrix<f64>, i: usize) -> SliceData {
        let (r, c) = a.shape();
        let d = arrays.device;
        let levels = a.map(|v| digit(v / arrays.w_max, d.bits_per_cell, i));
        let (key, drift_key) = slice_keys(arrays.seed, i);
        let map = ConductanceMap::new(d, 1.0);
        let (pairs, st) = program_levels(d, arrays.periphery, &map, &levels, key, arrays.temp_k);
        let at = |g: f64, idx: u64| {
            let z: f64 = if arrays.age_s > 0.0 {
                rand::Rng::sample(
                    &mut DeviceRng::new(drift_key, idx),
                    rand_distr::StandardNormal,
                )
            } else {
                0.0
            };
            d.conductance_at(g, arrays.age_s, arrays.temp_k, z)
        };
        let mut analog = DMatrix::zeros(r, c);
        let mut colsum = vec![0.0; c];
        let mut group = vec![0.0f64; r];
        let mut bound = 0.0f64;
        for j in 0..c {
            let mut sum = 0.0;
            for row in 0..r {
                let idx = ((j * r + row) as u64) * 2;
                let (ep, en) = (
                    at(pairs.g_pos[(row, j)], idx),
                    at(pairs.g_neg[(row, j)], idx + 1),
                );
                analog[(row, j)] = (ep - en) / d.level_step_us();
                sum += ep + en;
                group[row] += (analog[(row, j)] - levels[(row, j)]).abs();
            }
            colsum[j] = sum;
            if (j + 1) % arrays.rows_per_adc == 0 || j + 1 == c {
                bound = group.iter().fold(bound, |m, v| m.max(*v));
                group.iter_mut().for_each(|v| *v = 0.0);
            }
        }
        SliceData {
            analog: Some(analog),
            colsum,
            bound,
            ledger: st.ledger,
            pulses: st.pulses_total,
            failed: st.failed,
        }
    }

    #[test]
    fn fused_slice_matches_programming_then_reading() {
        let device = DeviceParams::taox_3bit();
        let periphery = PeripheryParams::default();
        // Two threads split at column 66; groups of 8, 7 and 100 lines cross that boundary.
        let a = DMatrix::from_fn(130, 131, |i, j| {
            ((i * 37 + j * 11) % 101) as f64 / 50.0 - 1.0
        });
        for (rows_per_adc, age_s, temp_k) in [(8, 0.0, 300.0), (7, 1e4, 330.0), (100, 0.0, 300.0)] {
            let arrays = SliceArrays {
                device: &device,
                periphery: &periphery,
                w_max: 1.0,
                seed: 5,
                temp_k,
                age_s,
                rows_per_adc,
            };
            for i in [0, 2] {
                let want = reference(&arrays, &a, i);
                for keep_analog in [false, true] {
                    let got = program_slice(&arrays, &a, i, keep_analog);
                    assert_eq!(got.bound.to_bits(), want.bound.to_bits());
                    assert_eq!(got.colsum, want.colsum);
                    assert_eq!(got.ledger, want.ledger);
                    assert_eq!((got.pulses, got.failed), (want.pulses, want.failed));
                    if keep_analog {
                        assert_eq!(got.analog, want.analog);
                    } else {
                        assert!(got.analog.is_none());
                    }
                }
            }
        }
    }
}
