//! The processes a [`Profile`] holds: one for a snapshot, one per input for a merged profile
//! ([`Profile::merge`]).
//!
//! Every profile records which process recorded it ([`ProcessRecord`]: host name, pid,
//! process start as a wall-clock epoch, the clock source of its timestamps). A merged profile
//! lists every input's process, with the range of thread ids that process's threads got in
//! the merged profile (so every event belongs to one process through its `thread_id`), its
//! exact totals ([`ProcessTotals`]), and its monitor samples.

use serde::{Deserialize, Serialize};

use crate::model::profile::Profile;
use crate::model::sample::MonitorSample;
use crate::model::stats::{saturating_fadd, saturating_sum};
use crate::model::system::SystemInfo;

/// The clock source of a profile written before profiles recorded it.
pub const UNKNOWN_CLOCK: &str = "unknown";

/// One process whose recording a profile holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// Host name of the machine it ran on (empty where unknown).
    pub hostname: String,
    /// Its process id (0 where unknown: a profile written before profiles recorded it).
    pub pid: u32,
    /// When the process started, ns since the Unix epoch (on Linux from `/proc/self/stat`,
    /// to the kernel's clock tick; 0 where unknown).
    pub process_started_at_unix_ns: u64,
    /// The clock its event times were read from: `tsc` (the CPU's invariant time-stamp
    /// counter, calibrated against the OS monotonic clock), `os-monotonic`, or
    /// [`UNKNOWN_CLOCK`]. Times of one process are exact relative to each other; processes
    /// are aligned through their wall-clock epochs, so as well as the machines' clocks agree
    /// (NTP: typically within a millisecond).
    pub clock_source: String,
    /// Wall-clock time at which this process's profiler started (its time 0), ns since the
    /// Unix epoch. In a merged profile its events sit at `started_at_unix_ns -`
    /// [`Profile::started_at_unix_ns`] later than in its own profile.
    pub started_at_unix_ns: u64,
    /// What it is called in reports and traces: the input file of a merge, or empty.
    #[serde(default)]
    pub label: String,
    /// The first and last thread id (inclusive) that this process's threads have in the
    /// profile: an event belongs to the process whose range holds its `thread_id`.
    pub first_thread_id: u64,
    /// See [`first_thread_id`](Self::first_thread_id).
    pub last_thread_id: u64,
    /// Exact figures of this process alone: in a merged profile (for a profile of one process,
    /// the profile's own figures are its figures: [`ProcessTotals::of`]).
    #[serde(default)]
    pub totals: Option<ProcessTotals>,
    /// This process's monitor samples (on the merged profile's time base), in a merged
    /// profile; a profile of one process keeps its samples in [`Profile::samples`].
    #[serde(default)]
    pub samples: Vec<MonitorSample>,
    /// The machine, in a merged profile (its top-level [`Profile::system`] is the first
    /// input's).
    #[serde(default)]
    pub system: Option<SystemInfo>,
}

impl ProcessRecord {
    /// A record of an unknown process (a profile written before profiles named their process):
    /// what its top-level fields tell.
    pub fn unknown(p: &Profile) -> Self {
        ProcessRecord {
            hostname: p.system.hostname.clone(),
            pid: 0,
            process_started_at_unix_ns: 0,
            clock_source: UNKNOWN_CLOCK.to_owned(),
            started_at_unix_ns: p.started_at_unix_ns,
            label: String::new(),
            first_thread_id: 0,
            last_thread_id: u64::MAX,
            totals: None,
            samples: Vec::new(),
            system: None,
        }
    }

    /// Whether thread `id` is one of this process's.
    pub fn has_thread(&self, id: u64) -> bool {
        (self.first_thread_id..=self.last_thread_id).contains(&id)
    }

    /// `host:pid`, or `host` or `pid N` where one is unknown.
    pub fn host_pid(&self) -> String {
        match (self.hostname.is_empty(), self.pid) {
            (false, 0) => self.hostname.clone(),
            (true, 0) => "unknown process".to_owned(),
            (true, pid) => format!("pid {pid}"),
            (false, pid) => format!("{}:{pid}", self.hostname),
        }
    }

    /// The name reports and traces give it: its label, else `host:pid`.
    pub fn display_name(&self) -> String {
        if self.label.is_empty() {
            self.host_pid()
        } else {
            format!("{} ({})", self.label, self.host_pid())
        }
    }

    /// Whether `self` and `other` describe the same run of the same process's profiler (known
    /// pid, same host, process start and profiler start): merging both would count its events
    /// twice.
    pub fn same_run(&self, other: &ProcessRecord) -> bool {
        self.pid != 0
            && self.pid == other.pid
            && self.hostname == other.hostname
            && self.process_started_at_unix_ns == other.process_started_at_unix_ns
            && self.started_at_unix_ns == other.started_at_unix_ns
    }
}

/// Exact figures of one process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessTotals {
    /// Events (exact, from the aggregates).
    pub events: u64,
    /// Raw events kept.
    pub kept_events: u64,
    /// Raw events the bounded buffer dropped.
    pub dropped_events: u64,
    /// Distinct operations.
    pub operations: u64,
    /// Length of its profile, ns.
    pub duration_ns: u64,
    /// Sum of self times, ns (time in profiled code, counted once).
    pub self_ns: u64,
    /// Sum of `energy_pj` over its events, pJ.
    #[serde(with = "crate::model::float::f64_any")]
    pub energy_pj: f64,
    /// Calls that returned an error.
    pub errors: u64,
    /// Peak RSS among its monitor samples, bytes.
    pub peak_rss_bytes: Option<u64>,
}

impl ProcessTotals {
    /// The figures of a profile taken as one process (saturating sums).
    pub fn of(p: &Profile) -> Self {
        ProcessTotals {
            events: p.total_events(),
            kept_events: p.events.len() as u64,
            dropped_events: p.dropped_events,
            operations: p.operations.len() as u64,
            duration_ns: p.duration_ns,
            self_ns: saturating_sum(p.operations.iter().map(|o| o.self_ns)),
            energy_pj: p.metric_total(crate::contract::ENERGY_PJ),
            errors: saturating_sum(p.operations.iter().map(|o| o.errors)),
            peak_rss_bytes: p.peak_rss_bytes(),
        }
    }

    /// Field-wise sum (saturating); the longest duration and the highest peak.
    pub fn add(&mut self, o: &ProcessTotals) {
        self.events = self.events.saturating_add(o.events);
        self.kept_events = self.kept_events.saturating_add(o.kept_events);
        self.dropped_events = self.dropped_events.saturating_add(o.dropped_events);
        self.operations = self.operations.saturating_add(o.operations);
        self.duration_ns = self.duration_ns.max(o.duration_ns);
        self.self_ns = self.self_ns.saturating_add(o.self_ns);
        self.energy_pj = saturating_fadd(self.energy_pj, o.energy_pj);
        self.errors = self.errors.saturating_add(o.errors);
        self.peak_rss_bytes = match (self.peak_rss_bytes, o.peak_rss_bytes) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// One process of a profile with its exact figures: what [`Profile::process_figures`] lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessFigures<'a> {
    /// The process.
    pub process: &'a ProcessRecord,
    /// Its figures.
    pub totals: ProcessTotals,
}

impl Profile {
    /// The process that recorded this profile, for a profile of one process (`None` for a
    /// merged profile of several, and for files written before profiles named their process).
    pub fn process(&self) -> Option<&ProcessRecord> {
        match self.processes.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Whether the profile holds the recordings of several processes ([`Profile::merge`]).
    pub fn is_multi_process(&self) -> bool {
        self.processes.len() > 1
    }

    /// The index in [`processes`](Self::processes) of the process whose thread `thread_id`
    /// is (`None` without process records, or for a thread no record claims).
    pub fn process_index_of_thread(&self, thread_id: u64) -> Option<usize> {
        self.processes.iter().position(|p| p.has_thread(thread_id))
    }

    /// Every process with its exact figures: each input of a merged profile, or the one
    /// process of a snapshot (figures of the whole profile). Empty for a profile written
    /// before profiles named their process.
    pub fn process_figures(&self) -> Vec<ProcessFigures<'_>> {
        match self.processes.as_slice() {
            [one] => vec![ProcessFigures {
                process: one,
                totals: one.totals.unwrap_or_else(|| ProcessTotals::of(self)),
            }],
            many => many
                .iter()
                .map(|p| ProcessFigures {
                    process: p,
                    totals: p.totals.unwrap_or_default(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_identity() {
        let mut a = ProcessRecord::unknown(&Profile::empty());
        assert_eq!(a.host_pid(), "unknown process");
        a.hostname = "lab-3".into();
        assert_eq!(a.host_pid(), "lab-3");
        a.pid = 42;
        a.label = "part-1.json".into();
        assert_eq!(a.display_name(), "part-1.json (lab-3:42)");
        let b = a.clone();
        assert!(a.same_run(&b));
        let mut c = b.clone();
        c.started_at_unix_ns += 1;
        assert!(!a.same_run(&c), "another profiler run in the same process");
        let unknown = ProcessRecord::unknown(&Profile::empty());
        assert!(
            !unknown.same_run(&unknown.clone()),
            "unknown pids are never the same run"
        );
    }

    #[test]
    fn totals_add_saturates() {
        let mut t = ProcessTotals {
            events: u64::MAX,
            energy_pj: f64::MAX,
            peak_rss_bytes: Some(5),
            ..ProcessTotals::default()
        };
        t.add(&ProcessTotals {
            events: 3,
            energy_pj: f64::MAX,
            peak_rss_bytes: Some(9),
            duration_ns: 7,
            ..ProcessTotals::default()
        });
        assert_eq!(t.events, u64::MAX);
        assert_eq!(t.energy_pj, f64::MAX);
        assert_eq!(t.peak_rss_bytes, Some(9));
        assert_eq!(t.duration_ns, 7);
    }
}
