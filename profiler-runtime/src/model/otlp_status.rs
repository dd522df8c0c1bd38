//! [`OtlpStatus`]: what a profiler's live OpenTelemetry stream
//! ([`ProfilerBuilder::otlp`](crate::ProfilerBuilder::otlp)) delivered and what it dropped, as
//! a snapshot and the report show it.

use serde::{Deserialize, Serialize};

/// Counts of a live OTLP stream so far. Every kept event is either sent, still queued, or
/// counted in `spans_dropped`; nothing is lost silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtlpStatus {
    /// The collector's base URL (`http://host:port`).
    pub endpoint: String,
    /// Spans the collector accepted.
    pub spans_sent: u64,
    /// Spans not sent: refused by the collector, still failing when retries ran out, pushed
    /// out of the bounded queue, left over at shutdown, or gone from the raw buffer before
    /// the streamer read them.
    pub spans_dropped: u64,
    /// Spans encoded and waiting to be sent.
    pub spans_queued: u64,
    /// Metric exports (the aggregates) the collector accepted.
    pub metric_exports_sent: u64,
    /// Metric exports dropped (as spans are).
    pub metric_exports_dropped: u64,
    /// Requests that failed (each retried with backoff until it is sent or dropped).
    pub failed_requests: u64,
    /// The most recent failure, if any.
    pub last_error: Option<String>,
}

impl OtlpStatus {
    /// Adds another stream's counts (a merged profile's processes); keeps the first endpoint
    /// and the latest error.
    pub fn add(&mut self, o: &OtlpStatus) {
        if self.endpoint.is_empty() {
            self.endpoint.clone_from(&o.endpoint);
        }
        self.spans_sent = self.spans_sent.saturating_add(o.spans_sent);
        self.spans_dropped = self.spans_dropped.saturating_add(o.spans_dropped);
        self.spans_queued = self.spans_queued.saturating_add(o.spans_queued);
        self.metric_exports_sent = self
            .metric_exports_sent
            .saturating_add(o.metric_exports_sent);
        self.metric_exports_dropped = self
            .metric_exports_dropped
            .saturating_add(o.metric_exports_dropped);
        self.failed_requests = self.failed_requests.saturating_add(o.failed_requests);
        if o.last_error.is_some() {
            self.last_error.clone_from(&o.last_error);
        }
    }
}
