//! Live metrics for Prometheus: [`PerformanceProfiler::serve_metrics`] serves the profiler's
//! exact aggregates at `/metrics` in the Prometheus text format (0.0.4) while recording goes
//! on (feature `prometheus`).
//!
//! | metric | type | labels | from |
//! |---|---|---|---|
//! | `rram_profiler_calls_total` | counter | `operation`, `kind` | exact call counts |
//! | `rram_profiler_span_seconds` | histogram | `operation`, `kind` | the operation's duration histogram, `le` at [`SPAN_BUCKETS_NS`] |
//! | `rram_profiler_self_seconds_total` | counter | `operation`, `kind` | self time |
//! | `rram_profiler_energy_picojoules_total` | counter | `operation`, `component` | `energy.<component>_pj` sums, the rest of `energy_pj` as [`UNATTRIBUTED`] |
//! | `rram_profiler_allocated_bytes_total` | counter | `operation` | heap bytes (with the `CountingAllocator`) |
//! | `rram_profiler_resident_bytes` | gauge | | the monitor's newest RSS sample |
//! | `rram_profiler_cpu_percent` | gauge | | the monitor's newest CPU% |
//! | `rram_profiler_events_dropped_total` | counter | | raw events the bounded buffer dropped |
//! | `rram_profiler_otlp_spans_sent_total`, `..._dropped_total` | counter | | a live OTLP stream, if any |
//!
//! **Cardinality** is bounded by the profiler's cap on distinct operations
//! ([`ProfilerBuilder::max_operations`](crate::ProfilerBuilder::max_operations), 100,000 by
//! default): names beyond it are counted in one `<other>` operation per kind, so a workload
//! that makes a name per item cannot flood Prometheus. Each operation has 15 histogram series
//! (14 bounds and `+Inf`) plus its count and sum: lower the cap for a Prometheus with little
//! memory.
//!
//! **Cost.** A scrape takes the aggregates' locks as a [`snapshot`](crate::PerformanceProfiler::snapshot)
//! does (each thread's staging lock only long enough to copy its few staged events), copies
//! the aggregates and encodes them off the locks: a profiled thread never waits for the
//! encoding or the network. The events themselves are not read. The text is written by a
//! direct writer held byte for byte to the official encoder's output (`prometheus-client`,
//! in the tests), about five times faster: a scrape of 10,000 operations (~20 MiB) takes
//! ~20 ms to encode where the official encoder takes ~110 ms.
//!
//! The HTTP side is a small responder of our own ([`MetricsServer`]), bounded in what a client
//! can make it read, wait for or do.

mod encode;
#[cfg(test)]
mod oracle;
mod server;

pub use crate::output::metric_families::{SPAN_BUCKETS_NS, UNATTRIBUTED};
pub use server::{
    MetricsServer, MAX_HEAD_BYTES, READ_DEADLINE, SEND_DEADLINE, STOP_LATENCY, WRITE_TIMEOUT,
};

use std::net::ToSocketAddrs;

use crate::error::ProfileError;
use crate::profiler::PerformanceProfiler;

impl PerformanceProfiler {
    /// Serves this profiler's live metrics at `http://<addr>/metrics` (see the [module
    /// docs](crate::output::prometheus) for the metrics) until the returned server is dropped.
    /// `addr` may name port 0 for a free port ([`MetricsServer::local_addr`] tells which).
    ///
    /// Errors: [`ProfileError::Net`] naming the address when it cannot be bound.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use profiler_runtime::{EventKind, PerformanceProfiler};
    ///
    /// let profiler = PerformanceProfiler::builder().without_monitor().build()?;
    /// profiler.record_event("crossbar.mvm", EventKind::HardwareAccess, [("energy_pj", 2.5)]);
    /// let server = profiler.serve_metrics("127.0.0.1:0")?;
    ///
    /// let mut conn = std::net::TcpStream::connect(server.local_addr()).unwrap();
    /// conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    /// let mut reply = String::new();
    /// conn.read_to_string(&mut reply).unwrap();
    /// assert!(reply.starts_with("HTTP/1.1 200 OK"));
    /// assert!(reply.contains(
    ///     r#"rram_profiler_calls_total{operation="crossbar.mvm",kind="hardware_access"} 1"#
    /// ));
    /// drop(server); // stops it
    /// # Ok::<(), profiler_runtime::ProfileError>(())
    /// ```
    pub fn serve_metrics(&self, addr: impl ToSocketAddrs) -> Result<MetricsServer, ProfileError> {
        let profiler = self.clone();
        MetricsServer::start(
            addr,
            Box::new(move |sink| {
                let data = profiler.scrape_data();
                let _own = crate::record::alloc::OwnAllocations::begin();
                encode::encode_to(data, encode::CHUNK_BYTES, sink)
            }),
        )
    }

    /// One scrape's body: the live metrics as Prometheus text (what
    /// [`serve_metrics`](Self::serve_metrics) serves), for a server of your own.
    pub fn metrics_text(&self) -> Result<String, ProfileError> {
        let data = self.scrape_data();
        let _own = crate::record::alloc::OwnAllocations::begin();
        Ok(encode::encode(data))
    }

    /// What one scrape reads from the profiler: a copy of the aggregates and the newest
    /// monitor figures, taken under the locks a snapshot takes.
    fn scrape_data(&self) -> encode::ScrapeData {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let c = self.collector();
        let last_sample = c.last_sample();
        encode::ScrapeData {
            operations: c.aggregates(),
            dropped_events: c.dropped_events(),
            rss_now: match last_sample {
                Some(_) => None,
                None => crate::sys::current_rss_bytes(),
            },
            last_sample,
            otlp: self.otlp_status(),
        }
    }
}
