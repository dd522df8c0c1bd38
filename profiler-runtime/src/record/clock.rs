//! The profiler's time base: raw TSC reads on the hot path, scaled to ns off it.
//!
//! `quanta` decides whether the CPU has an invariant TSC and calibrates it against the OS clock;
//! where it has, raw readings are one inlined `rdtsc` (quanta's own `raw` is an out-of-line call
//! from here), elsewhere quanta's OS monotonic clock. Raw readings are taken on enter and exit;
//! their differences stay in raw ticks on the hot path and are scaled to nanoseconds only when
//! events are folded into aggregates or read.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The calibrated clock and whether its raw readings are the TSC.
static CLOCK: OnceLock<(quanta::Clock, bool)> = OnceLock::new();

/// The process-wide calibrated clock (calibrated once, on first use).
fn global() -> &'static (quanta::Clock, bool) {
    CLOCK.get_or_init(|| {
        let clock = quanta::Clock::new();
        let tsc = reads_tsc(&clock);
        (clock, tsc)
    })
}

/// Whether `clock`'s raw readings are the TSC: three readings in a row each fall between two
/// `rdtsc`s taken around it (an OS clock in ns never lands in such a window by chance).
#[cfg(target_arch = "x86_64")]
fn reads_tsc(clock: &quanta::Clock) -> bool {
    (0..3).all(|_| {
        let before = tsc();
        let raw = clock.raw();
        let after = tsc();
        before <= raw && raw <= after
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn reads_tsc(_clock: &quanta::Clock) -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn tsc() -> u64 {
    // SAFETY: `rdtsc` exists on every x86_64 CPU and has no preconditions.
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
}

/// A profiler's clock: the shared calibrated source plus this profiler's epoch.
#[derive(Debug, Clone)]
pub(crate) struct ProfClock {
    clock: &'static quanta::Clock,
    /// Raw readings are `rdtsc`, read inline.
    tsc: bool,
    epoch_raw: u64,
    epoch_unix_ns: u64,
}

impl ProfClock {
    pub(crate) fn new() -> Self {
        let &(ref clock, tsc) = global();
        let epoch_raw = clock.raw();
        let epoch_unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        ProfClock {
            clock,
            tsc,
            epoch_raw,
            epoch_unix_ns,
        }
    }

    /// A raw reading: cheap, not in any unit.
    #[inline(always)]
    pub(crate) fn raw(&self) -> u64 {
        #[cfg(target_arch = "x86_64")]
        if self.tsc {
            return tsc();
        }
        self.clock.raw()
    }

    /// Nanoseconds between two raw readings (0 if `end` precedes `start`).
    #[cfg(test)]
    pub(crate) fn delta_ns(&self, start: u64, end: u64) -> u64 {
        self.clock.delta_as_nanos(start, end)
    }

    /// A span of `ticks` raw units (a difference of raw readings) in ns. Scaling is linear, so
    /// the hot path sums raw differences and events are scaled once, off it.
    #[inline(always)]
    pub(crate) fn ticks_ns(&self, ticks: u64) -> u64 {
        self.clock.delta_as_nanos(0, ticks)
    }

    /// A raw reading as ns since this profiler started.
    #[inline(always)]
    pub(crate) fn to_ns(&self, raw: u64) -> u64 {
        self.clock.delta_as_nanos(self.epoch_raw, raw)
    }

    /// Now, in ns since this profiler started.
    pub(crate) fn now_ns(&self) -> u64 {
        self.to_ns(self.raw())
    }

    /// Wall-clock time (ns since the Unix epoch) at which this profiler started.
    pub(crate) fn epoch_unix_ns(&self) -> u64 {
        self.epoch_unix_ns
    }

    /// Where raw readings come from: `tsc` (the invariant time-stamp counter, calibrated by
    /// quanta against the OS monotonic clock) or `os-monotonic`.
    pub(crate) fn source(&self) -> &'static str {
        if self.tsc {
            "tsc"
        } else {
            "os-monotonic"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_readings_scale_to_the_os_clock() {
        let clock = ProfClock::new();
        let t0 = std::time::Instant::now();
        let a = clock.raw();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = clock.raw();
        let os = t0.elapsed().as_nanos() as u64;
        let ns = clock.delta_ns(a, b);
        // The raw path (inline `rdtsc` or quanta's) and quanta's scaling agree on the unit.
        assert!(ns >= 20_000_000, "{ns} ns over a 20 ms sleep");
        assert!(ns <= os + 1_000_000, "{ns} ns, the OS saw {os} ns");
    }
}
