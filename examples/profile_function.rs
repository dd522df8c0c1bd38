//! `profile_function`: time one call and measure its memory, without annotating it.
//!
//! With the `CountingAllocator` installed as the global allocator, the returned
//! `FunctionMetrics` carry exact heap figures for the calling thread: bytes allocated and the
//! net growth (allocated minus freed). Without it they fall back to process RSS.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example profile_function
//! ```

use rram_profiler::profiler_runtime::MemorySource;
use rram_profiler::{CountingAllocator, PerformanceProfiler};

// Opt in to per-call heap accounting. It forwards to the system allocator and counts per thread.
#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

/// Builds an n x n matrix (row-major) and returns it: the memory stays alive after the call.
fn build_matrix(n: usize) -> Vec<f64> {
    (0..n * n).map(|i| (i % 7) as f64).collect()
}

/// Allocates scratch space and frees it before returning: allocated > 0, net growth ~ 0.
fn transient_work(n: usize) -> f64 {
    let scratch: Vec<f64> = vec![1.5; n];
    scratch.iter().sum()
}

fn main() {
    // `profile_function` works whether or not a subscriber is installed.
    let profiler = PerformanceProfiler::new();

    let (matrix, kept) = profiler.profile_function("build_matrix", || build_matrix(256));
    let (sum, transient) = profiler.profile_function("transient_work", || transient_work(100_000));

    for (name, m) in [("build_matrix", &kept), ("transient_work", &transient)] {
        println!(
            "{name:<15} time {:>10.3?}  allocated {:>9} B  net {:>9} B  (source: {:?})",
            m.execution_time,
            m.allocated_bytes.unwrap_or(0),
            m.memory_delta_bytes,
            m.memory_source
        );
    }

    // The matrix (256 * 256 f64 = 512 KiB) outlives the call, so the net growth is its size;
    // the scratch vector was freed inside, so nothing is left over.
    assert_eq!(kept.memory_source, MemorySource::Allocator);
    assert!(kept.memory_delta_bytes >= (256 * 256 * 8) as i64);
    assert!(transient.allocated_bytes.unwrap_or(0) >= 100_000 * 8);
    assert!(transient.memory_delta_bytes.abs() < 4096);
    println!(
        "matrix holds {} values, scratch summed to {sum}; net growth {} B",
        matrix.len(),
        kept.memory_delta_bytes
    );

    // Each call is also an event (kind `function_call`) in the profiler's snapshot.
    let profile = profiler.snapshot();
    println!("events recorded: {}", profile.total_events());
}
