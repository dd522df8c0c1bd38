//! The collector: where closed spans go.
//!
//! Each thread owns a [`Shard`]: exact per-operation aggregates plus a small batch of raw events,
//! behind a mutex that only its own thread takes per event (uncontended) and a snapshot takes
//! briefly. Full batches move into one bounded ring of raw events (one lock per
//! [`BATCH`] events), which keeps the newest events and counts the ones it dropped. Aggregates
//! never drop anything.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use smallvec::SmallVec;

use crate::clock::ProfClock;
use crate::event::{AllocStats, EventKind, Name, ProfileEvent};
use crate::monitor::MonitorSample;
use crate::profile::ThreadInfo;
use crate::stats::OperationStats;

/// Raw events a thread buffers before moving them into the shared ring.
pub(crate) const BATCH: usize = 512;

/// Metric values of one span: keys are tracing field names (static) or owned strings.
pub(crate) type MetricBuf = SmallVec<[(Cow<'static, str>, f64); 2]>;

/// Locks a mutex, recovering the data if a panicking thread poisoned it (our critical
/// sections leave the data consistent at every await-free point).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A closed span in compact form; turned into a [`ProfileEvent`] at snapshot time.
#[derive(Debug, Clone)]
pub(crate) struct RawEvent {
    pub id: u64,
    pub parent: Option<u64>,
    pub op: u32,
    pub thread_id: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub busy_ns: u64,
    pub self_ns: u64,
    pub metrics: MetricBuf,
    pub alloc: Option<AllocStats>,
    pub error: Option<Box<str>>,
    pub panicked: bool,
}

/// Interned operations: (name, kind) -> dense index.
#[derive(Default)]
pub(crate) struct OpTable {
    by_key: HashMap<(Name, EventKind), u32>,
    ops: Vec<(Name, EventKind)>,
}

impl OpTable {
    pub(crate) fn get(&self, op: u32) -> Option<&(Name, EventKind)> {
        self.ops.get(op as usize)
    }
}

/// One thread's share of the collector.
pub(crate) struct Shard {
    pub(crate) data: Mutex<ShardData>,
}

#[derive(Default)]
pub(crate) struct ShardData {
    ops: Vec<Option<OperationStats>>,
    batch: Vec<RawEvent>,
}

struct Ring {
    events: VecDeque<RawEvent>,
    capacity: usize,
    dropped: u64,
}

impl Ring {
    fn push_all(&mut self, batch: &mut Vec<RawEvent>) {
        for e in batch.drain(..) {
            if self.capacity == 0 {
                self.dropped += 1;
                continue;
            }
            if self.events.len() == self.capacity {
                self.events.pop_front();
                self.dropped += 1;
            }
            self.events.push_back(e);
        }
    }
}

/// What a snapshot of the collector holds.
pub(crate) struct CollectorSnapshot {
    pub events: Vec<ProfileEvent>,
    pub operations: Vec<OperationStats>,
    pub dropped: u64,
    pub threads: Vec<ThreadInfo>,
    pub samples: Vec<MonitorSample>,
}

static NEXT_COLLECTOR: AtomicU64 = AtomicU64::new(1);

/// Shared by a profiler's handles, its layer(s) and its monitor thread.
pub(crate) struct Collector {
    pub(crate) id: u64,
    pub(crate) clock: ProfClock,
    ops: RwLock<OpTable>,
    shards: Mutex<Vec<Arc<Shard>>>,
    threads: Mutex<Vec<ThreadInfo>>,
    next_thread: AtomicU64,
    ring: Mutex<Ring>,
    samples: Mutex<Vec<MonitorSample>>,
}

impl Collector {
    pub(crate) fn new(raw_capacity: usize) -> Self {
        Collector {
            id: NEXT_COLLECTOR.fetch_add(1, Ordering::Relaxed),
            clock: ProfClock::new(),
            ops: RwLock::new(OpTable::default()),
            shards: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            next_thread: AtomicU64::new(1),
            ring: Mutex::new(Ring {
                events: VecDeque::new(),
                capacity: raw_capacity,
                dropped: 0,
            }),
            samples: Mutex::new(Vec::new()),
        }
    }

    /// The dense index of an operation, interning it on first sight.
    pub(crate) fn intern(&self, name: &str, kind: EventKind) -> u32 {
        {
            let t = self.ops.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(&i) = t.by_key.get(&(Name::from(name), kind)) {
                return i;
            }
        }
        let mut t = self.ops.write().unwrap_or_else(PoisonError::into_inner);
        let key: (Name, EventKind) = (Name::from(name), kind);
        if let Some(&i) = t.by_key.get(&key) {
            return i;
        }
        let i = t.ops.len() as u32;
        t.ops.push(key.clone());
        t.by_key.insert(key, i);
        i
    }

    /// Registers the calling thread: a new shard and a profiler thread id.
    pub(crate) fn register_thread(&self) -> (Arc<Shard>, u64) {
        let shard = Arc::new(Shard {
            data: Mutex::new(ShardData::default()),
        });
        let tid = self.next_thread.fetch_add(1, Ordering::Relaxed);
        let name = std::thread::current()
            .name()
            .map_or_else(|| format!("thread-{tid}"), str::to_owned);
        lock(&self.shards).push(shard.clone());
        lock(&self.threads).push(ThreadInfo { id: tid, name });
        (shard, tid)
    }

    /// Adds one closed event to a thread's shard (the thread's own shard on the hot path).
    pub(crate) fn record(&self, shard: &Shard, ev: RawEvent) {
        let mut d = lock(&shard.data);
        let idx = ev.op as usize;
        if d.ops.len() <= idx {
            d.ops.resize_with(idx + 1, || None);
        }
        let stats = match &mut d.ops[idx] {
            Some(s) => s,
            slot => {
                let (name, kind) = self.op_key(ev.op);
                slot.insert(OperationStats::new(name, kind))
            }
        };
        stats.record_timing(ev.end_ns - ev.start_ns.min(ev.end_ns), ev.busy_ns, ev.self_ns);
        for (k, v) in &ev.metrics {
            stats.record_metric(k, *v);
        }
        if let Some(a) = &ev.alloc {
            stats.alloc.add(a);
            stats.alloc_count += 1;
        }
        stats.errors += u64::from(ev.error.is_some());
        stats.panics += u64::from(ev.panicked);
        d.batch.push(ev);
        if d.batch.len() >= BATCH {
            lock(&self.ring).push_all(&mut d.batch);
        }
    }

    fn op_key(&self, op: u32) -> (Name, EventKind) {
        let t = self.ops.read().unwrap_or_else(PoisonError::into_inner);
        t.get(op)
            .cloned()
            .unwrap_or_else(|| (Name::from("<unknown>"), EventKind::FunctionCall))
    }

    /// Exact aggregates of every operation so far, merged across threads.
    pub(crate) fn aggregates(&self) -> Vec<OperationStats> {
        let shards: Vec<Arc<Shard>> = lock(&self.shards).clone();
        let mut merged: Vec<Option<OperationStats>> = Vec::new();
        for shard in &shards {
            let d = lock(&shard.data);
            merge_into(&mut merged, &d.ops);
        }
        merged.into_iter().flatten().collect()
    }

    /// Appends a monitor sample.
    pub(crate) fn push_sample(&self, s: MonitorSample) {
        lock(&self.samples).push(s);
    }

    /// Monitor samples so far.
    pub(crate) fn samples(&self) -> Vec<MonitorSample> {
        lock(&self.samples).clone()
    }

    /// Everything so far: drains per-thread batches into the ring, merges aggregates.
    pub(crate) fn snapshot(&self) -> CollectorSnapshot {
        let shards: Vec<Arc<Shard>> = lock(&self.shards).clone();
        let mut merged: Vec<Option<OperationStats>> = Vec::new();
        {
            let mut ring = lock(&self.ring);
            for shard in &shards {
                let mut d = lock(&shard.data);
                merge_into(&mut merged, &d.ops);
                ring.push_all(&mut d.batch);
            }
        }
        let (raw, dropped): (Vec<RawEvent>, u64) = {
            let ring = lock(&self.ring);
            (ring.events.iter().cloned().collect(), ring.dropped)
        };
        let table = self.ops.read().unwrap_or_else(PoisonError::into_inner);
        let mut events: Vec<ProfileEvent> = raw.into_iter().map(|r| to_public(&table, r)).collect();
        drop(table);
        events.sort_by_key(|e| (e.start_ns, e.id));
        CollectorSnapshot {
            events,
            operations: merged.into_iter().flatten().collect(),
            dropped,
            threads: lock(&self.threads).clone(),
            samples: self.samples(),
        }
    }
}

fn merge_into(merged: &mut Vec<Option<OperationStats>>, ops: &[Option<OperationStats>]) {
    if merged.len() < ops.len() {
        merged.resize_with(ops.len(), || None);
    }
    for (i, op) in ops.iter().enumerate() {
        if let Some(op) = op {
            match &mut merged[i] {
                Some(m) => m.merge(op),
                slot => *slot = Some(op.clone()),
            }
        }
    }
}

fn to_public(table: &OpTable, r: RawEvent) -> ProfileEvent {
    let (name, kind) = table
        .get(r.op)
        .cloned()
        .unwrap_or_else(|| (Name::from("<unknown>"), EventKind::FunctionCall));
    let mut metrics = std::collections::BTreeMap::new();
    for (k, v) in r.metrics {
        *metrics.entry(k.into_owned()).or_insert(0.0) += v;
    }
    ProfileEvent {
        id: r.id,
        parent: r.parent,
        name,
        kind,
        thread_id: r.thread_id,
        start_ns: r.start_ns,
        end_ns: r.end_ns,
        busy_ns: r.busy_ns,
        self_ns: r.self_ns,
        metrics,
        alloc: r.alloc,
        error: r.error.map(String::from),
        panicked: r.panicked,
    }
}
