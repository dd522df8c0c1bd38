//! The refinement loop shared by the solvers, and the spectral-radius estimate.

use nalgebra::{DMatrix, DVector};

use super::config::{HpInvConfig, SolveInfo, SolveOutput};
use super::hp_mvm::HpMvm;
use crate::area::AreaBreakdown;
use crate::crossbar::Crossbar;
use crate::energy::{digital_lu_baseline, EnergyLedger};
use crate::error::SimError;
use crate::linalg::{gemv_into, norm2};
use crate::rng::CounterRng;

/// A low-precision analogue inverse M^-1 ~ G^-1.
pub(crate) trait LowPrecisionInverse {
    /// delta ~ M^-1 r through the hardware, charging `ledger`.
    fn apply(
        &mut self,
        r: &DVector<f64>,
        ledger: &mut EnergyLedger,
    ) -> Result<DVector<f64>, SimError>;
    /// The same operator without noise or rounding, not charged: `r <- M^-1 r`.
    fn apply_ideal(&mut self, r: &mut [f64]) -> Result<(), SimError>;
}

impl LowPrecisionInverse for Crossbar {
    fn apply(
        &mut self,
        r: &DVector<f64>,
        ledger: &mut EnergyLedger,
    ) -> Result<DVector<f64>, SimError> {
        let out = self.solve(r)?;
        ledger.add_sequential(&out.cost.energy);
        Ok(out.x)
    }

    fn apply_ideal(&mut self, r: &mut [f64]) -> Result<(), SimError> {
        self.solve_ideal(r)
    }
}

/// rho(I - G M^-1) by 40 steps of power iteration from a seeded random start: the geometric
/// mean growth over the last 20 steps (robust to complex eigenvalue pairs).
pub(crate) fn spectral_radius<S: LowPrecisionInverse>(
    g: &DMatrix<f64>,
    inner: &mut S,
    seed: u64,
) -> Result<f64, SimError> {
    let n = g.nrows();
    let rng = CounterRng::new(seed, 0x5350_4543);
    let mut v: Vec<f64> = (0..n).map(|i| rng.normal(i as u64)).collect();
    let nv = norm2(&v);
    v.iter_mut().for_each(|x| *x /= nv);
    let mut log_growth = 0.0;
    let mut w = vec![0.0; n];
    for it in 0..40 {
        w.copy_from_slice(&v);
        inner.apply_ideal(&mut w)?;
        gemv_into(g, &w, &mut v, -1.0, true); // v <- v - G M^-1 v
        let nv = norm2(&v);
        if !nv.is_finite() {
            return Ok(f64::INFINITY);
        }
        if nv == 0.0 {
            return Ok(0.0);
        }
        if it >= 20 {
            log_growth += nv.ln();
        }
        v.iter_mut().for_each(|x| *x /= nv);
    }
    Ok((log_growth / 20.0).exp())
}

/// A callback given (iteration, x) after each iteration.
pub(crate) type Observer<'a> = &'a mut dyn FnMut(usize, &DVector<f64>);

/// The hardware of a low-precision inverse, for the report.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InvHardware {
    /// Arrays programmed.
    pub arrays: usize,
    /// Devices programmed (two per differential pair).
    pub cells: u64,
    /// Area of the arrays and their periphery.
    pub area: AreaBreakdown,
}

/// State of one refinement run.
pub(crate) struct Refiner<'a> {
    pub g: &'a DMatrix<f64>,
    pub b: &'a DVector<f64>,
    pub hp: HpMvm,
    bnorm: f64,
    pub x: DVector<f64>,
    r_hw: DVector<f64>,
    pub residuals: Vec<f64>,
    pub measured: Vec<f64>,
    pub bits_gained: Vec<f64>,
    pub slices: Vec<usize>,
    pub compute: EnergyLedger,
    scratch: Vec<f64>,
    /// HP-MVM's error estimate for the last measurement, relative to ||b||.
    measure_error: f64,
    /// Called with (iteration, x) after each iteration.
    observer: Option<Observer<'a>>,
}

impl<'a> Refiner<'a> {
    pub(crate) fn new(g: &'a DMatrix<f64>, b: &'a DVector<f64>, hp: HpMvm) -> Self {
        Self {
            g,
            b,
            hp,
            bnorm: norm2(b.as_slice()),
            x: DVector::zeros(b.len()),
            r_hw: b.clone(),
            residuals: Vec::new(),
            measured: Vec::new(),
            bits_gained: Vec::new(),
            slices: Vec::new(),
            compute: EnergyLedger::default(),
            scratch: vec![0.0; b.len()],
            measure_error: 0.0,
            observer: None,
        }
    }

    /// Calls `observer` with (iteration, x) after each iteration.
    pub(crate) fn observe(mut self, observer: Observer<'a>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// One iteration: delta = M^-1 r, x += delta, r = b - HP-MVM(x). Returns (true, measured)
    /// relative residuals.
    pub(crate) fn step<S: LowPrecisionInverse>(
        &mut self,
        inner: &mut S,
    ) -> Result<(f64, f64), SimError> {
        let delta = inner.apply(&self.r_hw, &mut self.compute)?;
        if delta.iter().any(|v| !v.is_finite()) {
            return Err(SimError::NonFiniteResult {
                solver: "the low-precision inverse",
                what: "update",
                why: format!(
                    "iteration {} returned NaN or infinity from finite inputs (a NaN pivot or an overflow in the scaled analogue system); rescale g and b towards magnitude 1 by powers of two",
                    self.residuals.len() + 1
                ),
            });
        }
        self.x += &delta;
        let y = self.hp.mvm(&self.x, &mut self.compute)?;
        self.r_hw = self.b - y;
        let measured = norm2(self.r_hw.as_slice()) / self.bnorm;
        // The true residual, digitally in f64: a diagnostic the hardware does not have.
        self.scratch.copy_from_slice(self.b.as_slice());
        gemv_into(self.g, self.x.as_slice(), &mut self.scratch, -1.0, true);
        let rel = norm2(&self.scratch) / self.bnorm;
        let prev = self.residuals.last().copied().unwrap_or(1.0);
        let bits = (prev / rel).log2();
        // Reported to the enclosing `algorithm_step` span.
        profiler_runtime::metrics!(residual = rel, bits_gained = bits);
        self.bits_gained.push(bits);
        self.residuals.push(rel);
        self.measured.push(measured);
        self.measure_error = self.hp.error_estimate(&self.x) / self.bnorm;
        self.slices.push(self.hp.slices());
        if let Some(f) = self.observer.as_mut() {
            f(self.residuals.len(), &self.x);
        }
        if !(rel.is_finite() && measured.is_finite()) || self.x.iter().any(|v| !v.is_finite()) {
            return Err(SimError::NonFiniteResult {
                solver: "iterative refinement",
                what: "residual",
                why: format!(
                    "after iteration {} the solution or its residual is NaN or infinite (true residual {rel:e}, measured {measured:e}) although g and b are finite: an overflow or underflow of the scaled system; rescale g and b towards magnitude 1 by powers of two",
                    self.residuals.len()
                ),
            });
        }
        Ok((rel, measured))
    }

    /// Whether the hardware can tell the target is met: the measured residual plus three times
    /// HP-MVM's own error estimate is at most `tol` (so the true residual is too, barring a
    /// 3-sigma event). Where that margin is out of reach (HP-MVM's error is itself near `tol`,
    /// as for large n), it stops once the measured residual meets `tol` and has stopped
    /// improving (less than one bit in the last step): more iterations cannot help, and
    /// `SolveInfo::converged` reports whether the true residual made it.
    pub(crate) fn reached(&self, tol: f64) -> bool {
        let Some(&m) = self.measured.last() else {
            return false;
        };
        if m + 3.0 * self.measure_error <= tol {
            return true;
        }
        let prev = self.measured.iter().rev().nth(1).copied();
        m <= tol && 3.0 * self.measure_error > 0.5 * tol && prev.is_some_and(|p| m > 0.5 * p)
    }

    /// Err(Divergence) if the measured residual is not finite or has grown to 4x its best.
    pub(crate) fn check_divergence(
        &self,
        solver: &'static str,
        bits: u32,
        rho: f64,
    ) -> Result<(), SimError> {
        let Some(&last) = self.measured.last() else {
            return Ok(());
        };
        let best = self.measured.iter().copied().fold(1.0f64, f64::min);
        if self.measured.len() >= 2 && last > 4.0 * best {
            let observed = self.observed_contraction();
            return Err(SimError::Divergence {
                solver,
                spectral_radius: observed.max(rho).max(1.0),
                bits,
            });
        }
        Ok(())
    }

    fn observed_contraction(&self) -> f64 {
        match self.residuals.last() {
            Some(&r) if r > 0.0 => r.powf(1.0 / self.residuals.len() as f64),
            _ => 0.0,
        }
    }

    /// The output, with `programming` charged before the iterations; reports `iterations`,
    /// `final_residual` and `energy_to_solution_pj` to the current (solver) span. Refuses a
    /// non-finite result.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finish(
        self,
        cfg: &HpInvConfig,
        solver: &'static str,
        programming: EnergyLedger,
        rho: f64,
        inv: InvHardware,
        pulses: u64,
        failed: u64,
    ) -> Result<SolveOutput, SimError> {
        if self.x.iter().any(|v| !v.is_finite()) {
            return Err(SimError::NonFiniteResult {
                solver,
                what: "solution",
                why: "x is NaN or infinite although g and b are finite; rescale g and b towards magnitude 1 by powers of two".into(),
            });
        }
        let mut area = inv.area;
        area.add(&self.hp.area());
        let final_residual = self.residuals.last().copied().unwrap_or(1.0);
        let (flops, e_flops) = digital_lu_baseline(&cfg.periphery, self.g.nrows());
        let mut energy = programming;
        energy.add_sequential(&self.compute);
        let info = SolveInfo {
            final_residual,
            converged: final_residual <= cfg.tol,
            observed_contraction: self.observed_contraction(),
            residuals: self.residuals,
            measured_residuals: self.measured,
            bits_gained: self.bits_gained,
            spectral_radius: rho,
            programming,
            compute: self.compute,
            write_pulses: pulses.saturating_add(self.hp.pulses),
            cells_failed: failed.saturating_add(self.hp.cells_failed),
            hp_mvm_exact: self.hp.exact,
            hp_mvm_expected_rounding_errors: self.hp.expected_rounding_errors,
            slices_per_iteration: self.slices,
            adc_model: cfg.periphery.adc_model.name().to_owned(),
            arrays: inv.arrays + self.hp.arrays(),
            inv_arrays: inv.arrays,
            inv_cells: inv.cells,
            area,
            assumptions: crate::assumptions::assumptions(&cfg.device, &cfg.periphery),
            digital_baseline_flops: flops,
            digital_baseline_energy_pj: e_flops,
        };
        let out = SolveOutput {
            iterations: info.residuals.len(),
            x: self.x,
            info,
            energy,
        };
        // Reported to the enclosing solver span.
        profiler_runtime::metrics!(
            iterations = out.iterations,
            final_residual = out.info.final_residual,
            energy_to_solution_pj = out.energy.total_pj(),
            area_um2 = out.info.area.total_um2()
        );
        Ok(out)
    }
}

/// Solvers refuse rho(I - G M^-1) from here up: 1 to working precision (an exactly singular `g`
/// puts an eigenvalue of exactly 1 there, which power iteration finds as 1 - O(eps)).
pub(crate) const RHO_LIMIT: f64 = 1.0 - 1e-9;

/// The error for rho(I - G M^-1) >= 1: [`SimError::Singular`] if `g` itself is singular to
/// working precision (then no approximate inverse can converge; checked digitally, on this
/// error path only), otherwise [`SimError::Divergence`].
pub(crate) fn divergence_error(
    g: &DMatrix<f64>,
    solver: &'static str,
    spectral_radius: f64,
    bits: u32,
) -> SimError {
    match crate::linalg::Lu::factor(g, "g", "G x = b has no unique solution") {
        Err(e) => e,
        Ok(_) => SimError::Divergence {
            solver,
            spectral_radius,
            bits,
        },
    }
}
