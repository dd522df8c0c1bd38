//! The collector: where closed spans go.
//!
//! Each thread owns a [`Shard`]. A closed event goes into the shard's lock-free [`Stage`]; when
//! that fills ([`STAGE`](crate::record::stage::STAGE) events), the thread takes its shard's
//! (uncontended) lock once and moves the whole staged chunk, uncopied, into one bounded
//! [`Ring`] of raw events, which keeps the newest events and counts the ones it dropped. The
//! [fold worker](crate::record::fold) folds the chunks into the exact per-operation aggregates on its
//! own thread. Readers take the aggregates' lock first and add whatever is not folded yet (in
//! the ring or still staged), so aggregates never miss or drop anything.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};

use smallvec::SmallVec;

use crate::model::event::{EventKind, Name, ProfileEvent};
use crate::model::hash::IntMap;
use crate::model::profile::ThreadInfo;
use crate::model::sample::MonitorSample;
use crate::model::stats::OperationStats;
use crate::record::accum::OpAccum;
use crate::record::args::ArgRec;
use crate::record::clock::ProfClock;
use crate::record::fold::{FoldWorker, MAX_PENDING, WAKE_AT};
use crate::record::raw::{Aux, Chunk, EventRef, Extra, RawEvent};
use crate::record::ring::{ChunkOrigin, Ring};
use crate::record::stage::Stage;

#[cfg(any(feature = "persist", feature = "otlp"))]
mod journal_cut;
mod op_table;

#[cfg(any(feature = "persist", feature = "otlp"))]
pub(crate) use journal_cut::JournalCursor;
pub(crate) use op_table::OpTable;

/// Metric values of an open span: keys are tracing field names (static) or owned strings.
pub(crate) type MetricBuf = SmallVec<[(Cow<'static, str>, f64); 1]>;

/// Locks a mutex, recovering the data if a panicking thread poisoned it (our critical
/// sections leave the data consistent at every await-free point).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One thread's share of the collector.
pub(crate) struct Shard {
    /// Held by the owner to move its staged chunk out, and by readers to copy staged events.
    lock: Mutex<()>,
    /// The profiler's id of the owner thread.
    tid: u64,
    /// Events moved into the ring so far (written with `lock` held, once per chunk).
    flushed: AtomicU64,
    /// Events closed since the last flush; written only by the owner thread.
    stage: Stage,
    /// The owner thread (checked in debug builds).
    #[cfg(debug_assertions)]
    owner: std::thread::ThreadId,
}

impl Shard {
    /// Checks, in debug builds, that the caller is the shard's owner thread (its only writer).
    #[inline(always)]
    fn check_owner(&self) {
        #[cfg(debug_assertions)]
        debug_assert_eq!(
            self.owner,
            std::thread::current().id(),
            "a shard is written by its own thread only"
        );
    }
}

/// Exact aggregates per operation (indexed by the operation's dense index).
type Aggregates = Vec<OpAccum>;

/// Folds one event into `ops`.
#[inline(always)]
fn accumulate(ops: &mut Aggregates, ev: EventRef<'_>, clock: &ProfClock) {
    let idx = ev.ev.op as usize;
    if ops.len() <= idx {
        ops.resize_with(idx + 1, OpAccum::default);
    }
    ops[idx].record(ev, clock);
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

/// Shared by a profiler's handles, its layer(s), its monitor thread and its fold worker.
///
/// Lock order everywhere: `folded`, `ops`, shards (in registration order), `ring`.
pub(crate) struct Collector {
    pub(crate) id: u64,
    pub(crate) clock: ProfClock,
    /// This collector, for the fold worker (which must not keep it alive).
    me: Weak<Collector>,
    ops: RwLock<OpTable>,
    shards: Mutex<Vec<Arc<Shard>>>,
    /// Every registered thread: its id and its name, `None` for an unnamed thread (named
    /// `thread-N` in snapshots, so a thread pool's short-lived workers cost no string each).
    threads: Mutex<Vec<(u64, Option<Box<str>>)>>,
    next_thread: AtomicU64,
    /// The aggregates of every folded chunk; held while a fold runs.
    folded: Mutex<Aggregates>,
    ring: Mutex<Ring>,
    worker: FoldWorker,
    samples: Mutex<Vec<MonitorSample>>,
    /// Whether a layer of this collector has been attached to a subscriber.
    pub(crate) attached: std::sync::atomic::AtomicBool,
    /// Events at least this long (raw ticks) get a backtrace; `u64::MAX`: none.
    backtrace_ticks: AtomicU64,
}

impl Collector {
    /// A collector keeping `raw_capacity` raw events and at most `max_operations` operations
    /// under their own names.
    pub(crate) fn new(raw_capacity: usize, max_operations: usize) -> Arc<Self> {
        Arc::new_cyclic(|me| Collector {
            id: NEXT_COLLECTOR.fetch_add(1, Ordering::Relaxed),
            clock: ProfClock::new(),
            me: me.clone(),
            ops: RwLock::new(OpTable::new(max_operations)),
            shards: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            next_thread: AtomicU64::new(1),
            folded: Mutex::new(Vec::new()),
            ring: Mutex::new(Ring::new(raw_capacity)),
            worker: FoldWorker::new(),
            samples: Mutex::new(Vec::new()),
            attached: std::sync::atomic::AtomicBool::new(false),
            backtrace_ticks: AtomicU64::new(u64::MAX),
        })
    }

    /// Events at least this many raw ticks long get a backtrace at their close.
    #[inline(always)]
    pub(crate) fn backtrace_ticks(&self) -> u64 {
        self.backtrace_ticks.load(Ordering::Relaxed)
    }

    /// Takes a backtrace of every event slower than `threshold` from now on.
    pub(crate) fn set_backtrace_threshold(&self, threshold: std::time::Duration) {
        // ns to raw ticks through the clock's scale over a long span (linear).
        const SPAN: u64 = 1 << 32;
        let ns_per_span = u128::from(self.clock.ticks_ns(SPAN).max(1));
        let ticks = threshold.as_nanos().saturating_mul(u128::from(SPAN)) / ns_per_span;
        self.backtrace_ticks.store(
            u64::try_from(ticks).unwrap_or(u64::MAX).max(1),
            Ordering::Relaxed,
        );
    }

    /// The dense index of an operation, interning it on first sight (or, beyond the cap on
    /// distinct operations, folding it into its kind's [`OTHER_OPERATION`]).
    pub(crate) fn intern(&self, name: &str, kind: EventKind) -> u32 {
        if let Some(i) = self
            .ops
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .find(name, kind)
        {
            return i;
        }
        let _own = crate::record::alloc::OwnAllocations::begin();
        self.ops
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, kind)
    }

    /// Registers the calling thread: a new shard and a profiler thread id.
    pub(crate) fn register_thread(&self) -> (Arc<Shard>, u64) {
        let tid = self.next_thread.fetch_add(1, Ordering::Relaxed);
        let shard = Arc::new(Shard {
            lock: Mutex::new(()),
            tid,
            flushed: AtomicU64::new(0),
            stage: Stage::new(),
            #[cfg(debug_assertions)]
            owner: std::thread::current().id(),
        });
        let name = std::thread::current().name().map(Box::from);
        lock(&self.shards).push(shard.clone());
        lock(&self.threads).push((tid, name));
        (shard, tid)
    }

    /// Adds one closed event without a side record to the calling thread's own shard: one
    /// plain store, no lock, except once per [`STAGE`](crate::record::stage::STAGE) events.
    #[inline(always)]
    pub(crate) fn stage(&self, shard: &Shard, mut ev: RawEvent, args: Option<&ArgRec>) {
        shard.check_owner();
        // SAFETY: every caller passes its own thread's `ThreadSlot::shard` (the single writer),
        // and the stage is drained as soon as it fills, so it is never full here; the event
        // is pushed right after its arguments.
        if unsafe {
            if let Some(a) = args.filter(|a| a.is_set()) {
                shard.stage.attach_args(&mut ev, a);
            }
            shard.stage.push(ev)
        } {
            self.flush(shard);
        }
    }

    /// Adds one closed event with a side record, written in place by `fill` (see
    /// [`Stage::push_with_aux`]), to the calling thread's own shard.
    #[inline(always)]
    pub(crate) fn stage_with_aux(
        &self,
        shard: &Shard,
        mut ev: RawEvent,
        args: Option<&ArgRec>,
        fill: impl FnOnce(&mut Aux) -> Option<Extra>,
    ) {
        shard.check_owner();
        // SAFETY: as in `stage`.
        if unsafe {
            if let Some(a) = args.filter(|a| a.is_set()) {
                shard.stage.attach_args(&mut ev, a);
            }
            shard.stage.push_with_aux(ev, fill)
        } {
            self.flush(shard);
        }
    }

    /// Takes a finished thread's shard out: its staged events move into the ring first, so
    /// nothing it recorded is lost and nothing of it stays behind.
    /// Called by the owner thread as it exits (no owner check: `thread::current` may be gone).
    pub(crate) fn retire_thread(&self, shard: &Arc<Shard>) {
        self.flush(shard);
        lock(&self.shards).retain(|s| !Arc::ptr_eq(s, shard));
    }

    /// Moves the calling thread's staged events, as one chunk, into the ring, and wakes the
    /// fold worker once enough chunks wait (or folds by itself when it must).
    #[inline(never)]
    fn flush(&self, shard: &Shard) {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let (waiting, pending) = {
            let _g = lock(&shard.lock);
            let mut ring = lock(&self.ring);
            let fresh = ring.fresh();
            // SAFETY: the owner thread (see `record`), with the shard's lock held.
            let chunk = unsafe { shard.stage.take(fresh, || ring.fresh_args()) };
            let first = shard.flushed.load(Ordering::Relaxed);
            shard
                .flushed
                .store(first + chunk.len() as u64, Ordering::Relaxed);
            let origin = ChunkOrigin {
                thread: shard.tid,
                first,
            };
            ring.push_chunk(chunk, origin);
            (ring.unfolded_len(), ring.pending_len())
        };
        let fold_here =
            pending >= MAX_PENDING || (waiting == WAKE_AT && !self.worker.wake(&self.me));
        if fold_here {
            self.fold();
        }
    }

    /// Folds every chunk the aggregates lack (the fold worker's job; a flushing thread's when
    /// the worker is far behind or missing).
    pub(crate) fn fold(&self) {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let mut folded = lock(&self.folded);
        let chunks = lock(&self.ring).take_unfolded();
        if chunks.is_empty() {
            return;
        }
        for ev in chunks.iter().flat_map(|c| c.iter()) {
            accumulate(&mut folded, ev, &self.clock);
        }
        lock(&self.ring).recycle_all(chunks);
    }

    /// Exact public statistics of a cut (see [`Collector::with_cut`]): the folded aggregates
    /// plus every event the fold has not reached, in the ring or still staged. Only the
    /// operations those events touch are copied.
    fn stats_of(
        &self,
        folded: &Aggregates,
        table: &OpTable,
        staged: &[Chunk],
        ring: &Ring,
    ) -> Vec<OperationStats> {
        let mut touched: IntMap<u32, OpAccum> = IntMap::default();
        for ev in ring.unfolded().chain(staged).flat_map(Chunk::iter) {
            let op = ev.ev.op;
            touched
                .entry(op)
                .or_insert_with(|| folded.get(op as usize).cloned().unwrap_or_default())
                .record(ev, &self.clock);
        }
        to_stats(folded, &touched, table)
    }

    /// Runs `f` on one consistent cut of everything recorded: the folded aggregates (held, so
    /// no fold runs), the operation table (read-locked, so no operation appears half-way),
    /// copies of every thread's staged events (all shards held at once, so none flushes
    /// meanwhile) and the ring.
    fn with_cut<R>(&self, f: impl FnOnce(&Aggregates, &OpTable, &[Chunk], &Ring) -> R) -> R {
        let folded = lock(&self.folded);
        let table = self.ops.read().unwrap_or_else(PoisonError::into_inner);
        let shards: Vec<Arc<Shard>> = lock(&self.shards).clone();
        let guards: Vec<MutexGuard<'_, ()>> = shards.iter().map(|s| lock(&s.lock)).collect();
        let ring = lock(&self.ring);
        // Staged events are copied, not moved: their owner threads flush them later.
        // SAFETY: we hold every shard's lock.
        let staged: Vec<Chunk> = shards.iter().map(|s| unsafe { s.stage.copy() }).collect();
        drop(guards);
        f(&folded, &table, &staged, &ring)
    }

    /// Exact aggregates of every operation so far, merged across threads.
    pub(crate) fn aggregates(&self) -> Vec<OperationStats> {
        self.with_cut(|folded, table, staged, ring| self.stats_of(folded, table, staged, ring))
    }

    /// Appends a monitor sample.
    #[cfg(feature = "monitor")]
    pub(crate) fn push_sample(&self, s: MonitorSample) {
        lock(&self.samples).push(s);
    }

    /// Monitor samples so far.
    pub(crate) fn samples(&self) -> Vec<MonitorSample> {
        lock(&self.samples).clone()
    }

    /// The newest monitor sample (what a metrics scrape reports), without copying the rest.
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    pub(crate) fn last_sample(&self) -> Option<MonitorSample> {
        lock(&self.samples).last().copied()
    }

    /// Raw events dropped from the bounded buffer so far (the ring's count; events still
    /// staged by their threads are not dropped yet).
    #[cfg_attr(not(any(feature = "prometheus", feature = "otlp")), allow(dead_code))]
    pub(crate) fn dropped_events(&self) -> u64 {
        lock(&self.ring).kept().1
    }

    /// Everything so far: the ring's events, every thread's staged events, exact aggregates.
    pub(crate) fn snapshot(&self) -> CollectorSnapshot {
        let (mut events, operations, mut dropped, capacity) =
            self.with_cut(|folded, table, staged, ring| {
                let operations = self.stats_of(folded, table, staged, ring);
                let (kept, dropped) = ring.kept();
                // Sized once: a snapshot of a full buffer never holds two copies of it.
                let staged_len: usize = staged.iter().map(Chunk::len).sum();
                let mut events: Vec<ProfileEvent> =
                    Vec::with_capacity(ring.kept_len().saturating_add(staged_len));
                events.extend(kept.map(|r| to_public(table, &self.clock, r)));
                events.extend(
                    staged
                        .iter()
                        .flat_map(Chunk::iter)
                        .map(|r| to_public(table, &self.clock, r)),
                );
                (events, operations, dropped, ring.capacity())
            });
        // The staged events are the newest: keep `capacity` in all, oldest out first.
        let excess = events.len().saturating_sub(capacity);
        if excess > 0 {
            events.drain(..excess);
            dropped += excess as u64;
        }
        // Ids are unique, so the order is total: no stable sort's buffer needed.
        events.sort_unstable_by_key(|e| (e.start_ns, e.id));
        CollectorSnapshot {
            events,
            operations,
            dropped,
            threads: lock(&self.threads).iter().map(thread_info).collect(),
            samples: self.samples(),
        }
    }
}

/// A registered thread's public description: its name, or `thread-<id>` for an unnamed one
/// (built only when read, so short-lived unnamed threads store no string).
pub(crate) fn thread_info((id, name): &(u64, Option<Box<str>>)) -> ThreadInfo {
    ThreadInfo {
        id: *id,
        name: name
            .as_deref()
            .map_or_else(|| format!("thread-{id}"), str::to_owned),
    }
}

/// Public statistics of every operation with events: `touched`'s accumulator where it has
/// one, else the folded one.
fn to_stats(
    folded: &[OpAccum],
    touched: &IntMap<u32, OpAccum>,
    table: &OpTable,
) -> Vec<OperationStats> {
    let empty = OpAccum::default();
    let mut out = Vec::with_capacity(table.ops.len());
    out.extend(
        table
            .ops
            .iter()
            .enumerate()
            .filter_map(|(i, (name, kind))| {
                let op = touched
                    .get(&(i as u32))
                    .or_else(|| folded.get(i))
                    .unwrap_or(&empty);
                let mut s = op.to_stats(name.clone(), *kind);
                s.folded_names = table.folded_into(i as u32, *kind);
                (s.count > 0).then_some(s)
            }),
    );
    out
}

fn to_public(table: &OpTable, clock: &ProfClock, e: EventRef<'_>) -> ProfileEvent {
    let (name, kind) = table
        .get(e.ev.op)
        .cloned()
        .unwrap_or_else(|| (Name::from("<unknown>"), EventKind::FunctionCall));
    public_event(name, kind, clock, e)
}

/// A raw event as the public event of operation `name` (as snapshots and the OTLP stream show
/// it): every field, one definition.
pub(crate) fn public_event(
    name: Name,
    kind: EventKind,
    clock: &ProfClock,
    e: EventRef<'_>,
) -> ProfileEvent {
    let r = e.ev;
    let mut metrics = std::collections::BTreeMap::new();
    e.for_each_metric(|k, v| *metrics.entry(k.to_owned()).or_insert(0.0) += v);
    let start_ns = clock.to_ns(r.start_raw);
    let (wall_ns, busy_ns, self_ns) = r.durations_ns(clock);
    let mut ev = ProfileEvent::new(
        r.id,
        name,
        kind,
        r.thread_id(),
        start_ns,
        start_ns.saturating_add(wall_ns),
    );
    ev.parent = r.parent();
    ev.busy_ns = busy_ns;
    ev.self_ns = self_ns;
    ev.metrics = metrics;
    ev.alloc = e.alloc();
    ev.error = e.error().map(str::to_owned);
    ev.panicked = r.flags & RawEvent::PANICKED != 0;
    ev.args_recorded = r.flags & RawEvent::ARGS_RECORDED != 0;
    if let Some(p) = e.process() {
        ev.process_alloc = Some(p.stats);
        ev.alloc_sizes = Some(p.sizes);
    }
    ev.backtrace = e.backtrace();
    ev
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PerformanceProfiler;

    fn work(i: u64) -> u64 {
        tracing::info_span!("work").in_scope(|| i * 2)
    }

    #[test]
    fn a_finished_threads_shard_leaves_the_collector_and_its_events_stay() {
        let p = PerformanceProfiler::builder()
            .without_monitor()
            .build()
            .expect("valid config");
        for _ in 0..20 {
            let sub = p.subscriber();
            std::thread::spawn(move || {
                tracing::subscriber::with_default(sub, || {
                    for i in 0..10 {
                        work(i);
                    }
                })
            })
            .join()
            .expect("worker");
        }
        let c = &p.layer().collector;
        assert_eq!(lock(&c.shards).len(), 0, "no shard outlives its thread");
        assert_eq!(p.snapshot().total_events(), 200);
    }
}
