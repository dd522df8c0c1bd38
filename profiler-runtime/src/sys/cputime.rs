//! CPU time clocks: the calling thread's, which a `ScalingStudy` times
//! with [`ScalingClock::ThreadCpu`] so that a busy machine (other processes preempting the
//! workload) does not bend the fitted exponents; and the whole process's, from which the
//! background monitor computes CPU% over its own interval (in ns, where the kernel's per-process
//! tick counts that sysinfo reads move in 10 ms steps).

use serde::{Deserialize, Serialize};

/// Which clock a scaling study times runs with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalingClock {
    /// Wall time (`Instant`): right for multi-threaded workloads and anything that waits.
    #[default]
    Wall,
    /// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`): immune to preemption by
    /// other processes, but blind to work on other threads. Linux only; elsewhere the study
    /// falls back to [`Wall`](Self::Wall) and says so in its results.
    ThreadCpu,
}

impl ScalingClock {
    /// `wall` or `thread CPU`.
    pub const fn label(self) -> &'static str {
        match self {
            ScalingClock::Wall => "wall",
            ScalingClock::ThreadCpu => "thread CPU",
        }
    }
}

/// CPU time consumed by the calling thread so far, ns; `None` where the platform has no such
/// clock (only 64-bit Linux is supported).
///
/// ```
/// let t0 = profiler_runtime::sys::thread_cpu_ns();
/// let s: u64 = (0..100_000u64).map(std::hint::black_box).sum();
/// std::hint::black_box(s);
/// if let (Some(a), Some(b)) = (t0, profiler_runtime::sys::thread_cpu_ns()) {
///     assert!(b >= a);
/// }
/// ```
pub fn thread_cpu_ns() -> Option<u64> {
    imp::cpu_ns(imp::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time consumed by the whole process so far (all its threads), ns; `None` where the
/// platform has no such clock (only 64-bit Linux is supported).
#[cfg(feature = "monitor")]
pub(crate) fn process_cpu_ns() -> Option<u64> {
    imp::cpu_ns(imp::CLOCK_PROCESS_CPUTIME_ID)
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod imp {
    /// `struct timespec` on 64-bit Linux.
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }

    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }

    /// `CLOCK_PROCESS_CPUTIME_ID` on Linux.
    #[cfg(feature = "monitor")]
    pub(super) const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    /// `CLOCK_THREAD_CPUTIME_ID` on Linux.
    pub(super) const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

    pub(super) fn cpu_ns(clock: i32) -> Option<u64> {
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` is in the C library std links on Linux; it writes one
        // `timespec` (whose layout `Timespec` matches on 64-bit Linux) through a valid pointer.
        let rc = unsafe { clock_gettime(clock, &mut ts) };
        if rc != 0 || ts.tv_sec < 0 || ts.tv_nsec < 0 {
            return None;
        }
        Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
mod imp {
    #[cfg(feature = "monitor")]
    pub(super) const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    pub(super) const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

    pub(super) fn cpu_ns(_clock: i32) -> Option<u64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_time_advances_with_work_not_with_sleep() {
        let Some(a) = thread_cpu_ns() else { return };
        std::thread::sleep(std::time::Duration::from_millis(30));
        let b = thread_cpu_ns().unwrap();
        assert!(b - a < 20_000_000, "sleeping used {} ns of CPU", b - a);
        let mut s = 0u64;
        for i in 0..5_000_000u64 {
            s = s.wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(s);
        assert!(thread_cpu_ns().unwrap() > b);
    }
}
