//! Combining a loaded profile with live data recorded afterwards
//! ([`PerformanceProfiler::load_profile_data`](crate::PerformanceProfiler::load_profile_data)).

use std::collections::BTreeMap;

use crate::model::event::EventKind;
use crate::model::profile::Profile;
use crate::model::stats::OperationStats;

/// `loaded` followed by `live`: live timestamps are shifted onto the loaded profile's time base
/// (by the difference of their wall-clock epochs), live event ids are offset past the loaded
/// ones, and aggregates are merged by operation.
pub(crate) fn merge(loaded: &Profile, live: Profile) -> Profile {
    if live.operations.is_empty() && live.events.is_empty() {
        let mut p = loaded.clone();
        p.samples.extend(shift_samples(&live, loaded));
        p.sessions.extend(live.sessions);
        return p;
    }
    let shift = live
        .started_at_unix_ns
        .saturating_sub(loaded.started_at_unix_ns);
    let id_offset = loaded.events.iter().map(|e| e.id).max().unwrap_or(0);
    let thread_offset = loaded.threads.iter().map(|t| t.id).max().unwrap_or(0);
    let mut out = loaded.clone();
    out.cpu_watts_per_core = live.cpu_watts_per_core.or(out.cpu_watts_per_core);
    // The live heap's growth says nothing of the loaded events' memory, nor the loaded one of
    // the live events': a merged profile has none (its leak findings say so).
    out.heap_growth_bytes = None;
    // Ids, times and counts from a file can be anything: every sum saturates.
    out.duration_ns = out.duration_ns.max(live.duration_ns.saturating_add(shift));
    out.dropped_events = out.dropped_events.saturating_add(live.dropped_events);
    out.alloc_tracking |= live.alloc_tracking;
    out.warnings.extend(live.warnings.iter().cloned());
    out.samples.extend(shift_samples(&live, loaded));
    out.threads.extend(live.threads.into_iter().map(|mut t| {
        t.id = t.id.saturating_add(thread_offset);
        t
    }));
    out.sessions.extend(live.sessions.into_iter().map(|mut s| {
        s.start_ns = s.start_ns.saturating_add(shift);
        s.end_ns = s.end_ns.map(|e| e.saturating_add(shift));
        s
    }));
    out.events.extend(live.events.into_iter().map(|mut e| {
        e.id = e.id.saturating_add(id_offset);
        e.parent = e.parent.map(|p| p.saturating_add(id_offset));
        e.thread_id = e.thread_id.saturating_add(thread_offset);
        e.start_ns = e.start_ns.saturating_add(shift);
        e.end_ns = e.end_ns.saturating_add(shift);
        e
    }));
    let mut ops: BTreeMap<(String, EventKind), OperationStats> = out
        .operations
        .drain(..)
        .map(|o| ((o.name.to_string(), o.kind), o))
        .collect();
    for o in live.operations {
        match ops.get_mut(&(o.name.to_string(), o.kind)) {
            Some(m) => m.merge(&o),
            None => {
                ops.insert((o.name.to_string(), o.kind), o);
            }
        }
    }
    out.operations = ops.into_values().collect();
    out
}

fn shift_samples(live: &Profile, loaded: &Profile) -> Vec<crate::model::sample::MonitorSample> {
    let shift = live
        .started_at_unix_ns
        .saturating_sub(loaded.started_at_unix_ns);
    live.samples
        .iter()
        .map(|s| {
            let mut s = *s;
            s.t_ns = s.t_ns.saturating_add(shift);
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::ProfileEvent;
    use crate::model::profile::ThreadInfo;

    #[test]
    fn merging_a_file_of_u64_sized_values_saturates() {
        let mut loaded = Profile::empty();
        loaded.duration_ns = u64::MAX;
        loaded.dropped_events = u64::MAX;
        loaded.threads.push(ThreadInfo {
            id: u64::MAX,
            name: "t".into(),
        });
        let mut e = ProfileEvent::new(u64::MAX, "f".into(), EventKind::Computation, 1, 0, 1);
        e.parent = Some(u64::MAX);
        loaded.events.push(e.clone());
        let mut op = OperationStats::new("f".into(), EventKind::Computation);
        op.count = u64::MAX;
        loaded.operations.push(op.clone());
        let mut live = Profile::empty();
        live.started_at_unix_ns = 10;
        live.duration_ns = u64::MAX;
        live.dropped_events = 5;
        live.threads.push(ThreadInfo {
            id: 3,
            name: "u".into(),
        });
        e.start_ns = u64::MAX - 1;
        e.end_ns = u64::MAX;
        live.events.push(e);
        op.count = 7;
        live.operations.push(op);
        let m = merge(&loaded, live);
        assert_eq!(m.duration_ns, u64::MAX);
        assert_eq!(m.dropped_events, u64::MAX);
        assert_eq!(m.operations[0].count, u64::MAX);
        assert!(m.events.iter().all(|e| e.end_ns >= e.start_ns));
    }
}
