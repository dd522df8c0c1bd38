//! How much memory a load may still take: the smaller of what the address-space limit
//! (`RLIMIT_AS`, as `ulimit -v` sets it) leaves above the process's current virtual size, and
//! the memory the kernel reports available (`MemAvailable`). Read from `/proc` and
//! `getrlimit` (a few µs): before a file is read, and every few thousand rows while it is
//! parsed, never per row.

use std::io::Read;
use std::path::Path;

use crate::error::ProfileError;

/// Memory always left free for the rest of the process (the report, the allocator's slack).
pub(crate) const RESERVE_BYTES: u64 = 32 << 20;

/// Bytes the process may still allocate, `None` where neither limit can be read.
pub(crate) fn available_bytes() -> Option<u64> {
    let by_limit = address_space_limit().and_then(|limit| {
        let used = virtual_size()?;
        Some(limit.saturating_sub(used))
    });
    match (by_limit, mem_available()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Fails with [`ProfileError::OutOfMemory`] unless `need` bytes (plus [`RESERVE_BYTES`]) are
/// available; `what` says what needs them.
pub(crate) fn ensure(need: u64, path: &Path, what: &str) -> Result<(), ProfileError> {
    let Some(avail) = available_bytes() else {
        return Ok(());
    };
    if need.saturating_add(RESERVE_BYTES) > avail {
        return Err(ProfileError::OutOfMemory {
            path: path.to_owned(),
            reason: format!(
                "{what} needs about {} MiB (with {} MiB kept in reserve) but only {} MiB are \
                 available (address-space limit and free memory); raise `ulimit -v`, free \
                 memory, or read less of the file (`report` and `diff` keep no events)",
                need.saturating_add(RESERVE_BYTES) >> 20,
                RESERVE_BYTES >> 20,
                avail >> 20,
            ),
        });
    }
    Ok(())
}

fn read_small(path: &str) -> Option<String> {
    let f = std::fs::File::open(path).ok()?;
    let mut s = String::new();
    f.take(64 * 1024).read_to_string(&mut s).ok()?;
    Some(s)
}

/// A `Key:   1234 kB` line of a `/proc` text, in bytes.
fn kib_line(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

fn mem_available() -> Option<u64> {
    kib_line(&read_small("/proc/meminfo")?, "MemAvailable:")
}

fn virtual_size() -> Option<u64> {
    kib_line(&read_small("/proc/self/status")?, "VmSize:")
}

#[cfg(unix)]
fn address_space_limit() -> Option<u64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes the struct we pass and nothing else.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut r) } == 0;
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
    let cur = r.rlim_cur as u64;
    (ok && r.rlim_cur != libc::RLIM_INFINITY).then_some(cur)
}

#[cfg(not(unix))]
fn address_space_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_lines() {
        let t = "MemTotal:       24730412 kB\nMemAvailable:   23197600 kB\n";
        assert_eq!(kib_line(t, "MemAvailable:"), Some(23_197_600 * 1024));
        assert_eq!(kib_line(t, "VmSize:"), None);
        #[cfg(target_os = "linux")]
        assert!(available_bytes().is_some_and(|b| b > 0));
    }
}
