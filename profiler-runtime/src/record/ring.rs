//! The bounded buffer of raw events, and the record of which of them the aggregates still lack.
//!
//! Whole staged chunks move in from the shards, so an event is written once, on the hot path,
//! and never copied until a snapshot reads it. Whole chunks are dropped from the front while the
//! rest still holds `capacity` events; a snapshot trims the remainder to exactly `capacity`.
//!
//! Chunks are folded into the exact aggregates off the hot path, by the fold worker. The newest
//! `unfolded` chunks of the buffer have not been folded yet; a chunk that has to leave the buffer
//! before it was folded moves to `pending` instead of being dropped, so no event ever escapes
//! the aggregates. Dropped chunks' buffers are recycled: their events and side records have no
//! destructor, so recycling never reads them back.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::record::args::ArgRec;
use crate::record::raw::{Chunk, EventRef, RawEvent};
use crate::record::stage::STAGE;

/// Recycled event buffers kept at most.
const SPARE: usize = 64;

/// Chunks of at most this many events are appended to the newest chunk where they fit.
const SMALL: usize = STAGE / 4;

/// Where a run of a chunk's events came from: the profiler's thread id and how many events that
/// thread had flushed before them (so a reader that saw some of them while they were staged can
/// skip them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChunkOrigin {
    pub thread: u64,
    pub first: u64,
}

/// The origins of one chunk's events, in order: `(origin, events)` per run (one run, unless
/// small chunks of exiting threads were appended to it).
pub(crate) type Segments = Vec<(ChunkOrigin, usize)>;

pub(crate) struct Ring {
    chunks: VecDeque<Arc<Chunk>>,
    /// The runs of each chunk of `chunks`, by origin.
    origins: VecDeque<Segments>,
    /// Chunks ever pushed, counting an append to the newest chunk as a new one (so a reader of
    /// what is new since a number sees a grown chunk again): the back of `chunks` is number
    /// `pushed - 1`.
    pushed: u64,
    len: usize,
    capacity: usize,
    dropped: u64,
    /// The newest `unfolded` chunks of `chunks` are not in the aggregates yet.
    unfolded: usize,
    /// Chunks gone from the buffer before they were folded (still to fold).
    pending: Vec<Arc<Chunk>>,
    spare: Vec<Vec<RawEvent>>,
    /// Recycled inline-argument buffers (those that moved whole out of a stage).
    spare_args: Vec<Vec<ArgRec>>,
}

impl Ring {
    pub(crate) fn new(capacity: usize) -> Self {
        Ring {
            chunks: VecDeque::new(),
            origins: VecDeque::new(),
            pushed: 0,
            len: 0,
            capacity,
            dropped: 0,
            unfolded: 0,
            pending: Vec::new(),
            spare: Vec::new(),
            spare_args: Vec::new(),
        }
    }

    /// The raw-event capacity.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Takes a chunk (not yet folded), dropping the oldest ones beyond the capacity.
    ///
    /// A small chunk (what a thread leaves when it exits after a few calls) is appended to the
    /// newest chunk when that one is not folded yet, has room and nobody else holds it: so
    /// threads that come and go cost the ring about their events' size, never a whole staging
    /// buffer each.
    pub(crate) fn push_chunk(&mut self, chunk: Chunk, origin: ChunkOrigin) {
        if chunk.len() == 0 {
            self.recycle_buffers(chunk);
            return;
        }
        self.len += chunk.len();
        let n = chunk.len();
        let back = if n <= SMALL && self.unfolded > 0 {
            self.chunks
                .back_mut()
                .and_then(Arc::get_mut)
                .filter(|b| b.len() + n <= STAGE)
        } else {
            None
        };
        match back {
            Some(back) => {
                let spare = back.append(chunk);
                self.keep_spare(spare);
                if let Some(runs) = self.origins.back_mut() {
                    runs.push((origin, n));
                }
            }
            None => {
                self.chunks.push_back(Arc::new(chunk));
                self.origins.push_back(vec![(origin, n)]);
                self.unfolded += 1;
            }
        }
        self.pushed += 1;
        self.evict();
    }

    /// Drops the oldest chunks while the rest still hold `capacity` events.
    fn evict(&mut self) {
        while self
            .chunks
            .front()
            .is_some_and(|f| self.len - f.len() >= self.capacity)
        {
            let Some(front) = self.chunks.pop_front() else {
                break;
            };
            self.origins.pop_front();
            self.len -= front.len();
            self.dropped += front.len() as u64;
            if self.unfolded > self.chunks.len() {
                // The aggregates still lack it: it leaves the buffer, not the profile.
                self.unfolded -= 1;
                self.pending.push(front);
            } else {
                self.recycle(front);
            }
        }
    }

    /// Chunks waiting to be folded.
    pub(crate) fn unfolded_len(&self) -> usize {
        self.unfolded + self.pending.len()
    }

    /// Chunks that left the buffer before they were folded.
    pub(crate) fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Hands the chunks still to fold to the caller, which must fold them before it releases
    /// the aggregates' lock (readers take that lock first, so they never see them missing).
    pub(crate) fn take_unfolded(&mut self) -> Vec<Arc<Chunk>> {
        let mut out = std::mem::take(&mut self.pending);
        let from = self.chunks.len() - self.unfolded;
        out.extend(self.chunks.range(from..).cloned());
        self.unfolded = 0;
        out
    }

    /// Shares of the chunks not yet folded (they stay to fold), for a reader that holds the
    /// aggregates' lock.
    #[cfg(any(feature = "persist", feature = "otlp"))]
    pub(crate) fn unfolded_shares(&self) -> Vec<Arc<Chunk>> {
        let from = self.chunks.len() - self.unfolded;
        self.pending
            .iter()
            .chain(self.chunks.range(from..))
            .cloned()
            .collect()
    }

    /// The chunks not yet folded, for a reader that holds the aggregates' lock.
    pub(crate) fn unfolded(&self) -> impl Iterator<Item = &Chunk> {
        let from = self.chunks.len() - self.unfolded;
        self.pending
            .iter()
            .chain(self.chunks.range(from..))
            .map(|c| &**c)
    }

    /// Takes back folded chunks' buffers where nothing else holds them any more.
    pub(crate) fn recycle_all(&mut self, chunks: Vec<Arc<Chunk>>) {
        for c in chunks {
            self.recycle(c);
        }
    }

    fn recycle(&mut self, chunk: Arc<Chunk>) {
        if let Ok(c) = Arc::try_unwrap(chunk) {
            self.recycle_buffers(c);
        }
    }

    /// Keeps a dropped chunk's event buffer for reuse (clearing it reads nothing: events have
    /// no destructor); its side records (no destructor either) and extras are freed.
    fn recycle_buffers(&mut self, chunk: Chunk) {
        self.keep_spare(chunk.events);
        let mut args = chunk.args;
        if self.spare_args.len() < SPARE && args.capacity() >= STAGE {
            args.clear();
            self.spare_args.push(args);
        }
    }

    /// Keeps an event buffer for reuse, up to [`SPARE`] of them.
    fn keep_spare(&mut self, mut events: Vec<RawEvent>) {
        if self.spare.len() < SPARE && events.capacity() >= STAGE {
            events.clear();
            self.spare.push(events);
        }
    }

    /// An empty inline-argument buffer for a shard's stage (see `Stage::take`).
    pub(crate) fn fresh_args(&mut self) -> Vec<ArgRec> {
        self.spare_args
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(STAGE))
    }

    /// An empty event buffer for a shard's next chunk.
    pub(crate) fn fresh(&mut self) -> Vec<RawEvent> {
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(STAGE))
    }

    /// The chunks pushed (or grown) since number `seq` (those still here), with their runs'
    /// origins, and the number to ask from next time: the journal's view of what is new. A
    /// grown chunk comes again whole; its runs' origins let the reader skip what it has.
    #[cfg(any(feature = "persist", feature = "otlp"))]
    pub(crate) fn since(&self, seq: u64) -> (impl Iterator<Item = (&Arc<Chunk>, &Segments)>, u64) {
        let front = self.pushed.saturating_sub(self.chunks.len() as u64);
        let skip = usize::try_from(seq.saturating_sub(front)).unwrap_or(usize::MAX);
        (
            self.chunks.iter().zip(self.origins.iter()).skip(skip),
            self.pushed,
        )
    }

    /// How many events [`Ring::kept`] yields.
    pub(crate) fn kept_len(&self) -> usize {
        self.len.min(self.capacity)
    }

    /// The kept events (the newest `capacity`), and the count dropped.
    pub(crate) fn kept(&self) -> (impl Iterator<Item = EventRef<'_>>, u64) {
        let excess = self.len.saturating_sub(self.capacity);
        (
            self.chunks.iter().flat_map(|c| c.iter()).skip(excess),
            self.dropped + excess as u64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(first: u64, n: u64) -> Chunk {
        let mut c = Chunk::default();
        for i in first..first + n {
            c.events.push(Chunk::test_event(i).0);
        }
        c
    }

    #[test]
    fn evicted_unfolded_chunks_stay_until_folded() {
        // Chunks too big to be appended to one another.
        let s = SMALL as u64 + 1;
        let ids = |a: u64, b: u64| (a * s..b * s).collect::<Vec<_>>();
        let mut r = Ring::new(2 * s as usize);
        for k in 0..4 {
            r.push_chunk(chunk(k * s, s), ChunkOrigin::default());
        }
        // Holds the newest 2s events; the two evicted chunks were never folded.
        let (kept, dropped) = r.kept();
        assert_eq!(kept.map(|e| e.ev.start_raw).collect::<Vec<_>>(), ids(2, 4));
        assert_eq!(dropped, 2 * s);
        assert_eq!(r.pending_len(), 2);
        assert_eq!(r.unfolded_len(), 4);
        let mut seen: Vec<u64> = r
            .unfolded()
            .flat_map(|c| c.iter().map(|e| e.ev.start_raw).collect::<Vec<_>>())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, ids(0, 4));
        // Folding takes every one of them exactly once.
        let taken = r.take_unfolded();
        assert_eq!(taken.iter().map(|c| c.len() as u64).sum::<u64>(), 4 * s);
        assert_eq!(r.unfolded_len(), 0);
        assert_eq!(r.unfolded().count(), 0);
        r.recycle_all(taken);
        // Folded chunks are simply dropped (and recycled) when evicted.
        r.push_chunk(chunk(4 * s, s), ChunkOrigin::default());
        r.push_chunk(chunk(5 * s, s), ChunkOrigin::default());
        assert_eq!(r.pending_len(), 0);
        assert_eq!(r.unfolded_len(), 2);
        let (kept, dropped) = r.kept();
        assert_eq!(kept.map(|e| e.ev.start_raw).collect::<Vec<_>>(), ids(4, 6));
        assert_eq!(dropped, 4 * s);
    }

    #[test]
    fn small_chunks_share_one_buffer_and_keep_their_side_records() {
        let mut r = Ring::new(10_000);
        for i in 0..1_000u64 {
            let (ev, mut aux, extra) = Chunk::test_event(i);
            aux.alloc.allocations = i;
            let mut c = Chunk::default();
            let mut ev = ev;
            // Every other event has a side record with an extra (an owned metric).
            if i % 2 == 0 {
                aux.extra = 1;
                ev.aux = 1;
                c.aux.push(aux);
                c.extras.push(extra);
            }
            c.events.push(ev);
            r.push_chunk(
                c,
                ChunkOrigin {
                    thread: i,
                    first: 0,
                },
            );
        }
        assert_eq!(
            r.chunks.len(),
            1_000usize.div_ceil(STAGE),
            "one chunk per {STAGE} events"
        );
        let (kept, dropped) = r.kept();
        let mut n = 0u64;
        for e in kept {
            let i = e.ev.start_raw;
            assert_eq!(i, n);
            n += 1;
            match e.aux {
                Some(a) => {
                    assert_eq!(i % 2, 0);
                    assert_eq!(a.alloc.allocations, i);
                    let mut keys = Vec::new();
                    e.for_each_metric(|k, _| keys.push(k.to_owned()));
                    assert_eq!(keys, [format!("m{i}")]);
                }
                None => assert_eq!(i % 2, 1),
            }
        }
        assert_eq!((n, dropped), (1_000, 0));
        // A folded newest chunk takes nothing more: its new events would miss the aggregates.
        let taken = r.take_unfolded();
        assert_eq!(taken.iter().map(|c| c.len()).sum::<usize>(), 1_000);
        r.recycle_all(taken);
        r.push_chunk(chunk(5_000, 1), ChunkOrigin::default());
        assert_eq!(r.unfolded().map(Chunk::len).sum::<usize>(), 1);
    }

    #[cfg(feature = "persist")]
    #[test]
    fn since_lists_each_chunk_still_kept_once_and_a_grown_chunk_again() {
        let s = SMALL as u64 + 1;
        let mut r = Ring::new(4 * s as usize);
        let origin = |thread, first| ChunkOrigin { thread, first };
        let firsts = |r: &Ring, seq| {
            r.since(seq)
                .0
                .map(|(_, runs)| runs.iter().map(|(o, _)| o.first).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        r.push_chunk(chunk(0, s), origin(1, 0));
        assert_eq!(firsts(&r, 0), [vec![0]]);
        assert_eq!(r.since(0).1, 1);
        for k in 1..6 {
            r.push_chunk(chunk(k * s, s), origin(1, k * s));
        }
        // Chunks 0 and 1 were evicted (1 unseen); 2, 3, 4 and 5 are new since 1.
        assert_eq!(
            firsts(&r, 1),
            [vec![2 * s], vec![3 * s], vec![4 * s], vec![5 * s]]
        );
        assert_eq!(r.since(6).0.count(), 0);
        // A small chunk of another thread grows the newest one: it is new again, with both runs.
        r.push_chunk(chunk(100 * s, 2), origin(2, 7));
        assert_eq!(firsts(&r, 6), [vec![5 * s, 7]]);
        let (mut new, next) = r.since(6);
        let (grown, runs) = new.next().unwrap();
        assert_eq!(grown.len() as u64, s + 2);
        assert_eq!(runs.iter().map(|(_, n)| *n as u64).sum::<u64>(), s + 2);
        assert_eq!(next, 7);
    }
}
