//! Quantisation: conductance levels, signed-digit bit slicing of weights, DAC and ADC rounding.
//!
//! A normalised weight a in [-1, 1] on cells with L = 2^s levels (q = L - 1 steps) is sliced
//! into signed digits: d_0 = round(q a), then for slice i >= 1 the remainder, scaled by 2^s, is
//! rounded again. So a ~ sum_i d_i / (q 2^(s i)), |d_0| <= q, |d_i| <= 2^(s-1) <= q for i >= 1:
//! every digit fits one differential pair (G+ - G-). The sum of the first S slices equals
//! round(a q 2^(s (S-1))) / (q 2^(s (S-1))), the nearest point of a grid with
//! s S + log2(q / 2^s) bits, so the representation error is at most 1 / (2 q 2^(s (S-1))).

/// Largest digit magnitude of a cell with `bits` bits: 2^bits - 1.
pub fn max_level(bits: u32) -> f64 {
    ((1u64 << bits.min(62)) - 1) as f64
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
    let denom = max_level(bits) * ((bits as f64) * (slices.saturating_sub(1)) as f64).exp2();
    (a * denom).round() / denom
}

/// Digit `i` of `a` without computing the others (same as `slice_digits(a, bits, i + 1)[i]`).
pub fn digit(a: f64, bits: u32, i: usize) -> f64 {
    let q = max_level(bits);
    let s = f64::from(bits);
    let hi = (a * q * (s * i as f64).exp2()).round();
    if i == 0 {
        return hi;
    }
    let prev = (a * q * (s * (i - 1) as f64).exp2()).round();
    hi - prev * s.exp2()
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
    fn dac_and_adc_rounding() {
        assert_eq!(quantize_signed(0.5, 1.0, 3), 4.0); // 3.5 rounds away from zero
        assert_eq!(quantize_signed(-2.0, 1.0, 3), -7.0);
        assert_eq!(quantize_signed(1.0, 0.0, 3), 0.0);
        let mut y = [1.0, 0.5, -0.26];
        adc_round_in_place(&mut y, 3); // step 1/3
        assert_eq!(y, [1.0, 2.0 / 3.0, -1.0 / 3.0]);
    }
}
