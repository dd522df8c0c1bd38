//! The machine's CPU time from `/proc/stat`, for the monitor's background-load samples: how
//! much CPU the whole machine used (every process) and how much the hypervisor stole.

/// Cumulative CPU time of the machine, in the kernel's clock ticks, summed over every CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    /// Time spent running anything: user, nice, system, irq and softirq (guests are in user).
    pub busy: u64,
    /// Time taken by the hypervisor for other guests.
    pub steal: u64,
    /// Every state: busy, idle, iowait and steal.
    pub total: u64,
    /// CPUs (`cpuN` lines).
    pub cpus: u32,
}

impl CpuTimes {
    /// Busy and steal over `earlier`..`self`, each in percent of one CPU (200% = two CPUs), or
    /// `None` when no time passed.
    pub fn percent_since(&self, earlier: &CpuTimes) -> Option<(f64, f64)> {
        let total = self.total.checked_sub(earlier.total).filter(|t| *t > 0)? as f64;
        let cpus = f64::from(self.cpus.max(1));
        let busy = self.busy.saturating_sub(earlier.busy) as f64;
        let steal = self.steal.saturating_sub(earlier.steal) as f64;
        Some((busy / total * cpus * 100.0, steal / total * cpus * 100.0))
    }
}

/// Parses the text of `/proc/stat` (its `cpu` and `cpuN` lines).
pub fn parse_proc_stat(text: &str) -> Option<CpuTimes> {
    let mut t: Option<CpuTimes> = None;
    let mut cpus = 0u32;
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        match f.next() {
            Some("cpu") => {
                let v: Vec<u64> = f.take(8).map(|x| x.parse().ok()).collect::<Option<_>>()?;
                let at = |i: usize| v.get(i).copied().unwrap_or(0);
                // user nice system idle iowait irq softirq steal
                let busy = [0, 1, 2, 5, 6]
                    .iter()
                    .fold(0u64, |a, &i| a.saturating_add(at(i)));
                let steal = at(7);
                let total = busy
                    .saturating_add(at(3))
                    .saturating_add(at(4))
                    .saturating_add(steal);
                t = Some(CpuTimes {
                    busy,
                    steal,
                    total,
                    cpus: 0,
                });
            }
            Some(name) if name.starts_with("cpu") => cpus = cpus.saturating_add(1),
            _ => {}
        }
    }
    t.map(|t| CpuTimes { cpus, ..t })
}

/// Reads `/proc/stat` now (its first 64 KiB), or `None` where it cannot be read.
pub fn read_proc_stat() -> Option<CpuTimes> {
    use std::io::Read;
    let f = std::fs::File::open("/proc/stat").ok()?;
    let mut text = String::new();
    f.take(64 * 1024).read_to_string(&mut text).ok()?;
    parse_proc_stat(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_steal_per_cpu_from_two_readings() {
        let a = parse_proc_stat(
            "cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 0 0 0\ncpu1 1 0 0 0\nintr 5\n",
        )
        .unwrap();
        assert_eq!((a.busy, a.steal, a.total, a.cpus), (150, 40, 1000, 2));
        let b = parse_proc_stat("cpu  200 0 100 850 10 0 0 90 0 0\ncpu0 1\ncpu1 1\n").unwrap();
        // 250 ticks over 2 CPUs: 150 busy (2 x 150/250 = 1.2 CPUs), 50 stolen (0.4 CPUs).
        let (busy, steal) = b.percent_since(&a).unwrap();
        assert!((busy - 120.0).abs() < 1e-9, "{busy}");
        assert!((steal - 40.0).abs() < 1e-9, "{steal}");
        assert_eq!(a.percent_since(&a), None);
        assert_eq!(parse_proc_stat("cpu x y\n"), None);
        assert_eq!(parse_proc_stat("nothing\n"), None);
    }
}
