//! OpenTelemetry export against a real OTLP/HTTP receiver (decoded with the OpenTelemetry
//! project's protobuf types): span count against the kept events, parent links, the
//! attributes of a known event, the metrics, and a collector that refuses or stalls.

mod otlp_receiver;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use otlp_receiver::{attr, Mode, Receiver};
use profiler_runtime::output::otlp::OtlpOptions;
use profiler_runtime::{
    metrics, profile, CountingAllocator, EventKind, PerformanceProfiler, PerformanceReport,
    ProfileError,
};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

#[profile(kind = "hardware_access")]
fn program_tile(cells: usize) -> Vec<f64> {
    metrics!(energy_pj = 10.0, energy.adc_pj = 6.0, energy.array_pj = 4.0);
    vec![1.0; cells]
}

#[profile(kind = "algorithm_step", name = "solve.step")]
fn step(k: usize) -> f64 {
    program_tile(64 + k).iter().sum()
}

#[profile(err)]
fn check(k: usize) -> Result<(), String> {
    if k % 10 == 0 {
        Err(format!("cell {k} stuck"))
    } else {
        Ok(())
    }
}

fn workload(n: usize) {
    for k in 0..n {
        step(k);
        let _ = check(k);
    }
}

fn quick(interval_ms: u64) -> OtlpOptions {
    OtlpOptions {
        interval: Duration::from_millis(interval_ms),
        request_timeout: Duration::from_millis(500),
        shutdown_timeout: Duration::from_millis(500),
        max_attempts: 2,
        ..OtlpOptions::default()
    }
}

/// Every parent link points at a span received, in the same trace.
fn links_resolve(
    spans: &[(
        opentelemetry_proto::tonic::resource::v1::Resource,
        opentelemetry_proto::tonic::trace::v1::Span,
    )],
) {
    let ids: HashMap<&[u8], &[u8]> = spans
        .iter()
        .map(|(_, s)| (s.span_id.as_slice(), s.trace_id.as_slice()))
        .collect();
    assert_eq!(ids.len(), spans.len(), "span ids are unique");
    let mut linked = 0;
    for (_, s) in spans {
        if s.parent_span_id.is_empty() {
            continue;
        }
        linked += 1;
        let trace = ids
            .get(s.parent_span_id.as_slice())
            .unwrap_or_else(|| panic!("span {} has a parent that was not sent", s.name));
        assert_eq!(*trace, s.trace_id.as_slice(), "parent in the same trace");
    }
    assert!(linked > 0, "the workload has nested spans");
}

fn int_point(
    metrics: &[opentelemetry_proto::tonic::metrics::v1::Metric],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    let m = metrics.iter().find(|m| m.name == name)?;
    let Some(metric::Data::Sum(sum)) = &m.data else {
        return None;
    };
    sum.data_points.iter().find_map(|p| {
        let matches = labels
            .iter()
            .all(|(k, v)| matches!(attr(&p.attributes, k), Some(Value::StringValue(s)) if s == v));
        match (matches, p.value.as_ref()?) {
            (true, number_data_point::Value::AsInt(i)) => Some(*i as f64),
            (true, number_data_point::Value::AsDouble(d)) => Some(*d),
            _ => None,
        }
    })
}

#[test]
fn file_export_sends_every_kept_event_with_links_attributes_and_metrics() {
    let rx = Receiver::start(Mode::Accept);
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    profiler.in_scope(|| workload(50));
    let p = profiler.snapshot();
    let options = OtlpOptions {
        batch_spans: 16,
        service_name: Some("otlp-test".into()),
        ..OtlpOptions::default()
    };
    let sent = p.export_otlp(&rx.url(), &options).expect("exported");
    assert_eq!(sent.spans_sent, p.events.len() as u64);
    assert!(sent.requests >= (p.events.len() / 16) as u64);

    let spans = rx.spans();
    assert!(rx.data.lock().unwrap().bad.is_empty());
    assert_eq!(spans.len(), p.events.len(), "one span per kept event");
    links_resolve(&spans);

    // One known event, attribute by attribute.
    let e = p.events_named("program_tile").next().expect("a tile event");
    let (res, s) = spans
        .iter()
        .find(|(_, s)| s.span_id == e.id.to_be_bytes())
        .expect("the event's span");
    assert_eq!(s.name, "program_tile");
    assert_eq!(
        s.end_time_unix_nano - s.start_time_unix_nano,
        e.duration_ns()
    );
    assert_eq!(
        s.start_time_unix_nano,
        p.started_at_unix_ns + e.start_ns,
        "times on the wall clock"
    );
    assert_eq!(
        attr(&s.attributes, "rram.kind"),
        Some(&Value::StringValue("hardware_access".into()))
    );
    assert_eq!(
        attr(&s.attributes, "rram.metric.energy_pj"),
        Some(&Value::DoubleValue(10.0))
    );
    assert_eq!(
        attr(&s.attributes, "rram.metric.energy.adc_pj"),
        Some(&Value::DoubleValue(6.0))
    );
    assert_eq!(
        attr(&s.attributes, "rram.metric.energy.array_pj"),
        Some(&Value::DoubleValue(4.0))
    );
    let alloc = e.alloc.expect("a counting allocator is installed");
    assert!(alloc.allocated_bytes >= 64 * 8);
    assert_eq!(
        attr(&s.attributes, "rram.alloc.allocated_bytes"),
        Some(&Value::IntValue(alloc.allocated_bytes as i64))
    );
    assert_eq!(
        attr(&s.attributes, "rram.alloc.allocations"),
        Some(&Value::IntValue(alloc.allocations as i64))
    );
    let parent = p
        .events
        .iter()
        .find(|x| Some(x.id) == e.parent)
        .expect("its step");
    assert_eq!(s.parent_span_id, parent.id.to_be_bytes());
    // The resource names the service, the host and the process.
    assert_eq!(
        attr(&res.attributes, "service.name"),
        Some(&Value::StringValue("otlp-test".into()))
    );
    assert_eq!(
        attr(&res.attributes, "process.pid"),
        Some(&Value::IntValue(i64::from(std::process::id())))
    );
    assert_eq!(
        attr(&res.attributes, "host.name"),
        Some(&Value::StringValue(p.system.hostname.clone()))
    );
    // An error is the span's status.
    let failed = spans
        .iter()
        .find(|(_, s)| s.name == "check" && s.status.is_some())
        .expect("an Err span");
    let status = failed.1.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert!(status.message.contains("stuck"));

    // The aggregates as metrics: exact counts and energy by component.
    let d = rx.data.lock().unwrap();
    assert_eq!(d.metrics.len(), 1);
    let metrics = &d.metrics[0].resource_metrics[0].scope_metrics[0].metrics;
    assert_eq!(
        int_point(
            metrics,
            "rram_profiler.calls",
            &[("operation", "program_tile")]
        ),
        Some(50.0)
    );
    assert_eq!(
        int_point(
            metrics,
            "rram_profiler.energy",
            &[("operation", "program_tile"), ("component", "adc")]
        ),
        Some(300.0)
    );
    let hist = metrics
        .iter()
        .find(|m| m.name == "rram_profiler.span.duration")
        .expect("the duration histogram");
    let Some(metric::Data::Histogram(h)) = &hist.data else {
        panic!("a histogram")
    };
    let tile = h
        .data_points
        .iter()
        .find(|dp| matches!(attr(&dp.attributes, "operation"), Some(Value::StringValue(s)) if s == "program_tile"))
        .expect("the tile's histogram");
    assert_eq!(tile.count, 50);
    assert_eq!(tile.bucket_counts.iter().sum::<u64>(), 50);
    assert_eq!(tile.bucket_counts.len(), tile.explicit_bounds.len() + 1);
}

#[test]
fn live_stream_delivers_every_event_and_the_aggregates() {
    let rx = Receiver::start(Mode::Accept);
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .otlp(rx.url())
        .otlp_options(quick(20))
        .build()
        .unwrap();
    std::thread::scope(|s| {
        for _ in 0..3 {
            let sub = profiler.subscriber();
            s.spawn(move || tracing::subscriber::with_default(sub, || workload(200)));
        }
    });
    let snap = profiler.snapshot();
    let status = profiler.close_otlp().expect("a stream");
    assert_eq!(status.spans_dropped, 0, "{status:?}");
    assert_eq!(status.spans_queued, 0);
    assert_eq!(status.spans_sent, snap.events.len() as u64);
    assert_eq!(snap.total_events(), 1800);
    let spans = rx.spans();
    assert_eq!(spans.len(), snap.events.len(), "each kept event once");
    links_resolve(&spans);
    let ids: HashSet<Vec<u8>> = spans.iter().map(|(_, s)| s.span_id.clone()).collect();
    assert!(snap
        .events
        .iter()
        .all(|e| ids.contains(e.id.to_be_bytes().as_slice())));
    // The last metrics export of an operation carries its exact count.
    let d = rx.data.lock().unwrap();
    let last_calls = d.metrics.iter().rev().find_map(|r| {
        int_point(
            &r.resource_metrics[0].scope_metrics[0].metrics,
            "rram_profiler.calls",
            &[("operation", "solve.step")],
        )
    });
    assert_eq!(last_calls, Some(600.0));
    assert!(status.metric_exports_sent >= 1);
}

#[test]
fn a_refusing_collector_costs_a_bounded_queue_and_counted_drops() {
    let rx = Receiver::start(Mode::Refuse(503));
    let queue_bytes = 64 * 1024;
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .otlp(rx.url())
        .otlp_options(OtlpOptions {
            queue_bytes,
            batch_spans: 256,
            ..quick(10)
        })
        .build()
        .unwrap();
    let mut most_queued = 0;
    for round in 0..40 {
        for i in 0..1000 {
            profiler.record_event(
                "tick",
                EventKind::Computation,
                [("i", (round * 1000 + i) as f64)],
            );
        }
        std::thread::sleep(Duration::from_millis(2));
        most_queued = most_queued.max(profiler.snapshot().otlp.expect("streaming").spans_queued);
    }
    // A span is well over 40 bytes encoded: the queue never holds more than its bytes allow
    // (plus the request in flight).
    assert!(
        most_queued <= (queue_bytes / 40) as u64 + 256,
        "{most_queued} spans queued"
    );
    let status = profiler.close_otlp().expect("a stream");
    assert_eq!(status.spans_sent, 0);
    assert_eq!(status.spans_queued, 0);
    assert_eq!(
        status.spans_dropped, 40_000,
        "every event accounted for: {status:?}"
    );
    assert!(status.failed_requests > 0);
    assert!(
        status.last_error.as_deref().unwrap_or("").contains("503"),
        "{status:?}"
    );
    assert!(rx.requests() > 0, "it did try");
    // The report says so.
    let mut snap = profiler.snapshot();
    snap.otlp = Some(status);
    let text = PerformanceReport::from_profile(&snap).to_text();
    assert!(text.contains("OTLP stream to http://127.0.0.1:"), "{text}");
    assert!(text.contains("40000 dropped"), "{text}");
}

#[test]
fn a_stalling_collector_cannot_hang_shutdown() {
    let rx = Receiver::start(Mode::Stall);
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .otlp(rx.url())
        .otlp_options(OtlpOptions {
            request_timeout: Duration::from_secs(3600),
            shutdown_timeout: Duration::from_millis(300),
            ..quick(10)
        })
        .build()
        .unwrap();
    profiler.in_scope(|| workload(100));
    std::thread::sleep(Duration::from_millis(50));
    // The sender is stuck in a request that will not be answered for an hour; closing still
    // returns once the shutdown timeout passes, with every span counted.
    let status = profiler.close_otlp().expect("a stream");
    assert_eq!(status.spans_sent, 0);
    assert_eq!(status.spans_dropped, 300, "{status:?}");
    assert!(rx.requests() >= 1);
    // Dropping a second streaming profiler directly returns too.
    let again = PerformanceProfiler::builder()
        .without_monitor()
        .otlp(rx.url())
        .otlp_options(OtlpOptions {
            request_timeout: Duration::from_secs(3600),
            shutdown_timeout: Duration::from_millis(200),
            ..quick(10)
        })
        .build()
        .unwrap();
    again.in_scope(|| workload(10));
    drop(again);
}

#[test]
fn export_to_nobody_fails_naming_the_endpoint() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    profiler.in_scope(|| workload(3));
    let err = profiler
        .snapshot()
        .export_otlp(&url, &quick(10))
        .expect_err("nothing listens there");
    assert!(matches!(err, ProfileError::Net { .. }), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
}

#[test]
fn bad_endpoints_are_refused() {
    for bad in ["https://127.0.0.1:4318", "127.0.0.1:4318", "http://h:port"] {
        let err = PerformanceProfiler::builder()
            .otlp(bad)
            .build()
            .expect_err("refused");
        assert!(err.to_string().contains("OTLP endpoint"), "{err}");
        assert!(profiler_runtime::Profile::empty()
            .export_otlp(bad, &OtlpOptions::default())
            .is_err());
    }
}
