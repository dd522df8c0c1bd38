//! The compact record of a closed span, as the hot path writes it.
//!
//! A [`RawEvent`] is one 64-byte cache line with no destructor: ids, the raw start, the three
//! durations, the operation and flags. What most spans do not have (allocation counts other than
//! zero, a metric, an error) lives beside it in an [`Aux`] of the same [`Chunk`], found through
//! the event's `aux` index; an [`Aux`] has no destructor either, and the rare parts that own
//! heap data (many metrics, owned keys, an error text) go one step further out, in an
//! [`Extra`] the [`Aux`] names by index. So an empty span costs one cache-line store, and
//! recycling a chunk of the bounded ring never reads its events or side records back to drop
//! them.

use std::backtrace::Backtrace;
use std::borrow::Cow;
use std::sync::Arc;

use crate::model::event::{AllocSizes, AllocStats};
use crate::record::args::ArgRec;
use crate::record::clock::ProfClock;
use crate::record::ids::EventId;

/// The rare parts of an event, kept apart so the common records stay destructor-free: more
/// metrics than an [`Aux`] holds inline, metrics with owned keys, an error text, the whole
/// process's heap traffic of a span that counts it, a backtrace.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra {
    pub metrics: Vec<(Cow<'static, str>, f64)>,
    pub error: Option<Box<str>>,
    pub process: Option<ProcessAlloc>,
    /// Captured at the close of a slow event (resolved to text only when a snapshot reads it).
    pub backtrace: Option<Arc<Backtrace>>,
}

/// Every thread's heap traffic while a span was open, by size class too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ProcessAlloc {
    pub stats: AllocStats,
    pub sizes: AllocSizes,
}

/// A closed span in compact form (64 bytes); turned into a
/// [`ProfileEvent`](crate::ProfileEvent) at snapshot time.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
pub(crate) struct RawEvent {
    /// Unique across threads: the profiler's thread id in the top 24 bits.
    pub id: u64,
    /// The parent's event id, 0 for none.
    pub parent: u64,
    /// Raw clock reading of the start (scaled to ns at snapshot time).
    pub start_raw: u64,
    /// First enter to last exit, and time entered, in raw clock ticks (scaled to ns off the
    /// hot path).
    pub wall: u64,
    pub busy: u64,
    /// Same-thread children's wall time in ns: self time is busy time minus this.
    pub child_ns: u64,
    pub op: u32,
    /// 1 + the index of this event's [`Aux`] in its chunk; 0 for none.
    pub aux: u32,
    pub flags: u8,
    /// 1 + the index of this event's inline arguments ([`ArgRec`]) in its chunk; 0 for none.
    pub args: u16,
}

impl RawEvent {
    pub(crate) const PANICKED: u8 = 1;
    /// The allocator was installed: allocation stats are known (zero unless an [`Aux`] says
    /// otherwise).
    pub(crate) const HAS_ALLOC: u8 = 2;
    /// Every argument of the profiled function is among the metrics (see
    /// [`ProfileEvent::args_recorded`](crate::ProfileEvent::args_recorded)).
    pub(crate) const ARGS_RECORDED: u8 = 4;

    /// The profiler's id of the thread that recorded the event.
    #[inline(always)]
    pub(crate) fn thread_id(&self) -> u64 {
        EventId::from_raw(self.id).thread()
    }

    /// The parent's event id, `None` for a root.
    #[inline]
    pub(crate) fn parent(&self) -> Option<u64> {
        EventId::from_raw(self.parent).get()
    }

    /// Wall, busy and self time in ns: the raw ticks scaled by `clock`, self time being busy
    /// time minus the children's (already in ns).
    #[inline(always)]
    pub(crate) fn durations_ns(&self, clock: &ProfClock) -> (u64, u64, u64) {
        let busy = clock.ticks_ns(self.busy);
        (
            clock.ticks_ns(self.wall),
            busy,
            busy.saturating_sub(self.child_ns),
        )
    }
}

/// Metrics with static keys (tracing field names) an [`Aux`] holds without a heap allocation.
pub(crate) const INLINE_METRICS: usize = 3;

/// The side record of an event that allocated, carried metrics or failed. Plain data (`Copy`,
/// no destructor): a buffer of them is recycled without reading it back.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Aux {
    pub alloc: AllocStats,
    /// The first `n_inline` entries are metrics, when all of the event's metrics have static
    /// keys and fit (the common case: a few fields and `metrics!` values).
    pub inline: [(&'static str, f64); INLINE_METRICS],
    pub n_inline: u8,
    /// 1 + the index of this event's [`Extra`] in its chunk (everything else: more metrics,
    /// owned keys, an error text); 0 for none.
    pub extra: u32,
}

impl Aux {
    /// A side record with nothing in it yet.
    pub(crate) const EMPTY: Aux = Aux {
        alloc: AllocStats {
            allocated_bytes: 0,
            freed_bytes: 0,
            allocations: 0,
        },
        inline: [("", 0.0); INLINE_METRICS],
        n_inline: 0,
        extra: 0,
    };
}

/// An event with its side records, as readers see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventRef<'a> {
    pub ev: &'a RawEvent,
    pub aux: Option<&'a Aux>,
    pub extra: Option<&'a Extra>,
    pub args: Option<&'a ArgRec>,
}

impl<'a> EventRef<'a> {
    /// Allocation stats, `None` when the allocator was not installed.
    pub(crate) fn alloc(&self) -> Option<AllocStats> {
        (self.ev.flags & RawEvent::HAS_ALLOC != 0)
            .then(|| self.aux.map(|a| a.alloc).unwrap_or_default())
    }

    /// Whether the event has metrics or an error (worth a look at them).
    #[inline(always)]
    pub(crate) fn has_extras(&self) -> bool {
        self.args.is_some() || self.aux.is_some_and(|a| a.n_inline > 0 || a.extra != 0)
    }

    /// Every metric of the event: its inline arguments, then the others (a key appears once:
    /// the frame summed repeats before the close).
    pub(crate) fn for_each_metric(&self, mut f: impl FnMut(&'a str, f64)) {
        if let Some(args) = self.args {
            args.for_each(&mut f);
        }
        let Some(aux) = self.aux else { return };
        for &(k, v) in &aux.inline[..usize::from(aux.n_inline)] {
            f(k, v);
        }
        if let Some(x) = self.extra {
            for (k, v) in &x.metrics {
                f(k, *v);
            }
        }
    }

    pub(crate) fn error(&self) -> Option<&'a str> {
        self.extra.and_then(|x| x.error.as_deref())
    }

    /// The whole process's heap traffic, for a span that counts it.
    pub(crate) fn process(&self) -> Option<ProcessAlloc> {
        self.extra.and_then(|x| x.process)
    }

    /// The backtrace captured at the close of a slow event, as text.
    pub(crate) fn backtrace(&self) -> Option<String> {
        self.extra
            .and_then(|x| x.backtrace.as_ref())
            .map(|b| b.to_string())
    }
}

/// A run of events from one thread with their side records: the unit the ring keeps.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    pub events: Vec<RawEvent>,
    pub aux: Vec<Aux>,
    pub extras: Vec<Extra>,
    /// Inline arguments of the events that have them (see [`crate::record::args`]).
    pub args: Vec<ArgRec>,
}

impl Chunk {
    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// The event at `i` with its side records.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<EventRef<'_>> {
        let ev = self.events.get(i)?;
        let aux = ev.aux.checked_sub(1).and_then(|k| self.aux.get(k as usize));
        let extra = aux
            .and_then(|a| a.extra.checked_sub(1))
            .and_then(|j| self.extras.get(j as usize));
        let args = ev
            .args
            .checked_sub(1)
            .and_then(|j| self.args.get(usize::from(j)));
        Some(EventRef {
            ev,
            aux,
            extra,
            args,
        })
    }

    /// Moves `other`'s events and side records to the end of this chunk (renumbering their
    /// side-record indices) and returns `other`'s emptied event buffer, for reuse.
    pub(crate) fn append(&mut self, other: Chunk) -> Vec<RawEvent> {
        let Chunk {
            mut events,
            aux,
            mut extras,
            args,
        } = other;
        // Indices are 1-based and below `u32::MAX` (`u16::MAX` for arguments): a chunk never
        // holds more than a stage's worth of events (and one side record, one extra and one
        // argument record each).
        let aux_base = self.aux.len() as u32;
        let extra_base = self.extras.len() as u32;
        let args_base = self.args.len() as u16;
        self.args.extend_from_slice(&args);
        self.aux.extend(aux.into_iter().map(|mut a| {
            if a.extra != 0 {
                a.extra += extra_base;
            }
            a
        }));
        self.extras.append(&mut extras);
        self.events.extend(events.iter().map(|e| {
            let mut e = *e;
            if e.aux != 0 {
                e.aux += aux_base;
            }
            if e.args != 0 {
                e.args += args_base;
            }
            e
        }));
        events.clear();
        events
    }

    /// Every event with its side records, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = EventRef<'_>> {
        (0..self.events.len()).filter_map(|i| self.get(i))
    }

    /// One event with a side record that owns heap data (for unit tests of the buffers): its
    /// `Aux` with the `Extra` it names.
    #[cfg(test)]
    pub(crate) fn test_event(id: u64) -> (RawEvent, Aux, Extra) {
        let ev = RawEvent {
            id: EventId::new(1, id).raw(),
            start_raw: id,
            wall: 1,
            busy: 1,
            child_ns: 0,
            ..RawEvent::default()
        };
        let extra = Extra {
            metrics: vec![(Cow::Owned(format!("m{id}")), 1.0)],
            ..Extra::default()
        };
        (ev, Aux::default(), extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_cache_line_and_nothing_on_the_hot_path_needs_a_drop() {
        assert_eq!(std::mem::size_of::<RawEvent>(), 64);
        assert!(!std::mem::needs_drop::<RawEvent>());
        assert!(!std::mem::needs_drop::<Aux>());
    }
}
