//! What machine a profile was taken on.

use serde::{Deserialize, Serialize};
use sysinfo::{CpuRefreshKind, System};

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

impl SystemInfo {
    /// Reads the current machine's description (a few ms: call once, not per event).
    pub fn collect() -> Self {
        let mut info = SystemInfo {
            platform: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            cpu_count: std::thread::available_parallelism().map_or(1, |n| n.get()),
            profiler_version: env!("CARGO_PKG_VERSION").to_owned(),
            ..SystemInfo::default()
        };
        info.os_version = System::long_os_version().unwrap_or_default();
        info.kernel_version = System::kernel_version().unwrap_or_default();
        info.hostname = System::host_name().unwrap_or_default();
        info.physical_cores = System::physical_core_count().ok();
        if let Ok(mut sys) = System::new() {
            sys.refresh_memory();
            info.memory_total_mb = sys.total_memory() / (1024 * 1024);
            sys.refresh_cpu_list(CpuRefreshKind::nothing());
            if let Some(cpu) = sys.cpus().first() {
                info.cpu_model = cpu.brand().trim().to_owned();
            }
            if !sys.cpus().is_empty() {
                info.cpu_count = sys.cpus().len();
            }
        }
        info
    }
}
