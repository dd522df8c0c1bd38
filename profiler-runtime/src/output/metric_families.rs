//! What the live metrics (Prometheus, feature `prometheus`) and the OTLP metrics (feature
//! `otlp`) derive alike from an operation's aggregates: the duration histogram's fixed buckets
//! and the energy by component.

use std::collections::BTreeMap;

use crate::contract::{component_of, ENERGY_PJ};
use crate::model::stats::{saturating_fadd, OperationStats};

/// The component label of energy that an operation reports in `energy_pj` but in no
/// `energy.<component>_pj` metric (as the analysis names it).
pub const UNATTRIBUTED: &str = "unattributed";

/// Upper bounds of the exported duration histograms, in ns: every second power of two from
/// 256 ns to about 17 s. Each is a bucket boundary of
/// [`DurationHistogram`](crate::DurationHistogram), so every bucket's count is exact: the
/// calls shorter than its bound.
pub const SPAN_BUCKETS_NS: [u64; 14] = [
    1 << 8,
    1 << 10,
    1 << 12,
    1 << 14,
    1 << 16,
    1 << 18,
    1 << 20,
    1 << 22,
    1 << 24,
    1 << 26,
    1 << 28,
    1 << 30,
    1 << 32,
    1 << 34,
];

/// The calls of `o` per bucket of [`SPAN_BUCKETS_NS`], then above the last bound (not
/// cumulative). Their running sum is held at `u64::MAX`, so no reader's sum can overflow.
pub(crate) fn span_bucket_counts(o: &OperationStats) -> [u64; SPAN_BUCKETS_NS.len() + 1] {
    let mut per = [0u64; SPAN_BUCKETS_NS.len() + 1];
    for (value_ns, count) in o.histogram.buckets() {
        // A bucket lies wholly below a bound iff its representative value does (every bound
        // is a bucket boundary).
        let j = SPAN_BUCKETS_NS.partition_point(|&b| b <= value_ns);
        per[j] = per[j].saturating_add(count);
    }
    let mut cum = 0u64;
    for n in &mut per {
        let next = cum.saturating_add(*n);
        *n = next - cum;
        cum = next;
    }
    per
}

/// Energy by (operation, component) over every kind, sorted by operation then component: the
/// `energy.<component>_pj` sums, and the rest of `energy_pj` as [`UNATTRIBUTED`], so the
/// components of an operation add up to its `energy_pj`. (Collected and sorted once rather
/// than kept in a map: a scrape of 10,000 operations builds it every time.)
pub(crate) fn energy_by_component(ops: &[OperationStats]) -> Vec<((&str, &str), f64)> {
    let mut out: Vec<((&str, &str), f64)> = Vec::new();
    for o in ops {
        let mut parts = 0.0;
        for (k, m) in &o.metrics {
            if let Some(c) = component_of(k) {
                out.push(((&*o.name, c), m.sum));
                parts = saturating_fadd(parts, m.sum);
            }
        }
        let total = o.metric_sum(ENERGY_PJ);
        // Sums of the same energies in another order differ in the last bits: a rest within
        // rounding (1e-9 of the total) is none.
        if o.metrics.contains_key(ENERGY_PJ) && total - parts > 1e-9 * total.abs() {
            out.push(((&*o.name, UNATTRIBUTED), total - parts));
        }
    }
    // Stable, so an operation of several kinds adds its kinds' energies in their order.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 = saturating_fadd(kept.1, later.1);
        }
        same
    });
    out
}

/// Heap bytes allocated per operation name (over every kind), for the operations that had a
/// counting allocator.
pub(crate) fn allocated_by_operation(ops: &[OperationStats]) -> BTreeMap<&str, u64> {
    let mut out: BTreeMap<&str, u64> = BTreeMap::new();
    for o in ops.iter().filter(|o| o.alloc_count > 0) {
        let a = out.entry(&*o.name).or_insert(0);
        *a = a.saturating_add(o.alloc.allocated_bytes);
    }
    out
}

/// A hardware-access operation with one call per duration (self time half of each), for the
/// tests of what derives from aggregates.
#[cfg(test)]
pub(crate) fn test_op(name: &str, durations: &[u64]) -> OperationStats {
    let mut o = OperationStats::new(name.into(), crate::EventKind::HardwareAccess);
    for &d in durations {
        o.record_timing(d, d, d / 2);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stats::MetricAggregate;
    use crate::EventKind;

    use super::test_op as op;

    #[test]
    fn buckets_count_the_calls_below_each_bound() {
        let o = op("mvm", &[100, 300, 1_023, 1_024, 5_000, 40_000_000_000]);
        let cumulative: Vec<u64> = span_bucket_counts(&o)
            .iter()
            .scan(0u64, |c, n| {
                *c += n;
                Some(*c)
            })
            .collect();
        // < 256 ns: 100; < 1024 ns: also 300 and 1023; < 4096: also 1024; < 16384: also 5000.
        assert_eq!(&cumulative[..4], &[1, 3, 4, 5]);
        assert_eq!(
            cumulative[SPAN_BUCKETS_NS.len() - 1],
            5,
            "40 s is above 17 s"
        );
        assert_eq!(*cumulative.last().expect("+Inf"), 6);
    }

    #[test]
    fn saturated_counts_never_overflow_a_running_sum() {
        let mut o = op("x", &[]);
        o.histogram.record_n(100, u64::MAX);
        o.histogram.record_n(1 << 40, u64::MAX);
        let per = span_bucket_counts(&o);
        let sum = per.iter().try_fold(0u64, |a, &n| a.checked_add(n));
        assert_eq!(sum, Some(u64::MAX));
    }

    #[test]
    fn components_add_up_to_the_operations_energy() {
        let mut o = op("program", &[10]);
        o.metrics
            .insert("energy_pj".into(), MetricAggregate::of(10.0));
        o.metrics
            .insert("energy.adc_pj".into(), MetricAggregate::of(6.0));
        let mut only_total = op("read", &[10]);
        only_total
            .metrics
            .insert("energy_pj".into(), MetricAggregate::of(4.0));
        let ops = [o, only_total];
        let e = energy_by_component(&ops);
        assert_eq!(
            e,
            vec![
                (("program", "adc"), 6.0),
                (("program", UNATTRIBUTED), 4.0),
                (("read", UNATTRIBUTED), 4.0)
            ]
        );
        // Components that add up to energy_pj but for rounding leave no unattributed rest.
        let mut mvm = op("mvm", &[10]);
        for (k, v) in [
            ("energy.adc_pj", 1.0),
            ("energy.dac_pj", 2.0),
            ("energy_pj", 3.0 * (1.0 + 1e-12)),
        ] {
            mvm.metrics.insert(k.into(), MetricAggregate::of(v));
        }
        let e = energy_by_component(std::slice::from_ref(&mvm));
        assert!(!e.iter().any(|(k, _)| *k == ("mvm", UNATTRIBUTED)), "{e:?}");
        // One name under two kinds: one series, their sum.
        let mut as_step = mvm.clone();
        as_step.kind = EventKind::AlgorithmStep;
        let both = [mvm, as_step];
        let e = energy_by_component(&both);
        assert_eq!(e, vec![(("mvm", "adc"), 2.0), (("mvm", "dac"), 4.0)]);
    }
}
