//! The collector: where closed spans go.
//!
//! Each thread owns a [`Shard`]. A closed event goes into the shard's lock-free [`Stage`]; when
//! that fills ([`STAGE`](crate::stage::STAGE) events), the thread takes its shard's
//! (uncontended) lock once, folds the staged events into its exact per-operation aggregates and
//! moves the whole staged chunk, uncopied, into one bounded ring of raw events, which keeps the
//! newest events and counts the ones it dropped. Snapshots read the staged events too, so
//! aggregates never miss or drop anything.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use smallvec::SmallVec;

use crate::accum::OpAccum;
use crate::clock::ProfClock;
use crate::event::{EventKind, Name, ProfileEvent};
use crate::monitor::MonitorSample;
use crate::profile::ThreadInfo;
use crate::raw::{Aux, Chunk, EventRef, RawEvent};
use crate::stage::{Stage, STAGE};
use crate::stats::OperationStats;

/// Metric values of an open span: keys are tracing field names (static) or owned strings.
pub(crate) type MetricBuf = SmallVec<[(Cow<'static, str>, f64); 1]>;

/// Locks a mutex, recovering the data if a panicking thread poisoned it (our critical
/// sections leave the data consistent at every await-free point).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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
    #[inline(always)]
    fn accumulate(ops: &mut Vec<OpAccum>, ev: EventRef<'_>) {
        let idx = ev.ev.op as usize;
        if ops.len() <= idx {
            ops.resize_with(idx + 1, OpAccum::default);
        }
        ops[idx].record(ev);
    }
}

#[derive(Default)]
pub(crate) struct ShardData {
    ops: Vec<OpAccum>,
}

/// The bounded buffer of raw events: whole staged chunks moved in from the shards, so an event
/// is written once, on the hot path, and never copied until a snapshot reads it. Whole chunks
/// are dropped from the front while the rest still holds `capacity` events; a snapshot trims
/// the remainder to exactly `capacity`. Dropped chunks' buffers are recycled: their events have
/// no destructor, so recycling never reads them back.
struct Ring {
    chunks: VecDeque<Chunk>,
    len: usize,
    capacity: usize,
    dropped: u64,
    spare: Vec<Vec<RawEvent>>,
}

impl Ring {
    /// Takes a chunk, dropping the oldest ones beyond the capacity.
    fn push_chunk(&mut self, chunk: Chunk) {
        if chunk.len() > 0 {
            self.len += chunk.len();
            self.chunks.push_back(chunk);
        }
        while let Some(front) = self.chunks.front() {
            if self.len - front.len() < self.capacity {
                break;
            }
            let Some(front) = self.chunks.pop_front() else {
                break;
            };
            self.len -= front.len();
            self.dropped += front.len() as u64;
            if self.spare.len() < 64 {
                self.spare.push(front.events);
            }
        }
    }

    /// An empty buffer for a shard's next chunk.
    fn fresh(&mut self) -> Vec<RawEvent> {
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(STAGE))
    }

    /// The kept events (the newest `capacity`), and the count dropped.
    fn kept(&self) -> (impl Iterator<Item = EventRef<'_>>, u64) {
        let excess = self.len.saturating_sub(self.capacity);
        (
            self.chunks.iter().flat_map(Chunk::iter).skip(excess),
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
    pub(crate) fn record(&self, shard: &Shard, ev: RawEvent, aux: Option<Aux>) {
        #[cfg(debug_assertions)]
        debug_assert_eq!(
            shard.owner,
            std::thread::current().id(),
            "a shard is written by its own thread only"
        );
        // SAFETY: every caller passes its own thread's `ThreadSlot::shard` (the single writer),
        // and the stage is drained as soon as it fills, so it is never full here.
        if unsafe { shard.stage.push(ev, aux) } {
            self.flush(shard);
        }
    }

    /// Folds the calling thread's staged events into its aggregates and moves them, as one
    /// chunk, into the ring.
    #[inline(never)]
    fn flush(&self, shard: &Shard) {
        let _own = crate::alloc::OwnAllocations::begin();
        let mut guard = lock(&shard.data);
        let d = &mut *guard;
        // SAFETY: the owner thread (see `record`), with the shard's lock held.
        unsafe {
            shard
                .stage
                .for_each(|ev| ShardData::accumulate(&mut d.ops, ev))
        };
        // Lock order everywhere: shards, then the ring.
        let mut ring = lock(&self.ring);
        let fresh = ring.fresh();
        // SAFETY: as above.
        let chunk = unsafe { shard.stage.take(fresh) };
        ring.push_chunk(chunk);
    }

    /// The shard's aggregates plus `staged` (events read from its stage with its lock held).
    fn ops_with<'a>(d: &'a ShardData, staged: &Chunk) -> std::borrow::Cow<'a, [OpAccum]> {
        if staged.len() == 0 {
            return std::borrow::Cow::Borrowed(&d.ops);
        }
        let mut ops = d.ops.clone();
        for ev in staged.iter() {
            ShardData::accumulate(&mut ops, ev);
        }
        std::borrow::Cow::Owned(ops)
    }

    /// Copies of a shard's staged events, read once (the owner may stage more meanwhile).
    /// The caller holds the shard's lock.
    fn staged_copy(shard: &Shard) -> Chunk {
        // SAFETY: the caller holds the shard's lock.
        unsafe { shard.stage.copy() }
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

    /// Everything so far: the ring's events, every thread's staged events, merged aggregates.
    pub(crate) fn snapshot(&self) -> CollectorSnapshot {
        let shards: Vec<Arc<Shard>> = lock(&self.shards).clone();
        // One consistent cut: the operation table (read-locked, so no operation appears
        // half-way), every shard (all held, so none flushes meanwhile), then the ring. Lock
        // order everywhere is shards (in registration order), then the ring, as in a flush.
        let table = self.ops.read().unwrap_or_else(PoisonError::into_inner);
        let keys = &table.ops;
        let mut merged: Vec<Option<OperationStats>> = Vec::new();
        // Staged events are copied, not moved: their owner threads flush them later.
        let mut staged: Vec<Chunk> = Vec::new();
        let guards: Vec<MutexGuard<'_, ShardData>> = shards.iter().map(|s| lock(&s.data)).collect();
        let ring = lock(&self.ring);
        for (shard, d) in shards.iter().zip(guards.iter()) {
            let mine = Self::staged_copy(shard);
            merge_into(&mut merged, &Self::ops_with(d, &mine), keys);
            staged.push(mine);
        }
        drop(guards);
        let (kept, mut dropped) = ring.kept();
        let mut events: Vec<ProfileEvent> =
            kept.map(|r| to_public(&table, &self.clock, r)).collect();
        events.extend(
            staged
                .iter()
                .flat_map(Chunk::iter)
                .map(|r| to_public(&table, &self.clock, r)),
        );
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

fn to_public(table: &OpTable, clock: &ProfClock, e: EventRef<'_>) -> ProfileEvent {
    let r = e.ev;
    let (name, kind) = table
        .get(r.op)
        .cloned()
        .unwrap_or_else(|| (Name::from("<unknown>"), EventKind::FunctionCall));
    let mut metrics = std::collections::BTreeMap::new();
    e.for_each_metric(|k, v| *metrics.entry(k.to_owned()).or_insert(0.0) += v);
    ProfileEvent {
        id: r.id,
        parent: (r.parent != 0).then_some(r.parent),
        name,
        kind,
        thread_id: r.thread_id(),
        start_ns: clock.to_ns(r.start_raw),
        end_ns: clock.to_ns(r.start_raw) + r.wall_ns,
        busy_ns: r.busy_ns,
        self_ns: r.self_ns,
        metrics,
        alloc: e.alloc(),
        error: e.error().map(str::to_owned),
        panicked: r.flags & RawEvent::PANICKED != 0,
    }
}
