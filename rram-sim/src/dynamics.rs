//! The closed-loop INV circuit's dynamics: stability and settling time from the circuit.
//!
//! In the INV circuit (Sun et al., PNAS 2019) op-amp `i` holds row line `i` at virtual ground
//! and drives column line `i`; the array sits in the op-amps' feedback path. Row node `i` sums
//! the currents of every device on its line, both devices of every differential pair (`g_min`
//! included) and, in a BlockAMC loop, the devices of the feedback arrays wired to the same
//! node. With single-pole op-amps of gain-bandwidth product GBW and DC gain A, the outputs obey
//!
//! dV/dt = -2 pi GBW (D^-1 (G V + I) + V / A),   D = diag(total conductance at each node),
//!
//! so the loop matrix is L = D^-1 G + I / A (G the differential conductances, µS). The loop is
//! stable iff every eigenvalue of L has a positive real part; the slowest mode then decays
//! with exp(-2 pi GBW min Re lambda t), and settling to within half an LSB of a `b`-bit ADC
//! takes (b + 1) ln 2 / (2 pi GBW min Re lambda) (Sun et al., IEEE TED 2020). The input is a
//! current (DAC and a voltage-to-current stage), which adds no conductance to the node: an
//! assumption of this model.
//!
//! # Matrices the circuit cannot solve
//!
//! If some eigenvalue of L has a non-positive real part (for example diag(-1, 1): the node
//! of the negative entry sees positive feedback), the op-amps rail and the circuit has no
//! steady state. [`crate::Crossbar::solve`], [`crate::hp_inv`], [`crate::adaptive_hp_inv`] and
//! [`crate::block_amc`] then return [`SimError::Unstable`] with the eigenvalue, before any
//! iteration. Ways to make such a system solvable:
//!
//! - **Sign flips.** For a matrix with a dominant diagonal of mixed signs, multiply the rows
//!   with negative diagonal entries by -1 (solve (S G) x = S b with S = diag(sign G_ii)):
//!   the solution is unchanged and the diagonal becomes positive. diag(-1 x4, +1 x4) is then
//!   the identity.
//! - **Preconditioning.** In general, solve (P G) x = P b with a P that moves the spectrum of
//!   D^-1 P G into the right half-plane: P = G^T gives the normal equations G^T G x = G^T b,
//!   whose matrix is symmetric positive definite, so every loop eigenvalue is real and positive
//!   (at the price of squaring the condition number, so more refinement iterations).
//!
//! HP-INV and its adaptive variant use one INV array holding G's top slice, so the check is
//! made once, on that array. BlockAMC checks every INV stage and every BlockAMC loop on its
//! own programmed arrays; a flipped or preconditioned G passes if its leading blocks at every
//! level are stable as well.

use faer::complex::Complex;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::linalg::view;
use crate::periphery::PeripheryParams;

/// What a user can do with an unstable loop (the hint of [`SimError::Unstable`]).
pub const UNSTABLE_HINT: &str = "flip the sign of the rows with a negative diagonal (solve (S G) x = S b, S = diag(sign G_ii)) or precondition (for example G^T G x = G^T b) so every eigenvalue has a positive real part";

/// The dynamics of one closed analogue loop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoopDynamics {
    /// Smallest real part of the eigenvalues of the loop matrix D^-1 G + I / A (positive:
    /// the loop is stable). Sets the settling time.
    pub min_re_lambda: f64,
    /// Imaginary part of that eigenvalue.
    pub min_re_lambda_im: f64,
    /// Smallest |eigenvalue|: how close the loop is to singular.
    pub min_abs_lambda: f64,
    /// Settling time to within half an LSB of the ADC, ns.
    pub settling_ns: f64,
}

/// The loop matrix L = D^-1 G + I / gain of differential conductances `g_us` (µS, square)
/// whose nodes see `node_g_us` in total (µS per row).
///
/// ```
/// use nalgebra::DMatrix;
/// let g = DMatrix::from_row_slice(2, 2, &[30.0, 5.0, -5.0, 30.0]);
/// let l = rram_sim::dynamics::loop_matrix(&g, &[60.0, 60.0], f64::INFINITY);
/// assert_eq!(l[(0, 0)], 0.5);
/// ```
pub fn loop_matrix(g_us: &DMatrix<f64>, node_g_us: &[f64], gain: f64) -> DMatrix<f64> {
    let mut l = g_us.clone();
    for (i, &d) in node_g_us.iter().enumerate().take(l.nrows()) {
        let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
        l.row_mut(i).iter_mut().for_each(|v| *v *= inv);
    }
    let n = l.nrows().min(l.ncols());
    for i in 0..n {
        l[(i, i)] += 1.0 / gain;
    }
    l
}

/// The eigenvalues of a square matrix (faer's non-symmetric eigensolver).
pub fn eigenvalues(m: &DMatrix<f64>) -> Result<Vec<Complex<f64>>, SimError> {
    view(m)
        .eigenvalues()
        .map_err(|e| SimError::NonFiniteResult {
            solver: "loop eigenvalues",
            what: "eigenvalue decomposition",
            why: format!(
                "the eigensolver did not converge ({e:?}) on a {0}x{0} loop matrix",
                m.nrows()
            ),
        })
}

/// Stability and settling of the loop of `g_us` with node conductances `node_g_us` under
/// `periphery` (gain, GBW, ADC bits): [`SimError::Unstable`] (naming `input`) if some
/// eigenvalue of D^-1 G + I / A has a non-positive real part.
///
/// ```
/// use nalgebra::DMatrix;
/// use rram_sim::{dynamics::loop_dynamics, PeripheryParams, SimError};
/// let p = PeripheryParams::ideal();
/// let stable = DMatrix::from_row_slice(2, 2, &[30.0, 0.0, 0.0, 30.0]);
/// let d = loop_dynamics(&stable, &[31.0, 31.0], &p, "g").unwrap();
/// assert!(d.min_re_lambda > 0.9);
/// let unstable = DMatrix::from_row_slice(2, 2, &[-30.0, 0.0, 0.0, 30.0]);
/// assert!(matches!(loop_dynamics(&unstable, &[31.0, 31.0], &p, "g"), Err(SimError::Unstable { .. })));
/// ```
pub fn loop_dynamics(
    g_us: &DMatrix<f64>,
    node_g_us: &[f64],
    periphery: &PeripheryParams,
    input: &str,
) -> Result<LoopDynamics, SimError> {
    let l = loop_matrix(g_us, node_g_us, periphery.opamp_gain);
    let eig = eigenvalues(&l)?;
    let mut worst = Complex::new(f64::INFINITY, 0.0);
    let mut min_abs = f64::INFINITY;
    for z in &eig {
        if !(z.re.is_finite() && z.im.is_finite()) {
            return Err(SimError::NonFiniteResult {
                solver: "loop eigenvalues",
                what: "eigenvalue",
                why: format!("the loop matrix of `{input}` has a non-finite eigenvalue (a NaN or infinite conductance)"),
            });
        }
        if z.re < worst.re {
            worst = *z;
        }
        min_abs = min_abs.min(z.re.hypot(z.im));
    }
    if eig.is_empty() {
        return Err(SimError::Empty {
            input: "loop matrix",
        });
    }
    if worst.re <= 0.0 {
        return Err(SimError::Unstable {
            input: input.to_owned(),
            re: worst.re,
            im: worst.im,
            hint: UNSTABLE_HINT,
        });
    }
    Ok(LoopDynamics {
        min_re_lambda: worst.re,
        min_re_lambda_im: worst.im,
        min_abs_lambda: min_abs,
        settling_ns: settling_ns(periphery, worst.re, periphery.adc_bits),
    })
}

/// Settling time of a loop whose slowest mode has real part `min_re_lambda` (> 0), ns:
/// (bits + 1) ln 2 / (2 pi GBW min Re lambda), the number of time constants to settle within
/// half an LSB of a `bits`-bit ADC times the slowest time constant (Sun et al., IEEE TED 2020).
///
/// ```
/// use rram_sim::{dynamics::settling_ns, PeripheryParams};
/// let p = PeripheryParams::default(); // GBW 30 MHz
/// let t = settling_ns(&p, 0.5, 9);
/// assert!((t - 10.0 * 2f64.ln() / (std::f64::consts::TAU * 30e6 * 0.5) * 1e9).abs() < 1e-9);
/// ```
pub fn settling_ns(periphery: &PeripheryParams, min_re_lambda: f64, bits: u32) -> f64 {
    let tau_s = 1.0 / (std::f64::consts::TAU * periphery.opamp_gbw_hz * min_re_lambda);
    (f64::from(bits) + 1.0) * std::f64::consts::LN_2 * tau_s * 1e9
}
