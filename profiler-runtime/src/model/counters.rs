//! Hardware performance counters of a session (cycles, instructions, cache references and
//! misses), or why there are none.

use serde::{Deserialize, Serialize};

/// Counter readings over a session: what `perf_event_open` counted for the thread that started
/// the session and the threads it started while the session ran (user-space events only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterValues {
    /// CPU cycles.
    pub cycles: u64,
    /// Instructions retired.
    pub instructions: u64,
    /// Last-level cache references.
    pub cache_references: u64,
    /// Last-level cache misses.
    pub cache_misses: u64,
    /// Whether the kernel time-shared the counters (values are then scaled up from the time
    /// each ran: estimates, not exact counts).
    pub multiplexed: bool,
}

impl CounterValues {
    /// Instructions per cycle, where cycles were counted.
    pub fn ipc(&self) -> Option<f64> {
        (self.cycles > 0).then(|| self.instructions as f64 / self.cycles as f64)
    }

    /// Cache misses over cache references, where references were counted.
    pub fn cache_miss_rate(&self) -> Option<f64> {
        (self.cache_references > 0).then(|| self.cache_misses as f64 / self.cache_references as f64)
    }
}

/// A session's hardware counters: measured, or unavailable with the reason. Never estimated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum HardwareCounters {
    /// Counted by the kernel.
    Measured(CounterValues),
    /// Not counted; `reason` says why (e.g. no hardware counters in a virtual machine, or
    /// `perf_event_paranoid` forbids them).
    Unavailable {
        /// Why, in words.
        reason: String,
    },
}

impl HardwareCounters {
    /// The values, if measured.
    pub fn values(&self) -> Option<&CounterValues> {
        match self {
            HardwareCounters::Measured(v) => Some(v),
            HardwareCounters::Unavailable { .. } => None,
        }
    }
}
