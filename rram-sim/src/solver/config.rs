//! Solver configuration and output types.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::device::DeviceParams;
use crate::energy::EnergyLedger;
use crate::error::{check_finite, check_range, SimError};
use crate::periphery::PeripheryParams;

/// The largest accepted [`HpInvConfig::max_iter`].
pub const MAX_ITER_LIMIT: usize = 1000;

/// Configuration of [`hp_inv`](crate::hp_inv) (and the refinement inside the other solvers).
///
/// ```
/// use rram_sim::HpInvConfig;
/// let cfg = HpInvConfig { bits: 3, max_iter: 20, ..HpInvConfig::default() };
/// assert_eq!(cfg.tol, 2f64.powi(-24));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HpInvConfig {
    /// Bits per cell of every array (overrides `device.bits_per_cell`). Default 3 (Zuo 2025).
    pub bits: u32,
    /// Weight slices of HP-MVM. Default 10: 3 + 3 x 9 bits, each entry within 2^-30.8 of
    /// max |G|. The residual HP-MVM measures is off by about that times sqrt(n) ||x|| / ||b||,
    /// so 10 slices keep a 2^-24 target reachable up to n of several thousand (9 slices stall
    /// just above 2^-24 from n = 1024 on).
    pub slices: usize,
    /// Input precision of HP-MVM, bits. Default 32.
    pub input_bits: u32,
    /// Bits per input slice of HP-MVM (DAC resolution there). Default 1 (bit-serial); at most
    /// `input_bits`.
    pub input_slice_bits: u32,
    /// Rows summed per ADC conversion in the HP-MVM arrays. Default 8 (Zuo 2025's 8x8 arrays).
    pub mvm_rows_per_adc: usize,
    /// Iteration limit. Default 30; at most [`MAX_ITER_LIMIT`].
    pub max_iter: usize,
    /// Relative residual target: stop once ||b - G x|| / ||b|| <= tol as HP-MVM measures it,
    /// with a margin of three times HP-MVM's own error estimate, so the true residual meets it too.
    /// Default 2^-24 ("24-bit", comparable to FP32).
    pub tol: f64,
    /// Seed of every random draw. Same seed, same result.
    pub seed: u64,
    /// Device parameters. Default [`DeviceParams::taox_3bit`].
    pub device: DeviceParams,
    /// Periphery parameters. Default [`PeripheryParams::default`].
    pub periphery: PeripheryParams,
    /// Temperature of the arrays during the solve, K. Default 300.
    pub temperature_k: f64,
    /// Time between programming and solving, s (drift). Default 0.
    pub age_s: f64,
}

impl Default for HpInvConfig {
    fn default() -> Self {
        Self {
            bits: 3,
            slices: 10,
            input_bits: 32,
            input_slice_bits: 1,
            mvm_rows_per_adc: 8,
            max_iter: 30,
            tol: 2f64.powi(-24),
            seed: 0,
            device: DeviceParams::taox_3bit(),
            periphery: PeripheryParams::default(),
            temperature_k: 300.0,
            age_s: 0.0,
        }
    }
}

impl HpInvConfig {
    /// The device with `bits` applied.
    pub(crate) fn device(&self) -> DeviceParams {
        DeviceParams {
            bits_per_cell: self.bits,
            ..self.device.clone()
        }
    }

    /// Checks every field; errors name the field.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.bits == 0 {
            return Err(SimError::ZeroBits { name: "bits" });
        }
        if self.input_bits == 0 {
            return Err(SimError::ZeroBits { name: "input_bits" });
        }
        if self.input_slice_bits == 0 {
            return Err(SimError::ZeroBits {
                name: "input_slice_bits",
            });
        }
        if self.input_slice_bits > self.input_bits {
            return Err(SimError::InvalidParameter {
                name: "input_slice_bits",
                value: self.input_slice_bits.to_string(),
                why: "must be at most input_bits (an input slice cannot hold more bits than the input has)",
            });
        }
        if self.input_bits > 52 {
            return Err(SimError::InvalidParameter {
                name: "input_bits",
                value: self.input_bits.to_string(),
                why: "at most 52 bits (f64 mantissa)",
            });
        }
        if self.slices == 0 || self.slices > 16 {
            return Err(SimError::InvalidParameter {
                name: "slices",
                value: self.slices.to_string(),
                why: "must lie in 1..=16",
            });
        }
        if self.mvm_rows_per_adc == 0 {
            return Err(SimError::InvalidParameter {
                name: "mvm_rows_per_adc",
                value: "0".into(),
                why: "at least one row per conversion",
            });
        }
        if self.max_iter == 0 || self.max_iter > MAX_ITER_LIMIT {
            return Err(SimError::InvalidParameter {
                name: "max_iter",
                value: self.max_iter.to_string(),
                why: "must lie in 1..=1000 (refinement gains at least a bit per iteration when it converges, so 1000 is far beyond any f64 target)",
            });
        }
        if self.mvm_rows_per_adc > 1 << 20 {
            return Err(SimError::InvalidParameter {
                name: "mvm_rows_per_adc",
                value: self.mvm_rows_per_adc.to_string(),
                why: "must lie in 1..=1048576",
            });
        }
        check_range(
            "tol",
            self.tol,
            f64::MIN_POSITIVE,
            1.0,
            "must lie in (0, 1]",
        )?;
        check_range(
            "temperature_k",
            self.temperature_k,
            1.0,
            2000.0,
            "must lie in [1, 2000] K",
        )?;
        check_range("age_s", self.age_s, 0.0, 1e12, "must lie in [0, 1e12] s")?;
        self.device().validate()?;
        self.periphery.validate()
    }
}

/// Diagnostics of a solve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolveInfo {
    /// True relative residual ||b - G x|| / ||b|| at the end (computed digitally in f64).
    pub final_residual: f64,
    /// True relative residual after each iteration.
    pub residuals: Vec<f64>,
    /// Relative residual as HP-MVM measured it after each iteration (what the stop test saw).
    pub measured_residuals: Vec<f64>,
    /// Bits gained per iteration: log2(previous residual / residual), starting from 1.
    pub bits_gained: Vec<f64>,
    /// Whether `final_residual <= tol`.
    pub converged: bool,
    /// rho(I - G M^-1) estimated by power iteration before the solve.
    pub spectral_radius: f64,
    /// Geometric mean of the residual ratios actually observed.
    pub observed_contraction: f64,
    /// Energy and latency of programming all arrays.
    pub programming: EnergyLedger,
    /// Energy and latency of the iterations (INV, HP-MVM, digital).
    pub compute: EnergyLedger,
    /// Write pulses over all arrays.
    pub write_pulses: u64,
    /// Devices left outside the write-verify tolerance.
    pub cells_failed: u64,
    /// Whether HP-MVM read exactly (digital recovery) rather than simulating every rounding.
    pub hp_mvm_exact: bool,
    /// Expected rounding errors over the solve in exact mode (below 1e-6 when exact).
    pub hp_mvm_expected_rounding_errors: f64,
    /// HP-MVM weight slices in use at each iteration.
    pub slices_per_iteration: Vec<usize>,
    /// The ADC energy model used.
    pub adc_model: String,
    /// Arrays used (INV and MVM).
    pub arrays: usize,
    /// Arrays of the low-precision inverse (one for HP-INV; the tiles for BlockAMC).
    pub inv_arrays: usize,
    /// Devices programmed for the low-precision inverse (two per differential pair): 2 n²
    /// when nothing beyond G's own entries is programmed.
    pub inv_cells: u64,
    /// Silicon area of every array used and its periphery ([`crate::area`]).
    pub area: crate::area::AreaBreakdown,
    /// The unsourced parameters behind these figures ([`crate::assumptions`]).
    pub assumptions: Vec<String>,
    /// Digital baseline: LU flops for the same system.
    pub digital_baseline_flops: f64,
    /// Digital baseline energy at `digital_flop_pj` per flop, pJ.
    pub digital_baseline_energy_pj: f64,
}

/// What a solver returns.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveOutput {
    /// The solution.
    pub x: DVector<f64>,
    /// Iterations run.
    pub iterations: usize,
    /// Residuals, convergence, spectral radius, cost breakdown.
    pub info: SolveInfo,
    /// Total energy and latency: programming plus compute.
    pub energy: EnergyLedger,
}

/// Scale checks shared by the solvers: magnitudes the simulator cannot compute with in f64.
/// `g` and `b` are finite and not all zero (checked first by [`check_system`]).
/// Runs a solve inside its (solver) span and reports to that span the device temperature
/// and the solve's verdict: `converged` (0 or 1) for a result, and `converged = 0,
/// diverged = 1` for a divergence or `converged = 0` for a non-finite result (the profiler's
/// analysis lists those as failed solves). Bad inputs report no verdict: nothing was solved.
pub(crate) fn reported(
    temperature_k: f64,
    run: impl FnOnce() -> Result<SolveOutput, SimError>,
) -> Result<SolveOutput, SimError> {
    if temperature_k.is_finite() {
        profiler_runtime::metrics!(temperature_k = temperature_k);
    }
    let r = run();
    match &r {
        Ok(o) => profiler_runtime::metrics!(converged = o.info.converged),
        Err(SimError::Divergence { .. }) => {
            profiler_runtime::metrics!(converged = false, diverged = true);
        }
        Err(SimError::NonFiniteResult { .. }) => profiler_runtime::metrics!(converged = false),
        Err(_) => {}
    }
    r
}

pub(crate) fn check_scale(
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    cfg: &HpInvConfig,
) -> Result<(), SimError> {
    let gmax = crate::quantize::full_scale(g.as_slice());
    let bmax = crate::quantize::full_scale(b.as_slice());
    // Squares of entries appear in norms and products: keep them inside f64.
    let big = 2f64.powi(500);
    if bmax > big {
        return Err(SimError::BadScale {
            input: "b",
            largest: bmax,
            why: "entries above 2^500 overflow f64 when squared, so ||b|| and the residual ||b - G x|| / ||b|| that the refinement measures are infinite (this is not a matter of conditioning)".into(),
        });
    }
    if gmax > big {
        return Err(SimError::BadScale {
            input: "g",
            largest: gmax,
            why: "entries above 2^500 overflow f64 in the products G x and in their squares".into(),
        });
    }
    // The last HP-MVM slice resolves 2^-(bits slices) of the largest entry, and the DAC/ADC
    // steps another 2^-64: all must stay normal f64 numbers.
    let depth = f64::from(cfg.bits) * cfg.slices as f64 + 64.0;
    if gmax * (-depth).exp2() < f64::MIN_POSITIVE {
        return Err(SimError::BadScale {
            input: "g",
            largest: gmax,
            why: format!("its bit slices resolve 2^-{depth:.0} of the largest entry, which underflows f64 (the scaled system underflows and its inverse overflows)"),
        });
    }
    if bmax * 2f64.powi(-64) < f64::MIN_POSITIVE {
        return Err(SimError::BadScale {
            input: "b",
            largest: bmax,
            why: "its DAC steps underflow f64".into(),
        });
    }
    if bmax / gmax > 2f64.powi(500) {
        return Err(SimError::BadScale {
            input: "b",
            largest: bmax,
            why: format!(
                "the solution is about |b| / |G| >= {:e}, which overflows f64 in the products G x",
                bmax / gmax
            ),
        });
    }
    Ok(())
}

/// Shape and value checks shared by the solvers.
pub(crate) fn check_system(g: &DMatrix<f64>, b: &DVector<f64>) -> Result<(), SimError> {
    let (r, c) = g.shape();
    if r == 0 || c == 0 {
        return Err(SimError::Empty { input: "g" });
    }
    if r != c {
        return Err(SimError::NotSquare {
            input: "g",
            rows: r,
            cols: c,
        });
    }
    if b.len() != r {
        return Err(SimError::ShapeMismatch {
            input: "b",
            found: b.len(),
            expected: r,
            why: "b needs one entry per row of g",
        });
    }
    check_finite("g", g.as_slice())?;
    check_finite("b", b.as_slice())?;
    if g.iter().all(|v| *v == 0.0) {
        return Err(SimError::Singular {
            input: "g",
            why: "it is the zero matrix".into(),
        });
    }
    if b.iter().all(|v| *v == 0.0) {
        return Err(SimError::Zero {
            input: "b",
            why: "the relative residual ||b - G x|| / ||b|| is undefined; the solution is x = 0",
        });
    }
    Ok(())
}
