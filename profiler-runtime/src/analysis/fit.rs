//! Power-law fits by least squares in log-log space.

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
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    let n = logs.len();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let mx = logs.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = logs.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = logs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= f64::EPSILON * nf {
        return None;
    }
    let sxy: f64 = logs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let ss_tot: f64 = logs.iter().map(|p| (p.1 - my).powi(2)).sum();
    let ss_res: f64 = logs
        .iter()
        .map(|p| (p.1 - (intercept + slope * p.0)).powi(2))
        .sum();
    let r_squared = if ss_tot <= 0.0 {
        1.0
    } else {
        (1.0 - ss_res / ss_tot).clamp(0.0, 1.0)
    };
    Some(PowerLawFit {
        exponent: slope,
        coefficient: intercept.exp(),
        r_squared,
        points: n,
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
