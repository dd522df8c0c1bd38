//! What machine a profile was taken on (plain data; `SystemInfo::collect` in [`crate::sys`] reads it).

use serde::{Deserialize, Serialize};

/// The machine a profile was taken on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    /// OS family, e.g. `linux`.
    pub platform: String,
    /// OS name and version, e.g. `Linux 12 Debian GNU/Linux`.
    pub os_version: String,
    /// Kernel version.
    pub kernel_version: String,
    /// CPU architecture, e.g. `x86_64`.
    pub arch: String,
    /// CPU model name.
    pub cpu_model: String,
    /// Logical CPUs.
    pub cpu_count: usize,
    /// Physical cores, where known.
    pub physical_cores: Option<usize>,
    /// Total memory, MiB.
    pub memory_total_mb: u64,
    /// Host name.
    pub hostname: String,
    /// The profiler's version.
    pub profiler_version: String,
}
