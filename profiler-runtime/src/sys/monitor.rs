//! The background monitor: a thread that samples the process's RSS and CPU% at an interval.
//!
//! Sampling reads `/proc` (through sysinfo) about every 100 ms on its own thread, never on the
//! path of a profiled call. It stops when the last handle of its profiler is dropped.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::error::ProfileError;
use crate::model::sample::MonitorSample;
use crate::record::collector::{lock, Collector};

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
}

impl Sampler {
    fn new() -> Option<Self> {
        Some(Sampler {
            sys: System::new().ok()?,
            pid: sysinfo::get_current_pid().ok()?,
            last_cpu: None,
        })
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
        Some(MonitorSample {
            t_ns,
            rss_bytes: p.memory(),
            cpu_percent: own_clock.unwrap_or_else(|| p.cpu_usage()),
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
