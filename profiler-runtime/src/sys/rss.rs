//! The process's resident set size, read on demand (about 5 µs on Linux: never per event).

/// Reads the process's resident set size now, bytes; `None` where it cannot be read.
///
/// On Linux it is the `VmRSS` line of `/proc/self/status` (read with a size limit); elsewhere,
/// with the `monitor` feature, sysinfo's reading.
///
/// ```
/// if let Some(rss) = profiler_runtime::sys::current_rss_bytes() {
///     assert!(rss > 0);
/// }
/// ```
pub fn current_rss_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        linux_rss()
    }
    #[cfg(all(not(target_os = "linux"), feature = "monitor"))]
    {
        crate::sys::monitor::sysinfo_rss()
    }
    #[cfg(all(not(target_os = "linux"), not(feature = "monitor")))]
    {
        None
    }
}

/// `VmRSS` from `/proc/self/status`, which is a few KiB: anything past 64 KiB is not read.
#[cfg(target_os = "linux")]
fn linux_rss() -> Option<u64> {
    use std::io::Read;
    let f = std::fs::File::open("/proc/self/status").ok()?;
    let mut text = String::new();
    f.take(64 * 1024).read_to_string(&mut text).ok()?;
    parse_vm_rss(&text)
}

/// The `VmRSS:   1234 kB` line of a `/proc/<pid>/status` text, in bytes.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    let unit = match parts.next() {
        Some("kB") | None => 1024,
        Some("mB") => 1024 * 1024,
        Some(_) => return None,
    };
    value.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_rss_and_refuses_garbage() {
        assert_eq!(
            parse_vm_rss("Name:\tx\nVmRSS:\t   2048 kB\nVmSwap: 0 kB\n"),
            Some(2048 * 1024)
        );
        assert_eq!(parse_vm_rss("VmRSS: lots kB\n"), None);
        assert_eq!(parse_vm_rss("VmRSS: 18446744073709551615 kB\n"), None);
        assert_eq!(parse_vm_rss("Name: x\n"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_resident_set() {
        assert!(current_rss_bytes().unwrap_or(0) > 0);
    }
}
