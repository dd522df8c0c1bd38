//! The journal's hook into the collector: what is new since the last flush, cut consistently
//! on the journal's own thread (never on a profiled thread).

use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard, PoisonError};

use super::{lock, Collector, Shard};
use crate::model::event::{EventKind, Name};
use crate::model::profile::ThreadInfo;
use crate::model::sample::MonitorSample;
use crate::model::stats::OperationStats;
use crate::record::accum::OpAccum;
use crate::record::raw::{Chunk, EventRef};
use crate::record::ring::{ChunkOrigin, Segments};

/// Where the journal stopped reading last time (see [`Collector::journal_cut`]).
#[derive(Default)]
pub(crate) struct JournalCursor {
    /// The next ring chunk number to read.
    pub seq: u64,
    /// Operations, threads and samples already written.
    pub ops: usize,
    pub threads: usize,
    pub samples: usize,
    /// Each operation's count as last written.
    pub counts: Vec<u64>,
}

/// What is new since a [`JournalCursor`], cut consistently: the journal's view of the
/// collector. The events come as chunks with the origins of their runs (thread and the
/// thread's sequence number of the run's first event), so events seen earlier (while still
/// staged, or in a chunk that grew since) can be skipped.
pub(crate) struct JournalCut {
    /// Operations interned since the cursor: (index, name, kind).
    pub new_ops: Vec<(u32, Name, EventKind)>,
    pub threads: Vec<ThreadInfo>,
    pub samples: Vec<MonitorSample>,
    /// Ring chunks pushed since the cursor (those not evicted yet).
    pub chunks: Vec<(Arc<Chunk>, Segments)>,
    /// Copies of every thread's staged events.
    pub staged: Vec<(Chunk, Segments)>,
    /// The operations whose count changed since the cursor, complete at the cut.
    pub changed: Vec<OperationStats>,
    /// Clock reading of the cut, ns.
    pub now_ns: u64,
}

impl JournalCut {
    /// Every event of the cut (ring chunks, then staged ones) with its thread and its number
    /// among that thread's events, so a reader can skip what it has already seen.
    pub(crate) fn events(&self) -> impl Iterator<Item = (EventRef<'_>, u64, u64)> + '_ {
        let parts = self
            .chunks
            .iter()
            .map(|(c, runs)| (&**c, runs))
            .chain(self.staged.iter().map(|(c, runs)| (c, runs)));
        parts.flat_map(|(chunk, runs)| {
            let places = runs
                .iter()
                .flat_map(|&(o, n)| (0..n as u64).map(move |k| (o.thread, o.first + k)));
            chunk.iter().zip(places).map(|(ev, (t, seq))| (ev, t, seq))
        })
    }
}

impl Collector {
    /// Cuts what is new since `cursor` and advances it: the journal's hook, called on the
    /// journal's thread. Holds the locks a snapshot holds, but copies only staged events and
    /// the aggregates of operations that changed; folding the rest happens after the locks go.
    pub(crate) fn journal_cut(&self, cursor: &mut JournalCursor) -> JournalCut {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let folded = lock(&self.folded);
        let table = self.ops.read().unwrap_or_else(PoisonError::into_inner);
        let shards: Vec<Arc<Shard>> = lock(&self.shards).clone();
        let guards: Vec<MutexGuard<'_, ()>> = shards.iter().map(|s| lock(&s.lock)).collect();
        let ring = lock(&self.ring);
        let now_ns = self.clock.now_ns();
        // SAFETY: we hold every shard's lock.
        let staged: Vec<(Chunk, Segments)> = shards
            .iter()
            .map(|s| {
                let origin = ChunkOrigin {
                    thread: s.tid,
                    first: s.flushed.load(Ordering::Relaxed),
                };
                let chunk = unsafe { s.stage.copy() };
                let n = chunk.len();
                (chunk, vec![(origin, n)])
            })
            .collect();
        drop(guards);
        let (new, next) = ring.since(cursor.seq);
        let chunks: Vec<(Arc<Chunk>, Segments)> =
            new.map(|(c, runs)| (c.clone(), runs.clone())).collect();
        cursor.seq = next;
        let unfolded: Vec<Arc<Chunk>> = ring.unfolded_shares();
        drop(ring);
        let new_ops: Vec<(u32, Name, EventKind)> = table
            .ops
            .iter()
            .enumerate()
            .skip(cursor.ops)
            .map(|(i, (n, k))| (i as u32, n.clone(), *k))
            .collect();
        cursor.ops = table.ops.len();
        // Which operations changed: folded counts plus what the fold has not reached.
        let rest = || {
            unfolded
                .iter()
                .map(|c| &**c)
                .chain(staged.iter().map(|(c, _)| c))
                .flat_map(Chunk::iter)
        };
        let mut pending = vec![0u64; table.ops.len().max(folded.len())];
        for ev in rest() {
            if let Some(n) = pending.get_mut(ev.ev.op as usize) {
                *n += 1;
            }
        }
        cursor.counts.resize(pending.len(), 0);
        let mut changed: Vec<(usize, OpAccum)> = Vec::new();
        for (i, n) in pending.iter().enumerate() {
            let base = folded.get(i);
            let total = base.map_or(0, OpAccum::count) + n;
            if total != cursor.counts[i] {
                cursor.counts[i] = total;
                changed.push((i, base.cloned().unwrap_or_default()));
            }
        }
        let keys: Vec<(Name, EventKind)> = changed
            .iter()
            .filter_map(|(i, _)| table.ops.get(*i).cloned())
            .collect();
        drop(table);
        drop(folded);
        // Off the locks: add the unfolded events to the changed operations.
        for ev in rest() {
            let op = ev.ev.op as usize;
            if let Ok(k) = changed.binary_search_by_key(&op, |(i, _)| *i) {
                changed[k].1.record(ev, &self.clock);
            }
        }
        let changed = changed
            .iter()
            .zip(keys)
            .map(|((_, acc), (name, kind))| acc.to_stats(name, kind))
            .collect();
        let threads: Vec<ThreadInfo> = lock(&self.threads)
            .iter()
            .skip(cursor.threads)
            .map(super::thread_info)
            .collect();
        cursor.threads += threads.len();
        let samples: Vec<MonitorSample> = lock(&self.samples)
            .iter()
            .skip(cursor.samples)
            .copied()
            .collect();
        cursor.samples += samples.len();
        JournalCut {
            new_ops,
            threads,
            samples,
            chunks,
            staged,
            changed,
            now_ns,
        }
    }
}
