//! Samples of the process's resource use, taken by the background monitor.

use serde::{Deserialize, Serialize};

/// One reading of the process's resource use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonitorSample {
    /// When, in ns since the profiler started.
    pub t_ns: u64,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// CPU use since the previous sample, percent of one core (200% = two cores busy).
    #[serde(with = "crate::model::float::f32_any")]
    pub cpu_percent: f32,
}
