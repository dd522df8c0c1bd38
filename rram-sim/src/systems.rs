//! A small, well-conditioned linear system for examples, tests and benches: the one the
//! HP-INV documentation solves, so every program that needs "a system HP-INV converges on"
//! uses the same numbers.

use nalgebra::{DMatrix, DVector};

/// An `n x n` matrix with ones on the diagonal and off-diagonal entries in [-0.05, 0.05]
/// (a fixed pattern, no randomness): strictly diagonally dominant for `n` up to about 20, and
/// well conditioned well beyond, so HP-INV and BlockAMC converge on it with 3-bit cells.
///
/// ```
/// let g = rram_sim::systems::diagonally_dominant(16);
/// assert_eq!(g[(3, 3)], 1.0);
/// assert!(g.iter().all(|v| v.abs() <= 1.0));
/// ```
pub fn diagonally_dominant(n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(n, n, |i, j| {
        if i == j {
            1.0
        } else {
            0.1 * (((i * 7 + j * 3) % 11) as f64 / 10.0 - 0.5)
        }
    })
}

/// A smooth right-hand side of length `n`: `b_i = sin(0.37 i)`.
pub fn smooth_rhs(n: usize) -> DVector<f64> {
    DVector::from_fn(n, |i, _| (i as f64 * 0.37).sin())
}
