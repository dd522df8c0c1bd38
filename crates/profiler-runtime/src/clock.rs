//! The profiler's time base: raw TSC reads on the hot path, scaled to ns off it.
//!
//! `quanta` reads the invariant TSC where the CPU has one (about 7-15 ns) and falls back to the
//! OS monotonic clock elsewhere. Raw readings are taken on enter and exit; they are scaled to
//! nanoseconds since the profiler started only when an event is built.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

/// The process-wide calibrated clock (calibrated once, on first use).
fn global() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// A profiler's clock: the shared calibrated source plus this profiler's epoch.
#[derive(Debug, Clone)]
pub(crate) struct ProfClock {
    clock: &'static quanta::Clock,
    epoch_raw: u64,
    epoch_unix_ns: u64,
}

impl ProfClock {
    pub(crate) fn new() -> Self {
        let clock = global();
        let epoch_raw = clock.raw();
        let epoch_unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        ProfClock {
            clock,
            epoch_raw,
            epoch_unix_ns,
        }
    }

    /// A raw reading: cheap, not in any unit.
    #[inline(always)]
    pub(crate) fn raw(&self) -> u64 {
        self.clock.raw()
    }

    /// Nanoseconds between two raw readings (0 if `end` precedes `start`).
    #[inline(always)]
    pub(crate) fn delta_ns(&self, start: u64, end: u64) -> u64 {
        self.clock.delta_as_nanos(start, end)
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
}
