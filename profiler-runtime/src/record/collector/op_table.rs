//! [`OpTable`]: the interned operations, (name, kind) -> dense index, bounded by the cap on
//! distinct operations (names beyond it fold into one `<other>` per kind).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::model::event::{EventKind, Name};
use crate::model::hash::IntHasher;
use crate::model::stats::{FOLDED_NAMES_TRACKED, OTHER_OPERATION};

/// Interned operations: (name, kind) -> dense index, at most `max` of them under their own
/// names; names beyond that fold into one [`OTHER_OPERATION`] per kind.
pub(crate) struct OpTable {
    /// By kind, then name: a lookup borrows the name (no allocation for a known operation).
    by_key: HashMap<EventKind, HashMap<Name, u32>>,
    pub(super) ops: Vec<(Name, EventKind)>,
    /// Most operations interned under their own name.
    max: usize,
    /// Each kind's [`OTHER_OPERATION`], once a name of that kind was folded.
    other: [Option<u32>; EventKind::ALL.len()],
    /// Hashes of the names folded so far (at most [`FOLDED_NAMES_TRACKED`]), to count each
    /// once without keeping it.
    folded: HashSet<u64, BuildHasherDefault<IntHasher>>,
    /// Distinct folded names per kind.
    folded_names: [u64; EventKind::ALL.len()],
}

impl OpTable {
    pub(super) fn new(max: usize) -> Self {
        OpTable {
            by_key: HashMap::new(),
            ops: Vec::new(),
            max,
            other: [None; EventKind::ALL.len()],
            folded: HashSet::default(),
            folded_names: [0; EventKind::ALL.len()],
        }
    }

    /// The operation's index, for a name interned or already folded.
    pub(super) fn find(&self, name: &str, kind: EventKind) -> Option<u32> {
        if let Some(i) = self.by_key.get(&kind).and_then(|m| m.get(name)) {
            return Some(*i);
        }
        let other = self.other[kind as usize]?;
        self.folded
            .contains(&folded_hash(name, kind))
            .then_some(other)
    }

    /// The operation's index, interning it or folding it into its kind's
    /// [`OTHER_OPERATION`] beyond the cap.
    pub(super) fn insert(&mut self, name: &str, kind: EventKind) -> u32 {
        if let Some(i) = self.find(name, kind) {
            return i;
        }
        if self.ops.len() < self.max {
            return self.push(Name::from(name), kind);
        }
        let other = match self.other[kind as usize] {
            Some(i) => i,
            None => {
                let i = match self.by_key.get(&kind).and_then(|m| m.get(OTHER_OPERATION)) {
                    Some(&i) => i,
                    None => self.push(Name::from(OTHER_OPERATION), kind),
                };
                self.other[kind as usize] = Some(i);
                i
            }
        };
        if (self.folded.len() as u64) < FOLDED_NAMES_TRACKED
            && self.folded.insert(folded_hash(name, kind))
        {
            self.folded_names[kind as usize] += 1;
        }
        other
    }

    pub(super) fn push(&mut self, name: Name, kind: EventKind) -> u32 {
        let i = self.ops.len() as u32;
        self.ops.push((name.clone(), kind));
        self.by_key.entry(kind).or_default().insert(name, i);
        i
    }

    pub(crate) fn get(&self, op: u32) -> Option<&(Name, EventKind)> {
        self.ops.get(op as usize)
    }

    /// Distinct names folded into operation `op` (0 unless it is an [`OTHER_OPERATION`]).
    pub(super) fn folded_into(&self, op: u32, kind: EventKind) -> u64 {
        if self.other[kind as usize] == Some(op) {
            self.folded_names[kind as usize]
        } else {
            0
        }
    }
}

/// A 64-bit hash of a folded (name, kind): distinct names collide with probability 2^-64 per
/// pair (std's SipHash, with fixed keys).
fn folded_hash(name: &str, kind: EventKind) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    name.hash(&mut h);
    kind.hash(&mut h);
    h.finish()
}
