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
    out.duration_ns = out.duration_ns.max(live.duration_ns + shift);
    out.dropped_events += live.dropped_events;
    out.alloc_tracking |= live.alloc_tracking;
    out.samples.extend(shift_samples(&live, loaded));
    out.threads.extend(live.threads.into_iter().map(|mut t| {
        t.id += thread_offset;
        t
    }));
    out.sessions.extend(live.sessions.into_iter().map(|mut s| {
        s.start_ns += shift;
        s.end_ns = s.end_ns.map(|e| e + shift);
        s
    }));
    out.events.extend(live.events.into_iter().map(|mut e| {
        e.id += id_offset;
        e.parent = e.parent.map(|p| p + id_offset);
        e.thread_id += thread_offset;
        e.start_ns += shift;
        e.end_ns += shift;
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
            s.t_ns += shift;
            s
        })
        .collect()
}
