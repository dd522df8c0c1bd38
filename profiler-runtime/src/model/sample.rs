//! Samples of the process's resource use, taken by the background monitor.

use serde::{Deserialize, Serialize};

/// One reading of the process's resource use (and of the machine around it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorSample {
    /// When, in ns since the profiler started.
    pub t_ns: u64,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// CPU use since the previous sample, percent of one core (200% = two cores busy).
    #[serde(with = "crate::model::float::f32_any")]
    pub cpu_percent: f32,
    /// Live heap bytes of the whole process (allocated and not freed through the
    /// `CountingAllocator`, every thread, the profiler's own included); `None` without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_live_bytes: Option<u64>,
    /// What the allocator itself holds from the system (glibc `mallinfo2`: arena plus mmapped
    /// bytes); `None` where unknown. Its excess over the live bytes is fragmentation and free
    /// memory the allocator keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_footprint_bytes: Option<u64>,
    /// CPU used by the whole machine since the previous sample, every process, percent of one
    /// core (from `/proc/stat`); less [`cpu_percent`](Self::cpu_percent) it is the rest of the
    /// machine's load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_cpu_percent: Option<f32>,
    /// CPU time the hypervisor gave to other guests since the previous sample (steal), percent
    /// of one core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_percent: Option<f32>,
    /// CPU package energy since the monitor started, µJ, from RAPL where readable (whole
    /// package: every process on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_energy_uj: Option<u64>,
}
