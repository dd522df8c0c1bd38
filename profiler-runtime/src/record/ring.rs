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

use crate::record::raw::{Chunk, EventRef, RawEvent};
use crate::record::stage::STAGE;

/// Recycled event buffers kept at most.
const SPARE: usize = 64;

/// Where a chunk came from: the profiler's thread id and how many events that thread had
/// flushed before it (so a reader that saw some of its events while they were staged can
/// skip them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChunkOrigin {
    pub thread: u64,
    pub first: u64,
}

pub(crate) struct Ring {
    chunks: VecDeque<Arc<Chunk>>,
    /// The origin of each chunk of `chunks`.
    origins: VecDeque<ChunkOrigin>,
    /// Chunks ever pushed: the back of `chunks` is number `pushed - 1`.
    pushed: u64,
    len: usize,
    capacity: usize,
    dropped: u64,
    /// The newest `unfolded` chunks of `chunks` are not in the aggregates yet.
    unfolded: usize,
    /// Chunks gone from the buffer before they were folded (still to fold).
    pending: Vec<Arc<Chunk>>,
    spare: Vec<Vec<RawEvent>>,
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
        }
    }

    /// The raw-event capacity.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Takes a chunk (not yet folded), dropping the oldest ones beyond the capacity.
    pub(crate) fn push_chunk(&mut self, chunk: Chunk, origin: ChunkOrigin) {
        if chunk.len() == 0 {
            self.recycle_buffers(chunk);
            return;
        }
        self.len += chunk.len();
        self.chunks.push_back(Arc::new(chunk));
        self.origins.push_back(origin);
        self.pushed += 1;
        self.unfolded += 1;
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
    #[cfg(feature = "persist")]
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
        let mut events = chunk.events;
        if self.spare.len() < SPARE && events.capacity() >= STAGE {
            events.clear();
            self.spare.push(events);
        }
    }

    /// An empty event buffer for a shard's next chunk.
    pub(crate) fn fresh(&mut self) -> Vec<RawEvent> {
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(STAGE))
    }

    /// The chunks pushed since chunk number `seq` (those still here), with their origins, and
    /// the number to ask from next time: the journal's view of what is new.
    #[cfg(feature = "persist")]
    pub(crate) fn since(
        &self,
        seq: u64,
    ) -> (impl Iterator<Item = (&Arc<Chunk>, ChunkOrigin)>, u64) {
        let front = self.pushed - self.chunks.len() as u64;
        let skip = usize::try_from(seq.saturating_sub(front)).unwrap_or(usize::MAX);
        (
            self.chunks
                .iter()
                .zip(self.origins.iter().copied())
                .skip(skip),
            self.pushed,
        )
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
        let mut r = Ring::new(4);
        for k in 0..4 {
            r.push_chunk(chunk(k * 2, 2), ChunkOrigin::default());
        }
        // Holds the newest 4 events; the two evicted chunks were never folded.
        let (kept, dropped) = r.kept();
        assert_eq!(
            kept.map(|e| e.ev.start_raw).collect::<Vec<_>>(),
            [4, 5, 6, 7]
        );
        assert_eq!(dropped, 4);
        assert_eq!(r.pending_len(), 2);
        assert_eq!(r.unfolded_len(), 4);
        let mut seen: Vec<u64> = r
            .unfolded()
            .flat_map(|c| c.iter().map(|e| e.ev.start_raw).collect::<Vec<_>>())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..8).collect::<Vec<_>>());
        // Folding takes every one of them exactly once.
        let taken = r.take_unfolded();
        assert_eq!(taken.iter().map(|c| c.len()).sum::<usize>(), 8);
        assert_eq!(r.unfolded_len(), 0);
        assert_eq!(r.unfolded().count(), 0);
        r.recycle_all(taken);
        // Folded chunks are simply dropped (and recycled) when evicted.
        r.push_chunk(chunk(8, 2), ChunkOrigin::default());
        r.push_chunk(chunk(10, 2), ChunkOrigin::default());
        assert_eq!(r.pending_len(), 0);
        assert_eq!(r.unfolded_len(), 2);
        let (kept, dropped) = r.kept();
        assert_eq!(
            kept.map(|e| e.ev.start_raw).collect::<Vec<_>>(),
            [8, 9, 10, 11]
        );
        assert_eq!(dropped, 8);
    }

    #[cfg(feature = "persist")]
    #[test]
    fn since_lists_each_chunk_still_kept_once() {
        let mut r = Ring::new(4);
        let origin = |first| ChunkOrigin { thread: 1, first };
        r.push_chunk(chunk(0, 2), origin(0));
        let (new, next) = r.since(0);
        assert_eq!(new.map(|(_, o)| o.first).collect::<Vec<_>>(), [0]);
        assert_eq!(next, 1);
        for k in 1..4 {
            r.push_chunk(chunk(k * 2, 2), origin(k * 2));
        }
        // Chunk 1 was evicted unseen; chunks 2 and 3 are new since 1.
        let (new, next) = r.since(1);
        assert_eq!(new.map(|(_, o)| o.first).collect::<Vec<_>>(), [4, 6]);
        assert_eq!(next, 4);
        assert_eq!(r.since(4).0.count(), 0);
    }
}
