//! Multithreaded instrumentation: several threads call profiled functions at once. After a
//! global `install()` every thread reports to the same profiler; counts are exact, and every
//! event says which thread closed it.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example multithreaded
//! ```

use std::collections::BTreeMap;

use rram_profiler::{metrics, profile, PerformanceProfiler};

const THREADS: usize = 4;
const CALLS_PER_THREAD: usize = 250;

/// One multiply-accumulate over a row, as a tile of a crossbar would do it.
#[profile(kind = "hardware_access", skip(row))]
fn mac_row(row: &[f64]) -> f64 {
    metrics!(energy_pj = row.len() as f64 * 0.1, bytes = row.len() * 8);
    row.iter().map(|v| v * 0.5).sum()
}

/// One worker: its own span, with `CALLS_PER_THREAD` child spans.
#[profile(kind = "computation", fields(worker = worker))]
fn worker(worker: usize) -> f64 {
    let row = vec![worker as f64; 64];
    (0..CALLS_PER_THREAD).map(|_| mac_row(&row)).sum()
}

fn main() {
    let profiler = PerformanceProfiler::new();
    // Global: threads spawned from here on report to this profiler too.
    // (`in_scope` would only cover the calling thread.)
    profiler
        .install()
        .expect("no other global tracing subscriber");

    profiler.start_profiling("parallel");
    let total: f64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|w| {
                std::thread::Builder::new()
                    .name(format!("worker-{w}"))
                    .spawn_scoped(s, move || worker(w))
                    .expect("spawn a worker thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker finished"))
            .sum()
    });
    let run = profiler
        .stop_profiling("parallel")
        .expect("session started above");

    // Exact, whatever the interleaving: one `worker` span per thread plus its `mac_row` spans.
    let expected = (THREADS * (CALLS_PER_THREAD + 1)) as u64;
    println!(
        "{} events from {THREADS} threads (expected {expected}), {:.1} pJ, result {total}",
        run.events_count, run.metrics_summary.total_energy_pj
    );
    assert_eq!(run.events_count, expected);

    // Per-thread counts from the raw events, with the thread names the profiler recorded.
    let profile = profiler.snapshot();
    let names: BTreeMap<u64, &str> = profile
        .threads
        .iter()
        .map(|t| (t.id, t.name.as_str()))
        .collect();
    let mut per_thread: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &run.events {
        *per_thread
            .entry(names.get(&e.thread_id).copied().unwrap_or("?"))
            .or_default() += 1;
    }
    for (thread, count) in &per_thread {
        println!("  {thread:<10} {count} events");
        assert_eq!(*count, CALLS_PER_THREAD + 1);
    }

    // The aggregates per operation are exact too.
    let mac = profile.operation("mac_row").expect("mac_row was profiled");
    println!("mac_row: {} calls, mean {:.0} ns", mac.count, mac.mean_ns());
    assert_eq!(mac.count, (THREADS * CALLS_PER_THREAD) as u64);
}
