//! Adaptive HP-INV: starts HP-MVM with few weight slices and programs more only when the
//! residual stalls or nears the precision the active slices can represent. Early iterations
//! then cost fewer conversions and fewer arrays are written for loose tolerances.

use nalgebra::{DMatrix, DVector};
use profiler_runtime::profile;
use serde::{Deserialize, Serialize};

use super::config::{check_scale, check_system, reported, HpInvConfig, SolveOutput};
use super::hp_mvm::HpMvm;
use super::refine::{divergence_error, spectral_radius, InvHardware, Refiner, RHO_LIMIT};
use crate::area::ArrayKind;
use crate::crossbar::Crossbar;
use crate::error::SimError;

/// Configuration of [`adaptive_hp_inv`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveConfig {
    /// The HP-INV settings; `base.slices` is the most slices the solver may use.
    pub base: HpInvConfig,
    /// Weight slices programmed at the start. Default 2.
    pub initial_slices: usize,
    /// A step is stalled when the residual falls by less than this factor. Default 0.5.
    pub stall_ratio: f64,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        Self {
            base: HpInvConfig::default(),
            initial_slices: 2,
            stall_ratio: 0.5,
        }
    }
}

/// HP-INV that raises HP-MVM precision (one more weight slice) when convergence stalls or the
/// residual comes within 4x of the active slices' representation error.
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// use rram_sim::{adaptive_hp_inv, AdaptiveConfig};
///
/// let g = DMatrix::from_fn(8, 8, |i, j| if i == j { 1.0 } else { 0.02 * ((i + 2 * j) % 5) as f64 });
/// let b = DVector::from_element(8, 1.0);
/// let out = adaptive_hp_inv(&g, &b, &AdaptiveConfig::default()).unwrap();
/// assert!(out.info.converged);
/// assert!(out.info.slices_per_iteration[0] < *out.info.slices_per_iteration.last().unwrap());
/// ```
///
/// Under the profiler the call is one `adaptive_hp_inv` span that counts every thread's
/// allocations and reports `n`, `temperature_k` and its verdict (`converged`, `diverged`).
#[profile(kind = "computation", name = "adaptive_hp_inv", skip_all, fields(n = g.nrows()), err, alloc = "process")]
pub fn adaptive_hp_inv(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &AdaptiveConfig,
) -> Result<SolveOutput, SimError> {
    reported(cfg.base.temperature_k, || adaptive_run(g, b, cfg))
}

fn adaptive_run(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &AdaptiveConfig,
) -> Result<SolveOutput, SimError> {
    let base = &cfg.base;
    base.validate()?;
    if cfg.initial_slices == 0 || cfg.initial_slices > base.slices {
        return Err(SimError::InvalidParameter {
            name: "initial_slices",
            value: cfg.initial_slices.to_string(),
            why: "must lie in 1..=base.slices",
        });
    }
    crate::error::check_range(
        "stall_ratio",
        cfg.stall_ratio,
        0.0,
        1.0,
        "must lie in [0, 1]",
    )?;
    check_system(g, b)?;
    check_scale(g, b, base)?;
    let n = g.nrows();
    crate::limits::check_fits("g", n, crate::limits::hp_inv_bytes(n))?;
    let device = base.device();
    let mut xbar =
        Crossbar::new(n, n, device.clone(), base.seed).with_periphery(base.periphery.clone());
    xbar.set_temperature_k(base.temperature_k)?;
    let w = xbar.write_matrix(g)?;
    xbar.set_age_s(base.age_s)?;
    let hp = HpMvm::new(
        g,
        &device,
        &base.periphery,
        cfg.initial_slices,
        base.input_bits,
        base.input_slice_bits,
        base.mvm_rows_per_adc,
        base.seed,
        base.temperature_k,
        base.age_s,
        base.max_iter,
    );
    let rho = spectral_radius(g, &mut xbar, base.seed)?;
    if rho >= RHO_LIMIT {
        return Err(divergence_error(g, "adaptive_hp_inv", rho, base.bits));
    }
    let mut st = Refiner::new(g, b, hp);
    let mut prev = 1.0f64;
    for k in 1..=base.max_iter {
        let (_, measured) = adaptive_iteration(k, &mut st, &mut xbar)?;
        if st.reached(base.tol) && st.hp.weight_bits() >= -base.tol.log2() + 2.0 {
            break;
        }
        let floor = (-st.hp.weight_bits()).exp2();
        let stalled = measured > cfg.stall_ratio * prev || measured <= 4.0 * floor;
        if stalled && st.hp.slices() < base.slices {
            st.hp.add_slice(g);
        } else {
            st.check_divergence("adaptive_hp_inv", base.bits, rho)?;
        }
        prev = measured;
    }
    let mut programming = w.cost.energy;
    programming.add_parallel(&st.hp.programming);
    let inv = InvHardware {
        arrays: 1,
        cells: w.cost.cells_used,
        area: xbar.area(ArrayKind::Inv),
    };
    st.finish(
        base,
        "adaptive_hp_inv",
        programming,
        rho,
        inv,
        w.pulses_total,
        w.cells_failed,
    )
}

#[profile(kind = "algorithm_step", name = "adaptive_hp_inv.iteration", skip_all, fields(k = k), err)]
fn adaptive_iteration(
    k: usize,
    st: &mut Refiner<'_>,
    xbar: &mut Crossbar,
) -> Result<(f64, f64), SimError> {
    let step = st.step(xbar)?;
    profiler_runtime::metrics!(slices = st.hp.slices());
    Ok(step)
}
