//! HP-INV: LP-INV on one array holding the top slice, bit-sliced HP-MVM, digital accumulation.

use nalgebra::{DMatrix, DVector};
use profiler_runtime::profile;

use super::config::{check_scale, check_system, reported, HpInvConfig, SolveOutput};
use super::hp_mvm::HpMvm;
use super::refine::{divergence_error, spectral_radius, InvHardware, Refiner, RHO_LIMIT};
use crate::area::ArrayKind;
use crate::crossbar::Crossbar;
use crate::error::SimError;

/// Solves `g x = b` to `cfg.tol` by HP-INV (Zuo et al. 2025; RRAM.md "HP-INV, step by step").
///
/// 1. `g` is written to one INV array at `cfg.bits` bits per cell (its top slice) and, in
///    `cfg.slices` signed-digit slices, to the HP-MVM arrays.
/// 2. x = 0, r = b; each iteration delta = LP-INV(r) (one analogue step), x += delta
///    (digital), r = b - HP-MVM(x); stop once ||r|| / ||b|| <= tol.
///
/// Errors: shapes, non-finite or zero inputs, a top slice the array cannot invert, and
/// [`SimError::Divergence`] when rho(I - G M^-1) >= 1.
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// use rram_sim::{hp_inv, HpInvConfig};
///
/// let n = 16;
/// let g = rram_sim::systems::diagonally_dominant(n); // ones on the diagonal, |off| <= 0.05
/// let b = DVector::from_fn(n, |i, _| (i as f64 * 0.37).sin());
/// let out = hp_inv(&g, &b, &HpInvConfig::default()).unwrap();
/// assert!(out.info.converged && out.info.final_residual <= 2f64.powi(-24));
/// assert!(out.iterations <= 10);
/// ```
///
/// Under the profiler the call is one `hp_inv` span that counts every thread's allocations
/// (`alloc = "process"`: the programming threads and faer's pool included) and reports `n`,
/// `temperature_k`, and its verdict (`converged`, `diverged`).
#[profile(kind = "computation", name = "hp_inv", skip_all, fields(n = g.nrows()), err, alloc = "process")]
pub fn hp_inv(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &HpInvConfig,
) -> Result<SolveOutput, SimError> {
    reported(cfg.temperature_k, || {
        hp_inv_observed(g, b, cfg, &mut |_, _| {})
    })
}

/// [`hp_inv`], calling `observer(k, x_k)` after each iteration k (1, 2, ...) with the
/// iterate x_k: for studies of what each iteration buys (for example the bit error rate of a
/// detector after k iterations, [`crate::mimo`]). The result is the same as [`hp_inv`]'s.
pub fn hp_inv_observed(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &HpInvConfig,
    observer: &mut dyn FnMut(usize, &DVector<f64>),
) -> Result<SolveOutput, SimError> {
    cfg.validate()?;
    check_system(g, b)?;
    check_scale(g, b, cfg)?;
    let n = g.nrows();
    crate::limits::check_fits("g", n, crate::limits::hp_inv_bytes(n))?;
    let device = cfg.device();
    let mut xbar =
        Crossbar::new(n, n, device.clone(), cfg.seed).with_periphery(cfg.periphery.clone());
    xbar.set_temperature_k(cfg.temperature_k)?;
    let w = xbar.write_matrix(g)?;
    xbar.set_age_s(cfg.age_s)?;
    let hp = HpMvm::new(
        g,
        &device,
        &cfg.periphery,
        cfg.slices,
        cfg.input_bits,
        cfg.input_slice_bits,
        cfg.mvm_rows_per_adc,
        cfg.seed,
        cfg.temperature_k,
        cfg.age_s,
        cfg.max_iter,
    );
    let mut programming = w.cost.energy;
    programming.add_parallel(&hp.programming);
    let rho = spectral_radius(g, &mut xbar, cfg.seed)?;
    if rho >= RHO_LIMIT {
        return Err(divergence_error(g, "hp_inv", rho, cfg.bits));
    }
    let mut st = Refiner::new(g, b, hp).observe(observer);
    for k in 1..=cfg.max_iter {
        hp_inv_iteration(k, &mut st, &mut xbar)?;
        if st.reached(cfg.tol) {
            break;
        }
        st.check_divergence("hp_inv", cfg.bits, rho)?;
    }
    let inv = InvHardware {
        arrays: 1,
        cells: w.cost.cells_used,
        area: xbar.area(ArrayKind::Inv),
    };
    st.finish(
        cfg,
        "hp_inv",
        programming,
        rho,
        inv,
        w.pulses_total,
        w.cells_failed,
    )
}

#[profile(kind = "algorithm_step", name = "hp_inv.iteration", skip_all, fields(k = k), err)]
fn hp_inv_iteration(
    k: usize,
    st: &mut Refiner<'_>,
    xbar: &mut Crossbar,
) -> Result<(f64, f64), SimError> {
    st.step(xbar)
}
