//! The scrape: the live aggregates in the Prometheus text format (0.0.4), written by the
//! official encoder (`prometheus-client`) through a custom collector that reads what one
//! scrape copied from the profiler.

use prometheus_client::collector::Collector as PromCollector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::model::otlp_status::OtlpStatus;
use crate::model::sample::MonitorSample;
use crate::model::stats::OperationStats;
use crate::output::metric_families::{
    allocated_by_operation, energy_by_component, span_bucket_counts, SPAN_BUCKETS_NS,
};

/// What one scrape copied from the profiler: nothing here holds a lock.
#[derive(Debug)]
pub(crate) struct ScrapeData {
    pub operations: Vec<OperationStats>,
    pub dropped_events: u64,
    pub last_sample: Option<MonitorSample>,
    /// RSS read at the scrape, where the monitor has no sample.
    pub rss_now: Option<u64>,
    pub otlp: Option<OtlpStatus>,
}

/// Labels of one operation.
fn op_labels(o: &OperationStats) -> [(&'static str, &str); 2] {
    [("operation", &o.name), ("kind", o.kind.as_str())]
}

/// The histogram's buckets as the encoder takes them: `(le in seconds, calls in the
/// bucket)`, `+Inf` last.
fn span_buckets(o: &OperationStats) -> Vec<(f64, u64)> {
    span_bucket_counts(o)
        .iter()
        .enumerate()
        .map(|(j, &n)| {
            let le = SPAN_BUCKETS_NS
                .get(j)
                .map_or(f64::INFINITY, |&b| b as f64 / 1e9);
            (le, n)
        })
        .collect()
}

impl PromCollector for ScrapeData {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let ops = &self.operations;
        {
            let mut m = enc.encode_descriptor(
                "rram_profiler_calls",
                "Calls of each operation, exact (from the profiler's aggregates)",
                None,
                MetricType::Counter,
            )?;
            for o in ops {
                m.encode_family(&op_labels(o))?
                    .encode_counter::<NoLabelSet, _, u64>(&o.count, None)?;
            }
        }
        {
            let mut m = enc.encode_descriptor(
                "rram_profiler_span_seconds",
                "Wall time of each call, from the profiler's histogram (a bucket counts the \
                 calls shorter than its bound)",
                None,
                MetricType::Histogram,
            )?;
            for o in ops {
                let buckets = span_buckets(o);
                m.encode_family(&op_labels(o))?
                    .encode_histogram::<NoLabelSet>(
                        o.total_ns as f64 / 1e9,
                        o.count,
                        &buckets,
                        None,
                    )?;
            }
        }
        {
            let mut m = enc.encode_descriptor(
                "rram_profiler_self_seconds",
                "Self time of each operation: time in its own code, children excluded",
                None,
                MetricType::Counter,
            )?;
            for o in ops {
                m.encode_family(&op_labels(o))?
                    .encode_counter::<NoLabelSet, _, f64>(&(o.self_ns as f64 / 1e9), None)?;
            }
        }
        let energy = energy_by_component(ops);
        if !energy.is_empty() {
            let mut m = enc.encode_descriptor(
                "rram_profiler_energy_picojoules",
                "Energy reported by each operation's spans, by circuit component (`unattributed`: \
                 energy_pj not split into components)",
                None,
                MetricType::Counter,
            )?;
            for ((op, component), pj) in &energy {
                m.encode_family(&[("operation", *op), ("component", *component)])?
                    .encode_counter::<NoLabelSet, _, f64>(pj, None)?;
            }
        }
        let allocated = allocated_by_operation(ops);
        if !allocated.is_empty() {
            let mut m = enc.encode_descriptor(
                "rram_profiler_allocated_bytes",
                "Heap bytes allocated within each operation's spans (inclusive of children; \
                 needs the CountingAllocator)",
                None,
                MetricType::Counter,
            )?;
            for (op, bytes) in &allocated {
                m.encode_family(&[("operation", *op)])?
                    .encode_counter::<NoLabelSet, _, u64>(bytes, None)?;
            }
        }
        if let Some(rss) = self.last_sample.map(|s| s.rss_bytes).or(self.rss_now) {
            enc.encode_descriptor(
                "rram_profiler_resident_bytes",
                "Resident set size of the process (the monitor's newest sample)",
                None,
                MetricType::Gauge,
            )?
            .encode_gauge(&rss)?;
        }
        if let Some(s) = self.last_sample {
            enc.encode_descriptor(
                "rram_profiler_cpu_percent",
                "CPU use of the process over the monitor's last interval, percent of one core",
                None,
                MetricType::Gauge,
            )?
            .encode_gauge(&f64::from(s.cpu_percent))?;
        }
        enc.encode_descriptor(
            "rram_profiler_events_dropped",
            "Raw events dropped from the bounded buffer (the aggregates still count them)",
            None,
            MetricType::Counter,
        )?
        .encode_counter::<NoLabelSet, _, u64>(&self.dropped_events, None)?;
        if let Some(s) = &self.otlp {
            enc.encode_descriptor(
                "rram_profiler_otlp_spans_sent",
                "Spans the OTLP collector accepted",
                None,
                MetricType::Counter,
            )?
            .encode_counter::<NoLabelSet, _, u64>(&s.spans_sent, None)?;
            enc.encode_descriptor(
                "rram_profiler_otlp_spans_dropped",
                "Spans the OTLP stream dropped (collector down, refusing or slow)",
                None,
                MetricType::Counter,
            )?
            .encode_counter::<NoLabelSet, _, u64>(&s.spans_dropped, None)?;
        }
        Ok(())
    }
}

/// The text of one scrape.
pub(crate) fn encode(data: ScrapeData) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    let guess = data.operations.len().saturating_mul(2048).max(4096);
    registry.register_collector(Box::new(data));
    let mut out = String::with_capacity(guess);
    prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;

    fn op(name: &str, durations: &[u64]) -> OperationStats {
        let mut o = OperationStats::new(name.into(), EventKind::HardwareAccess);
        for &d in durations {
            o.record_timing(d, d, d / 2);
        }
        o
    }

    #[test]
    fn histogram_buckets_end_with_inf_and_count_every_call() {
        let b = span_buckets(&op("mvm", &[100, 5_000, 40_000_000_000]));
        assert_eq!(b.len(), SPAN_BUCKETS_NS.len() + 1);
        assert!(b.last().expect("+Inf").0.is_infinite());
        assert_eq!(b.iter().map(|x| x.1).sum::<u64>(), 3);
    }

    #[test]
    fn text_carries_the_fixed_names_and_escapes_labels() {
        let mut o = op("solve \"x\"\n", &[2_000]);
        o.alloc.allocated_bytes = 64;
        o.alloc_count = 1;
        let text = encode(ScrapeData {
            operations: vec![o],
            dropped_events: 3,
            last_sample: Some(MonitorSample {
                t_ns: 1,
                rss_bytes: 1 << 20,
                cpu_percent: 50.0,
                ..MonitorSample::default()
            }),
            rss_now: None,
            otlp: None,
        })
        .expect("encodes");
        for needle in [
            "rram_profiler_calls_total{operation=\"solve \\\"x\\\"\\n\",kind=\"hardware_access\"} 1",
            "rram_profiler_span_seconds_bucket{",
            "rram_profiler_span_seconds_count{",
            "rram_profiler_self_seconds_total{",
            "rram_profiler_allocated_bytes_total{operation=",
            "rram_profiler_resident_bytes 1048576",
            "rram_profiler_cpu_percent 50",
            "rram_profiler_events_dropped_total 3",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }
}
