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

use crate::accum::OpAccum;
use crate::clock::ProfClock;
use crate::event::{AllocStats, EventKind, Name, ProfileEvent};
use crate::monitor::MonitorSample;
use crate::profile::ThreadInfo;
use crate::stats::OperationStats;

/// Raw events a thread buffers before moving them into the shared ring.
pub(crate) const BATCH: usize = 512;

/// Metric values of an open span: keys are tracing field names (static) or owned strings.
pub(crate) type MetricBuf = SmallVec<[(Cow<'static, str>, f64); 1]>;

/// Locks a mutex, recovering the data if a panicking thread poisoned it (our critical
/// sections leave the data consistent at every await-free point).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The rare parts of an event, boxed so the common event stays small: more than one metric,
/// metrics with owned keys, an error text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra {
    pub metrics: Vec<(Cow<'static, str>, f64)>,
    pub error: Option<Box<str>>,
}

/// A closed span in compact form (120 bytes); turned into a [`ProfileEvent`] at snapshot time.
#[derive(Debug, Clone)]
pub(crate) struct RawEvent {
    pub id: u64,
    /// The parent's event id, 0 for none.
    pub parent: u64,
    /// Raw clock reading of the start (scaled to ns at snapshot time).
    pub start_raw: u64,
    pub wall_ns: u64,
    pub busy_ns: u64,
    pub self_ns: u64,
    pub op: u32,
    pub thread_id: u32,
    pub alloc: AllocStats,
    /// The only metric, when there is exactly one with a static key.
    pub metric: Option<(&'static str, f64)>,
    pub extra: Option<Box<Extra>>,
    pub flags: u8,
}

impl RawEvent {
    pub(crate) const PANICKED: u8 = 1;
    pub(crate) const HAS_ALLOC: u8 = 2;

    /// Every metric of the event.
    pub(crate) fn for_each_metric(&self, mut f: impl FnMut(&str, f64)) {
        if let Some((k, v)) = self.metric {
            f(k, v);
        }
        if let Some(x) = &self.extra {
            for (k, v) in &x.metrics {
                f(k, *v);
            }
        }
    }

    pub(crate) fn error(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|x| x.error.as_deref())
    }
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
    ops: Vec<OpAccum>,
    batch: Vec<RawEvent>,
}

/// The bounded buffer of raw events: whole batches ("chunks") moved in from the shards, so
/// an event is copied once (into its thread's batch) on the hot path. Whole chunks are dropped
/// from the front while the rest still holds `capacity` events; a snapshot trims the remainder
/// to exactly `capacity`.
struct Ring {
    chunks: VecDeque<Vec<RawEvent>>,
    len: usize,
    capacity: usize,
    dropped: u64,
    spare: Vec<Vec<RawEvent>>,
}

impl Ring {
    /// Takes a full batch; returns an empty buffer for the shard's next batch.
    fn push_chunk(&mut self, chunk: Vec<RawEvent>) -> Vec<RawEvent> {
        if !chunk.is_empty() {
            self.len += chunk.len();
            self.chunks.push_back(chunk);
        }
        while let Some(front) = self.chunks.front() {
            if self.len - front.len() < self.capacity {
                break;
            }
            let mut front = self.chunks.pop_front().unwrap_or_default();
            self.len -= front.len();
            self.dropped += front.len() as u64;
            front.clear();
            if self.spare.len() < 64 {
                self.spare.push(front);
            }
        }
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(BATCH))
    }

    /// The kept events (the newest `capacity`), and the count dropped.
    fn kept(&self) -> (impl Iterator<Item = &RawEvent>, u64) {
        let excess = self.len.saturating_sub(self.capacity);
        (
            self.chunks.iter().flatten().skip(excess),
            self.dropped + excess as u64,
        )
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
                chunks: VecDeque::new(),
                len: 0,
                capacity: raw_capacity,
                dropped: 0,
                spare: Vec::new(),
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
    #[inline]
    pub(crate) fn record(&self, shard: &Shard, ev: RawEvent) {
        let mut d = lock(&shard.data);
        let idx = ev.op as usize;
        if d.ops.len() <= idx {
            d.ops.resize_with(idx + 1, OpAccum::default);
        }
        d.ops[idx].record(&ev);
        d.batch.push(ev);
        if d.batch.len() >= BATCH {
            let full = std::mem::take(&mut d.batch);
            d.batch = lock(&self.ring).push_chunk(full);
        }
    }

    /// The (name, kind) of every interned operation, by index.
    fn op_keys(&self) -> Vec<(Name, EventKind)> {
        self.ops
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .ops
            .clone()
    }

    /// Exact aggregates of every operation so far, merged across threads.
    pub(crate) fn aggregates(&self) -> Vec<OperationStats> {
        let shards: Vec<Arc<Shard>> = lock(&self.shards).clone();
        let keys = self.op_keys();
        let mut merged: Vec<Option<OperationStats>> = Vec::new();
        for shard in &shards {
            let d = lock(&shard.data);
            merge_into(&mut merged, &d.ops, &keys);
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
        let keys = self.op_keys();
        let mut merged: Vec<Option<OperationStats>> = Vec::new();
        {
            let mut ring = lock(&self.ring);
            for shard in &shards {
                let mut d = lock(&shard.data);
                merge_into(&mut merged, &d.ops, &keys);
                if !d.batch.is_empty() {
                    let part = std::mem::take(&mut d.batch);
                    d.batch = ring.push_chunk(part);
                }
            }
        }
        let table = self.ops.read().unwrap_or_else(PoisonError::into_inner);
        let (mut events, dropped) = {
            let ring = lock(&self.ring);
            let (kept, dropped) = ring.kept();
            let events: Vec<ProfileEvent> =
                kept.map(|r| to_public(&table, &self.clock, r)).collect();
            (events, dropped)
        };
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

fn merge_into(
    merged: &mut Vec<Option<OperationStats>>,
    ops: &[OpAccum],
    keys: &[(Name, EventKind)],
) {
    if merged.len() < ops.len() {
        merged.resize_with(ops.len(), || None);
    }
    for (i, op) in ops.iter().enumerate() {
        let Some((name, kind)) = keys.get(i) else {
            continue;
        };
        match &mut merged[i] {
            Some(m) => op.merge_into(m),
            slot => {
                let s = op.to_stats(name.clone(), *kind);
                if s.count > 0 {
                    *slot = Some(s);
                }
            }
        }
    }
}

fn to_public(table: &OpTable, clock: &ProfClock, r: &RawEvent) -> ProfileEvent {
    let (name, kind) = table
        .get(r.op)
        .cloned()
        .unwrap_or_else(|| (Name::from("<unknown>"), EventKind::FunctionCall));
    let mut metrics = std::collections::BTreeMap::new();
    r.for_each_metric(|k, v| *metrics.entry(k.to_owned()).or_insert(0.0) += v);
    ProfileEvent {
        id: r.id,
        parent: (r.parent != 0).then_some(r.parent),
        name,
        kind,
        thread_id: u64::from(r.thread_id),
        start_ns: clock.to_ns(r.start_raw),
        end_ns: clock.to_ns(r.start_raw) + r.wall_ns,
        busy_ns: r.busy_ns,
        self_ns: r.self_ns,
        metrics,
        alloc: (r.flags & RawEvent::HAS_ALLOC != 0).then_some(r.alloc),
        error: r.error().map(str::to_owned),
        panicked: r.flags & RawEvent::PANICKED != 0,
    }
}
