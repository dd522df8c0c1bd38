//! The background monitor: a thread that samples the process's RSS and CPU% at an interval,
//! with the live heap (the counting allocator's process-wide counters) against the allocator's
//! own footprint (`mallinfo2`), the whole machine's CPU use and steal time (`/proc/stat`), and
//! the RAPL package energy where readable.
//!
//! Sampling reads `/proc` (through sysinfo) about every 100 ms on its own thread, never on the
//! path of a profiled call; its own allocations count as the profiler's. It stops when the last
//! handle of its profiler is dropped.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::error::ProfileError;
use crate::model::sample::MonitorSample;
use crate::record::alloc::OwnAllocations;
use crate::record::collector::{lock, Collector};
use crate::record::heap::live_heap_bytes;
use crate::sys::footprint::allocator_footprint_bytes;
use crate::sys::power::RaplReader;
use crate::sys::procstat::{read_proc_stat, CpuTimes};

/// RSS through sysinfo (platforms without `/proc/self/status`).
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub(crate) fn sysinfo_rss() -> Option<u64> {
    let mut sys = System::new().ok()?;
    let pid = sysinfo::get_current_pid().ok()?;
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        false,
        ProcessRefreshKind::nothing().with_memory(),
    );
    sys.process(pid).map(|p| p.memory())
}

struct Sampler {
    sys: System,
    pid: Pid,
    /// The previous sample's time and the process's CPU time then (ns), for CPU% over the
    /// interval between them.
    last_cpu: Option<(u64, u64)>,
    /// The machine's CPU times at the previous sample.
    last_machine: Option<CpuTimes>,
    /// RAPL counters (where readable), their last reading and the energy so far, µJ.
    rapl: Option<(RaplReader, Vec<u64>, u64)>,
}

impl Sampler {
    fn new() -> Option<Self> {
        Some(Sampler {
            sys: System::new().ok()?,
            pid: sysinfo::get_current_pid().ok()?,
            last_cpu: None,
            last_machine: read_proc_stat(),
            rapl: RaplReader::open().ok().map(|r| {
                let now = r.read_uj();
                (r, now, 0)
            }),
        })
    }

    /// The machine's CPU use and steal since the previous sample, percent of one core.
    fn machine(&mut self) -> (Option<f32>, Option<f32>) {
        let now = read_proc_stat();
        let pct = match (&self.last_machine, &now) {
            (Some(a), Some(b)) => b.percent_since(a),
            _ => None,
        };
        if now.is_some() {
            self.last_machine = now;
        }
        match pct {
            Some((busy, steal)) => (Some(busy as f32), Some(steal as f32)),
            None => (None, None),
        }
    }

    /// RAPL package energy since the monitor started, µJ.
    fn rapl_uj(&mut self) -> Option<u64> {
        let (r, last, total) = self.rapl.as_mut()?;
        let now = r.read_uj();
        let uj = (r.delta_j(last, &now) * 1e6).round();
        *total = total.saturating_add(if uj.is_finite() && uj > 0.0 {
            uj as u64
        } else {
            0
        });
        *last = now;
        Some(*total)
    }

    /// CPU% since the previous sample from the process's CPU clock (ns resolution, any
    /// interval); `None` where the platform has no such clock.
    fn cpu_percent(&mut self, t_ns: u64) -> Option<f32> {
        let cpu = crate::sys::cputime::process_cpu_ns()?;
        let pct = match self.last_cpu {
            Some((t0, c0)) if t_ns > t0 => {
                cpu.saturating_sub(c0) as f64 / (t_ns - t0) as f64 * 100.0
            }
            _ => 0.0,
        };
        self.last_cpu = Some((t_ns, cpu));
        Some(pct as f32)
    }

    fn sample(&mut self, t_ns: u64) -> Option<MonitorSample> {
        let own_clock = self.cpu_percent(t_ns);
        // sysinfo's own CPU% (from the kernel's 10 ms ticks, and 0 when refreshed more often
        // than every 200 ms) only where the process CPU clock is missing.
        let refresh = match own_clock {
            Some(_) => ProcessRefreshKind::nothing().with_memory(),
            None => ProcessRefreshKind::nothing().with_memory().with_cpu(),
        };
        self.sys
            .refresh_processes_specifics(ProcessesToUpdate::Some(&[self.pid]), false, refresh);
        let p = self.sys.process(self.pid)?;
        let (rss_bytes, cpu_percent) = (p.memory(), own_clock.unwrap_or_else(|| p.cpu_usage()));
        let (machine_cpu_percent, steal_percent) = self.machine();
        Some(MonitorSample {
            t_ns,
            rss_bytes,
            cpu_percent,
            heap_live_bytes: live_heap_bytes(),
            heap_footprint_bytes: allocator_footprint_bytes(),
            machine_cpu_percent,
            steal_percent,
            cpu_energy_uj: self.rapl_uj(),
        })
    }
}

/// A running monitor thread; stops and joins on drop.
pub(crate) struct Monitor {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl Monitor {
    pub(crate) fn start(
        collector: Arc<Collector>,
        interval: Duration,
    ) -> Result<Self, ProfileError> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stop2 = stop.clone();
        let handle = std::thread::Builder::new()
            .name("rram-profiler-monitor".into())
            .spawn(move || run(&collector, interval, &stop2))
            .map_err(|e| {
                ProfileError::InvalidConfig(format!("cannot start the monitor thread: {e}"))
            })?;
        Ok(Monitor {
            stop,
            handle: Some(handle),
        })
    }
}

fn run(collector: &Collector, interval: Duration, stop: &(Mutex<bool>, Condvar)) {
    // Everything this thread allocates is the profiler's own: never a user's span or heap.
    let _own = OwnAllocations::begin();
    let Some(mut sampler) = Sampler::new() else {
        return;
    };
    let (flag, cv) = stop;
    let mut stopped = lock(flag);
    loop {
        if *stopped {
            return;
        }
        let t = collector.clock.now_ns();
        if let Some(s) = sampler.sample(t) {
            collector.push_sample(s);
        }
        stopped = match cv.wait_timeout(stopped, interval) {
            Ok((g, _)) => g,
            Err(p) => p.into_inner().0,
        };
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let (flag, cv) = &*self.stop;
        *lock(flag) = true;
        cv.notify_all();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
