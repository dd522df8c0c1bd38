//! Mapping signed values to differential conductance pairs G+ - G-.
//!
//! A matrix with largest magnitude w_max is scaled so w_max spans the whole conductance range:
//! value v maps to the level k = round(|v| / w_max q) (q = levels - 1); the device on the sign's
//! side is set to G_min + k dG, its partner to G_min. Reading maps back with
//! v = (G+ - G-) w_max / (G_max - G_min).

use crate::device::DeviceParams;
use crate::quantize::{max_level, round_half_away};

/// How values map to conductances on one array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConductanceMap {
    /// Lowest conductance, uS.
    pub g_min_us: f64,
    /// Conductance per level, uS.
    pub step_us: f64,
    /// Highest level index, 2^bits - 1.
    pub max_level: f64,
    /// The magnitude that maps to the top level.
    pub w_max: f64,
}

impl ConductanceMap {
    /// The map of `device` for a matrix whose largest magnitude is `w_max` (1 if 0).
    pub fn new(device: &DeviceParams, w_max: f64) -> Self {
        Self {
            g_min_us: device.g_min_us,
            step_us: device.level_step_us(),
            max_level: max_level(device.bits_per_cell),
            w_max: if w_max > 0.0 && w_max.is_finite() {
                w_max
            } else {
                1.0
            },
        }
    }

    /// The signed level of `v`: round(v / w_max q), clipped to [-q, q].
    pub fn level(&self, v: f64) -> f64 {
        round_half_away(v / self.w_max * self.max_level).clamp(-self.max_level, self.max_level)
    }

    /// Target conductances (G+, G-) of a signed level.
    pub fn targets(&self, level: f64) -> (f64, f64) {
        let on = self.g_min_us + level.abs() * self.step_us;
        if level >= 0.0 {
            (on, self.g_min_us)
        } else {
            (self.g_min_us, on)
        }
    }

    /// Value units per uS of conductance difference: w_max / (q dG).
    pub fn value_per_us(&self) -> f64 {
        self.w_max / (self.max_level * self.step_us)
    }

    /// The value a pair (G+, G-) represents.
    pub fn value(&self, g_pos_us: f64, g_neg_us: f64) -> f64 {
        (g_pos_us - g_neg_us) * self.value_per_us()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_on_levels() {
        let d = DeviceParams::taox_3bit();
        let m = ConductanceMap::new(&d, 2.0);
        assert_eq!(m.level(2.0), 7.0);
        assert_eq!(m.level(-1.0), -4.0); // -3.5 rounds away from zero
        let (p, n) = m.targets(-4.0);
        assert_eq!(p, 0.5);
        assert!((n - (0.5 + 4.0 * 34.5 / 7.0)).abs() < 1e-12);
        assert!((m.value(p, n) + 8.0 / 7.0).abs() < 1e-12);
        let (p, n) = m.targets(7.0);
        assert!((p - 35.0).abs() < 1e-12 && n == 0.5);
    }
}
