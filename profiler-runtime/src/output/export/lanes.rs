//! Track assignment for timeline views: per thread, events are packed into lanes in which every
//! two events are either disjoint or nested, as Perfetto and `chrome://tracing` require of the
//! complete events of one `tid`.
//!
//! Synchronous spans always nest, so they stay in lane 0 (the thread's own track). An async span
//! that was entered on this thread but overlaps a sibling without containing it (two futures
//! interleaved on one thread) goes to the first further lane where it nests, a new one if none.
//! An event that fits inside its parent's interval goes to its parent's lane, so the children of
//! a moved async span move with it.

use std::collections::{BTreeMap, HashMap};

use crate::model::event::ProfileEvent;

/// The lane of each event (by index into the slice), and the number of lanes per thread.
pub(crate) struct Lanes {
    /// `lane[i]` is the lane of `events[i]`; 0 is the thread's own track.
    pub(crate) lane: Vec<u32>,
    /// Lanes used per thread id (at least 1 for every thread with events).
    pub(crate) per_thread: BTreeMap<u64, u32>,
}

/// Packs `events` into properly nested lanes per thread.
pub(crate) fn assign(events: &[ProfileEvent]) -> Lanes {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| {
        let e = &events[i];
        (
            e.thread_id,
            e.start_ns,
            std::cmp::Reverse(e.end_ns.max(e.start_ns)),
            e.id,
        )
    });
    let mut lane = vec![0u32; events.len()];
    let mut per_thread = BTreeMap::new();
    // Stacks of open intervals' end times, one per lane of the current thread.
    let mut stacks: Vec<Vec<u64>> = Vec::new();
    let mut current: Option<u64> = None;
    // Where each event id went: (thread, lane).
    let mut lane_of: HashMap<u64, (u64, u32)> = HashMap::with_capacity(events.len());
    for i in order {
        let e = &events[i];
        let (start, end) = (e.start_ns, e.end_ns.max(e.start_ns));
        if current != Some(e.thread_id) {
            stacks.clear();
            current = Some(e.thread_id);
        }
        // The parent's lane first (a child that fits inside its parent stays under it), then
        // first fit.
        let parent_lane = e
            .parent
            .and_then(|p| lane_of.get(&p))
            .and_then(|&(t, k)| (t == e.thread_id).then_some(k as usize));
        let mut placed = None;
        for k in parent_lane.into_iter().chain(0..stacks.len()) {
            let Some(stack) = stacks.get_mut(k) else {
                continue;
            };
            while stack
                .last()
                .is_some_and(|&top| top <= start && !(top == start && end == start))
            {
                stack.pop();
            }
            if stack.last().is_none_or(|&top| end <= top) {
                stack.push(end);
                placed = Some(k);
                break;
            }
        }
        let k = placed.unwrap_or_else(|| {
            stacks.push(vec![end]);
            stacks.len() - 1
        });
        lane[i] = k as u32;
        lane_of.insert(e.id, (e.thread_id, k as u32));
        let n = per_thread.entry(e.thread_id).or_insert(1u32);
        *n = (*n).max(k as u32 + 1);
    }
    Lanes { lane, per_thread }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ev(id: u64, start: u64, end: u64) -> ProfileEvent {
        ProfileEvent {
            id,
            parent: None,
            name: "x".into(),
            kind: crate::EventKind::FunctionCall,
            thread_id: 1,
            start_ns: start,
            end_ns: end,
            busy_ns: end - start,
            self_ns: 0,
            metrics: BTreeMap::new(),
            alloc: None,
            error: None,
            panicked: false,
            process_alloc: None,
            alloc_sizes: None,
            backtrace: None,
            args_recorded: false,
        }
    }

    #[test]
    fn nested_stay_overlapping_move() {
        let evs = vec![
            ev(1, 0, 100),
            ev(2, 10, 20),
            ev(3, 20, 30),
            ev(4, 25, 150),
            ev(5, 100, 100),
        ];
        let l = assign(&evs);
        assert_eq!(l.lane, vec![0, 0, 0, 1, 0]);
        assert_eq!(l.per_thread[&1], 2);
    }

    #[test]
    fn children_follow_their_parent() {
        let mut child = ev(3, 60, 70);
        child.parent = Some(2);
        let l = assign(&[ev(1, 5, 50), ev(2, 20, 80), child]);
        assert_eq!(l.lane, vec![0, 1, 1]);
    }
}
