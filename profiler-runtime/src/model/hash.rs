//! One integer hasher for the crate's id- and pointer-keyed maps (callsites on the hot path,
//! event ids in the analysis): a multiply-rotate, much cheaper than SipHash. Keys are ids and
//! addresses the profiler itself makes, never attacker-chosen strings.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A multiplicative hasher for integer keys.
///
/// The product's high bits are the well-mixed ones, so `finish` rotates them down to where the
/// map takes its bucket index; aligned pointers (low bits zero) spread as well as dense ids.
#[derive(Default, Clone, Copy)]
pub struct IntHasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for IntHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(K);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

/// A `HashMap` keyed by integers through [`IntHasher`].
pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn aligned_keys_spread_over_the_low_bits() {
        let b = BuildHasherDefault::<IntHasher>::default();
        let mut buckets = [0u32; 64];
        for i in 0..6400usize {
            buckets[(b.hash_one(i * 64) & 63) as usize] += 1;
        }
        assert!(buckets.iter().all(|&n| n > 50 && n < 150), "{buckets:?}");
    }
}
