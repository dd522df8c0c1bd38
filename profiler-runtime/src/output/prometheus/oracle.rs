//! The reference for the scrape's text: the same families written by the official encoder
//! (`prometheus-client`) through a custom collector. Tests check that [`super::encode`]'s
//! output is byte for byte what this writes.

use prometheus_client::collector::Collector as PromCollector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::encode::ScrapeData;
use crate::model::stats::OperationStats;
use crate::output::metric_families::{
    allocated_by_operation, energy_by_component, span_bucket_counts, SPAN_BUCKETS_NS,
};

/// A scrape's data, for the official encoder.
#[derive(Debug)]
struct Oracle(ScrapeData);

impl std::ops::Deref for Oracle {
    type Target = ScrapeData;
    fn deref(&self) -> &ScrapeData {
        &self.0
    }
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

impl PromCollector for Oracle {
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

/// The text `prometheus-client` writes for `data`.
pub(crate) fn encode(data: ScrapeData) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Oracle(data)));
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)?;
    Ok(out)
}
