//! The BlockAMC macro: a matrix held on tile arrays as nested 2x2 blocks [A1 A2; A3 A4], and
//! its analogue inverse (Pan, Zuo et al. 2024; RRAM.md "BlockAMC, one stage").
//!
//! Only the blocks are programmed: every entry of G sits in exactly one tile, and all tiles
//! share one value-to-conductance scale so their currents add in one circuit. One application
//! of the inverse at a split node, r = [r1; r2]:
//!
//! 1. y = INV(A1, r1)                      (A1's own INV, recursively)
//! 2. c = r2 - MVM(A3, y)                  (tiled MVM, O(n) digital subtraction)
//! 3. x2 = S^-1 c, S = A4 - A3 A1^-1 A2    (one analogue loop, below)
//! 4. x1 = INV(A1, r1 - MVM(A2, x2))       (tiled MVM, O(n) subtraction, A1's INV)
//!
//! Step 3 is never formed digitally: c drives the INV nodes of A4, whose outputs x2 drive A2,
//! whose currents feed the INV nodes of A1, whose outputs u drive A3, whose currents return to
//! A4's nodes. The loop settles where A1 u = A2 x2 and A4 x2 - A3 u = c, that is S x2 = c. Its
//! node equations are those of the node's whole matrix [A1 A2; A3 A4] up to the sign of the
//! u nodes (a similarity, so the same eigenvalues), with each node's conductance summed over
//! every tile on its row: so the simulator settles the loop by factoring the assembled
//! *programmed* matrix (quantised, noisy, IR-dropped tiles, finite gain), and takes its
//! settling time from that loop's own eigenvalues ([`crate::dynamics`]). A4 and A1 may
//! themselves be split: their op-amps are part of the same loop.
//!
//! Costs: step 3 is one DAC conversion per entry of c, the op-amps of both INV stages (two
//! per row, as on one INV array) and the currents of every tile of the node for the settling
//! time, and one ADC conversion per entry of x2. Steps run in sequence; the tiles of one MVM
//! run in parallel.

use std::sync::Arc;

use nalgebra::{DMatrix, DVector};

use super::refine::LowPrecisionInverse;
use crate::area::{AreaBreakdown, ArrayKind};
use crate::crossbar::Crossbar;
use crate::device::DeviceParams;
use crate::energy::{self, EnergyLedger};
use crate::error::SimError;
use crate::inv_loop::InvLoop;
use crate::linalg::Lu;
use crate::periphery::PeripheryParams;
use crate::quantize::full_scale;
use crate::rng::{stream, CounterRng};

/// How the tiles are made.
pub(super) struct BuildCtx {
    pub device: DeviceParams,
    pub periphery: PeripheryParams,
    pub tile: usize,
    pub seed: u64,
    pub temp_k: f64,
    pub age_s: f64,
    /// The magnitude every tile maps to its top level: max |G|.
    pub w_max: f64,
    /// Arrays programmed so far.
    pub arrays: usize,
    /// Devices programmed so far.
    pub cells: u64,
    /// Area of the arrays and their periphery.
    pub area: AreaBreakdown,
    /// Programming energy (arrays in parallel).
    pub programming: EnergyLedger,
    pub pulses: u64,
    pub failed: u64,
}

impl BuildCtx {
    /// A new tile array holding `m` at the shared scale; arrays are programmed in parallel.
    fn array(&mut self, m: &DMatrix<f64>, kind: ArrayKind) -> Result<Crossbar, SimError> {
        self.arrays += 1;
        let seed = self
            .seed
            .wrapping_add((self.arrays as u64).wrapping_mul(0x9E37_79B9));
        let mut x = Crossbar::new(self.tile, self.tile, self.device.clone(), seed)
            .with_periphery(self.periphery.clone());
        x.set_temperature_k(self.temp_k)?;
        let w = x.write_scaled(m, Some(self.w_max))?;
        x.set_age_s(self.age_s)?;
        self.programming.add_parallel(&w.cost.energy);
        self.pulses = self.pulses.saturating_add(w.pulses_total);
        self.failed = self.failed.saturating_add(w.cells_failed);
        self.cells = self.cells.saturating_add(w.cost.cells_used);
        self.area.add(&x.area(kind));
        Ok(x)
    }
}

/// A block held on tile arrays for MVM.
struct Tiled {
    rows: usize,
    tiles: Vec<(usize, usize, Crossbar)>,
}

impl Tiled {
    fn build(m: &DMatrix<f64>, ctx: &mut BuildCtx) -> Result<Self, SimError> {
        let t = ctx.tile;
        let mut tiles = Vec::new();
        for c0 in (0..m.ncols()).step_by(t) {
            for r0 in (0..m.nrows()).step_by(t) {
                let blk = m
                    .view((r0, c0), (t.min(m.nrows() - r0), t.min(m.ncols() - c0)))
                    .into_owned();
                if blk.iter().all(|v| *v == 0.0) {
                    continue; // an all-zero block needs no array
                }
                tiles.push((r0, c0, ctx.array(&blk, ArrayKind::Mvm)?));
            }
        }
        Ok(Self {
            rows: m.nrows(),
            tiles,
        })
    }

    /// y = A x on the tiles (in parallel), partial sums of a row of tiles added digitally.
    fn mvm(
        &mut self,
        x: &[f64],
        p: &PeripheryParams,
        ledger: &mut EnergyLedger,
    ) -> Result<DVector<f64>, SimError> {
        let mut y = DVector::zeros(self.rows);
        let mut par = EnergyLedger::default();
        let mut adds = 0usize;
        for (r0, c0, xb) in &mut self.tiles {
            let (r, c) = xb.programmed_shape().ok_or(SimError::NotProgrammed)?;
            let out = xb.matrix_vector_multiply(&DVector::from_column_slice(&x[*c0..*c0 + c]))?;
            y.rows_mut(*r0, r)
                .iter_mut()
                .zip(out.y.iter())
                .for_each(|(a, b)| *a += b);
            adds += r;
            par.add_parallel(&out.cost.energy);
        }
        ledger.add_sequential(&par);
        ledger.add_sequential(&digital(p, adds.saturating_sub(self.rows)));
        Ok(y)
    }

    fn mvm_ideal(&mut self, x: &[f64]) -> Result<DVector<f64>, SimError> {
        let mut y = DVector::zeros(self.rows);
        for (r0, c0, xb) in &mut self.tiles {
            let (r, c) = xb.programmed_shape().ok_or(SimError::NotProgrammed)?;
            let out = xb.mvm_ideal(&x[*c0..*c0 + c])?;
            y.rows_mut(*r0, r)
                .iter_mut()
                .zip(out.iter())
                .for_each(|(a, b)| *a += b);
        }
        Ok(y)
    }

    /// Places the tiles' effective matrices into `m` at (`r_off`, `c_off`) and adds their row
    /// conductances into `row_g` from `r_off`.
    fn assemble_into(
        &mut self,
        m: &mut DMatrix<f64>,
        row_g: &mut [f64],
        r_off: usize,
        c_off: usize,
    ) -> Result<(), SimError> {
        for (r0, c0, xb) in &mut self.tiles {
            let eff = xb.effective()?;
            let (r, c) = eff.m.shape();
            m.view_mut((r_off + *r0, c_off + *c0), (r, c))
                .copy_from(&eff.m);
            for (i, g) in eff.row_g_us.iter().enumerate() {
                row_g[r_off + *r0 + i] += g;
            }
        }
        Ok(())
    }

    /// Array energy of the tiles with input lines at `u[c0..]` x `volts_per_unit`, pJ.
    fn array_energy(&mut self, u: &[f64], volts_per_unit: f64, t_ns: f64) -> Result<f64, SimError> {
        let mut e = 0.0;
        for (_, c0, xb) in &mut self.tiles {
            let eff = xb.effective()?;
            let c = eff.line_g_us.len();
            let volts = u[*c0..*c0 + c].iter().map(|v| v * volts_per_unit);
            e += energy::array_energy_pj(volts, &eff.line_g_us, t_ns);
        }
        Ok(e)
    }
}

/// `count` digital additions (one stage of adders), as a ledger.
fn digital(p: &PeripheryParams, count: usize) -> EnergyLedger {
    if count == 0 {
        return EnergyLedger::default();
    }
    EnergyLedger {
        digital_pj: energy::digital_energy_pj(p, count as f64),
        latency_ns: p.digital_latency_ns,
        ..Default::default()
    }
}

/// A node of the BlockAMC macro.
enum Node {
    Leaf(Box<Crossbar>),
    Split(Box<Split>),
}

struct Split {
    level: usize,
    /// Rows of A1.
    m: usize,
    a1: Node,
    a4: Node,
    a2: Tiled,
    a3: Tiled,
    /// The node's BlockAMC loop, built on first use.
    lp: Option<Arc<InvLoop>>,
    ops: u64,
}

/// The BlockAMC macro holding G.
pub(super) struct BlockTree {
    root: Node,
    sh: Shared,
}

/// What the macro's loops share.
struct Shared {
    periphery: PeripheryParams,
    read_noise_us: f64,
    read_voltage_v: f64,
    temp_k: f64,
    value_per_us: f64,
    seed: u64,
}

impl BlockTree {
    /// Programs `g` on tiles of `ctx.tile` (recursing until a block fits a tile).
    pub(super) fn build(g: &DMatrix<f64>, ctx: &mut BuildCtx) -> Result<Self, SimError> {
        let root = Node::build(g, 0, ctx)?;
        let map = crate::mapping::ConductanceMap::new(&ctx.device, ctx.w_max);
        Ok(Self {
            root,
            sh: Shared {
                periphery: ctx.periphery.clone(),
                read_noise_us: ctx.device.read_noise_us,
                read_voltage_v: ctx.device.read_voltage_v,
                temp_k: ctx.temp_k,
                value_per_us: map.value_per_us(),
                seed: ctx.seed,
            },
        })
    }
}

impl Node {
    fn build(a: &DMatrix<f64>, level: usize, ctx: &mut BuildCtx) -> Result<Self, SimError> {
        let n = a.nrows();
        if n <= ctx.tile {
            return Ok(Node::Leaf(Box::new(ctx.array(a, ArrayKind::Inv)?)));
        }
        let m = n / 2;
        let k = n - m;
        let a1 = a.view((0, 0), (m, m)).into_owned();
        // An input check only (not part of the computation, not charged): BlockAMC cannot
        // pivot across arrays, so a singular leading block has no INV.
        Lu::factor(&a1, "g", &format!("the leading {m}x{m} block at BlockAMC level {level} is singular (BlockAMC cannot pivot across arrays)"))?;
        let a2 = a.view((0, m), (m, k)).into_owned();
        let a3 = a.view((m, 0), (k, m)).into_owned();
        let a4 = a.view((m, m), (k, k)).into_owned();
        Ok(Node::Split(Box::new(Split {
            level,
            m,
            a1: Node::build(&a1, level + 1, ctx)?,
            a4: Node::build(&a4, level + 1, ctx)?,
            a2: Tiled::build(&a2, ctx)?,
            a3: Tiled::build(&a3, ctx)?,
            lp: None,
            ops: 0,
        })))
    }

    fn n(&self) -> usize {
        match self {
            Node::Leaf(x) => x.programmed_shape().map_or(0, |s| s.0),
            Node::Split(s) => s.n(),
        }
    }

    /// The node's programmed matrix (value units) and each row's total conductance (µS).
    fn assemble(&mut self) -> Result<(DMatrix<f64>, Vec<f64>), SimError> {
        match self {
            Node::Leaf(x) => {
                let eff = x.effective()?;
                Ok((eff.m.clone(), eff.row_g_us.clone()))
            }
            Node::Split(s) => s.assemble(),
        }
    }

    /// Array energy of every tile of this node with its lines at `u` x `volts_per_unit`.
    fn array_energy(&mut self, u: &[f64], volts_per_unit: f64, t_ns: f64) -> Result<f64, SimError> {
        match self {
            Node::Leaf(x) => {
                let eff = x.effective()?;
                let volts = u.iter().map(|v| v * volts_per_unit);
                Ok(energy::array_energy_pj(volts, &eff.line_g_us, t_ns))
            }
            Node::Split(s) => s.array_energy(u, volts_per_unit, t_ns),
        }
    }
}

impl Split {
    fn n(&self) -> usize {
        self.m + self.a4.n()
    }

    /// See [`Node::assemble`].
    fn assemble(&mut self) -> Result<(DMatrix<f64>, Vec<f64>), SimError> {
        let (n, m) = (self.n(), self.m);
        let mut out = DMatrix::zeros(n, n);
        let mut row_g = vec![0.0; n];
        let (b1, g1) = self.a1.assemble()?;
        out.view_mut((0, 0), (m, m)).copy_from(&b1);
        row_g[..m].iter_mut().zip(&g1).for_each(|(a, b)| *a += b);
        let (b4, g4) = self.a4.assemble()?;
        out.view_mut((m, m), (n - m, n - m)).copy_from(&b4);
        row_g[m..].iter_mut().zip(&g4).for_each(|(a, b)| *a += b);
        self.a2.assemble_into(&mut out, &mut row_g, 0, m)?;
        self.a3.assemble_into(&mut out, &mut row_g, m, 0)?;
        Ok((out, row_g))
    }

    /// See [`Node::array_energy`].
    fn array_energy(&mut self, u: &[f64], volts_per_unit: f64, t_ns: f64) -> Result<f64, SimError> {
        let m = self.m;
        Ok(self.a1.array_energy(&u[..m], volts_per_unit, t_ns)?
            + self.a4.array_energy(&u[m..], volts_per_unit, t_ns)?
            + self.a2.array_energy(&u[m..], volts_per_unit, t_ns)?
            + self.a3.array_energy(&u[..m], volts_per_unit, t_ns)?)
    }

    /// The node's BlockAMC loop (built and checked for stability on first use).
    fn inv_loop(
        &mut self,
        value_per_us: f64,
        p: &PeripheryParams,
    ) -> Result<Arc<InvLoop>, SimError> {
        if let Some(lp) = &self.lp {
            return Ok(lp.clone());
        }
        let (mat, row_g) = self.assemble()?;
        let n = mat.nrows();
        let label = format!(
            "the BlockAMC loop at level {} (a {n}x{n} block split at row {})",
            self.level, self.m
        );
        let lp = Arc::new(InvLoop::build(
            &mat,
            &row_g,
            value_per_us,
            p,
            "g",
            &label,
            &format!("{label} cannot settle: its programmed blocks form a singular loop"),
        )?);
        self.lp = Some(lp.clone());
        Ok(lp)
    }
}

impl Shared {
    fn apply_node(
        &self,
        node: &mut Node,
        r: &[f64],
        ledger: &mut EnergyLedger,
    ) -> Result<DVector<f64>, SimError> {
        let p = &self.periphery;
        match node {
            Node::Leaf(x) => {
                let out = x.solve(&DVector::from_column_slice(r))?;
                ledger.add_sequential(&out.cost.energy);
                Ok(out.x)
            }
            Node::Split(s) => {
                let m = s.m;
                let (r1, r2) = r.split_at(m);
                let y = self.apply_node(&mut s.a1, r1, ledger)?;
                let t = s.a3.mvm(y.as_slice(), p, ledger)?;
                let c: Vec<f64> = r2.iter().zip(t.iter()).map(|(a, b)| a - b).collect();
                ledger.add_sequential(&digital(p, c.len()));
                let x2 = self.schur_loop(s, &c, ledger)?;
                let t = s.a2.mvm(&x2, p, ledger)?;
                let rest: Vec<f64> = r1.iter().zip(t.iter()).map(|(a, b)| a - b).collect();
                ledger.add_sequential(&digital(p, m));
                let x1 = self.apply_node(&mut s.a1, &rest, ledger)?;
                let mut out = DVector::zeros(r.len());
                out.rows_mut(0, m).copy_from(&x1);
                out.rows_mut(m, r.len() - m).copy_from_slice(&x2);
                Ok(out)
            }
        }
    }

    /// Step 3: x2 = S^-1 c as the steady state of the node's loop, charged as the circuit
    /// spends it.
    fn schur_loop(
        &self,
        s: &mut Split,
        c: &[f64],
        ledger: &mut EnergyLedger,
    ) -> Result<Vec<f64>, SimError> {
        let p = &self.periphery;
        let lp = s.inv_loop(self.value_per_us, p)?;
        let (m, n) = (s.m, lp.n());
        let k = n - m;
        s.ops += 1;
        let noise = CounterRng::new(self.seed, stream::READ)
            .derive(0x5C00_0000 ^ ((s.level as u64) << 40) ^ s.ops);
        let mut b = vec![0.0; n];
        b[m..].copy_from_slice(c);
        let state = lp.settle(&b, m..n, p, self.read_noise_us, noise);
        let settle = lp.dynamics.settling_ns;
        let xs = full_scale(&state);
        let vpu = if xs > 0.0 {
            self.read_voltage_v / xs
        } else {
            0.0
        };
        let array_pj = s.array_energy(&state, vpu, settle)?;
        let t = self.temp_k;
        let e = EnergyLedger {
            array_pj,
            dac_pj: k as f64 * energy::dac_energy_pj(p, p.dac_bits, t),
            adc_pj: k as f64 * energy::adc_energy_pj(p, p.adc_bits, t),
            opamp_pj: energy::opamp_energy_pj(p, 2 * n, settle, t),
            digital_pj: 0.0,
            write_driver_pj: 0.0,
            latency_ns: p.dac_latency_ns + settle + energy::adc_latency_ns(p, p.adc_bits),
        };
        e.emit_metrics();
        profiler_runtime::metrics!(settling_ns = settle);
        ledger.add_sequential(&e);
        Ok(state[m..].to_vec())
    }

    fn apply_ideal_node(&self, node: &mut Node, r: &mut [f64]) -> Result<(), SimError> {
        match node {
            Node::Leaf(x) => x.solve_ideal(r),
            Node::Split(s) => {
                let m = s.m;
                let (r1, r2) = r.split_at_mut(m);
                let mut y = r1.to_vec();
                self.apply_ideal_node(&mut s.a1, &mut y)?;
                let t = s.a3.mvm_ideal(&y)?;
                r2.iter_mut().zip(t.iter()).for_each(|(a, b)| *a -= b);
                let lp = s.inv_loop(self.value_per_us, &self.periphery)?;
                let mut full = vec![0.0; lp.n()];
                full[m..].copy_from_slice(r2);
                lp.solve_ideal(&mut full);
                r2.copy_from_slice(&full[m..]);
                let t = s.a2.mvm_ideal(r2)?;
                r1.iter_mut().zip(t.iter()).for_each(|(a, b)| *a -= b);
                self.apply_ideal_node(&mut s.a1, r1)
            }
        }
    }
}

impl LowPrecisionInverse for BlockTree {
    fn apply(
        &mut self,
        r: &DVector<f64>,
        ledger: &mut EnergyLedger,
    ) -> Result<DVector<f64>, SimError> {
        self.sh.apply_node(&mut self.root, r.as_slice(), ledger)
    }

    fn apply_ideal(&mut self, r: &mut [f64]) -> Result<(), SimError> {
        self.sh.apply_ideal_node(&mut self.root, r)
    }
}
