//! Combining profiles: a loaded profile with live data recorded afterwards in one process
//! ([`PerformanceProfiler::load_profile_data`](crate::PerformanceProfiler::load_profile_data)),
//! and the profiles of many processes ([`Profile::merge`]).

use std::collections::BTreeMap;

use crate::error::ProfileError;
use crate::model::event::{EventKind, Name};
use crate::model::process::{ProcessRecord, ProcessTotals};
use crate::model::profile::{Profile, FORMAT_VERSION};
use crate::model::stats::OperationStats;

/// `loaded` followed by `live`: live timestamps are shifted onto the loaded profile's time base
/// (by the difference of their wall-clock epochs), live event ids are offset past the loaded
/// ones, and aggregates are merged by operation.
pub(crate) fn merge(loaded: &Profile, live: Profile) -> Profile {
    if live.operations.is_empty() && live.events.is_empty() {
        let mut p = loaded.clone();
        p.samples.extend(shift_samples(&live, loaded));
        p.sessions.extend(live.sessions);
        if p.processes.is_empty() {
            p.processes = live.processes;
        }
        return p;
    }
    let processes = combine_processes(loaded, &live);
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
    out.processes = processes;
    out
}

/// The process records of `loaded` followed by `live`, whose threads come after the loaded
/// ones (as [`merge`] numbers them). A live process that is the loaded one's own run adds
/// nothing; another one makes the profile one of several processes, each with its figures.
fn combine_processes(loaded: &Profile, live: &Profile) -> Vec<ProcessRecord> {
    let thread_offset = loaded.threads.iter().map(|t| t.id).max().unwrap_or(0);
    let mut out: Vec<ProcessRecord> = loaded.processes.clone();
    for r in &live.processes {
        if let Some(same) = out.iter_mut().find(|o| o.same_run(r)) {
            same.last_thread_id = u64::MAX;
            continue;
        }
        if let [only] = out.as_mut_slice() {
            only.totals.get_or_insert_with(|| ProcessTotals::of(loaded));
            only.last_thread_id = only.last_thread_id.min(thread_offset);
        }
        let mut r = r.clone();
        r.totals.get_or_insert_with(|| ProcessTotals::of(live));
        r.first_thread_id = r
            .first_thread_id
            .saturating_add(thread_offset)
            .max(thread_offset.saturating_add(1));
        r.last_thread_id = r.last_thread_id.saturating_add(thread_offset);
        out.push(r);
    }
    out
}

impl Profile {
    /// Merges the profiles of several processes (or machines) into one: exact aggregates
    /// summed per operation, every kept event kept with its process, times aligned on the
    /// wall clock.
    ///
    /// - **Time**: the merged profile starts at the earliest input's start
    ///   ([`started_at_unix_ns`](Profile::started_at_unix_ns)); each input's events, sessions
    ///   and samples move later by the difference of the wall-clock epochs. Within a process,
    ///   times are as exact as ever; across processes, as close as the machines' clocks agree.
    /// - **Processes**: [`processes`](Profile::processes) lists every input's process(es)
    ///   with its exact figures ([`ProcessTotals`]), its monitor samples and the range of
    ///   thread ids its threads got; [`process_index_of_thread`](Profile::process_index_of_thread)
    ///   says which process an event's thread belongs to.
    /// - **Ids**: event ids (and parents) and thread ids of each input are offset past the
    ///   previous inputs', so they stay unique and every parent link stays within its process.
    /// - **Counts**: operation aggregates (name and kind) are merged exactly, saturating at
    ///   the types' maxima; dropped-event counts and raw capacities add up.
    ///
    /// One input comes back unchanged. Errors ([`ProfileError::InvalidInput`]): no input; an
    /// input of another `format_version`; two inputs that hold the same run of the same
    /// process (same host, pid, process start and profiler start: its events would count
    /// twice); ids that no longer fit in 64 bits once offset.
    ///
    /// ```
    /// use profiler_runtime::{EventKind, PerformanceProfiler, Profile};
    /// let part = |n: usize| {
    ///     let p = PerformanceProfiler::builder().without_monitor().build().unwrap();
    ///     for _ in 0..n {
    ///         p.record_event("solve", EventKind::Computation, [("energy_pj", 2.0)]);
    ///     }
    ///     p.snapshot()
    /// };
    /// let all = Profile::merge([part(2), part(3), part(4)]).unwrap();
    /// assert_eq!(all.operation("solve").unwrap().count, 9);
    /// assert_eq!(all.processes.len(), 3);
    /// assert_eq!(all.process_figures()[1].totals.events, 3);
    /// ```
    pub fn merge<I>(profiles: I) -> Result<Profile, ProfileError>
    where
        I: IntoIterator<Item = Profile>,
    {
        merge_processes(profiles.into_iter().collect())
    }

    /// Names this profile's process(es) in reports and traces (e.g. after the file it was
    /// read from), where they have no label yet.
    pub fn set_process_label(&mut self, label: &str) {
        if self.processes.is_empty() {
            self.processes.push(ProcessRecord::unknown(self));
        }
        for p in self.processes.iter_mut().filter(|p| p.label.is_empty()) {
            p.label = label.to_owned();
        }
    }
}

fn invalid(reason: String) -> ProfileError {
    ProfileError::InvalidInput(format!("Profile::merge: {reason}"))
}

/// The largest id an input uses (as an event id or a parent).
fn max_event_id(p: &Profile) -> u64 {
    p.events
        .iter()
        .map(|e| e.id.max(e.parent.unwrap_or(0)))
        .max()
        .unwrap_or(0)
}

/// The largest thread id an input uses (its threads' and its events').
fn max_thread_id(p: &Profile) -> u64 {
    let threads = p.threads.iter().map(|t| t.id);
    let events = p.events.iter().map(|e| e.thread_id);
    threads.chain(events).max().unwrap_or(0)
}

/// An input's process records, made ready to sit in a merged profile: a profile of one
/// process (or of an unknown one) gives one record carrying its figures, machine and samples
/// (taken out of the profile); a merged input keeps its records.
fn records_of(p: &mut Profile) -> Vec<ProcessRecord> {
    let mut records = std::mem::take(&mut p.processes);
    if records.len() <= 1 {
        let mut r = records.pop().unwrap_or_else(|| ProcessRecord::unknown(p));
        r.totals.get_or_insert_with(|| ProcessTotals::of(p));
        r.system.get_or_insert_with(|| p.system.clone());
        r.samples.append(&mut p.samples);
        r.first_thread_id = 0;
        r.last_thread_id = max_thread_id(p);
        return vec![r];
    }
    if !p.samples.is_empty() {
        // A merged profile keeps samples per process; any left at the top are its first's.
        records[0].samples.append(&mut p.samples);
    }
    records
}

fn merge_processes(mut inputs: Vec<Profile>) -> Result<Profile, ProfileError> {
    if let Some((i, p)) = inputs
        .iter()
        .enumerate()
        .find(|(_, p)| p.format_version != FORMAT_VERSION)
    {
        return Err(invalid(format!(
            "input {} has format_version {}; this build merges version {FORMAT_VERSION}",
            i + 1,
            p.format_version
        )));
    }
    match inputs.len() {
        0 => return Err(invalid("no profiles to merge".to_owned())),
        1 => {
            let mut p = inputs.remove(0);
            if p.processes.is_empty() {
                p.processes.push(ProcessRecord::unknown(&p));
            }
            return Ok(p);
        }
        _ => {}
    }
    let base = inputs
        .iter()
        .map(|p| p.started_at_unix_ns)
        .min()
        .unwrap_or(0);
    let mut out = Profile::empty();
    out.started_at_unix_ns = base;
    out.system = inputs[0].system.clone();
    out.events
        .reserve_exact(inputs.iter().map(|p| p.events.len()).sum());
    let mut ops: BTreeMap<(Name, EventKind), OperationStats> = BTreeMap::new();
    let (mut id_base, mut thread_base) = (0u64, 0u64);
    for (i, mut p) in inputs.into_iter().enumerate() {
        let n = i + 1;
        let shift = p.started_at_unix_ns - base;
        let id_off = id_base;
        id_base = id_base
            .checked_add(max_event_id(&p))
            .ok_or_else(|| invalid(format!("event ids of input {n} do not fit in 64 bits")))?;
        let thread_off = thread_base;
        let threads_used = max_thread_id(&p);
        thread_base = thread_base
            .checked_add(threads_used)
            .and_then(|t| t.checked_add(1))
            .ok_or_else(|| invalid(format!("thread ids of input {n} do not fit in 64 bits")))?;
        for mut r in records_of(&mut p) {
            if let Some(j) = out.processes.iter().position(|o| o.same_run(&r)) {
                return Err(invalid(format!(
                    "input {n} and the input of process {} hold the same run of {} (process start {} ns, profiler start {} ns): its events would count twice",
                    j + 1,
                    r.host_pid(),
                    r.process_started_at_unix_ns,
                    r.started_at_unix_ns
                )));
            }
            r.first_thread_id = thread_off.saturating_add(r.first_thread_id.min(threads_used));
            r.last_thread_id = thread_off.saturating_add(r.last_thread_id.min(threads_used));
            for s in &mut r.samples {
                s.t_ns = s.t_ns.saturating_add(shift);
            }
            out.processes.push(r);
        }
        out.duration_ns = out.duration_ns.max(p.duration_ns.saturating_add(shift));
        out.dropped_events = out.dropped_events.saturating_add(p.dropped_events);
        out.raw_capacity = out.raw_capacity.saturating_add(p.raw_capacity);
        out.alloc_tracking |= p.alloc_tracking;
        out.cpu_watts_per_core = out.cpu_watts_per_core.or(p.cpu_watts_per_core);
        for w in &p.warnings {
            if !out.warnings.contains(w) {
                out.warnings.push(w.clone());
            }
        }
        if let Some(o) = &p.otlp {
            out.otlp.get_or_insert_with(Default::default).add(o);
        }
        out.threads.extend(p.threads.into_iter().map(|mut t| {
            t.id = t.id.saturating_add(thread_off);
            t
        }));
        out.sessions.extend(p.sessions.into_iter().map(|mut s| {
            s.start_ns = s.start_ns.saturating_add(shift);
            s.end_ns = s.end_ns.map(|e| e.saturating_add(shift));
            s
        }));
        // The offsets were checked against each input's largest ids: no sum below overflows.
        out.events.extend(p.events.into_iter().map(|mut e| {
            e.id = e.id.saturating_add(id_off);
            e.parent = e.parent.map(|p| p.saturating_add(id_off));
            e.thread_id = e.thread_id.saturating_add(thread_off);
            e.start_ns = e.start_ns.saturating_add(shift);
            e.end_ns = e.end_ns.saturating_add(shift);
            e
        }));
        for o in p.operations {
            match ops.get_mut(&(o.name.clone(), o.kind)) {
                Some(m) => m.merge(&o),
                None => {
                    ops.insert((o.name.clone(), o.kind), o);
                }
            }
        }
    }
    out.operations = ops.into_values().collect();
    // Ids are unique, so the order is total.
    out.events.sort_unstable_by_key(|e| (e.start_ns, e.id));
    Ok(out)
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
