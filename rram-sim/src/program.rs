//! Programming a matrix of signed levels onto differential pairs by write-verify, with the
//! cost of every pulse.
//!
//! Columns are programmed in storage order by [`WriteVerify`], split between two threads; each
//! device has its own counter-keyed generator (devices `2 k` and `2 k + 1` for the pair at
//! element `k` of the column-major matrix), so the result does not depend on the split. What
//! happens to the programmed conductances is up to a [`ColumnSink`]: [`program_levels`] stores
//! them, HP-MVM's slices reduce them on the fly.

use std::ops::Range;

use nalgebra::DMatrix;

use crate::device::DeviceParams;
use crate::energy::{adc_energy_pj, adc_latency_ns, cell_energy_pj, EnergyLedger};
use crate::mapping::ConductanceMap;
use crate::periphery::PeripheryParams;
use crate::write_verify::WriteVerify;

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

/// Receives the programmed columns of one [`Part`], in order.
pub(crate) trait ColumnSink: Send {
    /// Column `j` is programmed: `levels[i]` is the signed level of row `i`, `g[2 i]` and
    /// `g[2 i + 1]` the conductances (uS) of its G+ and G- devices.
    fn column(&mut self, j: usize, levels: &[f64], g: &[f64]);
}

/// The columns one thread programs, and where they go.
pub(crate) struct Part<S> {
    /// Columns this part programs and charges for.
    pub cols: Range<usize>,
    /// The part also shows the sink the columns from `cols.end` up to here, programmed again
    /// but not charged: for a sink whose state spans groups of columns, to finish a group that
    /// crosses into the next part. Programming is a pure function of the device, so these are
    /// the very devices the next part programs.
    pub lookahead_end: usize,
    /// Where the columns go.
    pub sink: S,
}

/// The column ranges of the threads programming a `rows x cols` matrix: two halves (the
/// first rounded up) from 2^14 cells on, otherwise one. The split only decides the order in
/// which the energy is summed.
pub(crate) fn column_split(rows: usize, cols: usize) -> Vec<Range<usize>> {
    let threads = if rows * cols >= 1 << 14 { 2 } else { 1 };
    let per = cols.div_ceil(threads).max(1);
    (0..cols)
        .step_by(per)
        .map(|c0| c0..(c0 + per).min(cols))
        .collect()
}

/// Programs the columns of `parts` (one thread each), column `j`'s signed levels written by
/// `level(j, out)`, mapped by `map` onto `device` pairs seeded by `key`. Returns the sinks, in
/// order, and the statistics and cost of the whole matrix of `rows` rows.
#[allow(clippy::too_many_arguments)]
pub(crate) fn program_columns<L, S>(
    device: &DeviceParams,
    periphery: &PeripheryParams,
    map: &ConductanceMap,
    rows: usize,
    key: u64,
    temp_k: f64,
    level: &L,
    parts: Vec<Part<S>>,
) -> (Vec<S>, ProgramStats)
where
    L: Fn(usize, &mut [f64]) + Sync,
    S: ColumnSink,
{
    let run = |part: Part<S>| program_part(device, map, rows, key, level, part);
    let done: Vec<(S, Partial)> = if parts.len() <= 1 {
        parts.into_iter().map(run).collect()
    } else {
        // The workers run inside the caller's span: tracing context (and the profiler's
        // parent links and metrics) follow the work onto them.
        let span = tracing::Span::current();
        std::thread::scope(|s| {
            let handles: Vec<_> = parts
                .into_iter()
                .map(|p| {
                    let span = span.clone();
                    s.spawn(move || span.in_scope(|| run(p)))
                })
                .collect();
            // A worker's panic is a bug: re-raise it rather than return a partial matrix.
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    let mut st = ProgramStats::default();
    let mut row_max = vec![0u32; rows];
    let (mut driver_pj, mut verify_pj) = (0.0, 0.0);
    let mut sinks = Vec::with_capacity(done.len());
    for (sink, p) in done {
        st.pulses_total = st.pulses_total.saturating_add(p.pulses_total);
        st.pulses_max = st.pulses_max.max(p.pulses_max);
        st.failed = st.failed.saturating_add(p.failed);
        st.max_error_us = st.max_error_us.max(p.max_error_us);
        driver_pj += p.driver_pj;
        verify_pj += p.verify_array_pj;
        for (r, m) in row_max.iter_mut().zip(p.row_max) {
            *r = (*r).max(m);
        }
        sinks.push(sink);
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
    (sinks, st)
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
    let mut pos_rest = g_pos.as_mut_slice();
    let mut neg_rest = g_neg.as_mut_slice();
    let mut parts = Vec::new();
    for cols in column_split(rows, cols) {
        let len = cols.len() * rows;
        let (pos, p_rest) = std::mem::take(&mut pos_rest).split_at_mut(len);
        let (neg, n_rest) = std::mem::take(&mut neg_rest).split_at_mut(len);
        (pos_rest, neg_rest) = (p_rest, n_rest);
        parts.push(Part {
            lookahead_end: cols.end,
            sink: StoreSink {
                first_col: cols.start,
                g_pos: pos,
                g_neg: neg,
            },
            cols,
        });
    }
    let level =
        |j: usize, out: &mut [f64]| out.copy_from_slice(&levels.as_slice()[j * rows..][..rows]);
    let (_, st) = program_columns(device, periphery, map, rows, key, temp_k, &level, parts);
    (Pairs { g_pos, g_neg }, st)
}

/// Stores a part's conductances into its columns of G+ and G-.
struct StoreSink<'a> {
    first_col: usize,
    g_pos: &'a mut [f64],
    g_neg: &'a mut [f64],
}

impl ColumnSink for StoreSink<'_> {
    fn column(&mut self, j: usize, levels: &[f64], g: &[f64]) {
        let r = levels.len();
        let at = (j - self.first_col) * r;
        let columns = self.g_pos[at..at + r]
            .iter_mut()
            .zip(&mut self.g_neg[at..at + r]);
        for ((p, n), pair) in columns.zip(g.chunks_exact(2)) {
            (*p, *n) = (pair[0], pair[1]);
        }
    }
}

/// Statistics of one part, summed in column order.
struct Partial {
    pulses_total: u64,
    pulses_max: u32,
    failed: u64,
    max_error_us: f64,
    driver_pj: f64,
    verify_array_pj: f64,
    row_max: Vec<u32>,
}

impl Partial {
    /// Adds one column's devices (`targets`, programmed `g`, `pulses`; G+ and G- of row `i` at
    /// `2 i` and `2 i + 1`) in order. The energy sums run device by device, as they always have,
    /// so they are the same to the last bit; the other statistics, which do not depend on the
    /// order, are computed alongside, in the shadow of the sums' latency.
    fn charge(
        &mut self,
        device: &DeviceParams,
        targets: &[f64],
        g: &[f64],
        pulses: &[u32],
        write_e: f64,
        read_e: f64,
    ) {
        let tol = device.write_verify_tol_us;
        // Largest error of the G+ and of the G- devices (maxima do not depend on order).
        let mut max_err = [self.max_error_us; 2];
        let (mut failed, mut total, mut most) = (0u64, 0u64, self.pulses_max);
        let (mut driver_pj, mut verify_pj) = (self.driver_pj, self.verify_array_pj);
        let pairs = targets
            .chunks_exact(2)
            .zip(g.chunks_exact(2))
            .zip(pulses.chunks_exact(2));
        for (row, ((t, g), n)) in self.row_max.iter_mut().zip(pairs) {
            for side in 0..2 {
                let err = (g[side] - t[side]).abs();
                max_err[side] = max_err[side].max(err);
                failed += u64::from(err > tol);
                total += u64::from(n[side]);
                most = most.max(n[side]);
                driver_pj += f64::from(n[side]) * write_e * t[side];
                verify_pj += f64::from(n[side]) * read_e * t[side];
            }
            *row = (*row).max(n[0].max(n[1]));
        }
        self.max_error_us = max_err[0].max(max_err[1]);
        (self.failed, self.pulses_total, self.pulses_max) = (
            self.failed.saturating_add(failed),
            self.pulses_total.saturating_add(total),
            most,
        );
        (self.driver_pj, self.verify_array_pj) = (driver_pj, verify_pj);
    }
}

/// Programs and charges one part's columns, then shows the sink its lookahead columns.
fn program_part<L, S>(
    device: &DeviceParams,
    map: &ConductanceMap,
    rows: usize,
    key: u64,
    level: &L,
    mut part: Part<S>,
) -> (S, Partial)
where
    L: Fn(usize, &mut [f64]) + Sync,
    S: ColumnSink,
{
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
    let wv = WriteVerify::new(device);
    let mut levels = vec![0.0; rows];
    let mut targets = vec![0.0; 2 * rows];
    let mut g = vec![0.0; 2 * rows];
    let mut pulses = vec![0u32; 2 * rows];
    let end = part.lookahead_end.max(part.cols.end);
    for j in part.cols.start..end {
        level(j, &mut levels);
        for (t, &l) in targets.chunks_exact_mut(2).zip(&levels) {
            (t[0], t[1]) = map.targets(l);
        }
        let first = (j as u64).wrapping_mul(rows as u64).wrapping_mul(2);
        wv.program(key, first, &targets, &mut g, &mut pulses);
        if j < part.cols.end {
            p.charge(device, &targets, &g, &pulses, write_e, read_e);
        }
        part.sink.column(j, &levels, &g);
    }
    (part.sink, p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::DeviceRng;

    /// A matrix of signed levels with every level, both signs and zeros.
    fn levels(rows: usize, cols: usize) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |i, j| ((i * 7 + j * 3) % 15) as f64 - 7.0)
    }

    #[test]
    fn every_device_is_programmed_from_its_own_stream() {
        let device = DeviceParams::taox_3bit();
        let periphery = PeripheryParams::default();
        let map = ConductanceMap::new(&device, 7.0);
        let tol = device.write_verify_tol_us;
        // One thread (below 2^14 cells) and two (split at an odd column).
        for (rows, cols) in [(5, 9), (130, 131)] {
            let lv = levels(rows, cols);
            let (pairs, st) = program_levels(&device, &periphery, &map, &lv, 77, 300.0);
            assert_eq!(
                column_split(rows, cols).len(),
                if rows == 5 { 1 } else { 2 }
            );
            let (mut total, mut max, mut failed, mut max_err) = (0u64, 0u32, 0u64, 0.0f64);
            for (k, &l) in lv.as_slice().iter().enumerate() {
                let (tp, tn) = map.targets(l);
                let idx = k as u64 * 2;
                let p = device.program_device(tp, &mut DeviceRng::new(77, idx));
                let n = device.program_device(tn, &mut DeviceRng::new(77, idx + 1));
                assert_eq!(pairs.g_pos.as_slice()[k].to_bits(), p.0.to_bits());
                assert_eq!(pairs.g_neg.as_slice()[k].to_bits(), n.0.to_bits());
                for ((g, pulses), t) in [(p, tp), (n, tn)] {
                    total += u64::from(pulses);
                    max = max.max(pulses);
                    failed += u64::from((g - t).abs() > tol);
                    max_err = max_err.max((g - t).abs());
                }
            }
            assert_eq!(
                (st.pulses_total, st.pulses_max, st.failed),
                (total, max, failed)
            );
            assert_eq!(st.max_error_us, max_err);
            assert!(st.ledger.write_driver_pj > 0.0 && st.ledger.latency_ns > 0.0);
        }
    }
}
