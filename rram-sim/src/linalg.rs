//! The boundary to faer: zero-copy views of nalgebra storage, LU, products.
//!
//! nalgebra's `DMatrix<f64>` is column-major and contiguous, as is faer's `MatRef` built with
//! `from_column_major_slice`, so no data is copied crossing the boundary. Products use
//! `Par::rayon(2)` above a size where threading pays.

use faer::linalg::matmul::matmul;
use faer::linalg::solvers::{PartialPivLu, Solve};
use faer::{Accum, MatMut, MatRef, Par};
use nalgebra::{DMatrix, DVector};

use crate::error::SimError;

/// Parallelism for a product of `work` multiply-adds: rayon on 2 threads from 64^3 up.
fn par_for(work: usize) -> Par {
    if work >= 1 << 18 {
        Par::rayon(2)
    } else {
        Par::Seq
    }
}

/// A zero-copy faer view of a nalgebra matrix.
pub(crate) fn view(m: &DMatrix<f64>) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(m.as_slice(), m.nrows(), m.ncols())
}

/// A zero-copy faer view of a slice as a column.
pub(crate) fn col_view(x: &[f64]) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(x, x.len(), 1)
}

/// `out = a * x` (or `out += alpha a x` with `accumulate`), faer GEMV.
pub(crate) fn gemv_into(
    a: &DMatrix<f64>,
    x: &[f64],
    out: &mut [f64],
    alpha: f64,
    accumulate: bool,
) {
    let n = out.len();
    let dst = MatMut::from_column_major_slice_mut(out, n, 1);
    let acc = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    matmul(dst, acc, view(a), col_view(x), alpha, par_for(a.len()));
}

/// `a * x` as a new vector.
pub(crate) fn gemv(a: &DMatrix<f64>, x: &[f64]) -> DVector<f64> {
    let mut out = DVector::zeros(a.nrows());
    gemv_into(a, x, out.as_mut_slice(), 1.0, false);
    out
}

/// `c = a * b` (`c` already shaped), with `alpha` and accumulation as in faer's matmul.
pub(crate) fn gemm_into(
    c: &mut DMatrix<f64>,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    alpha: f64,
    accumulate: bool,
) {
    let (r, k) = (c.nrows(), c.ncols());
    let work = r * k * a.ncols();
    let dst = MatMut::from_column_major_slice_mut(c.as_mut_slice(), r, k);
    let acc = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    matmul(dst, acc, a, b, alpha, par_for(work));
}

/// Euclidean norm.
pub(crate) fn norm2(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// An LU factorisation with partial pivoting (faer), for repeated solves.
pub(crate) struct Lu {
    lu: PartialPivLu<f64>,
    n: usize,
}

impl std::fmt::Debug for Lu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lu").field("n", &self.n).finish()
    }
}

impl Lu {
    /// Factors square `m`. Refuses (naming `input`) a matrix whose smallest pivot is below
    /// n eps times the largest, or that has non-finite pivots: it is singular to working precision.
    pub(crate) fn factor(
        m: &DMatrix<f64>,
        input: &'static str,
        why: &str,
    ) -> Result<Self, SimError> {
        let n = m.nrows();
        let lu = PartialPivLu::new(view(m));
        let u = lu.U();
        let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
        for i in 0..n {
            let d = u.get(i, i).abs();
            if !d.is_finite() {
                lo = f64::NAN;
                break;
            }
            lo = lo.min(d);
            hi = hi.max(d);
        }
        if !(lo.is_finite() && lo > hi * n as f64 * f64::EPSILON && hi > 0.0) {
            return Err(SimError::Singular {
                input,
                why: format!("{why} (smallest LU pivot {lo:.3e}, largest {hi:.3e})"),
            });
        }
        Ok(Self { lu, n })
    }

    /// Order of the factored matrix.
    pub(crate) fn n(&self) -> usize {
        self.n
    }

    /// Solves in place: `x <- M^-1 x`.
    pub(crate) fn solve_in_place(&self, x: &mut [f64]) {
        let n = x.len();
        self.lu
            .solve_in_place(MatMut::from_column_major_slice_mut(x, n, 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lu_solves_and_refuses_singular() {
        let a = DMatrix::from_row_slice(2, 2, &[4.0, 1.0, 2.0, 3.0]);
        let lu = Lu::factor(&a, "g", "test").unwrap();
        let mut x = vec![1.0, 2.0];
        lu.solve_in_place(&mut x);
        let r = gemv(&a, &x);
        assert!((r[0] - 1.0).abs() < 1e-14 && (r[1] - 2.0).abs() < 1e-14);
        let s = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]);
        assert!(matches!(
            Lu::factor(&s, "g", "test"),
            Err(SimError::Singular { input: "g", .. })
        ));
    }
}
