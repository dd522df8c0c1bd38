//! Exact streaming aggregates per operation.
//!
//! Counts, totals, min and max are exact integers; the standard deviation comes from an exact
//! integer sum of squares (`u128`), so aggregates from many threads merge, and a session's window
//! is the difference of two readings, without loss. Every sum saturates at its type's maximum
//! rather than wrap (a profile of `u64::MAX` calls stays `u64::MAX`). Percentiles come from a
//! sparse log-linear [`DurationHistogram`] (within [`MAX_RELATIVE_ERROR`], 0.79%, of the exact
//! nearest-rank value). Metric values that are NaN or infinite are kept out of the sums and
//! counted ([`MetricAggregate::non_finite`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::event::{AllocStats, EventKind, Name};
pub use crate::model::histogram::{DurationHistogram, MAX_RELATIVE_ERROR};
use crate::model::metric_map::MetricMap;

/// The name of the operation that calls of operations beyond the profiler's cap on distinct
/// operations are folded into (one per kind; see
/// [`ProfilerBuilder::max_operations`](crate::ProfilerBuilder::max_operations)).
pub const OTHER_OPERATION: &str = "<other>";

/// The sum of `values`, held at `u64::MAX` instead of wrapping (or panicking in a debug build).
pub(crate) fn saturating_sum(values: impl IntoIterator<Item = u64>) -> u64 {
    values.into_iter().fold(0u64, u64::saturating_add)
}

/// `a + b` for finite `a` and `b`, held at `±f64::MAX` where the exact sum is out of range (a
/// sum of finite values stays finite, so it stays writable and comparable).
pub(crate) fn saturating_fadd(a: f64, b: f64) -> f64 {
    let s = a + b;
    if s.is_finite() || s.is_nan() {
        s
    } else {
        f64::MAX.copysign(s)
    }
}

/// Sum, count, min and max of one metric over the events of an operation: over its finite
/// values. NaN and infinite values are counted in `non_finite` and left out of the rest, so
/// one bad value never turns a sum into NaN (nor a file unwritable).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricAggregate {
    /// Sum over events (finite values only).
    #[serde(with = "crate::model::float::f64_any")]
    pub sum: f64,
    /// Number of events that reported a finite value.
    pub count: u64,
    /// Smallest finite value reported by one event (0 when `count` is 0).
    #[serde(with = "crate::model::float::f64_any")]
    pub min: f64,
    /// Largest finite value reported by one event (0 when `count` is 0).
    #[serde(with = "crate::model::float::f64_any")]
    pub max: f64,
    /// Number of events that reported NaN or an infinite value (left out of the above).
    #[serde(default)]
    pub non_finite: u64,
}

impl MetricAggregate {
    /// No observation yet.
    pub const EMPTY: MetricAggregate = MetricAggregate {
        sum: 0.0,
        count: 0,
        min: 0.0,
        max: 0.0,
        non_finite: 0,
    };

    /// One observation.
    ///
    /// ```
    /// use profiler_runtime::MetricAggregate;
    /// let mut m = MetricAggregate::of(2.0);
    /// m.add(f64::NAN);
    /// m.add(f64::INFINITY);
    /// assert_eq!((m.sum, m.count, m.non_finite), (2.0, 1, 2));
    /// ```
    pub fn of(v: f64) -> Self {
        let mut m = MetricAggregate::EMPTY;
        m.add(v);
        m
    }

    /// Adds one observation (a non-finite one is only counted).
    pub fn add(&mut self, v: f64) {
        if !v.is_finite() {
            self.non_finite = self.non_finite.saturating_add(1);
            return;
        }
        if self.count == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.sum = saturating_fadd(self.sum, v);
        self.count = self.count.saturating_add(1);
    }

    /// Merges another aggregate.
    pub fn merge(&mut self, o: &MetricAggregate) {
        if o.count > 0 {
            if self.count == 0 {
                self.min = o.min;
                self.max = o.max;
            } else {
                self.min = self.min.min(o.min);
                self.max = self.max.max(o.max);
            }
            self.sum = saturating_fadd(self.sum, o.sum);
            self.count = self.count.saturating_add(o.count);
        }
        self.non_finite = self.non_finite.saturating_add(o.non_finite);
    }

    /// Mean per reporting event (finite values only).
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
    /// Per-metric aggregates (`energy_pj`, `bytes`, ...), in key order.
    pub metrics: MetricMap,
    /// Heap traffic summed over the calls that had a counting allocator.
    pub alloc: AllocStats,
    /// Calls with allocation data.
    pub alloc_count: u64,
    /// Calls that returned an error (`#[profile(err)]`).
    pub errors: u64,
    /// Calls that closed while panicking.
    pub panics: u64,
    /// For an [`OTHER_OPERATION`] entry: how many distinct operation names (of its kind) were
    /// folded into it because the profiler's cap on distinct operations was reached (see
    /// [`FOLDED_NAMES_TRACKED`] for when this is a lower bound). 0 for every other operation.
    #[serde(default)]
    pub folded_names: u64,
}

/// Distinct folded names a profiler tells apart (by a 64-bit hash each, 16 bytes or so of
/// memory per name); a [`OperationStats::folded_names`] at or above this is a lower bound.
pub const FOLDED_NAMES_TRACKED: u64 = 1 << 22;

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
            metrics: MetricMap::new(),
            alloc: AllocStats::default(),
            alloc_count: 0,
            errors: 0,
            panics: 0,
            folded_names: 0,
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
        self.count = self.count.saturating_add(1);
        self.total_ns = self.total_ns.saturating_add(wall_ns);
        self.busy_ns = self.busy_ns.saturating_add(busy_ns);
        self.self_ns = self.self_ns.saturating_add(self_ns);
        self.sum_sq_ns = self
            .sum_sq_ns
            .saturating_add(u128::from(wall_ns) * u128::from(wall_ns));
        self.histogram.record(wall_ns);
    }

    /// Merges another set of aggregates of the same operation.
    /// Every sum saturates at its type's maximum instead of wrapping.
    pub fn merge(&mut self, o: &OperationStats) {
        self.folded_names = self.folded_names.saturating_add(o.folded_names);
        if o.count == 0 {
            return;
        }
        if self.count == 0 || o.min_ns < self.min_ns {
            self.min_ns = o.min_ns;
        }
        self.max_ns = self.max_ns.max(o.max_ns);
        self.count = self.count.saturating_add(o.count);
        self.total_ns = self.total_ns.saturating_add(o.total_ns);
        self.busy_ns = self.busy_ns.saturating_add(o.busy_ns);
        self.self_ns = self.self_ns.saturating_add(o.self_ns);
        self.sum_sq_ns = self.sum_sq_ns.saturating_add(o.sum_sq_ns);
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
        self.alloc_count = self.alloc_count.saturating_add(o.alloc_count);
        self.errors = self.errors.saturating_add(o.errors);
        self.panics = self.panics.saturating_add(o.panics);
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
        if let Some((lo, hi)) = w.histogram.value_bounds() {
            w.min_ns = w.min_ns.max(lo.min(w.max_ns));
            w.max_ns = w.max_ns.min(hi.max(w.min_ns));
        } else {
            w.min_ns = 0;
            w.max_ns = 0;
        }
        for (k, m) in w.metrics.iter_mut() {
            if let Some(e) = earlier.metrics.get(k) {
                m.sum = saturating_fadd(m.sum, -e.sum);
                m.count = m.count.saturating_sub(e.count);
                m.non_finite = m.non_finite.saturating_sub(e.non_finite);
            }
        }
        w.metrics.retain(|_, m| m.count > 0 || m.non_finite > 0);
        w.folded_names = self.folded_names.saturating_sub(earlier.folded_names);
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

    /// Metric values of these calls that were NaN or infinite (left out of every sum), over
    /// all keys.
    pub fn non_finite(&self) -> u64 {
        self.metrics
            .values()
            .fold(0u64, |n, m| n.saturating_add(m.non_finite))
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
    fn sums_saturate_instead_of_wrapping() {
        let mut a = op();
        a.record_timing(u64::MAX, u64::MAX, u64::MAX);
        a.record_timing(u64::MAX, u64::MAX, 1);
        a.count = u64::MAX;
        let b = a.clone();
        a.merge(&b);
        assert_eq!(a.count, u64::MAX);
        assert_eq!(a.total_ns, u64::MAX);
        assert_eq!(a.busy_ns, u64::MAX);
        assert_eq!(a.self_ns, u64::MAX);
        assert_eq!(a.sum_sq_ns, u128::MAX);
        assert_eq!(a.max_ns, u64::MAX);
        assert!(a.std_ns().is_finite());
        let mut m = MetricAggregate::of(f64::MAX);
        m.add(f64::MAX);
        m.merge(&MetricAggregate::of(f64::MAX));
        assert_eq!(m.sum, f64::MAX);
        assert_eq!(m.count, 3);
    }

    #[test]
    fn non_finite_metric_values_stay_out_of_sums_and_are_counted() {
        let mut m = MetricAggregate::of(f64::NAN);
        assert_eq!(
            (m.count, m.non_finite, m.sum, m.min, m.max),
            (0, 1, 0.0, 0.0, 0.0)
        );
        m.add(3.0);
        m.add(f64::NEG_INFINITY);
        m.add(1.0);
        assert_eq!(
            (m.count, m.non_finite, m.sum, m.min, m.max),
            (2, 2, 4.0, 1.0, 3.0)
        );
        let mut all = MetricAggregate::EMPTY;
        all.merge(&m);
        all.merge(&MetricAggregate::of(f64::INFINITY));
        assert_eq!((all.count, all.non_finite, all.sum), (2, 3, 4.0));
        let mut o = op();
        o.metrics.insert("energy_pj".into(), all);
        assert_eq!(o.non_finite(), 3);
        // Older files have no `non_finite`: it defaults to 0.
        let old: MetricAggregate =
            serde_json::from_str(r#"{"sum":1.0,"count":1,"min":1.0,"max":1.0}"#).unwrap();
        assert_eq!(old.non_finite, 0);
    }
}
