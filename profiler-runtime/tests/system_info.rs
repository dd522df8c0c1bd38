//! `get_performance_report().system_info`: the machine a profile was taken on; and the
//! monitor's documented default interval.

mod common;

use std::time::Duration;

use profiler_runtime::{profile, PerformanceProfiler, DEFAULT_MONITOR_INTERVAL};

#[profile]
fn tick(k: u32) -> u32 {
    k + 1
}

#[test]
fn the_report_describes_the_machine() {
    let p = common::profiler();
    p.in_scope(|| tick(1));
    let info = p.get_performance_report().system_info;
    assert!(!info.os_version.trim().is_empty(), "os_version: {info:?}");
    assert!(!info.cpu_model.trim().is_empty(), "cpu_model: {info:?}");
    assert!(info.memory_total_mb > 0, "memory_total_mb: {info:?}");
    assert_eq!(info.platform, std::env::consts::OS);
    assert_eq!(info.arch, std::env::consts::ARCH);
    assert!(info.cpu_count >= 1);
    if let Some(cores) = info.physical_cores {
        assert!(cores >= 1, "{info:?}");
    }
    assert_eq!(info.profiler_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        p.snapshot().system,
        info,
        "the snapshot and the report describe the same machine"
    );
}

#[test]
fn the_default_monitor_interval_is_100_ms() {
    assert_eq!(DEFAULT_MONITOR_INTERVAL, Duration::from_millis(100));
}

#[test]
fn a_default_profiler_runs_the_monitor_and_without_monitor_does_not() {
    let quiet = common::profiler();
    let p = PerformanceProfiler::new();
    // The monitor samples once as it starts, then once per interval: wait for the first one.
    let mut samples = 0;
    for _ in 0..500 {
        samples = p.snapshot().samples.len();
        if samples > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(samples > 0, "a default profiler samples RSS and CPU");
    let s = &p.snapshot().samples[0];
    assert!(s.rss_bytes > 0, "{s:?}");
    assert!(
        quiet.snapshot().samples.is_empty(),
        "without_monitor: no samples"
    );
    drop(p); // joins the monitor thread
}

#[test]
fn the_monitor_sees_the_process_busy() {
    let p = PerformanceProfiler::builder()
        .monitor_interval(Duration::from_millis(5))
        .build()
        .expect("valid config");
    // Spin until six samples exist: each one after the first (which has no previous reading
    // to compare with) covers an interval in which this thread spun, even at 5 ms (the CPU%
    // comes from the process's CPU clock, not the kernel's 10 ms ticks); on a loaded machine a
    // 5 ms interval can still pass without this thread on a core, so most, not all, show it.
    let mut x = 0u64;
    let mut busy = Vec::new();
    for _ in 0..1_000_000 {
        for i in 0..10_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        busy = p.snapshot().samples;
        if busy.len() >= 6 {
            break;
        }
    }
    assert!(busy.len() >= 6, "the monitor samples every 5 ms: {busy:?}");
    assert!(
        busy[1..].iter().filter(|s| s.cpu_percent > 1.0).count() >= 3,
        "CPU% while spinning: {busy:?}"
    );
    assert!(busy
        .iter()
        .all(|s| s.cpu_percent >= 0.0 && s.cpu_percent.is_finite()));
    assert!(busy.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
}
