//! This process's identity for a profile: pid, host name, and when the process started (a
//! wall-clock epoch), so that profiles of many processes (and machines) can be told apart and
//! merged on one time line.

use crate::model::process::ProcessRecord;

/// When this process started, ns since the Unix epoch; `None` where it cannot be read.
///
/// On Linux: the start time in `/proc/self/stat` (clock ticks since boot, usually 10 ms each),
/// placed on the wall clock through `CLOCK_BOOTTIME` and `CLOCK_REALTIME` read together.
///
/// ```
/// if let Some(t) = profiler_runtime::sys::process_started_at_unix_ns() {
///     let now = std::time::SystemTime::now()
///         .duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
///     assert!(t <= now);
/// }
/// ```
///
/// Read once per process and kept: two readings would differ by the few nanoseconds between
/// the two clock reads, and a process must name itself the same way in every profile.
pub fn process_started_at_unix_ns() -> Option<u64> {
    static START: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *START.get_or_init(|| {
        #[cfg(target_os = "linux")]
        {
            linux::started_at_unix_ns()
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    })
}

/// The record of this process for a profile whose profiler started at `started_at_unix_ns`
/// with clock `clock_source`, on host `hostname`. Where the process start cannot be read, the
/// profiler's start stands for it.
pub(crate) fn this_process(
    hostname: &str,
    started_at_unix_ns: u64,
    clock_source: &str,
) -> ProcessRecord {
    ProcessRecord {
        hostname: hostname.to_owned(),
        pid: std::process::id(),
        process_started_at_unix_ns: process_started_at_unix_ns().unwrap_or(started_at_unix_ns),
        clock_source: clock_source.to_owned(),
        started_at_unix_ns,
        label: String::new(),
        first_thread_id: 0,
        last_thread_id: u64::MAX,
        totals: None,
        samples: Vec::new(),
        system: None,
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::Read;

    /// `/proc/self/stat` is one line of a few hundred bytes (the command name is at most 16).
    const STAT_LIMIT: u64 = 4096;

    pub(super) fn started_at_unix_ns() -> Option<u64> {
        let mut text = String::new();
        std::fs::File::open("/proc/self/stat")
            .ok()?
            .take(STAT_LIMIT)
            .read_to_string(&mut text)
            .ok()?;
        let ticks = start_ticks(&text)?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let hz = u64::try_from(hz).ok().filter(|&h| h > 0)?;
        let since_boot_ns = u128::from(ticks) * 1_000_000_000 / u128::from(hz);
        let boot_now = clock_ns(libc::CLOCK_BOOTTIME)?;
        let real_now = clock_ns(libc::CLOCK_REALTIME)?;
        let age = boot_now.checked_sub(since_boot_ns)?;
        u64::try_from(real_now.checked_sub(age)?).ok()
    }

    /// Field 22 (`starttime`) of a `/proc/<pid>/stat` line. The command name (field 2) is in
    /// parentheses and may hold spaces and parentheses itself, so fields are counted from the
    /// last `)`.
    pub(super) fn start_ticks(stat: &str) -> Option<u64> {
        let rest = &stat[stat.rfind(')')? + 1..];
        // After the name: field 3 (state) is the first; starttime is field 22.
        rest.split_ascii_whitespace().nth(22 - 3)?.parse().ok()
    }

    fn clock_ns(id: libc::clockid_t) -> Option<u128> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec.
        if unsafe { libc::clock_gettime(id, &mut ts) } != 0 {
            return None;
        }
        let secs = u128::try_from(ts.tv_sec).ok()?;
        let nanos = u128::try_from(ts.tv_nsec).ok()?;
        Some(secs * 1_000_000_000 + nanos)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn start_ticks_counts_fields_after_the_last_parenthesis() {
            let stat = "1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 \
                        5 3 0 0 20 0 1 0 987654 10000000 300";
            assert_eq!(start_ticks(stat), Some(987_654));
            assert_eq!(start_ticks("garbage"), None);
            assert_eq!(start_ticks("1 (x) S 1"), None);
        }

        #[test]
        fn this_process_started_before_now() {
            let t = started_at_unix_ns().expect("readable on Linux");
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_nanos() as u64;
            assert!(
                t <= now && now - t < 24 * 3600 * 1_000_000_000,
                "{t} vs {now}"
            );
        }
    }
}
