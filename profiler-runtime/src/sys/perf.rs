//! Hardware performance counters through Linux's `perf_event_open`: cycles, instructions, and
//! last-level cache references and misses, counted in user space for the thread that opens them
//! and the threads it starts afterwards (`inherit`).
//!
//! Opened when a session starts and read when it stops, off the hot path. Where the kernel
//! refuses (no PMU in a virtual machine or container, `perf_event_paranoid`, seccomp, not
//! Linux), [`SessionCounters::start`] says why, and the session reports
//! [`HardwareCounters::Unavailable`] with that reason: nothing is estimated.

use std::sync::OnceLock;

use crate::model::counters::{CounterValues, HardwareCounters};

/// What a counter counts: `(perf type, config)` of the kernel's ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterEvent {
    /// `perf_event_attr.type`.
    pub kind: u32,
    /// `perf_event_attr.config`.
    pub config: u64,
}

impl CounterEvent {
    /// `PERF_TYPE_HARDWARE` / `PERF_COUNT_HW_CPU_CYCLES`.
    pub const CYCLES: CounterEvent = CounterEvent { kind: 0, config: 0 };
    /// `PERF_TYPE_HARDWARE` / `PERF_COUNT_HW_INSTRUCTIONS`.
    pub const INSTRUCTIONS: CounterEvent = CounterEvent { kind: 0, config: 1 };
    /// `PERF_TYPE_HARDWARE` / `PERF_COUNT_HW_CACHE_REFERENCES`.
    pub const CACHE_REFERENCES: CounterEvent = CounterEvent { kind: 0, config: 2 };
    /// `PERF_TYPE_HARDWARE` / `PERF_COUNT_HW_CACHE_MISSES`.
    pub const CACHE_MISSES: CounterEvent = CounterEvent { kind: 0, config: 3 };
    /// `PERF_TYPE_SOFTWARE` / `PERF_COUNT_SW_TASK_CLOCK` (ns on CPU): a software event, for
    /// checking the counter machinery where hardware events are missing.
    pub const TASK_CLOCK: CounterEvent = CounterEvent { kind: 1, config: 1 };
}

/// One reading of a counter: its value scaled for time-sharing, and whether it was shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterReading {
    /// The count (scaled up by enabled over running time when the kernel time-shared it).
    pub value: u64,
    /// Whether the counter ran for only part of the time it was enabled.
    pub multiplexed: bool,
}

/// One open counter; closed on drop.
#[derive(Debug)]
pub struct Counter {
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
}

/// The four hardware counters of a session, or the reason they could not be opened.
#[derive(Debug)]
pub struct SessionCounters(Result<[Counter; 4], String>);

impl SessionCounters {
    /// Opens and starts cycles, instructions, cache references and cache misses; the first
    /// refusal ends it (counters are all or nothing) with the kernel's reason.
    ///
    /// A refusal is remembered for the rest of the process (the kernel's answer does not
    /// change), so later sessions do not ask again.
    pub fn start() -> Self {
        static REFUSED: OnceLock<String> = OnceLock::new();
        if let Some(reason) = REFUSED.get() {
            return SessionCounters(Err(reason.clone()));
        }
        let open = || -> Result<[Counter; 4], String> {
            Ok([
                Counter::open(CounterEvent::CYCLES)?,
                Counter::open(CounterEvent::INSTRUCTIONS)?,
                Counter::open(CounterEvent::CACHE_REFERENCES)?,
                Counter::open(CounterEvent::CACHE_MISSES)?,
            ])
        };
        let r = open();
        if let Err(reason) = &r {
            let _ = REFUSED.set(reason.clone());
        }
        SessionCounters(r)
    }

    /// Whether the counters are open (the kernel allowed them).
    pub fn is_available(&self) -> bool {
        self.0.is_ok()
    }

    /// The counts so far, or why there are none.
    pub fn read(&self) -> HardwareCounters {
        match &self.0 {
            Err(reason) => HardwareCounters::Unavailable {
                reason: reason.clone(),
            },
            Ok([c, i, r, m]) => match (c.read(), i.read(), r.read(), m.read()) {
                (Ok(c), Ok(i), Ok(r), Ok(m)) => HardwareCounters::Measured(CounterValues {
                    cycles: c.value,
                    instructions: i.value,
                    cache_references: r.value,
                    cache_misses: m.value,
                    multiplexed: c.multiplexed || i.multiplexed || r.multiplexed || m.multiplexed,
                }),
                (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
                    HardwareCounters::Unavailable {
                        reason: format!("reading the counters failed: {e}"),
                    }
                }
            },
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    use super::{Counter, CounterEvent, CounterReading};

    /// `struct perf_event_attr` up to `config1` (`PERF_ATTR_SIZE_VER0`, 64 bytes): every field
    /// this reader sets; the kernel zero-extends the rest.
    #[repr(C)]
    #[derive(Default)]
    struct PerfEventAttr {
        kind: u32,
        size: u32,
        config: u64,
        sample_period: u64,
        sample_type: u64,
        read_format: u64,
        flags: u64,
        wakeup_events: u32,
        bp_type: u32,
        config1: u64,
    }

    // `perf_event_attr.flags` bits.
    const INHERIT: u64 = 1 << 1;
    const EXCLUDE_KERNEL: u64 = 1 << 5;
    const EXCLUDE_HV: u64 = 1 << 6;
    // `perf_event_open` flags.
    const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
    // `read_format` bits.
    const TOTAL_TIME_ENABLED: u64 = 1 << 0;
    const TOTAL_TIME_RUNNING: u64 = 1 << 1;

    impl Counter {
        /// Opens `event` for this thread and the threads it starts from now on, counting at
        /// once (user space only).
        pub fn open(event: CounterEvent) -> Result<Counter, String> {
            let attr = PerfEventAttr {
                kind: event.kind,
                size: std::mem::size_of::<PerfEventAttr>() as u32,
                config: event.config,
                read_format: TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING,
                flags: INHERIT | EXCLUDE_KERNEL | EXCLUDE_HV,
                ..PerfEventAttr::default()
            };
            // SAFETY: `attr` is a valid, initialised `perf_event_attr` of the size it states;
            // pid 0 / cpu -1 is "this thread, any CPU"; no group fd, no flags.
            let fd = unsafe {
                libc::syscall(
                    libc::SYS_perf_event_open,
                    &attr as *const PerfEventAttr,
                    0 as libc::pid_t,
                    -1 as libc::c_int,
                    -1 as libc::c_int,
                    PERF_FLAG_FD_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(refusal(io::Error::last_os_error()));
            }
            let Ok(fd) = i32::try_from(fd) else {
                return Err(format!(
                    "perf_event_open returned an invalid descriptor {fd}"
                ));
            };
            // SAFETY: a descriptor just returned by the kernel, owned by nobody else.
            Ok(Counter {
                fd: unsafe { OwnedFd::from_raw_fd(fd) },
            })
        }

        /// The count so far.
        pub fn read(&self) -> Result<CounterReading, String> {
            let mut buf = [0u64; 3];
            // SAFETY: `buf` is 24 writable bytes, the size of this read format.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast::<libc::c_void>(),
                    std::mem::size_of_val(&buf),
                )
            };
            if n != std::mem::size_of_val(&buf) as isize {
                return Err(io::Error::last_os_error().to_string());
            }
            let [value, enabled, running] = buf;
            let multiplexed = running < enabled;
            let value = if multiplexed && running > 0 {
                let scaled = u128::from(value) * u128::from(enabled) / u128::from(running);
                u64::try_from(scaled).unwrap_or(u64::MAX)
            } else {
                value
            };
            Ok(CounterReading { value, multiplexed })
        }
    }

    /// Why the kernel refused, in words a user can act on.
    fn refusal(e: io::Error) -> String {
        let why = match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::EOPNOTSUPP) => {
                "the kernel exposes no hardware counter events here (no PMU: typical of virtual machines and containers)".to_owned()
            }
            Some(libc::EACCES) | Some(libc::EPERM) => format!(
                "not permitted (kernel.perf_event_paranoid = {}; lower it or grant CAP_PERFMON)",
                std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
                    .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned())
            ),
            Some(libc::ENOSYS) => {
                "perf_event_open is not available (kernel built without it, or blocked by seccomp)".to_owned()
            }
            Some(libc::ENODEV) => "the CPU's PMU does not support this event".to_owned(),
            _ => "refused".to_owned(),
        };
        format!("perf_event_open: {e}: {why}")
    }
}

#[cfg(not(target_os = "linux"))]
impl Counter {
    /// Hardware counters are read through Linux's `perf_event_open` only.
    pub fn open(_event: CounterEvent) -> Result<Counter, String> {
        Err("hardware counters are read through Linux's perf_event_open; this is not Linux".into())
    }

    /// Never reached: no counter opens here.
    pub fn read(&self) -> Result<CounterReading, String> {
        Err("not Linux".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_counter_set_reports_its_reason_and_no_numbers() {
        let s = SessionCounters(Err("perf_event_open: denied".into()));
        assert_eq!(
            s.read(),
            HardwareCounters::Unavailable {
                reason: "perf_event_open: denied".into()
            }
        );
    }
}
