//! The accumulator of one operation: the hot-path form of
//! [`OperationStats`](crate::OperationStats), fed by the fold worker.
//!
//! Durations go into a sparse log-linear [`DurationHistogram`] (see its module for the error
//! bound and memory), which costs a leading-zero count and an increment per event once the
//! operation's range of durations is dense. Every sum saturates instead of wrapping.

use std::borrow::Cow;

use crate::model::event::{AllocStats, EventKind, Name};
use crate::model::histogram::DurationHistogram;
use crate::model::stats::{MetricAggregate, OperationStats};
use crate::record::clock::ProfClock;
use crate::record::raw::{EventRef, RawEvent};

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
    histogram: DurationHistogram,
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
        self.count = self.count.saturating_add(1);
        self.total_ns = self.total_ns.saturating_add(wall);
        self.busy_ns = self.busy_ns.saturating_add(busy);
        self.self_ns = self.self_ns.saturating_add(self_ns);
        self.sum_sq_ns = self
            .sum_sq_ns
            .saturating_add(u128::from(wall) * u128::from(wall));
        self.histogram.record(wall);
        if e.has_extras() {
            e.for_each_metric(|k, v| self.add_metric(k, v));
            self.errors = self.errors.saturating_add(u64::from(e.error().is_some()));
        }
        if ev.flags & RawEvent::HAS_ALLOC != 0 {
            if let Some(aux) = e.aux {
                self.alloc.add(&aux.alloc);
            }
            self.alloc_count = self.alloc_count.saturating_add(1);
        }
        self.panics = self
            .panics
            .saturating_add(u64::from(ev.flags & RawEvent::PANICKED != 0));
    }

    /// Events recorded.
    #[cfg(any(feature = "persist", feature = "otlp"))]
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    fn add_metric(&mut self, key: &str, v: f64) {
        match self.metrics.iter_mut().find(|(k, _)| k == key) {
            Some((_, m)) => m.add(v),
            None => {
                // Most operations report one or two metrics: grow one at a time.
                self.metrics.reserve_exact(1);
                self.metrics
                    .push((Cow::Owned(key.to_owned()), MetricAggregate::of(v)));
            }
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
        s.histogram = self.histogram.clone();
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

    /// What one operation costs in the accumulators: its inline size plus its heap.
    #[test]
    fn a_one_call_operation_costs_a_few_hundred_bytes() {
        let clock = ProfClock::new();
        let ev = RawEvent {
            wall: 1_000,
            busy: 1_000,
            ..RawEvent::default()
        };
        let mut a = OpAccum::default();
        a.record(
            EventRef {
                ev: &ev,
                aux: None,
                extra: None,
                args: None,
            },
            &clock,
        );
        let bytes = std::mem::size_of::<OpAccum>() + a.histogram.heap_bytes();
        println!("one-call operation: {bytes} bytes in its accumulator");
        assert!(bytes <= 512, "{bytes} bytes");
        assert_eq!(a.to_stats("f".into(), EventKind::FunctionCall).count, 1);
    }
}
