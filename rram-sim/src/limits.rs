//! Memory limits: a solve whose matrices cannot fit the memory available is refused with
//! [`SimError::TooLarge`] before anything is allocated for it.
//!
//! Available memory is the smaller of the kernel's `MemAvailable` (`/proc/meminfo`) and the
//! address space left under `RLIMIT_AS` (`/proc/self/limits` minus `VmSize` in
//! `/proc/self/status`). Each file is read with a bounded read; where they cannot be read
//! (another OS), no limit is applied.

use std::io::Read;

use crate::error::SimError;

/// Bytes of f64 matrices of order `n` a solve allocates at least: `count` matrices of n².
fn matrices(n: usize, count: u64) -> u64 {
    (n as u64)
        .checked_mul(n as u64)
        .and_then(|v| v.checked_mul(8))
        .and_then(|v| v.checked_mul(count))
        .unwrap_or(u64::MAX)
}

/// Lower bound on the bytes [`crate::hp_inv`] allocates at order `n`: the INV array's two
/// conductance matrices, its effective matrix, the loop matrix, its LU and the eigenvalue
/// problem's matrix and workspace (about 3 n²), and HP-MVM's sliced matrix and its copy.
pub fn hp_inv_bytes(n: usize) -> u64 {
    matrices(n, 10)
}

/// Lower bound on the bytes [`crate::block_amc`] allocates at order `n` (tiles of `tile`,
/// `slices` HP-MVM slices): the tiles' conductances and effective matrices (3 n²), the
/// assembled loop of the top split with its LU and eigenvalue problem (about 6 n², halving
/// per level), and HP-MVM (2 n²).
pub fn block_amc_bytes(n: usize, tile: usize, _slices: usize) -> u64 {
    if n <= tile {
        return hp_inv_bytes(n);
    }
    matrices(n, 12)
}

/// Reads at most 64 KiB of a text file.
fn read_bounded(path: &str) -> Option<String> {
    let mut s = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(64 * 1024)
        .read_to_string(&mut s)
        .ok()?;
    Some(s)
}

/// The value in kB of the line starting with `key` in a `/proc` status-style file, in bytes.
fn kb_field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line[key.len()..].split_whitespace().next()?.parse().ok()?;
    kb.checked_mul(1024)
}

/// The soft `RLIMIT_AS` in bytes from `/proc/self/limits`, `None` if unlimited or unknown.
fn address_space_limit() -> Option<u64> {
    let text = read_bounded("/proc/self/limits")?;
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Bytes available to this process for new allocations, and which limit sets it; `None` if
/// nothing can be read.
pub fn available_bytes() -> Option<(u64, &'static str)> {
    let mem = read_bounded("/proc/meminfo").and_then(|t| kb_field(&t, "MemAvailable:"));
    let rlimit = address_space_limit().map(|limit| {
        let used = read_bounded("/proc/self/status")
            .and_then(|t| kb_field(&t, "VmSize:"))
            .unwrap_or(0);
        limit.saturating_sub(used)
    });
    match (mem, rlimit) {
        (Some(m), Some(r)) if r < m => Some((r, "RLIMIT_AS less the address space in use")),
        (Some(m), _) => Some((m, "MemAvailable")),
        (None, Some(r)) => Some((r, "RLIMIT_AS less the address space in use")),
        (None, None) => None,
    }
}

/// [`SimError::TooLarge`] if `needed_bytes` for `input` of order `n` exceed what is available.
///
/// ```
/// use rram_sim::{limits::check_fits, SimError};
/// assert!(check_fits("g", 8, 1024).is_ok());
/// assert!(matches!(check_fits("g", 1 << 40, u64::MAX), Err(SimError::TooLarge { .. })));
/// ```
pub fn check_fits(input: &'static str, n: usize, needed_bytes: u64) -> Result<(), SimError> {
    match available_bytes() {
        Some((available, limit)) if needed_bytes > available => Err(SimError::TooLarge {
            input,
            n,
            needed_bytes,
            available_bytes: available,
            limit,
        }),
        _ => Ok(()),
    }
}
