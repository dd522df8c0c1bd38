//! Sending one OTLP request with retries: exponential backoff from
//! [`FIRST_BACKOFF`] to [`MAX_BACKOFF`] (a collector's `Retry-After` is honoured up to the
//! latter) on the failures OTLP/HTTP calls retryable (no connection, a timeout, `429`, `502`,
//! `503`, `504`); any other answer is final.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

use super::http::{post, Answer, Endpoint};

/// The wait before the first retry.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Which OTLP signal a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    Traces,
    Metrics,
}

impl Signal {
    pub(crate) fn path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Accepted; `rejected` items the collector said it refused (OTLP partial success).
    Ok { rejected: u64 },
    /// Refused for good (an answer that is not worth retrying), or given up.
    Failed(String),
}

/// What one try said.
enum Try {
    Done {
        rejected: u64,
    },
    Retry {
        why: String,
        after: Option<Duration>,
    },
    Final(String),
}

fn judge(signal: Signal, endpoint: &Endpoint, r: Result<Answer, super::http::Failure>) -> Try {
    let a = match r {
        Ok(a) => a,
        Err(e) => {
            return Try::Retry {
                why: e.0,
                after: None,
            }
        }
    };
    let said = || {
        let body = String::from_utf8_lossy(&a.body);
        let body: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
        format!("{} answered {} {body}", endpoint.url, a.status)
    };
    match a.status {
        200..=299 => {
            let rejected = match signal {
                Signal::Traces => ExportTraceServiceResponse::decode(a.body.as_slice())
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map_or(0, |p| p.rejected_spans),
                Signal::Metrics => ExportMetricsServiceResponse::decode(a.body.as_slice())
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map_or(0, |p| p.rejected_data_points),
            };
            Try::Done {
                rejected: u64::try_from(rejected).unwrap_or(0),
            }
        }
        408 | 429 | 502 | 503 | 504 => Try::Retry {
            why: said(),
            after: a.retry_after,
        },
        _ => Try::Final(said()),
    }
}

/// Sends `body` until it is accepted, refused for good, or `wait` declines to wait longer
/// (`wait(d)` sleeps up to `d` and says whether to try again; a stream's wait wakes early and
/// declines at shutdown). `timeout()` bounds each try (and counts them); `cancel()` ends a
/// try early; `on_failure` hears about each failed try.
pub(crate) fn send(
    endpoint: &Endpoint,
    signal: Signal,
    body: &[u8],
    timeout: &mut dyn FnMut() -> Duration,
    cancel: &dyn Fn() -> bool,
    wait: &mut dyn FnMut(Duration) -> bool,
    on_failure: &mut dyn FnMut(&str),
) -> Sent {
    let path = endpoint.path(signal.path());
    let mut backoff = FIRST_BACKOFF;
    loop {
        match judge(
            signal,
            endpoint,
            post(endpoint, &path, body, timeout(), cancel),
        ) {
            Try::Done { rejected } => return Sent::Ok { rejected },
            Try::Final(why) => {
                on_failure(&why);
                return Sent::Failed(why);
            }
            Try::Retry { why, after } => {
                on_failure(&why);
                let pause = after.unwrap_or(backoff).min(MAX_BACKOFF);
                if !wait(pause) {
                    return Sent::Failed(why);
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
