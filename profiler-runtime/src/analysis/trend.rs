//! Where a power-law trend breaks (saturation, cache cliffs, a change of algorithm).

use serde::{Deserialize, Serialize};

use super::fit::fit_power_law;

/// Default tolerance on the local log-log slope: 0.5 (a local slope of 3.5 or 2.5 against a
/// fitted exponent of 3 is off-trend).
pub const BREAK_TOLERANCE: f64 = 0.5;

/// The size after which measurements leave the power law fitted to the smaller sizes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrendBreak {
    /// The last size on the trend.
    pub at_n: f64,
    /// The first size off it.
    pub first_off_trend_n: f64,
    /// The exponent fitted to the sizes up to `at_n`.
    pub exponent_before: f64,
    /// The log-log slope from `at_n` to `first_off_trend_n`.
    pub local_slope_after: f64,
}

fn local_slope(a: (f64, f64), b: (f64, f64)) -> Option<f64> {
    if a.0 <= 0.0 || b.0 <= 0.0 || a.1 <= 0.0 || b.1 <= 0.0 || a.0 == b.0 {
        return None;
    }
    Some((b.1 / a.1).ln() / (b.0 / a.0).ln())
}

/// Finds where a series `(n, y)` (sorted by `n`, positive values) breaks from its power law.
///
/// For each `j >= 3`, the points before `j` are fitted (`exponent_before`); the trend breaks
/// after `n[j-1]` when every local log-log slope from `n[j-1]` to the end differs from that
/// exponent by more than `tolerance`, all in the same direction, and either at least two
/// segments do, or the single last one differs by more than twice `tolerance` (one noisy last
/// point alone is not a break). The first such `j` wins.
///
/// ```
/// use profiler_runtime::analysis::find_trend_break;
/// // n^2 up to 64, then flat (saturated).
/// let pts: Vec<(f64, f64)> = [8.0, 16.0, 32.0, 64.0, 128.0, 256.0]
///     .iter()
///     .map(|&n: &f64| (n, n.min(64.0).powi(2)))
///     .collect();
/// let b = find_trend_break(&pts, 0.5).unwrap();
/// assert_eq!(b.at_n, 64.0);
/// assert!((b.exponent_before - 2.0).abs() < 1e-9);
/// assert!(b.local_slope_after.abs() < 1e-9);
/// ```
pub fn find_trend_break(points: &[(f64, f64)], tolerance: f64) -> Option<TrendBreak> {
    let tol = if tolerance.is_finite() && tolerance > 0.0 {
        tolerance
    } else {
        BREAK_TOLERANCE
    };
    for j in 3..points.len() {
        let Some(fit) = fit_power_law(&points[..j]) else {
            continue;
        };
        let k = fit.exponent;
        let slopes: Vec<f64> = points[j - 1..]
            .windows(2)
            .filter_map(|w| local_slope(w[0], w[1]))
            .collect();
        if slopes.len() != points.len() - j {
            continue;
        }
        let above = slopes.iter().all(|s| s - k > tol);
        let below = slopes.iter().all(|s| k - s > tol);
        let strong = slopes.len() >= 2 || slopes.first().is_some_and(|s| (s - k).abs() > 2.0 * tol);
        if (above || below) && strong {
            return Some(TrendBreak {
                at_n: points[j - 1].0,
                first_off_trend_n: points[j].0,
                exponent_before: k,
                local_slope_after: slopes[0],
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_power_law_has_no_break() {
        let pts: Vec<(f64, f64)> = (1..=8)
            .map(|i| (f64::from(i) * 10.0, (f64::from(i) * 10.0).powi(3)))
            .collect();
        assert!(find_trend_break(&pts, 0.5).is_none());
    }

    #[test]
    fn one_noisy_last_point_is_not_a_break() {
        let mut pts: Vec<(f64, f64)> = (1..=6)
            .map(|i| (f64::from(i), f64::from(i).powi(2)))
            .collect();
        pts[5].1 *= 1.3; // local slope about 3.4 against 2: off by 1.4 < 2 * 0.5? no: 1.4 > 1.0
        let b = find_trend_break(&pts, 0.8);
        assert!(b.is_none(), "{b:?}");
    }
}
