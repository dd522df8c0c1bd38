//! BlockAMC (Pan, Zuo et al. 2024) as the low-precision inverse of HP-INV: G is held on tile
//! arrays as nested blocks [A1 A2; A3 A4] and inverted by the BlockAMC macro
//! ([`super::block_tree`]): INV on the diagonal blocks, MVM on the off-diagonal ones, and the
//! Schur complement solved as one analogue loop on the stored blocks, never formed.

use nalgebra::{DMatrix, DVector};
use profiler_runtime::profile;
use serde::{Deserialize, Serialize};

use super::block_tree::{BlockTree, BuildCtx};
use super::config::{check_scale, check_system, reported, HpInvConfig, SolveOutput};
use super::hp_mvm::HpMvm;
use super::refine::{divergence_error, spectral_radius, InvHardware, Refiner, RHO_LIMIT};
use crate::area::AreaBreakdown;
use crate::energy::EnergyLedger;
use crate::error::SimError;
use crate::quantize::full_scale;

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
///
/// Under the profiler the call is one `block_amc` span that counts every thread's allocations
/// and reports `n`, `tile`, `temperature_k` and its verdict (`converged`, `diverged`).
#[profile(kind = "computation", name = "block_amc", skip_all, fields(n = g.nrows(), tile_size = cfg.tile_size), err, alloc = "process")]
pub fn block_amc(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &BlockAmcConfig,
) -> Result<SolveOutput, SimError> {
    reported(cfg.hp.temperature_k, || block_amc_run(g, b, cfg))
}

fn block_amc_run(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &BlockAmcConfig,
) -> Result<SolveOutput, SimError> {
    let hp_cfg = &cfg.hp;
    let mut ctx = checked_build_ctx(g, b, cfg)?;
    let mut tree = BlockTree::build(g, &mut ctx)?;
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
    let inv = InvHardware {
        arrays: ctx.arrays,
        cells: ctx.cells,
        area: ctx.area,
    };
    st.finish(
        hp_cfg,
        "block_amc",
        programming,
        rho,
        inv,
        ctx.pulses,
        ctx.failed,
    )
}

#[profile(kind = "algorithm_step", name = "block_amc.iteration", skip_all, fields(k = k), err)]
fn block_amc_iteration(
    k: usize,
    st: &mut Refiner<'_>,
    tree: &mut BlockTree,
) -> Result<(f64, f64), SimError> {
    st.step(tree)
}

/// Checks a BlockAMC solve of `g x = b` under `cfg` (configuration, system, scale, tile size,
/// memory) and returns the context its block tree is built in. Shared by [`block_amc`] and
/// [`crate::solver::block_amc_once`], so both refuse the same inputs the same way.
pub(super) fn checked_build_ctx(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &BlockAmcConfig,
) -> Result<BuildCtx, SimError> {
    let hp = &cfg.hp;
    hp.validate()?;
    check_system(g, b)?;
    check_scale(g, b, hp)?;
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
    crate::limits::check_fits(
        "g",
        n,
        crate::limits::block_amc_bytes(n, cfg.tile_size, hp.slices),
    )?;
    Ok(BuildCtx {
        device: hp.device(),
        periphery: hp.periphery.clone(),
        tile: cfg.tile_size,
        seed: hp.seed,
        temp_k: hp.temperature_k,
        age_s: hp.age_s,
        w_max: full_scale(g.as_slice()),
        arrays: 0,
        cells: 0,
        area: AreaBreakdown::default(),
        programming: EnergyLedger::default(),
        pulses: 0,
        failed: 0,
    })
}
