//! OpenTelemetry export over OTLP/HTTP with protobuf bodies (feature `otlp`), for
//! collectors and the backends behind them (Jaeger, Tempo, Grafana, ...).
//!
//! - [`Profile::export_otlp`](crate::Profile::export_otlp) sends a saved or snapshotted
//!   profile: every kept event as a span, the exact aggregates as metrics
//!   (`rram-prof export P --format otlp --endpoint URL` from a shell).
//! - [`ProfilerBuilder::otlp`](crate::ProfilerBuilder::otlp) streams a running profiler's
//!   events and aggregates from background threads (see `stream.rs`: a bounded queue,
//!   retries with backoff, drops counted in [`Profile::otlp`](crate::Profile::otlp) and the
//!   report, no hang at shutdown).
//!
//! The messages are the OpenTelemetry project's own protobuf types (`opentelemetry-proto`);
//! the HTTP side is a small `std::net` client for plain `http://` collectors (bounded reads,
//! a deadline per request).
//!
//! **Spans** (one per kept event): span id = the event id; parent = the parent event where it
//! is sent too; `rram.kind`, `rram.metric.<key>` (every metric, energy by component as
//! `rram.metric.energy.<component>_pj`), `rram.alloc.allocated_bytes` / `freed_bytes` /
//! `allocations`, `rram.busy_ns`, `rram.self_ns`, `rram.event_id`, `thread.id`,
//! `thread.name`; an error (or a panic) as an `ERROR` status. A file export makes one trace
//! per root event; a live stream sends a span when it closes, before its root has, so all the
//! spans of a run share one trace id (its process's).
//!
//! **Resource**: `service.name` (the `OTEL_SERVICE_NAME` environment variable, or
//! [`OtlpOptions::service_name`], default `rram-profiler`), `host.name`, `process.pid`,
//! `rram.process.started_at_unix_ns`, `rram.clock_source`.
//!
//! **Metrics** (cumulative since the profiler started): `rram_profiler.calls`
//! {operation, kind}, `rram_profiler.span.duration` (histogram, seconds, bounds at
//! [`SPAN_BUCKETS_NS`](crate::output::metric_families::SPAN_BUCKETS_NS)),
//! `rram_profiler.self_time`, `rram_profiler.energy` {operation, component},
//! `rram_profiler.allocated` {operation}, `rram_profiler.events_dropped`, and the monitor's
//! `rram_profiler.resident` and `rram_profiler.cpu` gauges.

mod encode;
mod export;
mod http;
mod send;
mod stream;

use std::time::Duration;

pub use encode::{ATTRIBUTE_PREFIX, DEFAULT_SERVICE_NAME, SCOPE_NAME};
pub use export::OtlpExport;
pub use http::Endpoint;
pub use send::{FIRST_BACKOFF, MAX_BACKOFF};
pub(crate) use stream::OtlpStream;

use crate::error::ProfileError;
use opentelemetry_proto::tonic::metrics::v1::{metric, Metric};

/// Settings of an OTLP export or stream.
///
/// ```
/// use std::time::Duration;
/// use profiler_runtime::output::otlp::OtlpOptions;
/// let o = OtlpOptions {
///     service_name: Some("hp-inv-bench".into()),
///     interval: Duration::from_millis(200),
///     ..OtlpOptions::default()
/// };
/// # drop(o);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpOptions {
    /// `service.name` of the resource (`None`: `OTEL_SERVICE_NAME`, else
    /// [`DEFAULT_SERVICE_NAME`]).
    pub service_name: Option<String>,
    /// Spans per request (default 2,048).
    pub batch_spans: usize,
    /// The longest one request may take (default 5 s).
    pub request_timeout: Duration,
    /// Tries per request of a file export before it fails (default 6: about 3 s of backoff).
    pub max_attempts: u32,
    /// How often a live stream cuts and sends what is new (default 1 s).
    pub interval: Duration,
    /// The most bytes of encoded requests a live stream queues (default 32 MiB); beyond it the
    /// oldest go, counted as dropped.
    pub queue_bytes: usize,
    /// How long dropping a streaming profiler waits for the last requests (default 3 s).
    pub shutdown_timeout: Duration,
}

impl Default for OtlpOptions {
    fn default() -> Self {
        OtlpOptions {
            service_name: None,
            batch_spans: 2048,
            request_timeout: Duration::from_secs(5),
            max_attempts: 6,
            interval: Duration::from_secs(1),
            queue_bytes: 32 << 20,
            shutdown_timeout: Duration::from_secs(3),
        }
    }
}

impl OtlpOptions {
    /// The options, or an error naming the one out of range.
    pub(crate) fn checked(&self) -> Result<OtlpOptions, ProfileError> {
        let bad = |what: String| Err(ProfileError::InvalidConfig(format!("OTLP: {what}")));
        if !(1..=1_000_000).contains(&self.batch_spans) {
            return bad(format!(
                "batch_spans must be 1 to 1000000, got {}",
                self.batch_spans
            ));
        }
        if self.max_attempts == 0 {
            return bad("max_attempts must be at least 1".to_owned());
        }
        for (name, d) in [
            ("request_timeout", self.request_timeout),
            ("interval", self.interval),
            ("shutdown_timeout", self.shutdown_timeout),
        ] {
            if d < Duration::from_millis(1) || d > Duration::from_secs(24 * 3600) {
                return bad(format!("{name} must be 1 ms to 24 h, got {d:?}"));
            }
        }
        if self.queue_bytes < 64 * 1024 {
            return bad(format!(
                "queue_bytes must be at least 65536, got {}",
                self.queue_bytes
            ));
        }
        Ok(self.clone())
    }

    /// The `service.name` to send.
    pub fn service_name(&self) -> String {
        self.service_name
            .clone()
            .or_else(|| std::env::var("OTEL_SERVICE_NAME").ok())
            .map(|s| {
                s.chars()
                    .filter(|c| !c.is_control())
                    .take(256)
                    .collect::<String>()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned())
    }
}

/// Data points of one OTLP metric.
fn points_of(m: &Metric) -> usize {
    match &m.data {
        Some(metric::Data::Sum(s)) => s.data_points.len(),
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        _ => 0,
    }
}

impl crate::profiler::PerformanceProfiler {
    /// Stops the live OTLP stream ([`ProfilerBuilder::otlp`](crate::ProfilerBuilder::otlp))
    /// after a last cut and at most [`OtlpOptions::shutdown_timeout`] of delivery, and returns
    /// its final counts (`None` without a stream): every event recorded until now is then
    /// sent or counted as dropped. Events recorded afterwards are not streamed. Dropping the
    /// profiler's last handle does the same.
    pub fn close_otlp(&self) -> Option<crate::model::otlp_status::OtlpStatus> {
        let s = self.otlp_stream()?;
        s.close();
        Some(s.status())
    }
}

impl crate::profiler::ProfilerBuilder {
    /// Settings of the [`otlp`](Self::otlp) stream (default [`OtlpOptions::default`]).
    pub fn otlp_options(mut self, options: OtlpOptions) -> Self {
        self.otlp_options = options;
        self
    }
}
