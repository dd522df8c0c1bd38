//! The background monitor: a thread that samples the process's RSS and CPU% at an interval.
//!
//! Sampling reads `/proc` (through sysinfo) about every 100 ms on its own thread, never on the
//! path of a profiled call. It stops when the last handle of its profiler is dropped.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::collector::{lock, Collector};
use crate::error::ProfileError;

/// One reading of the process's resource use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonitorSample {
    /// When, in ns since the profiler started.
    pub t_ns: u64,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// CPU use since the previous sample, percent of one core (200% = two cores busy).
    pub cpu_percent: f32,
}

/// Reads the process's resident set size now (about 40 µs; never on the hot path).
pub fn current_rss_bytes() -> Option<u64> {
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
}

impl Sampler {
    fn new() -> Option<Self> {
        Some(Sampler {
            sys: System::new().ok()?,
            pid: sysinfo::get_current_pid().ok()?,
        })
    }

    fn sample(&mut self, t_ns: u64) -> Option<MonitorSample> {
        self.sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[self.pid]),
            false,
            ProcessRefreshKind::nothing().with_memory().with_cpu(),
        );
        let p = self.sys.process(self.pid)?;
        Some(MonitorSample {
            t_ns,
            rss_bytes: p.memory(),
            cpu_percent: p.cpu_usage(),
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
