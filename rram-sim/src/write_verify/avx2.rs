//! The lockstep write-verify kernel in AVX2: four devices per instruction.
//!
//! Same rounds as the portable kernel, each a single pass over the compacted live list, four
//! devices at a time: SplitMix64 (64-bit multiplies built from 32-bit ones, which AVX2 lacks),
//! the ziggurat's fast path (two look-ups in its table), the pulse's spread and new error, the
//! keep test; then the devices that stay are packed to the front of the list, and those that
//! are done to a list of results, by a permutation looked up from the 4-bit keep mask. The
//! first pulse also seeds the generators (`DeviceRng::new`) four at a time. A draw the fast
//! path does not accept (about 1 in 80) is finished in scalar code by `rand_distr`.
//!
//! Only exactly rounded IEEE operations (add, multiply, square root, compare, absolute value)
//! touch floating point; maxima and the `sigma > 0` test keep the scalar code's definitions. So
//! every device's result is the portable kernel's, bit for bit, which the tests check.

use std::arch::x86_64::{
    __m256d, __m256i, _mm256_add_epi64, _mm256_add_pd, _mm256_and_pd, _mm256_and_si256,
    _mm256_blendv_pd, _mm256_castpd_si256, _mm256_castsi256_pd, _mm256_cmp_pd, _mm256_loadu_pd,
    _mm256_loadu_si256, _mm256_movemask_pd, _mm256_mul_epu32, _mm256_mul_pd, _mm256_or_si256,
    _mm256_permutevar8x32_epi32, _mm256_set1_epi64x, _mm256_set1_pd, _mm256_set_epi64x,
    _mm256_set_pd, _mm256_setzero_pd, _mm256_slli_epi64, _mm256_sqrt_pd, _mm256_srli_epi64,
    _mm256_storeu_pd, _mm256_storeu_si256, _mm256_sub_pd, _mm256_xor_si256, _CMP_GT_OQ, _CMP_LT_OQ,
};

use super::{WriteVerify, BLOCK};
use crate::rng::{DeviceRng, GOLDEN_GAMMA, INDEX_MUL, MIX_MUL_1, MIX_MUL_2};
use crate::ziggurat::{slow_path, ZIG_NORM_X};

/// Lanes per vector.
const LANES: usize = 4;
/// Block arrays are this much longer than [`BLOCK`]: a vector store at the last live position
/// writes up to three lanes past it.
const PAD: usize = LANES;

/// [`WriteVerify::program`], four devices per instruction.
///
/// # Safety
/// The CPU must support AVX2 and POPCNT.
#[target_feature(enable = "avx2,popcnt")]
pub(super) unsafe fn program(
    wv: &WriteVerify<'_>,
    key: u64,
    first: u64,
    targets: &[f64],
    g: &mut [f64],
    pulses: &mut [u32],
) {
    let k = Kernel::new(wv, key);
    let mut scratch = Box::new(Scratch {
        state: [0; BLOCK + PAD],
        e: [0.0; BLOCK + PAD],
        id: [0; BLOCK + PAD],
        done_id: [0; BLOCK + PAD],
        done_e: [0.0; BLOCK + PAD],
        sigma: [0.0; BLOCK + PAD],
        e_out: [0.0; BLOCK + PAD],
    });
    let blocks = targets
        .chunks(BLOCK)
        .zip(g.chunks_mut(BLOCK))
        .zip(pulses.chunks_mut(BLOCK));
    for (b, ((t, g), p)) in blocks.enumerate() {
        k.block(
            &mut scratch,
            first.wrapping_add((b * BLOCK) as u64),
            t,
            g,
            p,
        );
    }
}

/// Per-block working arrays, allocated once per call. Vector loads and stores may reach up to
/// three entries past the live ones, hence the padding.
struct Scratch {
    /// Live devices, compacted: generator state.
    state: [u64; BLOCK + PAD],
    /// Live devices: error, uS.
    e: [f64; BLOCK + PAD],
    /// Live devices: index in the block.
    id: [u64; BLOCK + PAD],
    /// Devices done this round: index in the block.
    done_id: [u64; BLOCK + PAD],
    /// Devices done this round: final error, uS.
    done_e: [f64; BLOCK + PAD],
    /// Per device: spread of the first pulse, uS.
    sigma: [f64; BLOCK + PAD],
    /// Per device: final error, uS.
    e_out: [f64; BLOCK + PAD],
}

/// A 64-bit constant split for [`mul64`]: its low and high 32 bits, in every lane.
#[derive(Clone, Copy)]
struct Mul64 {
    lo: __m256i,
    hi: __m256i,
}

/// Broadcast constants of one programming call.
struct Kernel<'a> {
    wv: &'a WriteVerify<'a>,
    key: __m256i,
    golden: __m256i,
    index_mul: Mul64,
    mix_1: Mul64,
    mix_2: Mul64,
    low_byte: __m256i,
    /// The exponent bits of [2, 4).
    exponent: __m256i,
    three: __m256d,
    abs_mask: __m256d,
    tol: __m256d,
    step: __m256d,
    floor2: __m256d,
    lane: __m256i,
    /// Left-packing permutations (eight 32-bit indices) by 4-bit lane mask.
    pack: [[i32; 8]; 16],
}

impl<'a> Kernel<'a> {
    /// The constants for programming with `wv` the devices of the stream `key`.
    #[target_feature(enable = "avx2")]
    unsafe fn new(wv: &'a WriteVerify<'a>, key: u64) -> Self {
        let d = wv.device;
        Self {
            wv,
            key: _mm256_set1_epi64x(key as i64),
            golden: _mm256_set1_epi64x(GOLDEN_GAMMA as i64),
            index_mul: mul64_const(INDEX_MUL),
            mix_1: mul64_const(MIX_MUL_1),
            mix_2: mul64_const(MIX_MUL_2),
            low_byte: _mm256_set1_epi64x(0xff),
            exponent: _mm256_set1_epi64x((1024u64 << 52) as i64),
            three: _mm256_set1_pd(3.0),
            abs_mask: _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX)),
            tol: _mm256_set1_pd(d.write_verify_tol_us),
            step: _mm256_set1_pd(d.verify_step_sigma),
            floor2: _mm256_set1_pd(wv.floor2),
            lane: _mm256_set_epi64x(3, 2, 1, 0),
            pack: pack_table(),
        }
    }

    /// Programs at most [`BLOCK`] devices, `first` the stream index of the first.
    #[target_feature(enable = "avx2,popcnt")]
    unsafe fn block(
        &self,
        scratch: &mut Scratch,
        first: u64,
        targets: &[f64],
        g: &mut [f64],
        pulses: &mut [u32],
    ) {
        let d = self.wv.device;
        let n = targets.len().min(g.len()).min(pulses.len()).min(BLOCK);
        let (targets, g, pulses) = (&targets[..n], &mut g[..n], &mut pulses[..n]);
        let Scratch {
            state,
            e,
            id,
            done_id,
            done_e,
            sigma,
            e_out,
        } = scratch;
        // Lanes past the block's end read the previous block's leftovers, never uninitialised
        // memory, and are masked out.
        for (s, &t) in sigma.iter_mut().zip(targets) {
            *s = d.prog_sigma_us(t);
        }

        // Pulse 1, the coarse write: spread prog_sigma(target); no draw where that is not > 0.
        let continues = if 1 < d.max_write_pulses { ALL } else { 0 };
        let zero = _mm256_setzero_pd();
        let four = _mm256_set1_epi64x(LANES as i64);
        let mut index = self.lane;
        // index * INDEX_MUL, stepped by addition (wrapping, so exact).
        let mut scrambled = mul64(
            _mm256_add_epi64(_mm256_set1_epi64x(first as i64), self.lane),
            self.index_mul,
        );
        let scrambled_step = _mm256_set1_epi64x(INDEX_MUL.wrapping_mul(LANES as u64) as i64);
        let mut live = 0usize;
        for k in (0..n).step_by(LANES) {
            let valid = lanes_below(n - k);
            // DeviceRng::new(key, first + k): mix(key ^ (first + k) * INDEX_MUL).
            let start = self.mix(_mm256_xor_si256(self.key, scrambled));
            let (mut next, mut x, accepted) = self.draw(start);
            let sig = _mm256_loadu_pd(sigma.as_ptr().add(k));
            let draws_v = _mm256_cmp_pd::<_CMP_GT_OQ>(sig, zero);
            let redo = !mask(accepted) & mask(draws_v) & valid;
            if redo != 0 {
                (next, x) = finish_draws(redo, next, x);
            }
            let ek = _mm256_blendv_pd(zero, _mm256_mul_pd(sig, x), draws_v);
            // A device that did not draw keeps its untouched generator.
            let st = _mm256_castpd_si256(_mm256_blendv_pd(
                _mm256_castsi256_pd(start),
                _mm256_castsi256_pd(next),
                draws_v,
            ));
            _mm256_storeu_pd(e_out.as_mut_ptr().add(k), ek);
            let keep = mask(self.outside(ek)) & valid & continues;
            let perm = _mm256_loadu_si256(self.pack[keep].as_ptr().cast());
            store_packed(state.as_mut_ptr().add(live), st, perm);
            store_packed(e.as_mut_ptr().add(live), _mm256_castpd_si256(ek), perm);
            store_packed(id.as_mut_ptr().add(live), index, perm);
            live += keep.count_ones() as usize;
            index = _mm256_add_epi64(index, four);
            scrambled = _mm256_add_epi64(scrambled, scrambled_step);
        }
        pulses.fill(1);

        // Corrective pulses, one round per pulse number.
        let mut pulse = 1u32;
        while live > 0 {
            pulse += 1;
            let continues = if pulse < d.max_write_pulses { ALL } else { 0 };
            let (mut kept, mut done) = (0usize, 0usize);
            for a in (0..live).step_by(LANES) {
                let valid = lanes_below(live - a);
                let st = _mm256_loadu_si256(state.as_ptr().add(a).cast());
                let ea = _mm256_loadu_pd(e.as_ptr().add(a));
                let ids = _mm256_loadu_si256(id.as_ptr().add(a).cast());
                let (mut next, mut x, accepted) = self.draw(st);
                let redo = !mask(accepted) & valid;
                if redo != 0 {
                    (next, x) = finish_draws(redo, next, x);
                }
                // e s z1 + f z2 with independent standard normals is N(0, (e s)^2 + f^2).
                let s = _mm256_mul_pd(ea, self.step);
                let spread = _mm256_sqrt_pd(_mm256_add_pd(_mm256_mul_pd(s, s), self.floor2));
                let ek = _mm256_mul_pd(spread, x);
                let keep = mask(self.outside(ek)) & valid & continues;
                let finished = !keep & valid;
                let perm = _mm256_loadu_si256(self.pack[keep].as_ptr().cast());
                store_packed(state.as_mut_ptr().add(kept), next, perm);
                store_packed(e.as_mut_ptr().add(kept), _mm256_castpd_si256(ek), perm);
                store_packed(id.as_mut_ptr().add(kept), ids, perm);
                kept += keep.count_ones() as usize;
                let perm = _mm256_loadu_si256(self.pack[finished].as_ptr().cast());
                store_packed(done_id.as_mut_ptr().add(done), ids, perm);
                store_packed(done_e.as_mut_ptr().add(done), _mm256_castpd_si256(ek), perm);
                done += finished.count_ones() as usize;
            }
            for (&k, &ek) in done_id[..done].iter().zip(&done_e[..done]) {
                let k = k as usize;
                e_out[k] = ek;
                pulses[k] = pulse;
            }
            live = kept;
        }
        for ((gk, &target), &ek) in g.iter_mut().zip(targets).zip(e_out.iter()) {
            *gk = (target + ek).max(0.0);
        }
    }

    /// SplitMix64's `mix` of four words.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn mix(&self, z: __m256i) -> __m256i {
        self.finalize(_mm256_add_epi64(z, self.golden))
    }

    /// SplitMix64's output function of four states.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn finalize(&self, z: __m256i) -> __m256i {
        let z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64::<30>(z)), self.mix_1);
        let z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64::<27>(z)), self.mix_2);
        _mm256_xor_si256(z, _mm256_srli_epi64::<31>(z))
    }

    /// One normal draw from each of four generators in state `st`, by the ziggurat's fast path
    /// ([`crate::ziggurat::fast_path`]): the advanced states, the values, and where they
    /// were accepted (all bits set).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn draw(&self, st: __m256i) -> (__m256i, __m256d, __m256d) {
        let next = _mm256_add_epi64(st, self.golden);
        let bits = self.finalize(next);
        let layer = _mm256_and_si256(bits, self.low_byte);
        let u = _mm256_sub_pd(
            _mm256_castsi256_pd(_mm256_or_si256(
                _mm256_srli_epi64::<12>(bits),
                self.exponent,
            )),
            self.three,
        );
        // Table look-ups by scalar loads: AVX2 gathers are slow on CPUs with the gather data
        // sampling mitigation, and no faster here.
        let mut i = [0u64; LANES];
        _mm256_storeu_si256(i.as_mut_ptr().cast(), layer);
        let (i0, i1, i2, i3) = (
            i[0] as usize & 0xff,
            i[1] as usize & 0xff,
            i[2] as usize & 0xff,
            i[3] as usize & 0xff,
        );
        let t = &ZIG_NORM_X;
        let x = _mm256_mul_pd(u, _mm256_set_pd(t[i3], t[i2], t[i1], t[i0]));
        let edge = _mm256_set_pd(t[i3 + 1], t[i2 + 1], t[i1 + 1], t[i0 + 1]);
        let accepted = _mm256_cmp_pd::<_CMP_LT_OQ>(_mm256_and_pd(x, self.abs_mask), edge);
        (next, x, accepted)
    }

    /// Where |e| > tolerance (all bits set).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn outside(&self, e: __m256d) -> __m256d {
        _mm256_cmp_pd::<_CMP_GT_OQ>(_mm256_and_pd(e, self.abs_mask), self.tol)
    }
}

/// Redraws the lanes set in `lanes` by `rand_distr` from the generator states in `next` (each
/// one word past the draw's start), returning the states after and the values.
#[cold]
#[inline(never)]
#[target_feature(enable = "avx2")]
unsafe fn finish_draws(lanes: usize, next: __m256i, x: __m256d) -> (__m256i, __m256d) {
    let mut st = [0u64; LANES];
    let mut xs = [0.0f64; LANES];
    _mm256_storeu_si256(st.as_mut_ptr().cast(), next);
    _mm256_storeu_pd(xs.as_mut_ptr(), x);
    for l in 0..LANES {
        if lanes & (1 << l) != 0 {
            let mut rng = DeviceRng::from_state(st[l]);
            xs[l] = slow_path(&mut rng);
            st[l] = rng.state();
        }
    }
    (
        _mm256_loadu_si256(st.as_ptr().cast()),
        _mm256_loadu_pd(xs.as_ptr()),
    )
}

/// All four lanes, as a lane mask.
const ALL: usize = (1 << LANES) - 1;

/// The lane mask of the lanes below `count` (all four from 4 up).
#[inline]
fn lanes_below(count: usize) -> usize {
    ALL >> (LANES - count.min(LANES))
}

/// The lane mask of a comparison result: bit `l` set where lane `l` is all ones.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn mask(v: __m256d) -> usize {
    _mm256_movemask_pd(v) as usize
}

/// Low 64 bits of `a * c` in each lane, from three 32 x 32 -> 64-bit multiplies.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn mul64(a: __m256i, c: Mul64) -> __m256i {
    let low = _mm256_mul_epu32(a, c.lo);
    let cross = _mm256_add_epi64(
        _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), c.lo),
        _mm256_mul_epu32(a, c.hi),
    );
    _mm256_add_epi64(low, _mm256_slli_epi64::<32>(cross))
}

/// `c` split for [`mul64`].
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn mul64_const(c: u64) -> Mul64 {
    Mul64 {
        lo: _mm256_set1_epi64x((c & 0xffff_ffff) as i64),
        hi: _mm256_set1_epi64x((c >> 32) as i64),
    }
}

/// Stores the lanes of `v` selected by the permutation `perm` (from [`pack_table`]) packed to
/// `dst`; all four lanes are written, those past the selected ones with leftovers.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn store_packed<T>(dst: *mut T, v: __m256i, perm: __m256i) {
    _mm256_storeu_si256(dst.cast(), _mm256_permutevar8x32_epi32(v, perm));
}

/// For each 4-bit lane mask, the permutation of 32-bit halves that moves the selected 64-bit
/// lanes, in order, to the front.
fn pack_table() -> [[i32; 8]; 16] {
    let mut t = [[0i32; 8]; 16];
    for (m, row) in t.iter_mut().enumerate() {
        let mut slot = 0;
        for lane in 0..LANES {
            if m & (1 << lane) != 0 {
                row[2 * slot] = 2 * lane as i32;
                row[2 * slot + 1] = 2 * lane as i32 + 1;
                slot += 1;
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceParams;

    #[test]
    fn packing_table_moves_selected_lanes_to_the_front() {
        let t = pack_table();
        assert_eq!(t[0b0101][..4], [0, 1, 4, 5]);
        assert_eq!(t[0b1000][..2], [6, 7]);
        assert_eq!(t[0b1111], [0, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn avx2_kernel_matches_the_portable_kernel() {
        if !(std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt"))
        {
            return;
        }
        let params = [
            DeviceParams::taox_3bit(),
            DeviceParams::ideal(),
            DeviceParams {
                max_write_pulses: 1,
                ..DeviceParams::taox_3bit()
            },
            DeviceParams {
                max_write_pulses: 3,
                write_verify_tol_us: 0.0,
                ..DeviceParams::taox_3bit()
            },
            DeviceParams {
                verify_step_sigma: 0.99,
                write_verify_tol_us: 0.02,
                prog_sigma_intercept_us: 1.0,
                prog_sigma_slope: -0.05, // sigma 0 from 20 uS up: no first draw there
                ..DeviceParams::taox_3bit()
            },
        ];
        for (pi, p) in params.iter().enumerate() {
            let wv = WriteVerify::new(p);
            for (n, first) in [
                (1usize, 0u64),
                (3, 5),
                (BLOCK, 77),
                (3 * BLOCK + 13, 1 << 40),
            ] {
                let targets: Vec<f64> = (0..n)
                    .map(|k| [0.5, 35.0, 20.0, 0.0, 12.3, 30.0, 0.5 + 4.9 * (k % 8) as f64][k % 7])
                    .collect();
                let (mut g1, mut p1) = (vec![0.0; n], vec![0u32; n]);
                let (mut g2, mut p2) = (vec![0.0; n], vec![0u32; n]);
                wv.program_portable(11 + pi as u64, first, &targets, &mut g1, &mut p1);
                // SAFETY: AVX2 checked above.
                unsafe { program(&wv, 11 + pi as u64, first, &targets, &mut g2, &mut p2) };
                for k in 0..n {
                    assert_eq!(
                        (g1[k].to_bits(), p1[k]),
                        (g2[k].to_bits(), p2[k]),
                        "params {pi}, n {n}, device {k}"
                    );
                }
            }
        }
    }
}
