//! Quantisation: conductance levels, signed-digit bit slicing of weights, DAC and ADC rounding.
//!
//! A normalised weight a in [-1, 1] on cells with L = 2^s levels (q = L - 1 steps) is sliced
//! into signed digits: d_0 = round(q a), then for slice i >= 1 the remainder, scaled by 2^s, is
//! rounded again. So a ~ sum_i d_i / (q 2^(s i)), |d_0| <= q, |d_i| <= 2^(s-1) <= q for i >= 1:
//! every digit fits one differential pair (G+ - G-). The sum of the first S slices equals
//! round(a q 2^(s (S-1))) / (q 2^(s (S-1))), the nearest point of a grid with
//! s S + log2(q / 2^s) bits, so the representation error is at most 1 / (2 q 2^(s (S-1))).

/// Largest digit magnitude of a cell with `bits` bits: 2^bits - 1 (as the nearest f64, so
/// 2^63 - 1 and 2^64 - 1 round to 2^63 and 2^64; from 64 bits on, `u64::MAX` as f64).
///
/// ```
/// use rram_sim::quantize::max_level;
/// assert_eq!(max_level(3), 7.0);
/// assert_eq!(max_level(63), 2f64.powi(63));
/// assert_eq!(max_level(64), 2f64.powi(64));
/// ```
pub fn max_level(bits: u32) -> f64 {
    match 1u64.checked_shl(bits) {
        Some(p) if bits < 64 => (p - 1) as f64,
        _ => u64::MAX as f64,
    }
}

/// The signed digits of `a` (normalised to [-1, 1]) in `slices` slices of `bits` bits.
///
/// ```
/// let d = rram_sim::quantize::slice_digits(0.3, 3, 3);
/// // 0.3 ~ d0/7 + d1/56 + d2/448
/// let v = d[0] / 7.0 + d[1] / 56.0 + d[2] / 448.0;
/// assert!((v - 0.3).abs() <= 0.5 / 448.0);
/// ```
pub fn slice_digits(a: f64, bits: u32, slices: usize) -> Vec<f64> {
    let q = max_level(bits);
    let base = (bits as f64).exp2();
    let mut out = Vec::with_capacity(slices);
    let mut rem = a * q;
    for i in 0..slices {
        if i > 0 {
            rem *= base;
        }
        let d = rem.round();
        out.push(d);
        rem -= d;
    }
    out
}

/// The value of the first `slices` slices of `a`: round(a q 2^(s(S-1))) / (q 2^(s(S-1))).
pub fn sliced_value(a: f64, bits: u32, slices: usize) -> f64 {
    SlicedGrid::new(bits, slices).value(a)
}

/// [`sliced_value`] for many values: the grid's scale computed once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlicedGrid {
    denom: f64,
}

impl SlicedGrid {
    /// The grid of the first `slices` slices of `bits` bits.
    pub(crate) fn new(bits: u32, slices: usize) -> Self {
        Self {
            denom: max_level(bits) * ((bits as f64) * (slices.saturating_sub(1)) as f64).exp2(),
        }
    }

    /// `sliced_value(a, bits, slices)`.
    #[inline]
    pub(crate) fn value(&self, a: f64) -> f64 {
        round_half_away(a * self.denom) / self.denom
    }
}

/// Digit `i` of `a` without computing the others (same as `slice_digits(a, bits, i + 1)[i]`).
pub fn digit(a: f64, bits: u32, i: usize) -> f64 {
    SliceDigit::new(bits, i).of(a)
}

/// [`digit`] for many values: the slice's scales computed once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SliceDigit {
    q: f64,
    /// q 2^(s i) is applied as (a q) 2^(s i), the order [`digit`] has always used.
    scale: f64,
    /// 2^(s (i - 1)) and 2^s for the digit above; `None` for slice 0.
    prev: Option<(f64, f64)>,
}

impl SliceDigit {
    /// Digit `i` of cells of `bits` bits.
    pub(crate) fn new(bits: u32, i: usize) -> Self {
        let s = f64::from(bits);
        Self {
            q: max_level(bits),
            scale: (s * i as f64).exp2(),
            prev: i.checked_sub(1).map(|p| ((s * p as f64).exp2(), s.exp2())),
        }
    }

    /// `out[k] = digit(values[k] / w_max, bits, i)` for every k.
    pub(crate) fn of_scaled(&self, values: &[f64], w_max: f64, out: &mut [f64]) {
        let q = self.q;
        match self.prev {
            None => {
                for (o, &v) in out.iter_mut().zip(values) {
                    *o = round_half_away(v / w_max * q * self.scale);
                }
            }
            Some((scale, base)) => {
                for (o, &v) in out.iter_mut().zip(values) {
                    let a = v / w_max;
                    *o =
                        round_half_away(a * q * self.scale) - round_half_away(a * q * scale) * base;
                }
            }
        }
    }

    /// `digit(a, bits, i)`.
    #[inline]
    pub(crate) fn of(&self, a: f64) -> f64 {
        let hi = round_half_away(a * self.q * self.scale);
        match self.prev {
            None => hi,
            Some((scale, base)) => hi - round_half_away(a * self.q * scale) * base,
        }
    }
}

/// `x.round()` (to nearest, halves away from zero), the same value for every input (NaN for
/// NaN), inline:
/// without SSE4.1 in the baseline target, `f64::round` is a call into libm.
///
/// Below 2^52, adding and subtracting 2^52 rounds |x| to an integer with ties to even, exactly;
/// a tie that went down is moved up. From 2^52 on (and for infinities and NaN) x is returned.
#[inline]
pub(crate) fn round_half_away(x: f64) -> f64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let a = x.abs();
    let even = (a + TWO_52) - TWO_52;
    let r = even + if a - even == 0.5 { 1.0 } else { 0.0 };
    // Selects rather than branches, so loops over many values vectorise.
    if a < TWO_52 {
        r.copysign(x)
    } else {
        x
    }
}

/// Signed quantisation of `x` to integers in [-(2^bits - 1), 2^bits - 1] over full scale `fs`
/// (auto-ranged by the caller): round(x / fs (2^bits - 1)), clipped.
pub fn quantize_signed(x: f64, fs: f64, bits: u32) -> f64 {
    if fs <= 0.0 {
        return 0.0;
    }
    let q = max_level(bits);
    (x / fs * q).round().clamp(-q, q)
}

/// An auto-ranging signed ADC of `bits` bits (sign included): rounds each value to the grid
/// with step max|y| / (2^(bits-1) - 1), in place.
pub fn adc_round_in_place(y: &mut [f64], bits: u32) {
    let fs = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if fs == 0.0 || !fs.is_finite() {
        return;
    }
    let q = max_level(bits.saturating_sub(1).max(1));
    let step = fs / q;
    for v in y.iter_mut() {
        *v = (*v / step).round() * step;
    }
}

/// Full scale of a vector: max |x|.
pub fn full_scale(x: &[f64]) -> f64 {
    x.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_sum_to_rounded_grid_and_fit_cells() {
        for k in 0..2000 {
            let a = -1.0 + 2.0 * (k as f64 + 0.37) / 2000.0;
            let d = slice_digits(a, 3, 9);
            assert!(d[0].abs() <= 7.0);
            assert!(d[1..].iter().all(|x| x.abs() <= 4.0));
            let mut v = 0.0;
            for (i, di) in d.iter().enumerate() {
                v += di / (7.0 * 8f64.powi(i as i32));
                assert_eq!(*di, digit(a, 3, i));
            }
            assert!((v - sliced_value(a, 3, 9)).abs() < 1e-15);
            assert!((v - a).abs() <= 0.5 / (7.0 * 8f64.powi(8)) + 1e-16);
        }
    }

    #[test]
    fn digits_of_many_values_are_digits() {
        let values: Vec<f64> = (0..999).map(|k| (k as f64 - 499.3) * 0.0137).collect();
        let mut out = vec![0.0; values.len()];
        for i in 0..6 {
            SliceDigit::new(3, i).of_scaled(&values, 6.9, &mut out);
            for (&v, &d) in values.iter().zip(&out) {
                assert_eq!(d.to_bits(), digit(v / 6.9, 3, i).to_bits());
                let reference = slice_digits(v / 6.9, 3, i + 1)[i];
                assert_eq!(d, reference);
            }
        }
    }

    #[test]
    fn fast_round_is_f64_round() {
        let mut special = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            0.499_999_999_999_999_94,
            -0.499_999_999_999_999_94,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            -4_503_599_627_370_497.0,
            9_007_199_254_740_993.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for k in -2000..2000 {
            special.push(k as f64 / 4.0);
            special.push(f64::from_bits((k as f64 / 2.0).to_bits() + 1));
            special.push(f64::from_bits((k as f64 / 2.0).to_bits().wrapping_sub(1)));
        }
        let mut h = 0x1234_5678_9abc_def0u64;
        for _ in 0..1_000_000 {
            h = crate::rng::mix(h);
            special.push(f64::from_bits(h));
            special.push((h >> 11) as f64 * 2f64.powi(-((h % 60) as i32)));
        }
        for x in special {
            let (got, want) = (round_half_away(x), x.round());
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{x:e}"
            );
        }
    }

    #[test]
    fn dac_and_adc_rounding() {
        assert_eq!(quantize_signed(0.5, 1.0, 3), 4.0); // 3.5 rounds away from zero
        assert_eq!(quantize_signed(-2.0, 1.0, 3), -7.0);
        assert_eq!(quantize_signed(1.0, 0.0, 3), 0.0);
        let mut y = [1.0, 0.5, -0.26];
        adc_round_in_place(&mut y, 3); // step 1/3
        assert_eq!(y, [1.0, 2.0 / 3.0, -1.0 / 3.0]);
    }
}
