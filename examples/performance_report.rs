//! The performance report: `get_performance_report()` summarises everything the profiler has
//! seen (events by kind, the machine, derived figures, per-operation percentiles, energy by
//! circuit component), and its `Display` prints it as a table.
//!
//! The workload runs on the simulator: it programs a TaOx crossbar once and performs a series
//! of analogue matrix-vector multiplies, each a `hardware_access` span that reports its energy.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example performance_report
//! ```

use nalgebra::{DMatrix, DVector};
use rram_profiler::rram_sim::{Crossbar, DeviceParams};
use rram_profiler::{profile, PerformanceProfiler};

/// Digital post-processing of an MVM result (a plain `function_call` span).
#[profile(skip(y))]
fn normalise(y: &DVector<f64>) -> DVector<f64> {
    let norm = y.norm().max(f64::MIN_POSITIVE);
    y / norm
}

fn main() {
    let n = 32;
    let g = DMatrix::from_fn(n, n, |i, j| ((i + 2 * j) % 9) as f64 / 8.0);
    let mut x = DVector::from_element(n, 1.0);

    let profiler = PerformanceProfiler::new();
    profiler.in_scope(|| {
        let mut xbar = Crossbar::new(n, n, DeviceParams::taox_3bit(), 7);
        xbar.write_matrix(&g).expect("g fits the array");
        // Power iteration on the array: 20 MVMs, each followed by a digital normalisation.
        for _ in 0..20 {
            let y = xbar.matrix_vector_multiply(&x).expect("x has n entries");
            x = normalise(&y.y);
        }
    });

    let report = profiler.get_performance_report();

    // The whole report, as a terminal table.
    println!("{report}");

    // Or read its fields directly.
    let s = &report.system_info;
    println!(
        "platform {} with {} CPUs and {} MiB",
        s.platform, s.cpu_count, s.memory_total_mb
    );
    println!("total events: {}", report.total_events);
    for (kind, count) in &report.event_counts_by_type {
        println!("  {kind:<16} {count}");
    }
    for (key, value) in &report.derived_metrics {
        println!("  {key:<26} {value:.3}");
    }
    if let Some(mvm) = report.operations.iter().find(|o| o.name == "crossbar.mvm") {
        println!(
            "crossbar.mvm: {} calls, p50 {} ns, p90 {} ns, p99 {} ns, {:.1} pJ in total",
            mvm.count,
            mvm.p50_ns,
            mvm.p90_ns,
            mvm.p99_ns,
            mvm.energy_pj.unwrap_or(0.0)
        );
        assert_eq!(mvm.count, 20);
    }
}
