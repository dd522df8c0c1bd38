//! The collector: where closed spans go.
//!
//! Each thread owns a [`Shard`]. A closed event goes into the shard's lock-free [`Stage`]; when
//! that fills ([`STAGE`](crate::stage::STAGE) events), the thread takes its shard's
//! (uncontended) lock once, folds the staged events into its exact per-operation aggregates and
//! appends them to its batch of raw events. Full batches move into one bounded ring of raw
//! events (one lock per [`BATCH`] events), which keeps the newest events and counts the ones it
//! dropped. Snapshots read the staged events too, so aggregates never miss or drop anything.

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
use crate::stage::Stage;
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
    /// A plain event with an owned metric (for unit tests of the buffers).
    #[cfg(test)]
    pub(crate) fn test_event(id: u64) -> RawEvent {
        RawEvent {
            id,
            parent: 0,
            start_raw: id,
            wall_ns: 1,
            busy_ns: 1,
            self_ns: 1,
            op: 0,
            thread_id: 1,
            alloc: AllocStats::default(),
            metric: None,
            extra: Some(Box::new(Extra {
                metrics: vec![(Cow::Owned(format!("m{id}")), 1.0)],
                error: None,
            })),
            flags: 0,
        }
    }

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
    /// Events closed since the last flush; written only by the owner thread.
    stage: Stage,
    /// The owner thread (checked in debug builds).
    #[cfg(debug_assertions)]
    owner: std::thread::ThreadId,
}

impl ShardData {
    /// Folds one event into the aggregates.
    #[inline]
    fn accumulate(ops: &mut Vec<OpAccum>, ev: &RawEvent) {
        let idx = ev.op as usize;
        if ops.len() <= idx {
            ops.resize_with(idx + 1, OpAccum::default);
        }
        ops[idx].record(ev);
    }
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
            stage: Stage::new(),
            #[cfg(debug_assertions)]
            owner: std::thread::current().id(),
        });
        let tid = self.next_thread.fetch_add(1, Ordering::Relaxed);
        let name = std::thread::current()
            .name()
            .map_or_else(|| format!("thread-{tid}"), str::to_owned);
        lock(&self.shards).push(shard.clone());
        lock(&self.threads).push(ThreadInfo { id: tid, name });
        (shard, tid)
    }

    /// Adds one closed event to the calling thread's own shard: one plain store, no lock,
    /// except once per [`STAGE`](crate::stage::STAGE) events.
    #[inline]
    pub(crate) fn record(&self, shard: &Shard, ev: RawEvent) {
        #[cfg(debug_assertions)]
        debug_assert_eq!(
            shard.owner,
            std::thread::current().id(),
            "a shard is written by its own thread only"
        );
        // SAFETY: every caller passes its own thread's `ThreadSlot::shard` (the single writer),
        // and the stage is drained as soon as it fills, so it is never full here.
        if unsafe { shard.stage.push(ev) } {
            self.flush(shard);
        }
    }

    /// Folds the calling thread's staged events into its aggregates and batch.
    #[inline(never)]
    fn flush(&self, shard: &Shard) {
        let mut guard = lock(&shard.data);
        let d = &mut *guard;
        // SAFETY: the owner thread (see `record`), with the shard's lock held.
        unsafe {
            shard.stage.drain(|ev| {
                ShardData::accumulate(&mut d.ops, &ev);
                d.batch.push(ev);
                if d.batch.len() >= BATCH {
                    // Lock order everywhere: shards, then the ring.
                    let full = std::mem::take(&mut d.batch);
                    d.batch = lock(&self.ring).push_chunk(full);
                }
            });
        }
    }

    /// The shard's aggregates plus `staged` (events read from its stage with its lock held).
    fn ops_with<'a>(d: &'a ShardData, staged: &[RawEvent]) -> std::borrow::Cow<'a, [OpAccum]> {
        if staged.is_empty() {
            return std::borrow::Cow::Borrowed(&d.ops);
        }
        let mut ops = d.ops.clone();
        for ev in staged {
            ShardData::accumulate(&mut ops, ev);
        }
        std::borrow::Cow::Owned(ops)
    }

    /// Copies of a shard's staged events, read once (the owner may stage more meanwhile).
    /// The caller holds the shard's lock.
    fn staged_copy(shard: &Shard) -> Vec<RawEvent> {
        let mut v = Vec::new();
        // SAFETY: the caller holds the shard's lock.
        unsafe { shard.stage.for_each(|ev| v.push(ev.clone())) };
        v
    }

    /// Exact aggregates of every operation so far, merged across threads.
    pub(crate) fn aggregates(&self) -> Vec<OperationStats> {
        let shards: Vec<Arc<Shard>> = lock(&self.shards).clone();
        // Read-locked throughout, so every operation with events in a shard has its key.
        let table = self.ops.read().unwrap_or_else(PoisonError::into_inner);
        let mut merged: Vec<Option<OperationStats>> = Vec::new();
        for shard in &shards {
            let d = lock(&shard.data);
            let staged = Self::staged_copy(shard);
            merge_into(&mut merged, &Self::ops_with(&d, &staged), &table.ops);
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
        // One consistent cut: the operation table (read-locked, so no operation appears
        // half-way), every shard (all held, so none flushes meanwhile), then the ring. Lock
        // order everywhere is shards (in registration order), then the ring, as in a flush.
        let table = self.ops.read().unwrap_or_else(PoisonError::into_inner);
        let keys = &table.ops;
        let mut merged: Vec<Option<OperationStats>> = Vec::new();
        // Staged events are copied, not moved: their owner threads flush them later.
        let mut staged: Vec<RawEvent> = Vec::new();
        let mut guards: Vec<MutexGuard<'_, ShardData>> =
            shards.iter().map(|s| lock(&s.data)).collect();
        let mut ring = lock(&self.ring);
        for (shard, d) in shards.iter().zip(guards.iter_mut()) {
            let mine = Self::staged_copy(shard);
            merge_into(&mut merged, &Self::ops_with(d, &mine), keys);
            staged.extend(mine);
            if !d.batch.is_empty() {
                let part = std::mem::take(&mut d.batch);
                d.batch = ring.push_chunk(part);
            }
        }
        drop(guards);
        let (kept, mut dropped) = ring.kept();
        let mut events: Vec<ProfileEvent> =
            kept.map(|r| to_public(&table, &self.clock, r)).collect();
        events.extend(staged.iter().map(|r| to_public(&table, &self.clock, r)));
        // The staged events are the newest: keep `capacity` in all, oldest out first.
        let excess = events.len().saturating_sub(ring.capacity);
        if excess > 0 {
            events.drain(..excess);
            dropped += excess as u64;
        }
        drop(ring);
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
