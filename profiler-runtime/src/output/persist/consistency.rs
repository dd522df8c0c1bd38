//! Checks of what a file's values mean together, after each value parsed on its own.
//!
//! **Overflow** (never repaired): the sums the reports and the analysis take must fit their
//! integer types: per-operation counts, times, allocation figures, errors and panics summed
//! over operations (`u64`; `sum_sq_ns` in `u128`), and the events' wall, busy and self times
//! and allocation figures summed over events. A file that breaks one is
//! [`BadFileKind::InvalidValue`](super::BadFileKind::InvalidValue) naming the field.
//!
//! **Consistency** (repaired by a lenient load): an event that ends before it starts; self time
//! above busy time; two events with one id; a parent that points nowhere (`0`, which is never
//! an id, or the event itself); a cycle of parents. A strict load refuses the file with
//! [`BadFileKind::Inconsistent`](super::BadFileKind::Inconsistent) naming the first offending
//! event (by position in the file). A parent id that is simply absent is *not* an
//! inconsistency: it is a span that was still open when the profile was taken, or whose event
//! was dropped from the bounded raw buffer, and every consumer treats the child as a root.
//!
//! Repairs: the end becomes `start + busy`; self time becomes busy time; a later duplicate gets
//! a fresh id above every other (children keep pointing to the first); a parent that points
//! nowhere is removed; a cycle is cut at the link that closes it.
//!
//! Memory: 24 bytes per event (id, parent, position), sorted once, whether or not the events
//! themselves are kept.

use std::fmt;
use std::path::Path;

use super::check::{bad, BadFileKind};
use crate::error::ProfileError;
use crate::model::event::ProfileEvent;
use crate::model::stats::OperationStats;

/// What a lenient load repaired, by kind of inconsistency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repairs {
    /// Events that ended before they started (end set to start + busy).
    pub end_before_start: u64,
    /// Events whose self time was above their busy time (set to the busy time).
    pub self_over_busy: u64,
    /// Events whose id repeated an earlier event's (given a fresh id).
    pub duplicate_ids: u64,
    /// Parents that pointed nowhere (removed).
    pub dangling_parents: u64,
    /// Cycles of parents (each cut at one link).
    pub parent_cycles: u64,
}

impl Repairs {
    /// Everything repaired.
    pub fn total(&self) -> u64 {
        self.end_before_start
            .saturating_add(self.self_over_busy)
            .saturating_add(self.duplicate_ids)
            .saturating_add(self.dangling_parents)
            .saturating_add(self.parent_cycles)
    }
}

impl fmt::Display for Repairs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            (self.end_before_start, "ending before their start"),
            (self.self_over_busy, "with self time above busy time"),
            (self.duplicate_ids, "with a duplicate id"),
            (self.dangling_parents, "with a parent that points nowhere"),
            (self.parent_cycles, "cycles of parents cut"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            f.write_str("nothing to repair")
        } else {
            write!(f, "repaired {}: {}", self.total(), parts.join(", "))
        }
    }
}

/// Position, id and parent (0 for none) of one event.
#[derive(Clone, Copy)]
struct Link {
    id: u64,
    parent: u64,
    at: u32,
}

/// Sums and checks accumulated row by row while the events are parsed.
pub(super) struct Tally {
    lenient: bool,
    seen: u64,
    links: Vec<Link>,
    /// The first inconsistency found row by row: (position, what).
    first: Option<(u64, String)>,
    repairs: Repairs,
    sums: [u64; 6],
    overflow: Option<String>,
}

const EVENT_SUMS: [&str; 6] = [
    "wall time (end_ns - start_ns)",
    "busy_ns",
    "self_ns",
    "alloc.allocated_bytes",
    "alloc.freed_bytes",
    "alloc.allocations",
];

impl Tally {
    pub(super) fn new(lenient: bool) -> Self {
        Tally {
            lenient,
            seen: 0,
            links: Vec::new(),
            first: None,
            repairs: Repairs::default(),
            sums: [0; 6],
            overflow: None,
        }
    }

    /// Events seen.
    pub(super) fn seen(&self) -> u64 {
        self.seen
    }

    /// Checks (and, lenient, repairs) one event as it is read.
    pub(super) fn row(&mut self, e: &mut ProfileEvent) -> Result<(), String> {
        let at = self.seen;
        self.seen += 1;
        let at32 = u32::try_from(at)
            .map_err(|_| "more than 4294967295 events in one profile".to_owned())?;
        let who = || format!("event #{at} (id {}, `{}`)", e.id, e.name);
        if e.end_ns < e.start_ns {
            self.note(at, || {
                format!(
                    "{} ends at {} ns, before it starts at {} ns",
                    who(),
                    e.end_ns,
                    e.start_ns
                )
            });
            self.repairs.end_before_start += 1;
            e.end_ns = e.start_ns.saturating_add(e.busy_ns);
        }
        if e.self_ns > e.busy_ns {
            self.note(at, || {
                format!(
                    "{} has self time {} ns above its busy time {} ns",
                    who(),
                    e.self_ns,
                    e.busy_ns
                )
            });
            self.repairs.self_over_busy += 1;
            e.self_ns = e.busy_ns;
        }
        match e.parent {
            Some(0) => {
                self.note(at, || {
                    format!(
                        "{} has parent 0, which points nowhere (ids are never 0)",
                        who()
                    )
                });
                self.repairs.dangling_parents += 1;
                e.parent = None;
            }
            Some(p) if p == e.id => {
                self.note(at, || format!("{} is its own parent", who()));
                self.repairs.dangling_parents += 1;
                e.parent = None;
            }
            _ => {}
        }
        let alloc = e.alloc.unwrap_or_default();
        let values = [
            e.end_ns - e.start_ns,
            e.busy_ns,
            e.self_ns,
            alloc.allocated_bytes,
            alloc.freed_bytes,
            alloc.allocations,
        ];
        for (k, v) in values.into_iter().enumerate() {
            match self.sums[k].checked_add(v) {
                Some(s) => self.sums[k] = s,
                None => {
                    self.overflow.get_or_insert_with(|| {
                        format!(
                            "events[{at}].{}: the events' {} sum past u64::MAX ({v} at event #{at})",
                            EVENT_SUMS[k].split(' ').next().unwrap_or(""),
                            EVENT_SUMS[k]
                        )
                    });
                }
            }
        }
        if let Some(o) = &self.overflow {
            return Err(o.clone());
        }
        self.links
            .try_reserve(1)
            .map_err(|_| "out of memory for the events' ids (see `ulimit -v`)".to_owned())?;
        self.links.push(Link {
            id: e.id,
            parent: e.parent.unwrap_or(0),
            at: at32,
        });
        Ok(())
    }

    fn note(&mut self, at: u64, what: impl FnOnce() -> String) {
        if self.first.is_none() {
            self.first = Some((at, what()));
        }
    }

    /// The checks across events (duplicate ids, cycles). `events` holds the events in file
    /// order when they were kept (repairs go into them), or is empty. Returns what was repaired
    /// (lenient) or the first inconsistency (strict).
    pub(super) fn finish(
        mut self,
        events: &mut [ProfileEvent],
        path: &Path,
    ) -> Result<Repairs, ProfileError> {
        let mut links = std::mem::take(&mut self.links);
        links.sort_unstable_by_key(|l| (l.id, l.at));
        // Duplicates: every later event with an id already seen.
        let mut next_id = links.last().map_or(1, |l| l.id.saturating_add(1));
        for i in 1..links.len() {
            if links[i].id == links[i - 1].id {
                let (dup, id) = (links[i].at, links[i].id);
                let first_at = links.partition_point(|l| l.id < id);
                let first = links[first_at].at;
                self.note(u64::from(dup), || {
                    format!("event #{dup} has id {id}, like event #{first} before it")
                });
                self.repairs.duplicate_ids += 1;
                if let Some(e) = events.get_mut(dup as usize) {
                    e.id = next_id;
                }
                next_id = next_id.saturating_add(1);
            }
        }
        self.cycles(&links, events);
        match self.first.take() {
            Some((_, what)) if !self.lenient => Err(bad(
                path,
                BadFileKind::Inconsistent,
                format!(
                    "{what} (load with --lenient, or LoadOptions::lenient, to repair {} such \
                     problem(s))",
                    self.repairs.total()
                ),
            )),
            _ => Ok(self.repairs),
        }
    }

    /// Finds cycles of parents (each parent resolved to the first event with its id).
    fn cycles(&mut self, links: &[Link], events: &mut [ProfileEvent]) {
        // 0: not seen, 1: on the current walk, 2: done.
        let mut state = vec![0u8; links.len()];
        let mut walk: Vec<usize> = Vec::new();
        let find = |id: u64| {
            let i = links.partition_point(|l| l.id < id);
            (i < links.len() && links[i].id == id).then_some(i)
        };
        for start in 0..links.len() {
            if state[start] != 0 {
                continue;
            }
            walk.clear();
            let mut cur = start;
            loop {
                state[cur] = 1;
                walk.push(cur);
                let Some(p) = (links[cur].parent != 0)
                    .then(|| find(links[cur].parent))
                    .flatten()
                else {
                    break;
                };
                match state[p] {
                    0 => cur = p,
                    1 => {
                        let from = walk.iter().position(|&w| w == p).unwrap_or(0);
                        let members = &walk[from..];
                        let first = members.iter().map(|&m| links[m].at).min().unwrap_or(0);
                        let closing = links[cur].at;
                        self.note(u64::from(first), || {
                            format!(
                                "event #{first} is in a cycle of {} parent link(s) (event \
                                 #{closing} points back into it)",
                                members.len()
                            )
                        });
                        self.repairs.parent_cycles += 1;
                        if let Some(e) = events.get_mut(closing as usize) {
                            e.parent = None;
                        }
                        break;
                    }
                    _ => break,
                }
            }
            for &w in &walk {
                state[w] = 2;
            }
        }
    }
}

/// Checks that the sums over operations fit their types.
pub(super) fn check_operation_sums(
    ops: &[OperationStats],
    path: &Path,
) -> Result<(), ProfileError> {
    type Field = (&'static str, fn(&OperationStats) -> u64);
    let fields: [Field; 10] = [
        ("count", |o| o.count),
        ("total_ns", |o| o.total_ns),
        ("busy_ns", |o| o.busy_ns),
        ("self_ns", |o| o.self_ns),
        ("alloc.allocated_bytes", |o| o.alloc.allocated_bytes),
        ("alloc.freed_bytes", |o| o.alloc.freed_bytes),
        ("alloc.allocations", |o| o.alloc.allocations),
        ("alloc_count", |o| o.alloc_count),
        ("errors", |o| o.errors),
        ("panics", |o| o.panics),
    ];
    for (name, get) in fields {
        let mut sum: u64 = 0;
        for (i, o) in ops.iter().enumerate() {
            sum = sum.checked_add(get(o)).ok_or_else(|| {
                bad(
                    path,
                    BadFileKind::InvalidValue,
                    format!(
                        "operations[{i}].{name} (`{}`): the operations' {name} sum past \
                         u64::MAX",
                        o.name
                    ),
                )
            })?;
        }
    }
    let mut sq: u128 = 0;
    for (i, o) in ops.iter().enumerate() {
        sq = sq.checked_add(o.sum_sq_ns).ok_or_else(|| {
            bad(
                path,
                BadFileKind::InvalidValue,
                format!(
                    "operations[{i}].sum_sq_ns (`{}`): the operations' sums of squares sum past \
                     u128::MAX",
                    o.name
                ),
            )
        })?;
    }
    Ok(())
}

/// Turns a row-check failure into the file's error.
pub(super) fn overflow_error(path: &Path, what: String) -> ProfileError {
    bad(path, BadFileKind::InvalidValue, what)
}
