//! Inline arguments: the first numeric arguments of a `#[profile]` function, recorded beside
//! the event without the generic metric map or a side record.
//!
//! The macro records only primitive numbers and `bool`s as arguments (its `primitive` list),
//! each as a field before the span's marker field. The first [`INLINE_ARGS`] of them are
//! read straight into an [`ArgRec`] on the span's frame: a value by field index, no key
//! compared, no `Cow`, no vector. At the close the record goes, as it is, into the thread's
//! stage next to the event (one small store); the event stays "plain" (no [`Aux`]) unless it
//! has something else. The keys are recovered only where the metrics are read (the fold
//! worker, snapshots, the journal), from the callsite's `'static` metadata: the field's own
//! name, or `arg.<name>` for a reserved one ([`crate::contract::ARG_KEYS`]), exactly as the
//! generic path names them, so every output is the same.
//!
//! A sync `#[profile]` span (the macro's marker with its sync option) does not even pass its
//! inline arguments through `tracing`'s visitor: right after creating the span, the expansion
//! hands their values to [`stage`] (a thread-local store of the span's id and the values), and
//! the span's first enter, on the same thread a few instructions later, takes them into its
//! record ([`ArgRec::take_staged`]). The arguments stay fields of the span for every other
//! layer. This removes two dynamic calls per field (`Value::record`, then the visitor) and the
//! value set's walk from the profiled call, most of what an argument cost.
//!
//! [`Aux`]: crate::record::raw::Aux

use std::cell::Cell;

use tracing::Metadata;

use crate::contract::{reserved_index, ARG_KEYS};

/// Arguments read into an event's inline record; further ones take the generic metric path.
/// (The macro stages this many values, `[f64; 2]`: a different count fails to compile.)
pub const INLINE_ARGS: usize = 2;

/// The values a sync `#[profile]` span's expansion staged for its first enter: the span's id
/// (`Id::into_u64`) and its inline arguments.
#[derive(Clone, Copy)]
struct Staged {
    span: u64,
    vals: [f64; INLINE_ARGS],
}

thread_local! {
    /// The last values staged on this thread (see the module documentation). Never cleared:
    /// a span takes them only under its own id, and every span that expects them had them
    /// staged after its creation, so a stale entry is overwritten before it could be read.
    static STAGED: Cell<Staged> = const {
        Cell::new(Staged {
            span: 0,
            vals: [0.0; INLINE_ARGS],
        })
    };
}

/// Stages the inline arguments of the span with id `span` (as `Id::into_u64`) for its first
/// enter. Called by the `#[profile]` expansion right after it creates an enabled sync span
/// with recorded arguments; `vals[j]` is the `j`-th recorded argument as `f64` (0 where the
/// function records fewer).
#[inline(always)]
pub fn stage(span: u64, vals: [f64; INLINE_ARGS]) {
    // `try_with`: a call during this thread's teardown stages nothing (its span, opened while
    // the slot is gone, records nothing either).
    let _ = STAGED.try_with(|s| s.set(Staged { span, vals }));
}

/// Where a callsite's inline arguments are among its fields (computed once per callsite and
/// thread, see `ThreadSlot::callsite`).
///
/// Aligned as one `u32`, so it is copied as one word: byte-wise copies of it inside the
/// callsite info, loaded back as one wider word, stalled the hot path (a load spanning two
/// smaller stores cannot be forwarded from them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, align(4))]
pub(crate) struct ArgLayout {
    /// The field index of the first inline argument.
    pub first: u8,
    /// How many arguments are inline (0 to [`INLINE_ARGS`]), at field indices `first..first + n`.
    pub n: u8,
    /// Bit `j`: inline argument `j` has a reserved name and is reported as `arg.<name>`.
    pub reserved: u8,
}

impl ArgLayout {
    /// The inline slot of the field with index `field`, if it is one.
    #[inline(always)]
    pub(crate) fn slot_of(self, field: usize) -> Option<usize> {
        let j = field.wrapping_sub(usize::from(self.first));
        (j < usize::from(self.n)).then_some(j)
    }
}

/// The inline arguments of one event: their values, and what names them (the callsite's
/// metadata and the [`ArgLayout`]). Plain data (`Copy`, no destructor), 32 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArgRec {
    pub meta: &'static Metadata<'static>,
    pub vals: [f64; INLINE_ARGS],
    pub layout: ArgLayout,
    /// Bit `j`: slot `j` holds a value (a field given no value leaves its bit clear).
    pub set: u8,
    /// The values are to be taken from [`stage`] at the span's first enter (a sync
    /// `#[profile]` span), not from its fields.
    pub staged: bool,
}

impl ArgRec {
    /// A record of `meta`'s inline arguments with no value yet.
    #[inline(always)]
    pub(crate) fn new(meta: &'static Metadata<'static>, layout: ArgLayout) -> Self {
        ArgRec {
            meta,
            vals: [0.0; INLINE_ARGS],
            layout,
            set: 0,
            staged: false,
        }
    }

    /// A record whose values the span's expansion stages (see [`stage`]).
    #[inline(always)]
    pub(crate) fn staged(meta: &'static Metadata<'static>, layout: ArgLayout) -> Self {
        ArgRec {
            staged: true,
            ..ArgRec::new(meta, layout)
        }
    }

    /// At the first enter of span `span` (its id as a `u64`): takes the values staged for it,
    /// if any were (only a contract broken by hand leaves none).
    #[inline(always)]
    pub(crate) fn take_staged(&mut self, span: u64) {
        self.staged = false;
        if let Ok(st) = STAGED.try_with(Cell::get) {
            if st.span == span {
                self.vals = st.vals;
                self.set = (1u8 << self.layout.n) - 1;
            }
        }
    }

    /// Whether any slot holds a value.
    #[inline(always)]
    pub(crate) fn is_set(&self) -> bool {
        self.set != 0
    }

    /// Sets slot `j` (a repeat adds up, as the generic path sums a key given twice).
    #[inline(always)]
    pub(crate) fn put(&mut self, j: usize, v: f64) {
        let bit = 1u8 << j;
        if self.set & bit == 0 {
            self.vals[j] = v;
            self.set |= bit;
        } else {
            self.vals[j] += v;
        }
    }

    /// The metric key of slot `j`: the argument's field name, or `arg.<name>` for a reserved
    /// one. `None` for a slot the metadata does not have (never, for a record built from it).
    pub(crate) fn key(&self, j: usize) -> Option<&'static str> {
        let field = self
            .meta
            .fields()
            .iter()
            .nth(usize::from(self.layout.first) + j)?;
        let name = field.name();
        if self.layout.reserved & (1 << j) != 0 {
            return reserved_index(name).map(|i| ARG_KEYS[i]);
        }
        Some(name)
    }

    /// The slot whose key is `key`, among those holding a value.
    pub(crate) fn slot_of_key(&self, key: &str) -> Option<usize> {
        (0..INLINE_ARGS).find(|&j| self.set & (1 << j) != 0 && self.key(j) == Some(key))
    }

    /// Every (key, value) held, in slot order.
    #[inline]
    pub(crate) fn for_each<'a>(&self, mut f: impl FnMut(&'a str, f64)) {
        for j in 0..INLINE_ARGS {
            if self.set & (1 << j) != 0 {
                if let Some(k) = self.key(j) {
                    f(k, self.vals[j]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_small_plain_data() {
        assert!(std::mem::size_of::<ArgRec>() <= 32);
        assert!(!std::mem::needs_drop::<ArgRec>());
    }

    #[test]
    fn slots_are_the_fields_of_the_layout() {
        let l = ArgLayout {
            first: 3,
            n: 2,
            reserved: 0,
        };
        assert_eq!(l.slot_of(2), None);
        assert_eq!(l.slot_of(3), Some(0));
        assert_eq!(l.slot_of(4), Some(1));
        assert_eq!(l.slot_of(5), None);
        assert_eq!(ArgLayout::default().slot_of(0), None);
    }
}
