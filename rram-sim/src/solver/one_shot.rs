//! One analogue solve without refinement: the comparison of the BlockAMC paper (Pan, Zuo et
//! al. 2024), one INV on a single array holding all of G against BlockAMC on tiles.

use nalgebra::{DMatrix, DVector};
use profiler_runtime::profile;

use super::block_amc::checked_build_ctx;
use super::block_tree::BlockTree;
use super::config::{check_scale, check_system, HpInvConfig};
use super::refine::LowPrecisionInverse;
use super::BlockAmcConfig;
use crate::area::{AreaBreakdown, ArrayKind};
use crate::crossbar::Crossbar;
use crate::energy::EnergyLedger;
use crate::error::SimError;

/// The result and cost of one analogue solve.
#[derive(Debug, Clone, PartialEq)]
pub struct OneShot {
    /// The solution as digitised.
    pub x: DVector<f64>,
    /// ||x - x*|| / ||x*|| against the f64 solution x* (a simulator diagnostic).
    pub relative_error: f64,
    /// Energy and latency of the solve (not of programming).
    pub compute: EnergyLedger,
    /// Energy and latency of programming the arrays.
    pub programming: EnergyLedger,
    /// Area of the arrays and their periphery.
    pub area: AreaBreakdown,
    /// Arrays used.
    pub arrays: usize,
}

impl OneShot {
    /// Area efficiency relative to `other`, for the same problem: (A T)_other / (A T)_self,
    /// the ratio of solves per second per mm².
    pub fn area_efficiency_vs(&self, other: &OneShot) -> f64 {
        (other.area.total_um2() * other.compute.latency_ns)
            / (self.area.total_um2() * self.compute.latency_ns)
    }

    /// Energy efficiency relative to `other`: E_other / E_self (solves per joule).
    pub fn energy_efficiency_vs(&self, other: &OneShot) -> f64 {
        other.compute.total_pj() / self.compute.total_pj()
    }
}

fn relative_error(g: &DMatrix<f64>, b: &DVector<f64>, x: &DVector<f64>) -> f64 {
    match g.clone().lu().solve(b) {
        Some(exact) if exact.norm() > 0.0 => (x - &exact).norm() / exact.norm(),
        _ => f64::NAN,
    }
}

/// One INV of `g x = b` on a single `n x n` array (`cfg`'s device, periphery, bits, seed,
/// temperature and age), without refinement.
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// use rram_sim::{solver::amc_once, HpInvConfig};
/// let g = DMatrix::from_fn(8, 8, |i, j| if i == j { 1.0 } else { 0.05 });
/// let one = amc_once(&g, &DVector::from_element(8, 1.0), &HpInvConfig::default()).unwrap();
/// // A 3-bit inverse without refinement: accurate to tens of percent.
/// assert!(one.relative_error < 0.5 && one.arrays == 1);
/// ```
#[profile(kind = "computation", name = "amc_once", skip_all, fields(n = g.nrows()), err)]
pub fn amc_once(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &HpInvConfig,
) -> Result<OneShot, SimError> {
    cfg.validate()?;
    check_system(g, b)?;
    check_scale(g, b, cfg)?;
    let n = g.nrows();
    crate::limits::check_fits("g", n, crate::limits::hp_inv_bytes(n))?;
    let mut xbar =
        Crossbar::new(n, n, cfg.device(), cfg.seed).with_periphery(cfg.periphery.clone());
    xbar.set_temperature_k(cfg.temperature_k)?;
    let w = xbar.write_matrix(g)?;
    xbar.set_age_s(cfg.age_s)?;
    let out = xbar.solve(b)?;
    Ok(OneShot {
        relative_error: relative_error(g, b, &out.x),
        x: out.x,
        compute: out.cost.energy,
        programming: w.cost.energy,
        area: xbar.area(ArrayKind::Inv),
        arrays: 1,
    })
}

/// One BlockAMC solve of `g x = b` on tiles of `cfg.tile_size`, without refinement: the
/// macro's four steps per level, the Schur complement as an analogue loop
/// ([`crate::block_amc`]'s inner operator).
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// use rram_sim::{solver::block_amc_once, BlockAmcConfig};
/// let g = DMatrix::from_fn(16, 16, |i, j| if i == j { 1.0 } else { 0.02 });
/// let cfg = BlockAmcConfig { tile_size: 4, ..Default::default() };
/// let one = block_amc_once(&g, &DVector::from_element(16, 1.0), &cfg).unwrap();
/// assert_eq!(one.arrays, 16);
/// assert!(one.relative_error < 0.5);
/// ```
#[profile(kind = "computation", name = "block_amc_once", skip_all, fields(n = g.nrows(), tile_size = cfg.tile_size), err)]
pub fn block_amc_once(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &BlockAmcConfig,
) -> Result<OneShot, SimError> {
    let mut ctx = checked_build_ctx(g, b, cfg)?;
    let mut tree = BlockTree::build(g, &mut ctx)?;
    let mut compute = EnergyLedger::default();
    let x = tree.apply(b, &mut compute)?;
    Ok(OneShot {
        relative_error: relative_error(g, b, &x),
        x,
        compute,
        programming: ctx.programming,
        area: ctx.area,
        arrays: ctx.arrays,
    })
}
