//! Chrome Trace Event JSON, for Perfetto (ui.perfetto.dev) and `chrome://tracing`.
//!
//! The output is `{"traceEvents":[` then one event per line, then `]}`:
//!
//! - `ph: "M"` metadata: the process name and a name per thread (and per extra lane);
//! - `ph: "X"` complete events, one per kept [`ProfileEvent`]: `name`, `cat` (the kind), `pid`,
//!   `tid`, `ts` and `dur` in microseconds, `args` (the metrics, plus `event_id`, `parent_id`,
//!   `busy_ns`, `self_ns`, and `error`, `panicked`, `alloc` where set; a metric wins over an extra
//!   of the same name). Non-finite metrics are written as strings (`"NaN"`, `"inf"`).
//! - `ph: "C"` counters: `memory` (`rss_mib`) from the monitor's samples and `energy`
//!   (`cumulative_pj`, the running sum of `energy_pj` by event end).
//!
//! **Tracks.** `tid` 0 is the process's own track (its name and the counters); each thread of
//! the profile, and each extra lane of one, gets a `tid` of its own from 1 up (small numbers,
//! exact in every JSON reader), so no thread id, even `u64::MAX`, can land on another track.
//! The profile's thread id is in the `thread_id` arg of the thread's name record.
//!
//! **Processes.** A profile of one process is `pid` 1 ([`TRACE_PID`]), named `rram-profiler`.
//! A merged profile of several ([`Profile::merge`]) gets one `pid` per process, from 1 in the
//! order of [`Profile::processes`], each named after its process (label, host and pid), with
//! its own threads, its own memory counter (its samples) and its own energy counter.
//!
//! **Nesting.** The complete events of one `tid` must nest. Events of a thread are packed into
//! lanes (see `lanes.rs`); lane 0 is the thread's own `tid`, and an async span that overlaps a
//! sibling without containing it goes to an extra lane with its own `tid` (named
//! `"<thread> (overlap N)"`).
//!
//! **Timestamps.** Integer ns `N` is written as the decimal `N/1000` µs followed by a `5`
//! (`1234567 ns` → `1234.5675`): half a nanosecond later than exact, so importers that convert
//! with truncation (`int64(ts * 1000)`, as Perfetto does) get `N` back exactly rather than
//! `N - 1`, and nesting survives the import. Importers that keep floating-point µs see every
//! start and end shifted by the same 0.5–1 ns, which keeps the order.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::model::event::ProfileEvent;
use crate::model::profile::Profile;
use crate::model::stats::saturating_fadd;
use crate::output::export::lanes;

/// The `pid` of a profile of one process (a merged profile numbers its processes from 1).
pub const TRACE_PID: u64 = 1;

impl Profile {
    /// Writes the profile as Chrome Trace Event JSON (see the [module docs](crate::output::export) for
    /// the layout). Streams: one event per line through `writer`, nothing held but the lane
    /// assignment. Wrap unbuffered writers (files) in a `BufWriter`.
    ///
    /// ```
    /// use profiler_runtime::{EventKind, PerformanceProfiler};
    /// let profiler = PerformanceProfiler::builder().without_monitor().build().unwrap();
    /// profiler.record_event("tick", EventKind::Computation, [("energy_pj", 3.0)]);
    /// let mut out = Vec::new();
    /// profiler.snapshot().to_chrome_trace(&mut out).unwrap();
    /// let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    /// assert!(v["traceEvents"].as_array().unwrap().iter().any(|e| e["ph"] == "X" && e["name"] == "tick"));
    /// ```
    pub fn to_chrome_trace<W: Write>(&self, mut writer: W) -> io::Result<()> {
        let w = &mut writer;
        let lanes = lanes::assign(&self.events);
        let names: BTreeMap<u64, &str> = self
            .threads
            .iter()
            .map(|t| (t.id, t.name.as_str()))
            .collect();
        let multi = self.is_multi_process();
        // The trace pid of a thread: 1 for a profile of one process, else its process's rank.
        let pid_of = |thread: u64| -> u64 {
            if multi {
                self.process_index_of_thread(thread)
                    .map_or(TRACE_PID, |i| (i as u64).saturating_add(1))
            } else {
                TRACE_PID
            }
        };
        // Every (thread, lane) gets its own small tid, from 1 up: 0 is the process's and the
        // counters' track, and a profile's thread ids (any u64) never reach the trace, so none
        // can collide with another track or wrap onto 0. The thread's own id is in its name
        // record's args.
        let mut tid_of: BTreeMap<(u64, u32), (u64, u64)> = BTreeMap::new();
        let mut next_tid = 1u64;
        w.write_all(b"{\"traceEvents\":[\n")?;
        let mut first = true;
        let mut sep = |w: &mut W| -> io::Result<()> {
            if !std::mem::take(&mut first) {
                w.write_all(b",\n")?;
            }
            Ok(())
        };
        if multi {
            for (i, p) in self.processes.iter().enumerate() {
                let pid = (i as u64).saturating_add(1);
                sep(w)?;
                write!(
                    w,
                    r#"{{"ph":"M","name":"process_name","pid":{pid},"tid":0,"args":{{"name":"#
                )?;
                serde_json::to_writer(&mut *w, &p.display_name()).map_err(io::Error::other)?;
                write!(w, r#","pid":{},"host":"#, p.pid)?;
                serde_json::to_writer(&mut *w, &p.hostname).map_err(io::Error::other)?;
                writeln!(w, "}}}},")?;
                write!(
                    w,
                    r#"{{"ph":"M","name":"process_sort_index","pid":{pid},"tid":0,"args":{{"sort_index":{pid}}}}}"#
                )?;
            }
        } else {
            sep(w)?;
            write!(
                w,
                r#"{{"ph":"M","name":"process_name","pid":{TRACE_PID},"tid":0,"args":{{"name":"rram-profiler"}}}}"#
            )?;
        }
        let mut thread_ids: Vec<u64> = names.keys().copied().collect();
        thread_ids.extend(
            lanes
                .per_thread
                .keys()
                .copied()
                .filter(|t| !names.contains_key(t)),
        );
        for (rank, &thread) in thread_ids.iter().enumerate() {
            let name = names
                .get(&thread)
                .map_or_else(|| format!("thread-{thread}"), |n| (*n).to_owned());
            let pid = pid_of(thread);
            let sort_base = (rank as u64).saturating_add(1).saturating_mul(1000);
            for k in 0..lanes.per_thread.get(&thread).copied().unwrap_or(1).max(1) {
                let tid = next_tid;
                next_tid += 1;
                tid_of.insert((thread, k), (pid, tid));
                let lane_name = if k == 0 {
                    name.clone()
                } else {
                    format!("{name} (overlap {k})")
                };
                sep(w)?;
                metadata(
                    w,
                    pid,
                    tid,
                    thread,
                    &lane_name,
                    sort_base.saturating_add(u64::from(k)),
                )?;
            }
        }
        for (i, e) in self.events.iter().enumerate() {
            let (pid, tid) = tid_of
                .get(&(e.thread_id, lanes.lane[i]))
                .or_else(|| tid_of.get(&(e.thread_id, 0)))
                .copied()
                .unwrap_or((pid_of(e.thread_id), 0));
            sep(w)?;
            complete(w, e, pid, tid)?;
        }
        // Memory: the profile's samples (one process), or each process's own.
        let mut sample_sets: Vec<(u64, &[crate::model::sample::MonitorSample])> =
            vec![(TRACE_PID, self.samples.as_slice())];
        if multi {
            sample_sets.extend(
                self.processes
                    .iter()
                    .enumerate()
                    .map(|(i, p)| ((i as u64).saturating_add(1), p.samples.as_slice())),
            );
        }
        for (pid, samples) in sample_sets {
            for s in samples {
                sep(w)?;
                write!(w, r#"{{"ph":"C","name":"memory","pid":{pid},"tid":0,"ts":"#)?;
                write_us(w, s.t_ns)?;
                write!(
                    w,
                    r#","args":{{"rss_mib":{}}}}}"#,
                    JsonNum(s.rss_bytes as f64 / (1024.0 * 1024.0))
                )?;
            }
        }
        // Energy: a running sum per process, by event end.
        let mut energy: Vec<(u64, u64, f64)> = self
            .events
            .iter()
            .filter_map(|e| {
                e.metric(crate::contract::ENERGY_PJ)
                    .filter(|v| v.is_finite())
                    .map(|v| (pid_of(e.thread_id), e.end_ns, v))
            })
            .collect();
        energy.sort_by_key(|p| (p.0, p.1));
        let mut total = 0.0;
        let mut current = None;
        for (pid, t, pj) in energy {
            if current != Some(pid) {
                current = Some(pid);
                total = 0.0;
            }
            total = saturating_fadd(total, pj);
            sep(w)?;
            write!(w, r#"{{"ph":"C","name":"energy","pid":{pid},"tid":0,"ts":"#)?;
            write_us(w, t)?;
            write!(w, r#","args":{{"cumulative_pj":{}}}}}"#, JsonNum(total))?;
        }
        w.write_all(b"\n]}\n")?;
        w.flush()
    }
}

fn metadata<W: Write>(
    w: &mut W,
    pid: u64,
    tid: u64,
    thread: u64,
    name: &str,
    sort_index: u64,
) -> io::Result<()> {
    write!(
        w,
        r#"{{"ph":"M","name":"thread_name","pid":{pid},"tid":{tid},"args":{{"name":"#
    )?;
    serde_json::to_writer(&mut *w, name).map_err(io::Error::other)?;
    write!(
        w,
        r#","thread_id":{thread}}}}},
{{"ph":"M","name":"thread_sort_index","pid":{pid},"tid":{tid},"args":{{"sort_index":{sort_index}}}}}"#
    )
}

fn complete<W: Write>(w: &mut W, e: &ProfileEvent, pid: u64, tid: u64) -> io::Result<()> {
    w.write_all(br#"{"ph":"X","name":"#)?;
    serde_json::to_writer(&mut *w, &*e.name).map_err(io::Error::other)?;
    write!(
        w,
        r#","cat":"{}","pid":{pid},"tid":{tid},"ts":"#,
        e.kind.as_str()
    )?;
    write_us(w, e.start_ns)?;
    w.write_all(br#","dur":"#)?;
    write_us(w, e.duration_ns())?;
    w.write_all(br#","args":"#)?;
    serde_json::to_writer(&mut *w, &Args(e)).map_err(io::Error::other)?;
    w.write_all(b"}")
}

/// `ns` as µs with the half-nanosecond nudge described in the module docs.
fn write_us<W: Write>(w: &mut W, ns: u64) -> io::Result<()> {
    write!(w, "{}.{:03}5", ns / 1000, ns % 1000)
}

/// A JSON number, or a string for values JSON cannot hold.
struct JsonNum(f64);

impl std::fmt::Display for JsonNum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_finite() {
            write!(f, "{}", self.0)
        } else {
            write!(f, "\"{}\"", self.0)
        }
    }
}

struct Args<'a>(&'a ProfileEvent);

impl Serialize for Args<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_map(None)?;
        for (k, v) in &e.metrics {
            if v.is_finite() {
                m.serialize_entry(k, v)?;
            } else {
                m.serialize_entry(k, &v.to_string())?;
            }
        }
        let free = |k: &str| !e.metrics.contains_key(k);
        if free("event_id") {
            m.serialize_entry("event_id", &e.id)?;
        }
        if let Some(p) = e.parent.filter(|_| free("parent_id")) {
            m.serialize_entry("parent_id", &p)?;
        }
        if free("busy_ns") {
            m.serialize_entry("busy_ns", &e.busy_ns)?;
        }
        if free("self_ns") {
            m.serialize_entry("self_ns", &e.self_ns)?;
        }
        if let Some(err) = e.error.as_ref().filter(|_| free("error")) {
            m.serialize_entry("error", err)?;
        }
        if e.panicked && free("panicked") {
            m.serialize_entry("panicked", &true)?;
        }
        if let Some(a) = e.alloc.as_ref().filter(|_| free("alloc")) {
            m.serialize_entry("alloc", a)?;
        }
        m.end()
    }
}
