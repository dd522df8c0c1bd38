//! The live OTLP stream of [`ProfilerBuilder::otlp`](crate::ProfilerBuilder::otlp): two
//! background threads, never a profiled one.
//!
//! - The **cutter** wakes every [`OtlpOptions::interval`], cuts what is new from the collector
//!   (as the journal does: the events still in the raw buffer or staged, and the operations
//!   whose aggregates changed), encodes them as OTLP requests and queues them. Its work per
//!   cut is bounded by the raw buffer's capacity and the aggregates. Events that left the raw
//!   buffer before a cut saw them are counted as dropped (each thread numbers its events, so
//!   a gap is exact).
//! - The **sender** sends the queue in order, retrying a failed request with backoff.
//!
//! The queue is bounded ([`OtlpOptions::queue_bytes`]): when a collector is down or slow and
//! it fills, the oldest requests go and their spans are counted as dropped. Dropping the
//! profiler makes a last cut, gives the sender [`OtlpOptions::shutdown_timeout`] to deliver it,
//! counts whatever is left as dropped, and returns: a collector that refuses, or accepts and
//! never answers, cannot hang the program.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use super::encode::{
    metrics_request, resource, run_id, span, trace_id, traces_request, MetricsInput, SpanPlace,
};
use super::http::Endpoint;
use super::send::{send, Sent, Signal};
use super::OtlpOptions;
use crate::error::ProfileError;
use crate::model::event::{EventKind, Name, ProfileEvent};
use crate::model::otlp_status::OtlpStatus;
use crate::model::sample::MonitorSample;
use crate::record::alloc::OwnAllocations;
use crate::record::collector::{lock, public_event, Collector, JournalCursor};
use crate::record::raw::EventRef;

/// One request waiting to be sent.
struct Batch {
    signal: Signal,
    body: Vec<u8>,
    /// Spans in it (0 for metrics).
    spans: u64,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Batch>,
    queued_bytes: usize,
    /// Spans of the request being sent.
    in_flight_spans: u64,
    in_flight_bytes: usize,
    stop: bool,
    /// Once stopping: when the sender gives up what is left.
    give_up_at: Option<Instant>,
    cutter_done: bool,
    status: OtlpStatus,
}

impl State {
    fn given_up(&self) -> bool {
        self.give_up_at.is_some_and(|t| Instant::now() >= t)
    }

    /// Counts a batch that will not be sent.
    fn drop_batch(&mut self, b: &Batch) {
        match b.signal {
            Signal::Traces => {
                self.status.spans_dropped = self.status.spans_dropped.saturating_add(b.spans)
            }
            Signal::Metrics => self.status.metric_exports_dropped += 1,
        }
    }
}

struct Shared {
    state: Mutex<State>,
    cv: Condvar,
    options: OtlpOptions,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn wait_timeout<'a>(&self, g: MutexGuard<'a, State>, d: Duration) -> MutexGuard<'a, State> {
        match self.cv.wait_timeout(g, d) {
            Ok((g, _)) => g,
            Err(p) => p.into_inner().0,
        }
    }

    /// Queues a request; pushes the oldest out (counted as dropped) beyond the byte bound.
    fn enqueue(&self, b: Batch) {
        let mut st = self.state();
        st.queued_bytes += b.body.len();
        st.queue.push_back(b);
        while st.queued_bytes + st.in_flight_bytes > self.options.queue_bytes && st.queue.len() > 1
        {
            if let Some(old) = st.queue.pop_front() {
                st.queued_bytes -= old.body.len();
                st.drop_batch(&old);
            }
        }
        self.cv.notify_all();
    }
}

/// A running stream; dropping it stops it (see the module docs).
pub(crate) struct OtlpStream {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl OtlpStream {
    /// Starts streaming `collector`'s events and aggregates to `endpoint`.
    pub(crate) fn start(
        endpoint: &str,
        options: &OtlpOptions,
        collector: Arc<Collector>,
    ) -> Result<Self, ProfileError> {
        let endpoint = Endpoint::parse(endpoint)?;
        let options = options.checked()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                status: OtlpStatus {
                    endpoint: endpoint.url.clone(),
                    ..OtlpStatus::default()
                },
                ..State::default()
            }),
            cv: Condvar::new(),
            options,
        });
        let spawn_err = |e: std::io::Error| {
            ProfileError::InvalidConfig(format!("cannot start the OTLP stream: {e}"))
        };
        let s = shared.clone();
        let mut cutter = Cutter::new(collector, &s.options);
        let cut = std::thread::Builder::new()
            .name("rram-prof-otlp-cut".into())
            .spawn(move || cutter.run(&s))
            .map_err(spawn_err)?;
        let s = shared.clone();
        let sender = std::thread::Builder::new()
            .name("rram-prof-otlp-send".into())
            .spawn(move || run_sender(&s, &endpoint));
        let sender = match sender {
            Ok(t) => t,
            Err(e) => {
                stop(&shared);
                let _ = cut.join();
                return Err(spawn_err(e));
            }
        };
        Ok(OtlpStream {
            shared,
            threads: Mutex::new(vec![cut, sender]),
        })
    }

    /// Stops the stream: a last cut, at most the shutdown timeout to deliver what is queued
    /// (the rest counted as dropped), then both threads are joined. Idempotent.
    pub(crate) fn close(&self) {
        stop(&self.shared);
        let threads: Vec<JoinHandle<()>> = lock(&self.threads).drain(..).collect();
        for t in threads {
            let _ = t.join();
        }
    }

    /// The counts so far.
    pub(crate) fn status(&self) -> OtlpStatus {
        let st = self.shared.state();
        let mut s = st.status.clone();
        s.spans_queued = st
            .queue
            .iter()
            .map(|b| b.spans)
            .fold(st.in_flight_spans, u64::saturating_add);
        s
    }
}

fn stop(shared: &Shared) {
    let mut st = shared.state();
    if !st.stop {
        st.stop = true;
        st.give_up_at = Some(Instant::now() + shared.options.shutdown_timeout);
    }
    shared.cv.notify_all();
}

impl Drop for OtlpStream {
    fn drop(&mut self) {
        self.close();
    }
}

/// The cutter's memory between cuts.
struct Cutter {
    collector: Arc<Collector>,
    cursor: JournalCursor,
    /// Operation names by index.
    ops: Vec<(Name, EventKind)>,
    threads: HashMap<u64, String>,
    /// Per thread, the events seen so far (by the thread's sequence number).
    seen: HashMap<u64, u64>,
    resource: Resource,
    trace: Vec<u8>,
    last_sample: Option<MonitorSample>,
    batch_spans: usize,
}

impl Cutter {
    fn new(collector: Arc<Collector>, options: &OtlpOptions) -> Self {
        let system = crate::model::system::SystemInfo::collect();
        let epoch = collector.clock.epoch_unix_ns();
        let process = crate::sys::this_process(&system.hostname, epoch, collector.clock.source());
        Cutter {
            cursor: JournalCursor::default(),
            ops: Vec::new(),
            threads: HashMap::new(),
            seen: HashMap::new(),
            resource: resource(&process, &options.service_name()),
            trace: trace_id(run_id(&process), 0),
            last_sample: None,
            batch_spans: options.batch_spans,
            collector,
        }
    }

    fn run(&mut self, shared: &Shared) {
        let _own = OwnAllocations::begin();
        /// Marks the cutter done however it ends (a panic included), so the sender drains.
        struct Done<'a>(&'a Shared);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.state().cutter_done = true;
                self.0.cv.notify_all();
            }
        }
        let _done = Done(shared);
        let interval = shared.options.interval;
        let mut next = Instant::now() + interval;
        loop {
            let stopping = {
                let mut st = shared.state();
                while !st.stop && Instant::now() < next {
                    let left = next.saturating_duration_since(Instant::now());
                    st = shared.wait_timeout(st, left);
                }
                st.stop
            };
            next = Instant::now() + interval;
            self.cut(shared);
            if stopping {
                return;
            }
        }
    }

    /// One cut: new events as span requests, changed aggregates as a metrics request.
    fn cut(&mut self, shared: &Shared) {
        let c = &self.collector;
        let mut cut = c.journal_cut(&mut self.cursor);
        for (i, name, kind) in std::mem::take(&mut cut.new_ops) {
            let i = i as usize;
            if self.ops.len() <= i {
                self.ops
                    .resize(i + 1, (Name::from("<unknown>"), EventKind::FunctionCall));
            }
            self.ops[i] = (name, kind);
        }
        for t in std::mem::take(&mut cut.threads) {
            self.threads.insert(t.id, t.name);
        }
        if let Some(s) = cut.samples.last() {
            self.last_sample = Some(*s);
        }
        let epoch = c.clock.epoch_unix_ns();
        let mut spans: Vec<Span> = Vec::new();
        let mut missed = 0u64;
        for (ev, thread, seq) in cut.events() {
            let seen = self.seen.entry(thread).or_insert(0);
            if seq < *seen {
                continue;
            }
            // Events numbered between what was seen and this one left the raw buffer
            // before any cut saw them.
            missed = missed.saturating_add(seq - *seen);
            *seen = seq + 1;
            let e = self.event(ev);
            spans.push(span(
                &e,
                SpanPlace {
                    epoch_unix_ns: epoch,
                    trace_id: self.trace.clone(),
                    parent_sent: true,
                    thread_name: self.threads.get(&e.thread_id).map(String::as_str),
                },
            ));
            if spans.len() >= self.batch_spans {
                self.queue_spans(shared, std::mem::take(&mut spans));
            }
        }
        if !spans.is_empty() {
            self.queue_spans(shared, spans);
        }
        if missed > 0 {
            let mut st = shared.state();
            st.status.spans_dropped = st.status.spans_dropped.saturating_add(missed);
        }
        if !cut.changed.is_empty() {
            let req = metrics_request(
                self.resource.clone(),
                &MetricsInput {
                    operations: &cut.changed,
                    dropped_events: c.dropped_events(),
                    last_sample: self.last_sample,
                    start_unix_ns: epoch,
                    now_unix_ns: epoch.saturating_add(cut.now_ns),
                },
            );
            shared.enqueue(Batch {
                signal: Signal::Metrics,
                body: req.encode_to_vec(),
                spans: 0,
            });
        }
    }

    fn queue_spans(&self, shared: &Shared, spans: Vec<Span>) {
        let n = spans.len() as u64;
        let body = traces_request(vec![(self.resource.clone(), spans)]).encode_to_vec();
        shared.enqueue(Batch {
            signal: Signal::Traces,
            body,
            spans: n,
        });
    }

    /// A raw event as the public event (as a snapshot shows it).
    fn event(&self, ev: EventRef<'_>) -> ProfileEvent {
        let (name, kind) = self
            .ops
            .get(ev.ev.op as usize)
            .cloned()
            .unwrap_or_else(|| (Name::from("<unknown>"), EventKind::FunctionCall));
        public_event(name, kind, &self.collector.clock, ev)
    }
}

fn run_sender(shared: &Shared, endpoint: &Endpoint) {
    let _own = OwnAllocations::begin();
    let options = &shared.options;
    loop {
        let batch = {
            let mut st = shared.state();
            loop {
                if st.given_up() {
                    // Shutdown time is up: whatever is left is dropped, counted.
                    while let Some(b) = st.queue.pop_front() {
                        st.drop_batch(&b);
                    }
                    st.queued_bytes = 0;
                    if st.cutter_done {
                        return;
                    }
                }
                if let Some(b) = st.queue.pop_front() {
                    st.queued_bytes -= b.body.len();
                    st.in_flight_spans = b.spans;
                    st.in_flight_bytes = b.body.len();
                    break b;
                }
                if st.cutter_done {
                    return;
                }
                st = shared.wait_timeout(st, Duration::from_millis(200));
            }
        };
        let cancel = || shared.state().given_up();
        let sent = send(
            endpoint,
            batch.signal,
            &batch.body,
            &mut || {
                // Once stopping, a try may last only until the sender gives up.
                let st = shared.state();
                match st.give_up_at {
                    Some(t) => t
                        .saturating_duration_since(Instant::now())
                        .min(options.request_timeout)
                        .max(Duration::from_millis(1)),
                    None => options.request_timeout,
                }
            },
            &cancel,
            &mut |pause| {
                let until = Instant::now() + pause;
                let mut st = shared.state();
                loop {
                    if st.given_up() {
                        return false;
                    }
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return true;
                    }
                    st = shared.wait_timeout(st, left);
                }
            },
            &mut |why| {
                let mut st = shared.state();
                st.status.failed_requests = st.status.failed_requests.saturating_add(1);
                st.status.last_error = Some(why.to_owned());
            },
        );
        let mut st = shared.state();
        st.in_flight_spans = 0;
        st.in_flight_bytes = 0;
        match (sent, batch.signal) {
            (Sent::Ok { rejected }, Signal::Traces) => {
                let rejected = rejected.min(batch.spans);
                st.status.spans_sent = st.status.spans_sent.saturating_add(batch.spans - rejected);
                st.status.spans_dropped = st.status.spans_dropped.saturating_add(rejected);
            }
            (Sent::Ok { .. }, Signal::Metrics) => st.status.metric_exports_sent += 1,
            (Sent::Failed(why), _) => {
                st.drop_batch(&batch);
                st.status.last_error = Some(why);
            }
        }
    }
}
