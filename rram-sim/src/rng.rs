//! Counter-based random numbers: a value is a pure function of (seed, stream, index).
//!
//! Each device's programming error, drift coefficient and each read's noise is drawn from a
//! SplitMix64 hash of its coordinates, so results do not depend on the order of evaluation or
//! on threads, and nothing needs to be stored per device. Same seed, same result.

/// SplitMix64's increment, 2^64 / golden ratio.
pub(crate) const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// SplitMix64's first finalising multiplier.
pub(crate) const MIX_MUL_1: u64 = 0xBF58_476D_1CE4_E5B9;
/// SplitMix64's second finalising multiplier.
pub(crate) const MIX_MUL_2: u64 = 0x94D0_49BB_1331_11EB;
/// Spreads a device index before it is mixed with the key ([`DeviceRng::new`]).
pub(crate) const INDEX_MUL: u64 = 0xA076_1D64_78BD_642F;

/// SplitMix64's finaliser: a bijective 64-bit mix with full avalanche.
#[inline]
pub(crate) fn mix(z: u64) -> u64 {
    finalize(z.wrapping_add(GOLDEN_GAMMA))
}

/// SplitMix64's output function of a state.
#[inline]
fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(MIX_MUL_1);
    z = (z ^ (z >> 27)).wrapping_mul(MIX_MUL_2);
    z ^ (z >> 31)
}

/// A keyed stream of random numbers indexed by a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CounterRng {
    key: u64,
}

impl CounterRng {
    /// The stream `stream` of generator `seed`.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        Self {
            key: mix(mix(seed) ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93)),
        }
    }

    /// A sub-stream, e.g. one per array or per operation.
    pub(crate) fn derive(self, sub: u64) -> Self {
        Self {
            key: mix(self.key ^ mix(sub.wrapping_add(0x632B_E59B_D9B4_E019))),
        }
    }

    /// Uniform in (0, 1), never 0 or 1: `(k + 0.5) 2^-53` for the top 53 bits k of the hash.
    #[inline]
    pub(crate) fn uniform(self, index: u64) -> f64 {
        let h = mix(self.key ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        ((h >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal by Box-Muller on two uniforms at `2 index` and `2 index + 1`.
    #[inline]
    pub(crate) fn normal(self, index: u64) -> f64 {
        let u1 = self.uniform(index.wrapping_mul(2));
        let u2 = self.uniform(index.wrapping_mul(2).wrapping_add(1));
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A fast sequential generator (SplitMix64) for one device or one operation, seeded from a
/// counter key: `DeviceRng::new(key, index)`. Implements `rand::RngCore`, so `rand_distr`'s
/// ziggurat `StandardNormal` samples from it (inline: [`crate::ziggurat::standard_normal`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceRng {
    state: u64,
}

impl DeviceRng {
    /// The generator of item `index` in the stream keyed by `key`.
    #[inline]
    pub(crate) fn new(key: u64, index: u64) -> Self {
        Self {
            state: mix(key ^ index.wrapping_mul(INDEX_MUL)),
        }
    }

    /// A generator in raw SplitMix64 state `state` (see [`Self::state`]).
    #[inline]
    pub(crate) fn from_state(state: u64) -> Self {
        Self { state }
    }

    /// The raw SplitMix64 state: the next word is `finalize(state + GOLDEN_GAMMA)`. For
    /// generators run many at a time in vector registers.
    #[inline]
    pub(crate) fn state(&self) -> u64 {
        self.state
    }

    /// Undoes the last `next_u64`: the next word is that one again.
    #[inline]
    pub(crate) fn step_back(&mut self) {
        self.state = self.state.wrapping_sub(GOLDEN_GAMMA);
    }
}

impl rand::RngCore for DeviceRng {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        finalize(self.state)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

impl CounterRng {
    /// The raw key, to seed [`DeviceRng`]s.
    pub(crate) fn key(self) -> u64 {
        self.key
    }
}

/// Streams used by the simulator (one per physical effect).
pub(crate) mod stream {
    /// Programming (write-verify) errors.
    pub const PROGRAM: u64 = 1;
    /// Per-device drift coefficients.
    pub const DRIFT: u64 = 2;
    /// Read noise, one sub-stream per operation.
    pub const READ: u64 = 3;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_value_and_moments_are_standard() {
        let r = CounterRng::new(7, stream::READ);
        assert_eq!(r.normal(3), CounterRng::new(7, stream::READ).normal(3));
        assert_ne!(r.normal(3), CounterRng::new(8, stream::READ).normal(3));
        let n = 200_000u64;
        let (mut s, mut s2) = (0.0, 0.0);
        for i in 0..n {
            let z = r.normal(i);
            s += z;
            s2 += z * z;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
    }
}
