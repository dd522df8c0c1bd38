//! Reads the machine's description into a [`SystemInfo`].

use crate::model::system::SystemInfo;

impl SystemInfo {
    /// Reads the current machine's description (a few ms: call once, not per event). Without
    /// the `monitor` feature only what the standard library and `/proc` tell is filled in
    /// (platform, architecture, logical CPUs, host name on Linux, profiler version); the rest
    /// stays empty.
    pub fn collect() -> Self {
        let mut info = SystemInfo {
            platform: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            cpu_count: std::thread::available_parallelism().map_or(1, |n| n.get()),
            profiler_version: env!("CARGO_PKG_VERSION").to_owned(),
            ..SystemInfo::default()
        };
        #[cfg(feature = "monitor")]
        fill(&mut info);
        if info.hostname.is_empty() {
            info.hostname = proc_hostname().unwrap_or_default();
        }
        info
    }
}

/// The host name from `/proc/sys/kernel/hostname` (Linux; at most 256 bytes read).
fn proc_hostname() -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open("/proc/sys/kernel/hostname").ok()?;
    let mut s = String::new();
    f.take(256).read_to_string(&mut s).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Adds what sysinfo knows of this machine to `info`: OS and kernel versions, host name, cores,
/// memory and CPU model.
#[cfg(feature = "monitor")]
fn fill(info: &mut SystemInfo) {
    use sysinfo::{CpuRefreshKind, System};
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
}
