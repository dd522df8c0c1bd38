//! The per-thread accumulator of one operation: the hot-path form of
//! [`OperationStats`](crate::OperationStats).
//!
//! Durations are counted in a log-linear bucket array (7 mantissa bits: every bucket is at
//! most 1/128 wide relative to its value, so percentiles are within 1%), which costs a
//! leading-zero count and an increment per event. It becomes an HDR histogram only when a
//! snapshot is taken.

use std::borrow::Cow;

use crate::model::event::{AllocStats, EventKind, Name};
use crate::model::stats::{MetricAggregate, OperationStats};
use crate::record::clock::ProfClock;
use crate::record::raw::{EventRef, RawEvent};

const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Buckets: values below 128 exactly, then 57 octaves of 128 sub-buckets.
const NBUCKETS: usize = 58 * SUB as usize;

/// The bucket of a duration.
#[inline(always)]
fn bucket(v: u64) -> usize {
    if v < SUB {
        v as usize
    } else {
        let shift = 63 - v.leading_zeros() - SUB_BITS;
        (((shift + 1) as usize) << SUB_BITS) | ((v >> shift) as usize & (SUB as usize - 1))
    }
}

/// A representative value (the middle) of a bucket.
fn bucket_value(i: usize) -> u64 {
    let group = (i >> SUB_BITS) as u32;
    let sub = (i as u64) & (SUB - 1);
    if group == 0 {
        sub
    } else {
        let shift = group - 1;
        ((SUB + sub) << shift) + ((1u64 << shift) >> 1)
    }
}

/// Aggregates of one operation on one thread.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpAccum {
    count: u64,
    total_ns: u64,
    busy_ns: u64,
    self_ns: u64,
    min_ns: u64,
    max_ns: u64,
    sum_sq_ns: u128,
    buckets: Option<Box<[u64]>>,
    metrics: Vec<(Cow<'static, str>, MetricAggregate)>,
    alloc: AllocStats,
    alloc_count: u64,
    errors: u64,
    panics: u64,
}

impl OpAccum {
    /// Adds one event, scaling its raw durations with `clock`.
    #[inline(always)]
    pub(crate) fn record(&mut self, e: EventRef<'_>, clock: &ProfClock) {
        let ev = e.ev;
        let (wall, busy, self_ns) = ev.durations_ns(clock);
        if self.count == 0 || wall < self.min_ns {
            self.min_ns = wall;
        }
        if wall > self.max_ns {
            self.max_ns = wall;
        }
        self.count += 1;
        self.total_ns += wall;
        self.busy_ns += busy;
        self.self_ns += self_ns;
        self.sum_sq_ns += u128::from(wall) * u128::from(wall);
        let b = self
            .buckets
            .get_or_insert_with(|| vec![0u64; NBUCKETS].into_boxed_slice());
        b[bucket(wall)] += 1;
        if e.has_extras() {
            e.for_each_metric(|k, v| self.add_metric(k, v));
            self.errors += u64::from(e.error().is_some());
        }
        if ev.flags & RawEvent::HAS_ALLOC != 0 {
            if let Some(aux) = e.aux {
                self.alloc.add(&aux.alloc);
            }
            self.alloc_count += 1;
        }
        self.panics += u64::from(ev.flags & RawEvent::PANICKED != 0);
    }

    /// Events recorded.
    #[cfg(feature = "persist")]
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    fn add_metric(&mut self, key: &str, v: f64) {
        match self.metrics.iter_mut().find(|(k, _)| k == key) {
            Some((_, m)) => m.add(v),
            None => self
                .metrics
                .push((Cow::Owned(key.to_owned()), MetricAggregate::of(v))),
        }
    }

    /// These aggregates as public statistics.
    pub(crate) fn to_stats(&self, name: Name, kind: EventKind) -> OperationStats {
        let mut s = OperationStats::new(name, kind);
        if self.count == 0 {
            return s;
        }
        s.count = self.count;
        s.total_ns = self.total_ns;
        s.busy_ns = self.busy_ns;
        s.self_ns = self.self_ns;
        s.min_ns = self.min_ns;
        s.max_ns = self.max_ns;
        s.sum_sq_ns = self.sum_sq_ns;
        if let Some(b) = &self.buckets {
            for (i, &c) in b.iter().enumerate() {
                if c > 0 {
                    let v = bucket_value(i).clamp(self.min_ns, self.max_ns);
                    s.histogram.record_n(v, c);
                }
            }
        }
        for (k, m) in &self.metrics {
            s.metrics.insert(k.to_string(), *m);
        }
        s.alloc = self.alloc;
        s.alloc_count = self.alloc_count;
        s.errors = self.errors;
        s.panics = self.panics;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_within_one_percent() {
        let mut last = 0;
        for v in (0..200u64).chain((1..60).map(|e| (1u64 << e) + 12345 % (1u64 << e))) {
            let b = bucket(v);
            assert!(b < NBUCKETS);
            assert!(b >= last || v < 200, "bucket order at {v}");
            last = b;
            let rep = bucket_value(b) as f64;
            let err = if v == 0 {
                rep
            } else {
                (rep - v as f64).abs() / v as f64
            };
            assert!(err <= 0.01, "v {v} rep {rep} err {err}");
        }
        assert!(bucket(u64::MAX) < NBUCKETS);
    }
}
