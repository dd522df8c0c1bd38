//! The crate's one least-squares line fit ([`LinearFit`], streaming), the power-law fit built on
//! it, and the one [`median`].

use serde::{Deserialize, Serialize};

/// `y = coefficient * x^exponent`, fitted to points in log-log space.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PowerLawFit {
    /// The exponent (slope in log-log space): 3 for an O(n^3) workload.
    pub exponent: f64,
    /// The coefficient (`exp` of the intercept).
    pub coefficient: f64,
    /// Coefficient of determination of the log-log fit, in `[0, 1]` (1: a perfect power law).
    pub r_squared: f64,
    /// Points used (positive `x` and `y` only).
    pub points: usize,
}

impl PowerLawFit {
    /// The fitted value at `x`.
    pub fn predict(&self, x: f64) -> f64 {
        self.coefficient * x.powf(self.exponent)
    }
}

/// Fits `y = c x^k` by ordinary least squares on `(ln x, ln y)`.
///
/// Points with a non-positive or non-finite coordinate are skipped. Returns `None` with fewer
/// than two usable points or when all `x` are equal.
///
/// ```
/// use profiler_runtime::analysis::fit_power_law;
/// let pts: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0].iter().map(|&n| (n, 5.0 * n * n * n)).collect();
/// let fit = fit_power_law(&pts).unwrap();
/// assert!((fit.exponent - 3.0).abs() < 1e-9);
/// assert!((fit.coefficient - 5.0).abs() < 1e-9);
/// assert!(fit.r_squared > 0.999);
/// ```
pub fn fit_power_law(points: &[(f64, f64)]) -> Option<PowerLawFit> {
    let mut line = LinearFit::default();
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0 {
            line.add(x.ln(), y.ln());
        }
    }
    let (slope, intercept, r_squared) = line.fit()?;
    Some(PowerLawFit {
        exponent: slope,
        coefficient: intercept.exp(),
        r_squared,
        points: line.n as usize,
    })
}

/// Streaming ordinary least squares of `y` on `x` (Welford's updates of the means and
/// co-moments, so large offsets such as byte counts in the 10^12 do not cancel away).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct LinearFit {
    /// Points added.
    pub n: f64,
    mean_x: f64,
    mean_y: f64,
    /// Sum of squared deviations of `x`, of `y`, and their co-moment.
    m2x: f64,
    m2y: f64,
    cxy: f64,
}

impl LinearFit {
    /// Adds one point.
    #[inline]
    pub fn add(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        let dx = x - self.mean_x;
        self.mean_x += dx / self.n;
        let dy = y - self.mean_y;
        self.mean_y += dy / self.n;
        self.m2x += dx * (x - self.mean_x);
        self.m2y += dy * (y - self.mean_y);
        self.cxy += dx * (y - self.mean_y);
    }

    /// `(slope, intercept, r_squared)`, or `None` with fewer than two points or (nearly)
    /// constant `x`. R² is 1 when `y` is constant (the line fits exactly).
    pub fn fit(&self) -> Option<(f64, f64, f64)> {
        if self.n < 2.0 || self.m2x <= f64::EPSILON * self.n * self.mean_x.abs().max(1.0) {
            return None;
        }
        let slope = self.cxy / self.m2x;
        let intercept = self.mean_y - slope * self.mean_x;
        let r2 = if self.m2y <= 0.0 {
            1.0
        } else {
            (self.cxy * self.cxy / (self.m2x * self.m2y)).clamp(0.0, 1.0)
        };
        slope.is_finite().then_some((slope, intercept, r2))
    }

    /// Mean of `y` (0 with no points).
    pub fn mean_y(&self) -> f64 {
        self.mean_y
    }
}

/// The median of `v` (sorted in place; the mean of the middle two for an even length); `None`
/// when empty. NaNs sort last (`f64::total_cmp`).
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_degenerate_input() {
        assert!(fit_power_law(&[]).is_none());
        assert!(fit_power_law(&[(1.0, 1.0)]).is_none());
        assert!(fit_power_law(&[(2.0, 1.0), (2.0, 3.0)]).is_none());
        assert!(fit_power_law(&[(0.0, 1.0), (-1.0, 2.0), (f64::NAN, 1.0)]).is_none());
    }

    #[test]
    fn a_line_far_from_the_origin_fits_exactly() {
        let mut l = LinearFit::default();
        for i in 0..1000 {
            let x = f64::from(i);
            l.add(x, 1e12 + 4096.0 * x);
        }
        let (slope, intercept, r2) = l.fit().unwrap();
        assert!((slope - 4096.0).abs() < 1e-6, "{slope}");
        assert!((intercept - 1e12).abs() < 1.0, "{intercept}");
        assert!(r2 > 0.999_999);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn noisy_quadratic() {
        let pts: Vec<(f64, f64)> = (1..=20)
            .map(|i| {
                let n = f64::from(i) * 10.0;
                let noise = 1.0 + 0.05 * ((i * 7919) % 11) as f64 / 11.0;
                (n, 3.0 * n * n * noise)
            })
            .collect();
        let f = fit_power_law(&pts).unwrap();
        assert!((f.exponent - 2.0).abs() < 0.05, "{f:?}");
        assert!(f.r_squared > 0.99);
    }
}
