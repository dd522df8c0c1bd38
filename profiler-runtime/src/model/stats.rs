//! Exact streaming aggregates per operation.
//!
//! Counts, totals, min and max are exact integers; the standard deviation comes from an exact
//! integer sum of squares (`u128`), so aggregates from many threads merge, and a session's window
//! is the difference of two readings, without loss. Percentiles come from an HDR histogram with
//! two significant digits (at most 1% relative error).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::event::{AllocStats, EventKind, Name};

/// Significant digits kept by duration histograms.
pub const HISTOGRAM_SIGFIG: u8 = 2;

/// A histogram of durations in ns; serialises as `[[value_ns, count], ...]` per bucket.
#[derive(Debug, Clone)]
pub struct DurationHistogram(Histogram<u64>);

impl Default for DurationHistogram {
    fn default() -> Self {
        DurationHistogram::new()
    }
}

impl DurationHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        // `Histogram::new` fails only for sigfig > 5.
        DurationHistogram(Histogram::new(HISTOGRAM_SIGFIG).expect("HISTOGRAM_SIGFIG is at most 5"))
    }

    /// Records one duration.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.record_n(ns, 1);
    }

    /// Records `count` durations of `ns`.
    pub fn record_n(&mut self, ns: u64, count: u64) {
        // `record_n` grows the histogram's range on demand; `saturating_record_n` would clamp to
        // the initial (tiny) range instead, so it is only the fallback for values beyond what
        // the histogram can ever track.
        if self.0.record_n(ns, count).is_err() {
            self.0.saturating_record_n(ns, count);
        }
    }

    /// Number of recorded values.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value at quantile `q` in `[0, 1]` (0 when empty).
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.0.is_empty() {
            return 0;
        }
        self.0.value_at_quantile(q.clamp(0.0, 1.0))
    }

    /// Adds another histogram's counts.
    pub fn add(&mut self, other: &DurationHistogram) {
        for (v, c) in other.buckets() {
            self.record_n(v, c);
        }
    }

    /// Removes another histogram's counts (for windows: later minus earlier).
    pub fn subtract(&mut self, earlier: &DurationHistogram) {
        if self.0.subtract(&earlier.0).is_err() {
            // Not a sub-histogram: fall back to a bucket-wise saturating difference.
            let mine: BTreeMap<u64, u64> = self.buckets().collect();
            let theirs: BTreeMap<u64, u64> = earlier.buckets().collect();
            let mut h = DurationHistogram::new();
            for (v, c) in mine {
                let d = c.saturating_sub(theirs.get(&v).copied().unwrap_or(0));
                if d > 0 {
                    h.record_n(v, d);
                }
            }
            *self = h;
        }
    }

    /// The non-empty buckets as `(value_ns, count)`, in increasing value.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.0
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
    }
}

impl PartialEq for DurationHistogram {
    fn eq(&self, other: &Self) -> bool {
        self.buckets().eq(other.buckets())
    }
}

impl Serialize for DurationHistogram {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.buckets().map(|(v, c)| [v, c]))
    }
}

impl<'de> Deserialize<'de> for DurationHistogram {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs: Vec<[u64; 2]> = Vec::deserialize(d)?;
        let mut h = DurationHistogram::new();
        for [v, c] in pairs {
            h.record_n(v, c);
        }
        Ok(h)
    }
}

/// Sum, count, min and max of one metric over the events of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricAggregate {
    /// Sum over events.
    #[serde(with = "crate::model::float::f64_any")]
    pub sum: f64,
    /// Number of events that reported it.
    pub count: u64,
    /// Smallest value reported by one event.
    #[serde(with = "crate::model::float::f64_any")]
    pub min: f64,
    /// Largest value reported by one event.
    #[serde(with = "crate::model::float::f64_any")]
    pub max: f64,
}

impl MetricAggregate {
    /// One observation.
    pub fn of(v: f64) -> Self {
        MetricAggregate {
            sum: v,
            count: 1,
            min: v,
            max: v,
        }
    }

    /// Adds one observation.
    pub fn add(&mut self, v: f64) {
        self.sum += v;
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Merges another aggregate.
    pub fn merge(&mut self, o: &MetricAggregate) {
        self.sum += o.sum;
        self.count += o.count;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    /// Mean per reporting event.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

/// Exact aggregates of one operation (one span name and kind) over every call, including calls
/// whose raw events were dropped from the bounded buffer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationStats {
    /// The operation (span) name.
    pub name: Name,
    /// Its kind.
    pub kind: EventKind,
    /// Number of calls.
    pub count: u64,
    /// Sum of wall times (first enter to last exit), ns.
    pub total_ns: u64,
    /// Sum of busy times (time entered), ns.
    pub busy_ns: u64,
    /// Sum of self times (busy less same-thread child spans), ns.
    pub self_ns: u64,
    /// Shortest call, ns (0 when `count` is 0).
    pub min_ns: u64,
    /// Longest call, ns.
    pub max_ns: u64,
    /// Sum of squared wall times, ns² (exact; for the standard deviation).
    pub sum_sq_ns: u128,
    /// Distribution of wall times.
    pub histogram: DurationHistogram,
    /// Per-metric aggregates (`energy_pj`, `bytes`, ...).
    pub metrics: BTreeMap<String, MetricAggregate>,
    /// Heap traffic summed over the calls that had a counting allocator.
    pub alloc: AllocStats,
    /// Calls with allocation data.
    pub alloc_count: u64,
    /// Calls that returned an error (`#[profile(err)]`).
    pub errors: u64,
    /// Calls that closed while panicking.
    pub panics: u64,
}

impl OperationStats {
    /// Empty aggregates for an operation.
    pub fn new(name: Name, kind: EventKind) -> Self {
        OperationStats {
            name,
            kind,
            count: 0,
            total_ns: 0,
            busy_ns: 0,
            self_ns: 0,
            min_ns: 0,
            max_ns: 0,
            sum_sq_ns: 0,
            histogram: DurationHistogram::new(),
            metrics: BTreeMap::new(),
            alloc: AllocStats::default(),
            alloc_count: 0,
            errors: 0,
            panics: 0,
        }
    }

    /// Adds one call's timing (the hot path uses the per-thread accumulator instead).
    #[cfg(test)]
    pub(crate) fn record_timing(&mut self, wall_ns: u64, busy_ns: u64, self_ns: u64) {
        if self.count == 0 || wall_ns < self.min_ns {
            self.min_ns = wall_ns;
        }
        if wall_ns > self.max_ns {
            self.max_ns = wall_ns;
        }
        self.count += 1;
        self.total_ns += wall_ns;
        self.busy_ns += busy_ns;
        self.self_ns += self_ns;
        self.sum_sq_ns += (wall_ns as u128) * (wall_ns as u128);
        self.histogram.record(wall_ns);
    }

    /// Merges another set of aggregates of the same operation.
    pub fn merge(&mut self, o: &OperationStats) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 || o.min_ns < self.min_ns {
            self.min_ns = o.min_ns;
        }
        self.max_ns = self.max_ns.max(o.max_ns);
        self.count += o.count;
        self.total_ns += o.total_ns;
        self.busy_ns += o.busy_ns;
        self.self_ns += o.self_ns;
        self.sum_sq_ns += o.sum_sq_ns;
        self.histogram.add(&o.histogram);
        for (k, m) in &o.metrics {
            match self.metrics.get_mut(k) {
                Some(mine) => mine.merge(m),
                None => {
                    self.metrics.insert(k.clone(), *m);
                }
            }
        }
        self.alloc.add(&o.alloc);
        self.alloc_count += o.alloc_count;
        self.errors += o.errors;
        self.panics += o.panics;
    }

    /// The aggregates of the calls recorded after `earlier` was read (a window).
    ///
    /// Exact for counts, totals, sums of squares, histograms and metric sums; `min_ns`/`max_ns`
    /// and metric min/max are those of the whole stream (they cannot be windowed exactly) unless
    /// `earlier` is empty, and are then clamped by the histogram's window range.
    pub fn since(&self, earlier: &OperationStats) -> OperationStats {
        if earlier.count == 0 {
            return self.clone();
        }
        let mut w = self.clone();
        w.count = self.count.saturating_sub(earlier.count);
        w.total_ns = self.total_ns.saturating_sub(earlier.total_ns);
        w.busy_ns = self.busy_ns.saturating_sub(earlier.busy_ns);
        w.self_ns = self.self_ns.saturating_sub(earlier.self_ns);
        w.sum_sq_ns = self.sum_sq_ns.saturating_sub(earlier.sum_sq_ns);
        w.histogram.subtract(&earlier.histogram);
        let lo = w.histogram.buckets().next().map(|b| b.0);
        if let Some(lo) = lo {
            let hi = w.histogram.buckets().last().map_or(lo, |b| b.0);
            w.min_ns = w.min_ns.max(lo.min(w.max_ns));
            w.max_ns = w.max_ns.min(hi.max(w.min_ns));
        } else {
            w.min_ns = 0;
            w.max_ns = 0;
        }
        for (k, m) in w.metrics.iter_mut() {
            if let Some(e) = earlier.metrics.get(k) {
                m.sum -= e.sum;
                m.count = m.count.saturating_sub(e.count);
            }
        }
        w.metrics.retain(|_, m| m.count > 0);
        w.alloc = self.alloc.since(&earlier.alloc);
        w.alloc_count = self.alloc_count.saturating_sub(earlier.alloc_count);
        w.errors = self.errors.saturating_sub(earlier.errors);
        w.panics = self.panics.saturating_sub(earlier.panics);
        w
    }

    /// Mean wall time.
    pub fn mean(&self) -> Duration {
        Duration::from_nanos(self.mean_ns() as u64)
    }

    /// Mean wall time, ns.
    pub fn mean_ns(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total_ns as f64 / self.count as f64
        }
    }

    /// Population standard deviation of wall times, ns.
    pub fn std_ns(&self) -> f64 {
        if self.count < 2 {
            return 0.0;
        }
        let n = self.count as f64;
        let mean = self.total_ns as f64 / n;
        let var = (self.sum_sq_ns as f64 / n - mean * mean).max(0.0);
        var.sqrt()
    }

    /// Wall time at quantile `q` (0.5 for the median), ns, within 1%.
    pub fn percentile_ns(&self, q: f64) -> u64 {
        self.histogram
            .quantile_ns(q)
            .clamp(self.min_ns, self.max_ns.max(self.min_ns))
    }

    /// Median wall time, ns.
    pub fn p50_ns(&self) -> u64 {
        self.percentile_ns(0.5)
    }

    /// 90th percentile wall time, ns.
    pub fn p90_ns(&self) -> u64 {
        self.percentile_ns(0.9)
    }

    /// 99th percentile wall time, ns.
    pub fn p99_ns(&self) -> u64 {
        self.percentile_ns(0.99)
    }

    /// Sum of a metric over all calls (0 if never reported).
    pub fn metric_sum(&self, key: &str) -> f64 {
        self.metrics.get(key).map_or(0.0, |m| m.sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> OperationStats {
        OperationStats::new("f".into(), EventKind::FunctionCall)
    }

    #[test]
    fn merge_and_window_are_exact() {
        let mut a = op();
        for ns in [100, 200, 300] {
            a.record_timing(ns, ns, ns);
        }
        let before = a.clone();
        for ns in [1000, 3000] {
            a.record_timing(ns, ns, ns);
        }
        let w = a.since(&before);
        assert_eq!(w.count, 2);
        assert_eq!(w.total_ns, 4000);
        assert_eq!(w.mean_ns(), 2000.0);
        assert!((w.std_ns() - 1000.0).abs() < 1e-6);
        assert_eq!(w.histogram.len(), 2);

        let mut m = op();
        m.merge(&before);
        m.merge(&w);
        assert_eq!(m.count, a.count);
        assert_eq!(m.sum_sq_ns, a.sum_sq_ns);
        assert_eq!(m.min_ns, 100);
        assert_eq!(m.max_ns, 3000);
    }

    #[test]
    fn percentiles_within_one_percent() {
        let mut a = op();
        for ns in 1..=10_000u64 {
            a.record_timing(ns * 10, 0, 0);
        }
        let p50 = a.p50_ns() as f64;
        assert!((p50 - 50_000.0).abs() / 50_000.0 < 0.01, "p50 {p50}");
        let p99 = a.p99_ns() as f64;
        assert!((p99 - 99_000.0).abs() / 99_000.0 < 0.01, "p99 {p99}");
    }

    #[test]
    fn histogram_serde_round_trip() {
        let mut h = DurationHistogram::new();
        for v in [0, 1, 5, 1000, 123_456_789] {
            h.record(v);
        }
        let s = serde_json::to_string(&h).unwrap();
        let back: DurationHistogram = serde_json::from_str(&s).unwrap();
        assert_eq!(h, back);
    }
}
