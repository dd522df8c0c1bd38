//! [`DurationHistogram`]: a sparse log-linear histogram of durations, small for an operation
//! seen a few times and bounded for one seen billions of times.
//!
//! # Buckets and error bound
//!
//! Values below [`SUB`] (64 ns) have a bucket each, so they are exact. A value `v >= 64` with
//! `e = floor(log2 v)` falls in one of the 64 equal sub-buckets of its octave `[2^e, 2^(e+1))`,
//! each `2^(e-6)` wide, and is represented by its bucket's midpoint. The midpoint is within
//! half a bucket of every value in it, and every value is at least `64 * 2^(e-6)`, so the
//! relative error of a represented value is at most `1/128` (0.79%): a percentile read from
//! the histogram is within [`MAX_RELATIVE_ERROR`] of the exact nearest-rank percentile. There
//! are [`NBUCKETS`] buckets in all (every `u64` has one).
//!
//! # Memory
//!
//! Only occupied buckets cost memory. A histogram starts *sparse* (sorted bucket indices and
//! their counts, 10 bytes per occupied bucket); once its occupied buckets fill most of the
//! range between its lowest and highest one it turns *dense* (one `u64` per bucket of that
//! range, so recording is an index and an increment); a value that would widen that range
//! much beyond what its buckets would cost sparsely is kept apart as an outlier (an outlier
//! seconds away from nanosecond calls costs one entry, not thousands of empty buckets).
//! An operation recorded thousands of times may instead keep a flat range of up to 1,088
//! buckets (8.5 KiB, at most one byte per 8 values recorded), so its outliers never push it
//! back onto the slower sparse path. A one-call operation costs one 10-byte entry; a typical
//! operation whose calls spread over three octaves costs about 1.5 KB; the most any histogram
//! holds is one count per bucket (about 30 KB), whatever was recorded or loaded.
//!
//! Counts add saturating at `u64::MAX`: they never wrap.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bits of sub-bucket index per octave.
const SUB_BITS: u32 = 6;
/// Sub-buckets per octave; values below this are exact.
pub const SUB: u64 = 1 << SUB_BITS;
/// Number of buckets: values below [`SUB`] exactly, then one group of [`SUB`] per octave up to
/// `u64::MAX`.
pub const NBUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB as usize;
/// The largest relative error of a value represented by its bucket (and so of a percentile):
/// half a bucket's width over the bucket's lowest value, `1 / (2 * SUB)`.
pub const MAX_RELATIVE_ERROR: f64 = 1.0 / (2.0 * SUB as f64);

/// The bucket of a duration.
#[inline(always)]
pub(crate) fn bucket(v: u64) -> u16 {
    if v < SUB {
        v as u16
    } else {
        let shift = 63 - v.leading_zeros() - SUB_BITS;
        ((((shift + 1) as u64) << SUB_BITS) | ((v >> shift) & (SUB - 1))) as u16
    }
}

/// The value that represents bucket `i`: its midpoint (the value itself below `2 * SUB`).
pub(crate) fn bucket_value(i: u16) -> u64 {
    let group = u32::from(i) >> SUB_BITS;
    let sub = u64::from(i) & (SUB - 1);
    if group == 0 {
        sub
    } else {
        let shift = group - 1;
        ((SUB + sub) << shift) + ((1u64 << shift) >> 1)
    }
}

/// The lowest and highest value bucket `i` holds.
pub(crate) fn bucket_bounds(i: u16) -> (u64, u64) {
    let group = u32::from(i) >> SUB_BITS;
    let sub = u64::from(i) & (SUB - 1);
    if group == 0 {
        (sub, sub)
    } else {
        let shift = group - 1;
        let lo = (SUB + sub) << shift;
        (lo, lo + ((1u64 << shift) - 1))
    }
}

/// How the counts are held (see the module docs).
#[derive(Debug, Clone)]
enum Repr {
    /// Occupied buckets only: `idx` sorted ascending, `counts[i]` the count of `idx[i]`
    /// (never 0).
    Sparse { idx: Vec<u16>, counts: Vec<u64> },
    /// Buckets `lo..lo + counts.len()`, zeros included; `occupied` of them are not 0. Buckets
    /// outside that range that would widen it beyond its budget are `outliers` (sorted, never
    /// 0, all outside the range).
    Dense {
        lo: u16,
        counts: Vec<u64>,
        occupied: usize,
        outliers: Vec<(u16, u64)>,
    },
}

/// A histogram of durations in ns (see the module docs for its buckets, error bound and
/// memory); serialises as `[[value_ns, count], ...]` per occupied bucket, in increasing value.
///
/// ```
/// use profiler_runtime::DurationHistogram;
/// let mut h = DurationHistogram::new();
/// for ns in 1..=1000u64 {
///     h.record(ns * 1000);
/// }
/// assert_eq!(h.len(), 1000);
/// let p50 = h.quantile_ns(0.5) as f64;
/// assert!((p50 - 500_000.0).abs() / 500_000.0 <= profiler_runtime::model::histogram::MAX_RELATIVE_ERROR);
/// ```
#[derive(Debug, Clone)]
pub struct DurationHistogram {
    repr: Repr,
    /// Values recorded (saturating).
    len: u64,
}

impl Default for DurationHistogram {
    fn default() -> Self {
        DurationHistogram::new()
    }
}

/// The most buckets a dense range may span: the larger of 2.5 times its occupied buckets (so a
/// dense range costs at most twice the sparse form's 10 bytes per bucket) and one bucket per 8
/// recorded values up to [`DENSE_FREE_MAX`] buckets (an operation called thousands of times may
/// spend up to 8 KiB on a flat array, which makes recording an index and an increment, however
/// scattered its outliers).
fn dense_budget(occupied: usize, recorded: u64) -> usize {
    let by_calls = usize::try_from(recorded / 8)
        .unwrap_or(usize::MAX)
        .min(DENSE_FREE_MAX);
    (occupied * 5 / 2).max(by_calls)
}

/// See [`dense_budget`].
const DENSE_FREE_MAX: usize = 1024;

impl DurationHistogram {
    /// An empty histogram (no heap memory until something is recorded).
    pub const fn new() -> Self {
        DurationHistogram {
            repr: Repr::Sparse {
                idx: Vec::new(),
                counts: Vec::new(),
            },
            len: 0,
        }
    }

    /// Records one duration.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.record_n(ns, 1);
    }

    /// Records `count` durations of `ns`.
    #[inline]
    pub fn record_n(&mut self, ns: u64, count: u64) {
        if count > 0 {
            self.add_bucket(bucket(ns), count);
        }
    }

    /// Adds `c` (> 0) to bucket `b`.
    #[inline]
    fn add_bucket(&mut self, b: u16, c: u64) {
        self.len = self.len.saturating_add(c);
        if let Repr::Dense { lo, counts, .. } = &mut self.repr {
            if let Some(slot) = usize::from(b)
                .checked_sub(usize::from(*lo))
                .and_then(|i| counts.get_mut(i))
            {
                if *slot != 0 {
                    *slot = slot.saturating_add(c);
                    return;
                }
            }
        }
        self.add_bucket_slow(b, c);
    }

    /// [`add_bucket`](Self::add_bucket) for a bucket that is empty, outside a dense range, or
    /// in a sparse histogram.
    #[inline(never)]
    fn add_bucket_slow(&mut self, b: u16, c: u64) {
        match &mut self.repr {
            Repr::Sparse { idx, counts } => {
                let grew = match idx.binary_search(&b) {
                    Ok(i) => {
                        counts[i] = counts[i].saturating_add(c);
                        false
                    }
                    Err(i) => {
                        idx.insert(i, b);
                        counts.insert(i, c);
                        true
                    }
                };
                // A new bucket, or a call count that doubled, may make a dense range worth it.
                if grew || self.len.is_power_of_two() {
                    self.maybe_densify();
                }
            }
            Repr::Dense {
                lo,
                counts,
                occupied,
                outliers,
            } => {
                let b_us = usize::from(b);
                let lo_us = usize::from(*lo);
                let hi_us = lo_us + counts.len();
                if b_us < lo_us || b_us >= hi_us {
                    let (new_lo, new_hi) = (lo_us.min(b_us), hi_us.max(b_us + 1));
                    let budget = dense_budget(*occupied + outliers.len() + 1, self.len);
                    if new_hi - new_lo > budget + SUB as usize {
                        // Widening would cost far more than the buckets it holds: an outlier.
                        match outliers.binary_search_by_key(&b, |o| o.0) {
                            Ok(i) => outliers[i].1 = outliers[i].1.saturating_add(c),
                            Err(i) => outliers.insert(i, (b, c)),
                        }
                        return;
                    }
                    if b_us < lo_us {
                        counts.splice(0..0, std::iter::repeat_n(0, lo_us - b_us));
                        *lo = b;
                    } else {
                        counts.resize(b_us - lo_us + 1, 0);
                    }
                    // Outliers the wider range now covers move into it.
                    let (lo_now, hi_now) = (usize::from(*lo), usize::from(*lo) + counts.len());
                    outliers.retain(|&(o, n)| {
                        let o = usize::from(o);
                        if (lo_now..hi_now).contains(&o) {
                            counts[o - lo_now] = n;
                            *occupied += 1;
                            false
                        } else {
                            true
                        }
                    });
                }
                let slot = &mut counts[b_us - usize::from(*lo)];
                if *slot == 0 {
                    *occupied += 1;
                }
                *slot = slot.saturating_add(c);
            }
        }
    }

    /// Turns a sparse histogram dense when its range costs little more than its entries.
    fn maybe_densify(&mut self) {
        let Repr::Sparse { idx, counts } = &mut self.repr else {
            return;
        };
        let (Some(&first), Some(&last)) = (idx.first(), idx.last()) else {
            return;
        };
        let range = usize::from(last - first) + 1;
        // Small histograms stay sparse: a few entries are cheaper than any range. Dense ones
        // start within 1.25 times their occupied buckets or within the budget by calls, so they
        // do not flip back at the next new bucket.
        let by_calls = dense_budget(0, self.len);
        if idx.len() < 16 || (range * 4 > idx.len() * 5 && range > by_calls) {
            return;
        }
        let mut dense = vec![0u64; range];
        for (&i, &c) in idx.iter().zip(counts.iter()) {
            dense[usize::from(i - first)] = c;
        }
        self.repr = Repr::Dense {
            lo: first,
            occupied: idx.len(),
            counts: dense,
            outliers: Vec::new(),
        };
    }

    /// Number of recorded values (saturating at `u64::MAX`).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value at quantile `q` in `[0, 1]`: the represented value of the nearest-rank
    /// element, rank `max(1, ceil(q * len))` (0 when empty). Within
    /// [`MAX_RELATIVE_ERROR`] of the exact nearest-rank value.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        // `as` saturates; the rank is at least 1 and at most len.
        let rank = ((q * self.len as f64).ceil() as u64).clamp(1, self.len);
        let mut seen = 0u64;
        let mut last = 0;
        for (v, c) in self.buckets() {
            seen = seen.saturating_add(c);
            last = v;
            if seen >= rank {
                return v;
            }
        }
        last
    }

    /// The lowest value the lowest occupied bucket holds and the highest value the highest
    /// one holds: bounds of every recorded value (`None` when empty).
    pub fn value_bounds(&self) -> Option<(u64, u64)> {
        let (first, last) = match &self.repr {
            Repr::Sparse { idx, .. } => (*idx.first()?, *idx.last()?),
            Repr::Dense { .. } => {
                let mut it = self.bucket_counts();
                let first = it.next()?.0;
                (first, it.last().map_or(first, |b| b.0))
            }
        };
        Some((bucket_bounds(first).0, bucket_bounds(last).1))
    }

    /// Adds another histogram's counts.
    pub fn add(&mut self, other: &DurationHistogram) {
        for (b, c) in other.bucket_counts() {
            self.add_bucket(b, c);
        }
    }

    /// Removes another histogram's counts (for windows: later minus earlier), bucket by bucket,
    /// saturating at 0.
    pub fn subtract(&mut self, earlier: &DurationHistogram) {
        let mut theirs = earlier.bucket_counts().peekable();
        let mut out = DurationHistogram::new();
        for (b, c) in self.bucket_counts() {
            while theirs.next_if(|&(t, _)| t < b).is_some() {}
            let e = theirs.next_if(|&(t, _)| t == b).map_or(0, |(_, c)| c);
            let d = c.saturating_sub(e);
            if d > 0 {
                out.add_bucket(b, d);
            }
        }
        *self = out;
    }

    /// The occupied buckets as `(bucket, count)`, in increasing bucket.
    fn bucket_counts(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        let (sparse, dense) = match &self.repr {
            Repr::Sparse { idx, counts } => {
                (Some(idx.iter().copied().zip(counts.iter().copied())), None)
            }
            Repr::Dense {
                lo,
                counts,
                outliers,
                ..
            } => {
                let lo = *lo;
                let below = outliers.iter().copied().take_while(move |o| o.0 < lo);
                let above = outliers.iter().copied().skip_while(move |o| o.0 < lo);
                let window = counts
                    .iter()
                    .enumerate()
                    .filter(|&(_, &c)| c > 0)
                    .map(move |(i, &c)| (lo + i as u16, c));
                (None, Some(below.chain(window).chain(above)))
            }
        };
        sparse
            .into_iter()
            .flatten()
            .chain(dense.into_iter().flatten())
    }

    /// The occupied buckets as `(value_ns, count)`, in increasing value; `value_ns` is the
    /// bucket's represented value (its midpoint).
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.bucket_counts().map(|(b, c)| (bucket_value(b), c))
    }

    /// Heap bytes held (capacity, not just length): what this histogram costs beyond its
    /// inline size.
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Sparse { idx, counts } => idx.capacity() * 2 + counts.capacity() * 8,
            Repr::Dense {
                counts, outliers, ..
            } => counts.capacity() * 8 + outliers.capacity() * 16,
        }
    }

    /// Releases spare capacity (after loading, or for a histogram kept long).
    pub fn shrink_to_fit(&mut self) {
        match &mut self.repr {
            Repr::Sparse { idx, counts } => {
                idx.shrink_to_fit();
                counts.shrink_to_fit();
            }
            Repr::Dense {
                counts, outliers, ..
            } => {
                counts.shrink_to_fit();
                outliers.shrink_to_fit();
            }
        }
    }
}

impl PartialEq for DurationHistogram {
    fn eq(&self, other: &Self) -> bool {
        self.bucket_counts().eq(other.bucket_counts())
    }
}

impl Serialize for DurationHistogram {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.buckets().map(|(v, c)| [v, c]))
    }
}

impl<'de> Deserialize<'de> for DurationHistogram {
    /// Reads `[[value_ns, count], ...]` in any order (files written before this format used
    /// other bucket values: each is put in its bucket here), streaming: memory is bounded by
    /// [`NBUCKETS`] whatever the input's length.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = DurationHistogram;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of [value_ns, count] pairs")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut h = DurationHistogram::new();
                while let Some([v, c]) = seq.next_element::<[u64; 2]>()? {
                    h.record_n(v, c);
                }
                h.shrink_to_fit();
                Ok(h)
            }
        }
        d.deserialize_seq(Pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_represent_values_within_the_bound() {
        let mut last = 0;
        let mut values: Vec<u64> = (0..300u64)
            .chain((1..64).flat_map(|e| [1u64 << e, (1u64 << e) + 12345 % (1u64 << e)]))
            .chain([u64::MAX - 1, u64::MAX])
            .collect();
        values.sort_unstable();
        for v in values {
            let b = bucket(v);
            let (lo, hi) = bucket_bounds(b);
            assert!(lo <= v && v <= hi, "{v} in [{lo}, {hi}]");
            assert!(usize::from(b) < NBUCKETS);
            assert!(b >= last, "bucket order at {v}");
            last = b;
            let rep = bucket_value(b);
            assert_eq!(bucket(rep), b, "the representative of {v} is in its bucket");
            let err = if v == 0 {
                rep as f64
            } else {
                (rep as f64 - v as f64).abs() / v as f64
            };
            assert!(err <= MAX_RELATIVE_ERROR, "v {v} rep {rep} err {err}");
        }
        assert_eq!(usize::from(bucket(u64::MAX)), NBUCKETS - 1);
        for v in 0..2 * SUB {
            assert_eq!(bucket_value(bucket(v)), v, "exact below {}", 2 * SUB);
        }
    }

    #[test]
    fn one_value_costs_one_entry_and_a_wide_outlier_does_not_densify_the_range() {
        let mut h = DurationHistogram::new();
        assert_eq!(h.heap_bytes(), 0);
        h.record(1234);
        assert!(h.heap_bytes() <= 64, "{} bytes", h.heap_bytes());
        // A continuous spread over three octaves turns dense, about 8 bytes per bucket.
        let mut spread = DurationHistogram::new();
        for ns in 1_000..8_000u64 {
            spread.record(ns);
        }
        assert!(matches!(spread.repr, Repr::Dense { .. }));
        assert!(
            spread.heap_bytes() <= 3 * 64 * 8 * 2,
            "{}",
            spread.heap_bytes()
        );
        // One call of a second among them: an outlier, not 20 octaves of empty buckets.
        spread.record(1_000_000_000);
        assert!(spread.heap_bytes() <= 8 * 1024, "{}", spread.heap_bytes());
        assert_eq!(spread.len(), 7_001);
        assert_eq!(spread.quantile_ns(1.0), bucket_value(bucket(1_000_000_000)));
    }

    #[test]
    fn a_hot_operation_with_outliers_stays_dense_within_its_budget() {
        let mut h = DurationHistogram::new();
        for i in 0..10_000u64 {
            h.record(40 + i % 40);
            if i % 1_000 == 999 {
                h.record([5_000, 100_000, 1_000_000][(i / 1_000 % 3) as usize]);
            }
        }
        assert!(matches!(h.repr, Repr::Dense { .. }), "{:?}", h.heap_bytes());
        assert!(h.heap_bytes() <= (DENSE_FREE_MAX + SUB as usize) * 8 * 2);
        assert_eq!(h.len(), 10_010);
    }

    #[test]
    fn every_value_is_counted_once_whatever_path_it_took() {
        // A hot cluster, with outliers that start far away and later fall within a range the
        // growing call count can afford: each form (sparse, dense, outliers, widened) is hit.
        let mut r = 1u64;
        let mut want = std::collections::BTreeMap::new();
        let mut h = DurationHistogram::new();
        for i in 0..200_000u64 {
            r = r.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let v = match i % 97 {
                0 => (r >> 40) % 50_000_000,
                1 => 1 << ((r >> 59) + 2),
                _ => 200 + (r >> 54),
            };
            h.record(v);
            *want.entry(bucket(v)).or_insert(0u64) += 1;
        }
        let got: Vec<(u16, u64)> = h.bucket_counts().collect();
        assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        assert!(h.heap_bytes() <= (DENSE_FREE_MAX + SUB as usize) * 8 + 512 * 16 * 2);
    }

    #[test]
    fn sparse_and_dense_hold_the_same_counts() {
        // The same values in two orders: one histogram densifies early, the other late.
        let vals: Vec<u64> = (0..5_000u64).map(|i| (i * 7919) % 40_000 + 100).collect();
        let mut a = DurationHistogram::new();
        let mut b = DurationHistogram::new();
        for &v in &vals {
            a.record(v);
        }
        for &v in vals.iter().rev() {
            b.record(v);
        }
        b.record(u64::MAX);
        let mut one = DurationHistogram::new();
        one.record(u64::MAX);
        b.subtract(&one);
        assert_eq!(a, b);
        assert_eq!(a.len(), 5_000);
        assert_eq!(a.buckets().map(|(_, c)| c).sum::<u64>(), 5_000);
    }

    #[test]
    fn counts_saturate_instead_of_wrapping() {
        let mut h = DurationHistogram::new();
        h.record_n(10, u64::MAX);
        h.record_n(10, 5);
        h.record_n(20, 5);
        assert_eq!(h.len(), u64::MAX);
        assert_eq!(h.buckets().next(), Some((10, u64::MAX)));
        let mut m = h.clone();
        m.add(&h);
        assert_eq!(m.len(), u64::MAX);
        assert_eq!(m.quantile_ns(0.5), 10);
        assert_eq!(m.value_bounds(), Some((10, 20)));
    }

    #[test]
    fn serde_round_trip_and_old_bucket_values_load() {
        let mut h = DurationHistogram::new();
        for v in [0, 1, 5, 1000, 123_456_789, u64::MAX] {
            h.record(v);
        }
        let s = serde_json::to_string(&h).unwrap();
        let back: DurationHistogram = serde_json::from_str(&s).unwrap();
        assert_eq!(h, back);
        // Values of another bucketing, in any order, land in this one's buckets.
        let old: DurationHistogram = serde_json::from_str("[[100031, 2], [99, 1]]").unwrap();
        assert_eq!(old.len(), 3);
        assert_eq!(old.buckets().next(), Some((99, 1)));
    }
}
