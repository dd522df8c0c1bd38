//! BlockAMC (Pan, Zuo et al. 2024) as the low-precision inverse of HP-INV: G is split into
//! [A1 A2; A3 A4] recursively until blocks fit a tile; INV runs on tile arrays and the
//! off-diagonal blocks multiply on tiled MVM arrays. One application of the inverse:
//!
//! y = INV(A1, r1); c = r2 - MVM(A3, y); x2 = INV(S, c); x1 = INV(A1, r1 - MVM(A2, x2)),
//!
//! with S = A4 - A3 A1^-1 A2 formed digitally once (charged as digital flops) and programmed
//! like any block; INV(A1, .) and INV(S, .) recurse. Steps are sequential; the tiles of one MVM
//! run in parallel.

use nalgebra::{DMatrix, DVector};
use profiler_runtime::profile;
use serde::{Deserialize, Serialize};

use super::config::{check_system, HpInvConfig, SolveOutput};
use super::hp_mvm::HpMvm;
use super::refine::{divergence_error, spectral_radius, LowPrecisionInverse, Refiner, RHO_LIMIT};
use crate::crossbar::Crossbar;
use crate::device::DeviceParams;
use crate::energy::EnergyLedger;
use crate::error::SimError;
use crate::linalg::{gemm_into, view, Lu};
use crate::periphery::PeripheryParams;

/// Configuration of [`block_amc`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockAmcConfig {
    /// Order of one physical array (tile). Default 8 (Zuo 2025's 8x8 arrays).
    pub tile_size: usize,
    /// Refinement settings (bits, HP-MVM, tolerance, seed, device, periphery).
    pub hp: HpInvConfig,
}

impl Default for BlockAmcConfig {
    fn default() -> Self {
        Self {
            tile_size: 8,
            hp: HpInvConfig::default(),
        }
    }
}

/// Solves `g x = b` by HP-INV whose low-precision inverse is BlockAMC over `tile_size` arrays.
///
/// Errors as [`hp_inv`](crate::hp_inv), plus [`SimError::TileTooLarge`] and a singular leading
/// block at some level (BlockAMC cannot pivot across arrays).
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// use rram_sim::{block_amc, BlockAmcConfig};
///
/// let n = 16;
/// let g = DMatrix::from_fn(n, n, |i, j| if i == j { 1.0 } else { 0.1 * (((i * 5 + j * 3) % 7) as f64 / 6.0 - 0.5) });
/// let b = DVector::from_fn(n, |i, _| 1.0 + i as f64 / n as f64);
/// let out = block_amc(&g, &b, &BlockAmcConfig { tile_size: 8, ..Default::default() }).unwrap();
/// assert!(out.info.converged && out.info.final_residual <= 2f64.powi(-24));
/// ```
#[profile(kind = "computation", name = "block_amc", skip_all, fields(n = g.nrows(), tile = cfg.tile_size), err)]
pub fn block_amc(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &BlockAmcConfig,
) -> Result<SolveOutput, SimError> {
    let hp_cfg = &cfg.hp;
    hp_cfg.validate()?;
    check_system(g, b)?;
    let n = g.nrows();
    if cfg.tile_size == 0 {
        return Err(SimError::InvalidParameter {
            name: "tile_size",
            value: "0".into(),
            why: "a tile needs at least one row",
        });
    }
    if cfg.tile_size > n {
        return Err(SimError::TileTooLarge {
            tile: cfg.tile_size,
            n,
        });
    }
    let mut ctx = BuildCtx {
        device: hp_cfg.device(),
        periphery: hp_cfg.periphery.clone(),
        tile: cfg.tile_size,
        seed: hp_cfg.seed,
        next: 0,
        temp_k: hp_cfg.temperature_k,
        age_s: hp_cfg.age_s,
        programming: EnergyLedger::default(),
        pulses: 0,
        failed: 0,
    };
    let mut tree = Node::build(g.clone(), 0, &mut ctx)?;
    let hp = HpMvm::new(
        g,
        &ctx.device,
        &ctx.periphery,
        hp_cfg.slices,
        hp_cfg.input_bits,
        hp_cfg.input_slice_bits,
        hp_cfg.mvm_rows_per_adc,
        hp_cfg.seed ^ 0xB10C,
        hp_cfg.temperature_k,
        hp_cfg.age_s,
        hp_cfg.max_iter,
    );
    let mut programming = ctx.programming;
    programming.add_parallel(&hp.programming);
    let rho = spectral_radius(g, &mut tree, hp_cfg.seed)?;
    if rho >= RHO_LIMIT {
        return Err(divergence_error(g, "block_amc", rho, hp_cfg.bits));
    }
    let mut st = Refiner::new(g, b, hp);
    for k in 1..=hp_cfg.max_iter {
        block_amc_iteration(k, &mut st, &mut tree)?;
        if st.reached(hp_cfg.tol) {
            break;
        }
        st.check_divergence("block_amc", hp_cfg.bits, rho)?;
    }
    Ok(st.finish(
        hp_cfg,
        programming,
        rho,
        ctx.next as usize,
        ctx.pulses,
        ctx.failed,
    ))
}

#[profile(kind = "algorithm_step", name = "block_amc.iteration", skip_all, fields(k = k), err)]
fn block_amc_iteration(
    k: usize,
    st: &mut Refiner<'_>,
    tree: &mut Node,
) -> Result<(f64, f64), SimError> {
    st.step(tree)
}

struct BuildCtx {
    device: DeviceParams,
    periphery: PeripheryParams,
    tile: usize,
    seed: u64,
    next: u64,
    temp_k: f64,
    age_s: f64,
    programming: EnergyLedger,
    pulses: u64,
    failed: u64,
}

impl BuildCtx {
    /// A new programmed array holding `m`; arrays are programmed in parallel.
    fn array(&mut self, m: &DMatrix<f64>) -> Result<Crossbar, SimError> {
        self.next += 1;
        let seed = self.seed.wrapping_add(self.next.wrapping_mul(0x9E37_79B9));
        let mut x = Crossbar::new(self.tile, self.tile, self.device.clone(), seed)
            .with_periphery(self.periphery.clone());
        x.set_temperature_k(self.temp_k)?;
        let w = x.write_matrix(m)?;
        x.set_age_s(self.age_s)?;
        self.programming.add_parallel(&w.cost.energy);
        self.pulses += w.pulses_total;
        self.failed += w.cells_failed;
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
                tiles.push((r0, c0, ctx.array(&blk)?));
            }
        }
        Ok(Self {
            rows: m.nrows(),
            tiles,
        })
    }

    fn mvm(&mut self, x: &[f64], ledger: &mut EnergyLedger) -> Result<DVector<f64>, SimError> {
        let mut y = DVector::zeros(self.rows);
        let mut par = EnergyLedger::default();
        for (r0, c0, xb) in &mut self.tiles {
            let (r, c) = xb.programmed_shape().ok_or(SimError::NotProgrammed)?;
            let out = xb.matrix_vector_multiply(&DVector::from_column_slice(&x[*c0..*c0 + c]))?;
            y.rows_mut(*r0, r)
                .iter_mut()
                .zip(out.y.iter())
                .for_each(|(a, b)| *a += b);
            par.add_parallel(&out.cost.energy);
        }
        ledger.add_sequential(&par);
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
}

/// The recursive BlockAMC operator.
enum Node {
    Leaf(Box<Crossbar>),
    Split {
        m: usize,
        a1: Box<Node>,
        s: Box<Node>,
        a2: Tiled,
        a3: Tiled,
    },
}

impl Node {
    fn build(a: DMatrix<f64>, level: usize, ctx: &mut BuildCtx) -> Result<Self, SimError> {
        let n = a.nrows();
        if n <= ctx.tile {
            return Ok(Node::Leaf(Box::new(ctx.array(&a)?)));
        }
        let m = n / 2;
        let k = n - m;
        let a1 = a.view((0, 0), (m, m)).into_owned();
        let a2 = a.view((0, m), (m, k)).into_owned();
        let a3 = a.view((m, 0), (k, m)).into_owned();
        let mut s = a.view((m, m), (k, k)).into_owned();
        schur(&a1, &a2, &a3, &mut s, level, ctx)?;
        let a1n = Node::build(a1, level + 1, ctx)?;
        let sn = Node::build(s, level + 1, ctx)?;
        Ok(Node::Split {
            m,
            a1: Box::new(a1n),
            s: Box::new(sn),
            a2: Tiled::build(&a2, ctx)?,
            a3: Tiled::build(&a3, ctx)?,
        })
    }
}

/// S = A4 - A3 A1^-1 A2, digitally; charged as (2/3 m^3 + 2 m^2 k + 2 k m k) flops.
#[profile(kind = "computation", name = "block_amc.schur", skip_all, fields(level = level), err)]
fn schur(
    a1: &DMatrix<f64>,
    a2: &DMatrix<f64>,
    a3: &DMatrix<f64>,
    s: &mut DMatrix<f64>,
    level: usize,
    ctx: &mut BuildCtx,
) -> Result<(), SimError> {
    let lu = Lu::factor(a1, "g", &format!("the leading {}x{} block at BlockAMC level {level} is singular (BlockAMC cannot pivot across arrays)", a1.nrows(), a1.nrows()))?;
    let mut x = a2.clone();
    lu.solve_matrix_in_place(&mut x);
    gemm_into(s, view(a3), view(&x), -1.0, true);
    let (m, k) = (a1.nrows() as f64, a2.ncols() as f64);
    let flops = 2.0 / 3.0 * m * m * m + 2.0 * m * m * k + 2.0 * k * m * k;
    let e = EnergyLedger {
        digital_pj: flops * ctx.periphery.digital_flop_pj,
        latency_ns: flops / ctx.periphery.digital_gflops,
        ..Default::default()
    };
    e.emit_metrics();
    ctx.programming.add_sequential(&e);
    Ok(())
}

impl LowPrecisionInverse for Node {
    fn apply(
        &mut self,
        r: &DVector<f64>,
        ledger: &mut EnergyLedger,
    ) -> Result<DVector<f64>, SimError> {
        match self {
            Node::Leaf(x) => x.apply(r, ledger),
            Node::Split { m, a1, s, a2, a3 } => {
                let m = *m;
                let r1 = r.rows(0, m).into_owned();
                let y = a1.apply(&r1, ledger)?;
                let c = r.rows(m, r.len() - m) - a3.mvm(y.as_slice(), ledger)?;
                let x2 = s.apply(&c, ledger)?;
                let x1 = a1.apply(&(r1 - a2.mvm(x2.as_slice(), ledger)?), ledger)?;
                let mut out = DVector::zeros(r.len());
                out.rows_mut(0, m).copy_from(&x1);
                out.rows_mut(m, r.len() - m).copy_from(&x2);
                Ok(out)
            }
        }
    }

    fn apply_ideal(&mut self, r: &mut [f64]) -> Result<(), SimError> {
        match self {
            Node::Leaf(x) => x.apply_ideal(r),
            Node::Split { m, a1, s, a2, a3 } => {
                let m = *m;
                let (r1, r2) = r.split_at_mut(m);
                let mut y = r1.to_vec();
                a1.apply_ideal(&mut y)?;
                let t = a3.mvm_ideal(&y)?;
                r2.iter_mut().zip(t.iter()).for_each(|(a, b)| *a -= b);
                s.apply_ideal(r2)?;
                let t = a2.mvm_ideal(r2)?;
                r1.iter_mut().zip(t.iter()).for_each(|(a, b)| *a -= b);
                a1.apply_ideal(r1)
            }
        }
    }
}
