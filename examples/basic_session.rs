//! A basic profiling session: install the profiler as the global tracing subscriber, mark
//! functions with `#[profile]`, wrap a run in `start_profiling` / `stop_profiling`, and print
//! what the session saw.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example basic_session
//! ```

use rram_profiler::{metrics, profile, PerformanceProfiler};

/// A "hardware" operation: programs one tile of a crossbar and reports its (made-up) cost.
/// `metrics!` adds numbers to the span of the current call.
#[profile(kind = "hardware_access")]
fn program_tile(cells: usize) {
    metrics!(energy_pj = cells as f64 * 3.3, bytes = cells * 8);
}

/// One step of an iterative solver. `name` overrides the span name, `fields(..)` records
/// arguments as numeric metrics of the event.
#[profile(kind = "algorithm_step", name = "solver.iteration", fields(k = k))]
fn iterate(k: usize) -> f64 {
    program_tile(64);
    let residual = 2f64.powi(-3 * k as i32);
    metrics!(residual = residual);
    residual
}

/// A plain function: the kind defaults to `function_call`.
#[profile]
fn checksum(values: &[f64]) -> f64 {
    values.iter().sum()
}

fn main() {
    // One profiler per program. `install()` makes it the process-wide default subscriber;
    // it fails if another subscriber is already installed.
    let profiler = PerformanceProfiler::new();
    profiler
        .install()
        .expect("no other global tracing subscriber");

    profiler.start_profiling("solve");
    let residuals: Vec<f64> = (0..8).map(iterate).collect();
    let sum = checksum(&residuals);
    let results = profiler
        .stop_profiling("solve")
        .expect("the session was started above");

    // 8 iterations + 8 tiles + 1 checksum: session counts are exact.
    println!(
        "session `{}`: {} events in {:?} (mean {:?} per event)",
        results.session_name, results.events_count, results.total_time, results.average_event_time
    );
    println!(
        "energy reported: {:.1} pJ; peak RSS {} KiB; checksum {sum:.6}",
        results.metrics_summary.total_energy_pj,
        results.peak_memory_bytes / 1024
    );
    for (kind, count) in &results.metrics_summary.events_by_kind {
        println!("  {kind:<16} {count}");
    }

    // The raw events: one per closed span, children close before their parents.
    for event in results
        .events
        .iter()
        .filter(|e| &*e.name == "solver.iteration")
        .take(3)
    {
        println!(
            "  {} k={} residual={:e} took {:?}",
            event.name,
            event.metric("k").unwrap_or(f64::NAN),
            event.metric("residual").unwrap_or(f64::NAN),
            event.duration()
        );
    }
    assert_eq!(results.events_count, 17);
}
