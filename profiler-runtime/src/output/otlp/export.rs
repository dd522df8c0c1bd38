//! [`Profile::export_otlp`]: a saved (or snapshotted) profile sent to a collector.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use super::encode::{
    metrics_request, resource, run_id, span, traces_request, MetricsInput, SpanPlace,
};
use super::http::Endpoint;
use super::send::{send, Sent, Signal};
use super::OtlpOptions;
use crate::error::ProfileError;
use crate::model::process::ProcessRecord;
use crate::model::profile::Profile;

/// What [`Profile::export_otlp`] sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OtlpExport {
    /// Spans the collector accepted (every kept event, less any it rejected).
    pub spans_sent: u64,
    /// Spans the collector accepted but said it rejected (OTLP partial success).
    pub spans_rejected: u64,
    /// Metric data points sent.
    pub metric_points: u64,
    /// Requests sent (tries included).
    pub requests: u64,
    /// Bytes of protobuf sent (once per request, retries not counted).
    pub bytes: u64,
}

impl std::fmt::Display for OtlpExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} spans and {} metric points in {} requests ({:.1} MiB)",
            self.spans_sent,
            self.metric_points,
            self.requests,
            self.bytes as f64 / (1024.0 * 1024.0)
        )?;
        if self.spans_rejected > 0 {
            write!(f, "; the collector rejected {} spans", self.spans_rejected)?;
        }
        Ok(())
    }
}

/// The root of each kept event: the outermost ancestor among the kept events (a chain that
/// loops or runs longer than the events is cut where it does).
fn roots(p: &Profile, index: &HashMap<u64, usize>) -> Vec<u64> {
    let n = p.events.len();
    let mut root: Vec<Option<u64>> = vec![None; n];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..n {
        if root[start].is_some() {
            continue;
        }
        path.clear();
        let mut i = start;
        let found = loop {
            if let Some(r) = root[i] {
                break r;
            }
            path.push(i);
            let e = &p.events[i];
            match e.parent.and_then(|q| index.get(&q)) {
                Some(&j) if path.len() <= n && j != i => i = j,
                _ => break e.id,
            }
        };
        for &k in &path {
            root[k] = Some(found);
        }
    }
    root.into_iter()
        .zip(&p.events)
        .map(|(r, e)| r.unwrap_or(e.id))
        .collect()
}

impl Profile {
    /// Sends the profile to an OpenTelemetry collector over OTLP/HTTP (protobuf): every kept
    /// event as a span (`/v1/traces`, in requests of [`OtlpOptions::batch_spans`]), then the
    /// exact aggregates as metrics (`/v1/metrics`).
    ///
    /// - **Spans**: span id = event id; the parent link where the parent was kept (else the
    ///   parent's id is the attribute `rram.parent_event_id`, so every link resolves); one trace
    ///   per root event (trace id = a hash of the process's host, pid and starts, then the
    ///   root's id); times on the wall clock; attributes `rram.kind`, `rram.metric.<key>`
    ///   (energy by component: `rram.metric.energy.<component>_pj`), `rram.alloc.*`,
    ///   `rram.busy_ns`, `rram.self_ns`, `thread.id`, `thread.name`; an error as the status.
    /// - **Resources**: one per process (`service.name`, `host.name`, `process.pid`); a merged
    ///   profile sends each process's spans under its own.
    /// - **Metrics**: see the [module docs](crate::output::otlp).
    ///
    /// A failed request is retried with backoff up to [`OtlpOptions::max_attempts`] tries.
    /// Errors: [`ProfileError::InvalidInput`] for a bad endpoint, [`ProfileError::Net`]
    /// naming the endpoint when a request still fails (with what was sent before it).
    pub fn export_otlp(
        &self,
        endpoint: &str,
        options: &OtlpOptions,
    ) -> Result<OtlpExport, ProfileError> {
        let endpoint = Endpoint::parse(endpoint)?;
        let options = options.checked()?;
        let _own = crate::record::alloc::OwnAllocations::begin();
        let unknown;
        let processes: &[ProcessRecord] = if self.processes.is_empty() {
            unknown = [ProcessRecord::unknown(self)];
            &unknown
        } else {
            &self.processes
        };
        let service = options.service_name();
        let resources: Vec<_> = processes.iter().map(|p| resource(p, &service)).collect();
        let runs: Vec<[u8; 8]> = processes.iter().map(run_id).collect();
        let index: HashMap<u64, usize> = self
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id, i))
            .collect();
        let roots = roots(self, &index);
        let names: HashMap<u64, &str> = self
            .threads
            .iter()
            .map(|t| (t.id, t.name.as_str()))
            .collect();
        let process_of = |thread: u64| -> usize {
            if processes.len() == 1 {
                0
            } else {
                self.process_index_of_thread(thread).unwrap_or(0)
            }
        };
        let mut out = OtlpExport::default();
        let mut batch: Vec<Vec<Span>> = vec![Vec::new(); processes.len()];
        let mut in_batch = 0u64;
        let flush = |batch: &mut Vec<Vec<Span>>, spans: u64, out: &mut OtlpExport| {
            let groups = resources
                .iter()
                .cloned()
                .zip(batch.iter_mut().map(std::mem::take))
                .collect();
            let body = traces_request(groups).encode_to_vec();
            match self.send_once(&endpoint, Signal::Traces, &body, &options, out) {
                Ok(rejected) => {
                    out.spans_sent += spans.saturating_sub(rejected);
                    out.spans_rejected += rejected;
                    Ok(())
                }
                Err(why) => Err(net_error(&endpoint, &format!("{why} ({out} before it)"))),
            }
        };
        for (i, e) in self.events.iter().enumerate() {
            let pi = process_of(e.thread_id);
            let parent_sent = e.parent.is_some_and(|q| index.contains_key(&q));
            batch[pi].push(span(
                e,
                SpanPlace {
                    epoch_unix_ns: self.started_at_unix_ns,
                    trace_id: super::encode::trace_id(runs[pi], roots[i]),
                    parent_sent,
                    thread_name: names.get(&e.thread_id).copied(),
                },
            ));
            in_batch += 1;
            if in_batch >= options.batch_spans as u64 {
                flush(&mut batch, std::mem::take(&mut in_batch), &mut out)?;
            }
        }
        if in_batch > 0 {
            flush(&mut batch, in_batch, &mut out)?;
        }
        // The aggregates: under the process's resource, or the first one's for a merged
        // profile (whose aggregates are of every process together).
        let mut res = resources[0].clone();
        if processes.len() > 1 {
            res = resource(
                &ProcessRecord {
                    pid: 0,
                    ..ProcessRecord::unknown(self)
                },
                &service,
            );
        }
        let last_sample = self.samples.last().copied().or_else(|| {
            processes
                .iter()
                .filter_map(|p| p.samples.last().copied())
                .next()
        });
        let req = metrics_request(
            res,
            &MetricsInput {
                operations: &self.operations,
                dropped_events: self.dropped_events,
                last_sample: if processes.len() > 1 {
                    None
                } else {
                    last_sample
                },
                start_unix_ns: self.started_at_unix_ns,
                now_unix_ns: self.started_at_unix_ns.saturating_add(self.duration_ns),
            },
        );
        let points: usize = req
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(super::points_of)
            .sum();
        let body = req.encode_to_vec();
        self.send_once(&endpoint, Signal::Metrics, &body, &options, &mut out)
            .map_err(|why| net_error(&endpoint, &format!("{why} ({out} before it)")))?;
        out.metric_points = points as u64;
        Ok(out)
    }

    /// Sends one request with retries (sleeping between tries); the rejected count or why it
    /// failed.
    fn send_once(
        &self,
        endpoint: &Endpoint,
        signal: Signal,
        body: &[u8],
        options: &OtlpOptions,
        out: &mut OtlpExport,
    ) -> Result<u64, String> {
        let tries = std::cell::Cell::new(0u32);
        out.bytes += body.len() as u64;
        let sent = send(
            endpoint,
            signal,
            body,
            &mut || {
                tries.set(tries.get() + 1);
                options.request_timeout
            },
            &|| false,
            &mut |pause: Duration| {
                if tries.get() >= options.max_attempts {
                    return false;
                }
                std::thread::sleep(pause);
                true
            },
            &mut |_| {},
        );
        out.requests += u64::from(tries.get());
        match sent {
            Sent::Ok { rejected } => Ok(rejected),
            Sent::Failed(why) => Err(why),
        }
    }
}

fn net_error(endpoint: &Endpoint, why: &str) -> ProfileError {
    ProfileError::Net {
        action: "exporting to the OTLP collector",
        addr: endpoint.url.clone(),
        source: std::io::Error::other(why.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{EventKind, ProfileEvent};

    #[test]
    fn roots_follow_kept_parents_and_survive_cycles() {
        let ev = |id, parent| {
            let mut e = ProfileEvent::new(id, "x".into(), EventKind::FunctionCall, 1, 0, 1);
            e.parent = parent;
            e
        };
        let mut p = Profile::empty();
        // 1 <- 2 <- 3; 5's parent 4 is not kept; 6 <-> 7 loop.
        p.events = vec![
            ev(3, Some(2)),
            ev(1, None),
            ev(2, Some(1)),
            ev(5, Some(4)),
            ev(6, Some(7)),
            ev(7, Some(6)),
        ];
        let index = p
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id, i))
            .collect();
        let r = roots(&p, &index);
        assert_eq!(&r[..4], &[1, 1, 1, 5]);
        assert!(r[4] == r[5], "a loop ends in one root");
    }
}
