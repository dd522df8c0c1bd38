//! Profiles as OTLP messages (the OpenTelemetry project's protobuf types, from
//! `opentelemetry-proto`): events as spans, aggregates as metrics, a process as a resource.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span, status, ResourceSpans, ScopeSpans, Span, Status,
};

use crate::model::event::ProfileEvent;
use crate::model::process::ProcessRecord;
use crate::model::sample::MonitorSample;
use crate::model::stats::OperationStats;
use crate::output::metric_families::{
    allocated_by_operation, energy_by_component, span_bucket_counts, SPAN_BUCKETS_NS,
};

/// The instrumentation scope of everything the profiler sends.
pub const SCOPE_NAME: &str = "rram-profiler";
/// The `service.name` when none is set (the `OTEL_SERVICE_NAME` environment variable, as in
/// every OpenTelemetry SDK, or [`OtlpOptions::service_name`](super::OtlpOptions)).
pub const DEFAULT_SERVICE_NAME: &str = "rram-profiler";

/// Prefix of the attributes the profiler adds to spans: `rram.kind`, `rram.metric.<key>`,
/// `rram.alloc.*`, `rram.busy_ns`, `rram.self_ns`, `rram.event_id`.
pub const ATTRIBUTE_PREFIX: &str = "rram.";

fn kv(key: impl Into<String>, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn kv_str(key: &str, v: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(v.to_owned()))
}

/// An integer attribute (`u64` held at `i64::MAX`, as OTLP integers are signed).
fn kv_int(key: &str, v: u64) -> KeyValue {
    kv(key, any_value::Value::IntValue(int(v)))
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// FNV-1a, 64 bits: stable across builds and platforms (trace ids must not change with the
/// Rust version).
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The first half of every trace id of one process's profiler run: a hash of its host, pid,
/// process start and profiler start (never 0).
pub(crate) fn run_id(p: &ProcessRecord) -> [u8; 8] {
    let h = fnv(&[
        p.hostname.as_bytes(),
        &p.pid.to_le_bytes(),
        &p.process_started_at_unix_ns.to_le_bytes(),
        &p.started_at_unix_ns.to_le_bytes(),
    ]);
    h.max(1).to_be_bytes()
}

/// A trace id: the run's id, then `low` (a root event's id, or 0 for a live stream's run).
pub(crate) fn trace_id(run: [u8; 8], low: u64) -> Vec<u8> {
    let mut id = Vec::with_capacity(16);
    id.extend_from_slice(&run);
    id.extend_from_slice(&low.to_be_bytes());
    id
}

/// The resource of a process: `service.name`, `host.name`, `process.pid`, and the profiler's
/// own `rram.process.started_at_unix_ns`, `rram.clock_source`, `rram.label`.
pub(crate) fn resource(p: &ProcessRecord, service_name: &str) -> Resource {
    let mut attributes = vec![
        kv_str("service.name", service_name),
        kv_str("telemetry.sdk.name", SCOPE_NAME),
        kv_str("telemetry.sdk.language", "rust"),
        kv_str("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ];
    if !p.hostname.is_empty() {
        attributes.push(kv_str("host.name", &p.hostname));
    }
    if p.pid != 0 {
        attributes.push(kv_int("process.pid", u64::from(p.pid)));
    }
    attributes.push(kv_int(
        "rram.process.started_at_unix_ns",
        p.process_started_at_unix_ns,
    ));
    attributes.push(kv_str("rram.clock_source", &p.clock_source));
    if !p.label.is_empty() {
        attributes.push(kv_str("rram.label", &p.label));
    }
    Resource {
        attributes,
        ..Default::default()
    }
}

pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: SCOPE_NAME.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..Default::default()
    }
}

/// Where an event sits in OTLP time and in its trace.
pub(crate) struct SpanPlace<'a> {
    /// Wall-clock time of the profile's `start_ns = 0`, ns since the Unix epoch.
    pub epoch_unix_ns: u64,
    pub trace_id: Vec<u8>,
    /// Whether the parent is sent too (else the span is a root, and the parent's id an
    /// attribute).
    pub parent_sent: bool,
    pub thread_name: Option<&'a str>,
}

/// One event as a span: its name, times, ids and parent, its kind, metrics (energy by
/// component included) and allocation figures as attributes, its error as the status.
pub(crate) fn span(e: &ProfileEvent, at: SpanPlace<'_>) -> Span {
    let mut attributes = Vec::with_capacity(8 + e.metrics.len());
    attributes.push(kv_str("rram.kind", e.kind.as_str()));
    attributes.push(kv_int("rram.event_id", e.id));
    attributes.push(kv_int("thread.id", e.thread_id));
    if let Some(n) = at.thread_name {
        attributes.push(kv_str("thread.name", n));
    }
    attributes.push(kv_int("rram.busy_ns", e.busy_ns));
    attributes.push(kv_int("rram.self_ns", e.self_ns));
    for (k, v) in &e.metrics {
        attributes.push(kv(
            format!("rram.metric.{k}"),
            any_value::Value::DoubleValue(*v),
        ));
    }
    if let Some(a) = e.alloc {
        attributes.push(kv_int("rram.alloc.allocated_bytes", a.allocated_bytes));
        attributes.push(kv_int("rram.alloc.freed_bytes", a.freed_bytes));
        attributes.push(kv_int("rram.alloc.allocations", a.allocations));
    }
    let parent_span_id = match e.parent {
        Some(p) if at.parent_sent => p.to_be_bytes().to_vec(),
        Some(p) => {
            attributes.push(kv_int("rram.parent_event_id", p));
            Vec::new()
        }
        None => Vec::new(),
    };
    if e.panicked {
        attributes.push(kv("rram.panicked", any_value::Value::BoolValue(true)));
    }
    let status = match (&e.error, e.panicked) {
        (Some(msg), _) => Some(Status {
            message: msg.clone(),
            code: status::StatusCode::Error as i32,
        }),
        (None, true) => Some(Status {
            message: "panicked".to_owned(),
            code: status::StatusCode::Error as i32,
        }),
        (None, false) => None,
    };
    Span {
        trace_id: at.trace_id,
        span_id: e.id.to_be_bytes().to_vec(),
        parent_span_id,
        name: e.name.to_string(),
        kind: span::SpanKind::Internal as i32,
        start_time_unix_nano: at.epoch_unix_ns.saturating_add(e.start_ns),
        end_time_unix_nano: at.epoch_unix_ns.saturating_add(e.end_ns),
        attributes,
        status,
        ..Default::default()
    }
}

/// One request of spans, grouped by resource.
pub(crate) fn traces_request(groups: Vec<(Resource, Vec<Span>)>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: groups
            .into_iter()
            .filter(|(_, spans)| !spans.is_empty())
            .map(|(resource, spans)| ResourceSpans {
                resource: Some(resource),
                scope_spans: vec![ScopeSpans {
                    scope: Some(scope()),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}

/// What the metrics of one export are read from.
pub(crate) struct MetricsInput<'a> {
    pub operations: &'a [OperationStats],
    pub dropped_events: u64,
    pub last_sample: Option<MonitorSample>,
    /// Start of the cumulative series (the profiler's start), ns since the Unix epoch.
    pub start_unix_ns: u64,
    /// When they were read, ns since the Unix epoch.
    pub now_unix_ns: u64,
}

fn point(
    attrs: Vec<KeyValue>,
    value: number_data_point::Value,
    m: &MetricsInput<'_>,
) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        start_time_unix_nano: m.start_unix_ns,
        time_unix_nano: m.now_unix_ns,
        value: Some(value),
        ..Default::default()
    }
}

fn sum(name: &str, description: &str, unit: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.to_owned(),
        description: description.to_owned(),
        unit: unit.to_owned(),
        data: Some(metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

fn gauge(name: &str, description: &str, unit: &str, point: NumberDataPoint) -> Metric {
    Metric {
        name: name.to_owned(),
        description: description.to_owned(),
        unit: unit.to_owned(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![point],
        })),
        ..Default::default()
    }
}

fn op_attrs(o: &OperationStats) -> Vec<KeyValue> {
    vec![
        kv_str("operation", &o.name),
        kv_str("kind", o.kind.as_str()),
    ]
}

/// The aggregates as OTLP metrics (cumulative from the profiler's start), under `resource`:
/// `rram_profiler.calls`, `rram_profiler.span.duration` (histogram, seconds, the buckets of
/// the Prometheus endpoint), `rram_profiler.self_time`, `rram_profiler.energy` (by operation
/// and component), `rram_profiler.allocated`, `rram_profiler.events_dropped`, and the
/// monitor's `rram_profiler.resident` and `rram_profiler.cpu`.
pub(crate) fn metrics_request(
    resource: Resource,
    m: &MetricsInput<'_>,
) -> ExportMetricsServiceRequest {
    use number_data_point::Value::{AsDouble, AsInt};
    let ops = m.operations;
    let mut metrics = vec![
        sum(
            "rram_profiler.calls",
            "Calls of each operation, exact",
            "{call}",
            ops.iter()
                .map(|o| point(op_attrs(o), AsInt(int(o.count)), m))
                .collect(),
        ),
        Metric {
            name: "rram_profiler.span.duration".to_owned(),
            description: "Wall time of each call".to_owned(),
            unit: "s".to_owned(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: ops
                    .iter()
                    .map(|o| HistogramDataPoint {
                        attributes: op_attrs(o),
                        start_time_unix_nano: m.start_unix_ns,
                        time_unix_nano: m.now_unix_ns,
                        count: o.count,
                        sum: Some(o.total_ns as f64 / 1e9),
                        bucket_counts: span_bucket_counts(o).to_vec(),
                        explicit_bounds: SPAN_BUCKETS_NS.iter().map(|&b| b as f64 / 1e9).collect(),
                        min: (o.count > 0).then(|| o.min_ns as f64 / 1e9),
                        max: (o.count > 0).then(|| o.max_ns as f64 / 1e9),
                        ..Default::default()
                    })
                    .collect(),
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Default::default()
        },
        sum(
            "rram_profiler.self_time",
            "Self time of each operation (children excluded)",
            "s",
            ops.iter()
                .map(|o| point(op_attrs(o), AsDouble(o.self_ns as f64 / 1e9), m))
                .collect(),
        ),
    ];
    let energy = energy_by_component(ops);
    if !energy.is_empty() {
        metrics.push(sum(
            "rram_profiler.energy",
            "Energy reported by each operation, by circuit component",
            "pJ",
            energy
                .iter()
                .map(|((op, c), pj)| {
                    point(
                        vec![kv_str("operation", op), kv_str("component", c)],
                        AsDouble(*pj),
                        m,
                    )
                })
                .collect(),
        ));
    }
    let allocated = allocated_by_operation(ops);
    if !allocated.is_empty() {
        metrics.push(sum(
            "rram_profiler.allocated",
            "Heap bytes allocated within each operation's spans (inclusive)",
            "By",
            allocated
                .iter()
                .map(|(op, b)| point(vec![kv_str("operation", op)], AsInt(int(*b)), m))
                .collect(),
        ));
    }
    metrics.push(sum(
        "rram_profiler.events_dropped",
        "Raw events dropped from the bounded buffer (the aggregates count them)",
        "{event}",
        vec![point(Vec::new(), AsInt(int(m.dropped_events)), m)],
    ));
    if let Some(s) = m.last_sample {
        metrics.push(gauge(
            "rram_profiler.resident",
            "Resident set size of the process",
            "By",
            point(Vec::new(), AsInt(int(s.rss_bytes)), m),
        ));
        metrics.push(gauge(
            "rram_profiler.cpu",
            "CPU use of the process, percent of one core",
            "%",
            point(Vec::new(), AsDouble(f64::from(s.cpu_percent)), m),
        ));
    }
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope()),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{AllocStats, EventKind};
    use crate::model::profile::Profile;

    #[test]
    fn a_span_carries_ids_kind_metrics_alloc_and_error() {
        let mut e = ProfileEvent::new(7, "program".into(), EventKind::HardwareAccess, 2, 10, 50);
        e.parent = Some(3);
        e.metrics.insert("energy.adc_pj".into(), 1.5);
        e.alloc = Some(AllocStats {
            allocated_bytes: u64::MAX,
            freed_bytes: 1,
            allocations: 2,
        });
        e.error = Some("bad cell".into());
        let run = run_id(&ProcessRecord::unknown(&Profile::empty()));
        let s = span(
            &e,
            SpanPlace {
                epoch_unix_ns: 1_000,
                trace_id: trace_id(run, 3),
                parent_sent: true,
                thread_name: Some("main"),
            },
        );
        assert_eq!(s.span_id, 7u64.to_be_bytes());
        assert_eq!(s.parent_span_id, 3u64.to_be_bytes());
        assert_eq!(
            (s.start_time_unix_nano, s.end_time_unix_nano),
            (1_010, 1_050)
        );
        let get = |k: &str| {
            s.attributes
                .iter()
                .find(|a| a.key == k)
                .and_then(|a| a.value.clone())
                .and_then(|v| v.value)
        };
        assert_eq!(
            get("rram.kind"),
            Some(any_value::Value::StringValue("hardware_access".into()))
        );
        assert_eq!(
            get("rram.metric.energy.adc_pj"),
            Some(any_value::Value::DoubleValue(1.5))
        );
        assert_eq!(
            get("rram.alloc.allocated_bytes"),
            Some(any_value::Value::IntValue(i64::MAX))
        );
        assert_eq!(s.status.expect("error status").message, "bad cell");
        let orphan = span(
            &e,
            SpanPlace {
                epoch_unix_ns: 0,
                trace_id: trace_id(run, 7),
                parent_sent: false,
                thread_name: None,
            },
        );
        assert!(
            orphan.parent_span_id.is_empty(),
            "links only to spans that are sent"
        );
    }

    #[test]
    fn run_ids_differ_by_process_and_are_stable() {
        let mut a = ProcessRecord::unknown(&Profile::empty());
        a.pid = 1;
        let mut b = a.clone();
        b.pid = 2;
        assert_ne!(run_id(&a), run_id(&b));
        assert_eq!(run_id(&a), run_id(&a.clone()));
        assert_ne!(fnv(&[b"ab", b"c"]), fnv(&[b"a", b"bc"]));
    }
}
