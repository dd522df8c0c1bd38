//! Typed ids of the recorder, where particular values carry meaning: 0 is "none" for both, and
//! bit 63 of a span key marks a frame that is not a `tracing` span.

use tracing::span::Id;

/// The key of an open span on a thread's stacks: a `tracing` span id (`Id::into_u64`: never 0,
/// below 2^63 for tracing-subscriber's registry), a virtual key (bit 63 set) for a frame that
/// is not a tracing span (`profile_function`), or [`SpanKey::NONE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub(crate) struct SpanKey(u64);

impl SpanKey {
    /// No span.
    pub(crate) const NONE: SpanKey = SpanKey(0);
    const VIRTUAL: u64 = 1 << 63;

    /// The key of a tracing span.
    #[inline(always)]
    pub(crate) fn of(id: &Id) -> Self {
        SpanKey(id.into_u64())
    }

    /// A virtual key, unique because `event` is.
    #[inline]
    pub(crate) fn virtual_for(event: EventId) -> Self {
        SpanKey(Self::VIRTUAL | event.0)
    }

    /// Whether this is [`SpanKey::NONE`].
    #[inline(always)]
    pub(crate) fn is_none(self) -> bool {
        self.0 == 0
    }

    /// The tracing span id, for a key that may be one a registry knows (not none, not
    /// virtual).
    #[inline]
    pub(crate) fn registry_id(self) -> Option<Id> {
        (self.0 != 0 && self.0 & Self::VIRTUAL == 0).then(|| Id::from_u64(self.0))
    }

    /// A key from its raw value (the ids the profiler's own subscriber gives its spans).
    #[inline(always)]
    pub(crate) fn from_raw(v: u64) -> Self {
        SpanKey(v)
    }

    /// The raw value, for a thread-local cell.
    #[inline(always)]
    pub(crate) fn raw(self) -> u64 {
        self.0
    }
}

/// The id of an event: the profiler's thread id in the top bits
/// ([`EventId::THREAD_SHIFT`]), a per-thread sequence number below; [`EventId::NONE`] is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub(crate) struct EventId(u64);

impl EventId {
    /// No event (a root's parent).
    pub(crate) const NONE: EventId = EventId(0);
    /// Bits of an event id below the thread id.
    pub(crate) const THREAD_SHIFT: u32 = 40;

    /// The id of the `seq`-th event (from 1) of profiler thread `thread`.
    #[inline(always)]
    pub(crate) fn new(thread: u64, seq: u64) -> Self {
        EventId((thread << Self::THREAD_SHIFT) | seq)
    }

    /// Rebuilds an id from its raw value (as stored in a raw event).
    #[inline(always)]
    pub(crate) fn from_raw(v: u64) -> Self {
        EventId(v)
    }

    /// The raw value (0 for none).
    #[inline(always)]
    pub(crate) fn raw(self) -> u64 {
        self.0
    }

    /// `None` for [`EventId::NONE`], else the raw value.
    #[inline]
    pub(crate) fn get(self) -> Option<u64> {
        (self.0 != 0).then_some(self.0)
    }

    /// The profiler's id of the thread that recorded the event.
    #[inline(always)]
    pub(crate) fn thread(self) -> u64 {
        self.0 >> Self::THREAD_SHIFT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_keys_are_never_registry_ids() {
        let e = EventId::new(3, 7);
        assert_eq!(e.thread(), 3);
        let v = SpanKey::virtual_for(e);
        assert!(v.registry_id().is_none());
        assert!(SpanKey::NONE.registry_id().is_none());
        assert_eq!(
            SpanKey::of(&Id::from_u64(42)).registry_id(),
            Some(Id::from_u64(42))
        );
        assert_eq!(EventId::NONE.get(), None);
    }
}
