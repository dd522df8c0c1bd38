//! Bottleneck analysis: profile a small workload, then ask `BottleneckAnalyzer` what is slow,
//! what allocates and what to do about it.
//!
//! The workload has one obvious hot spot (a naive matrix multiply), one allocation-heavy
//! function, and a cheap "hardware" call that reports energy. The analyzer ranks operations
//! by self time and prints a plain-text optimisation report.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example bottleneck_analysis
//! ```

use rram_profiler::profiler_runtime::BottleneckAnalyzer;
use rram_profiler::{metrics, profile, CountingAllocator, PerformanceProfiler};

// Per-span heap figures for the memory part of the analysis.
#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

/// The hot spot: an O(n^3) matrix multiply.
#[profile(kind = "computation", skip(a, b), fields(n = n))]
fn naive_matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            for j in 0..n {
                c[i * n + j] += a[i * n + k] * b[k * n + j];
            }
        }
    }
    metrics!(flops = 2 * n * n * n, bytes = 3 * n * n * 8);
    c
}

/// Allocation-heavy: builds many small vectors and throws them away.
#[profile(kind = "memory_usage")]
fn churn(rounds: usize) -> usize {
    (0..rounds).map(|i| vec![i as u8; 256].len()).sum()
}

/// A cheap operation on (pretend) hardware that reports its energy.
#[profile(kind = "hardware_access")]
fn read_tile(cells: usize) {
    metrics!(energy_pj = cells as f64 * 0.8, bytes = cells * 8);
}

fn main() {
    let profiler = PerformanceProfiler::new();
    profiler.in_scope(|| {
        let n = 48;
        let a = vec![1.0; n * n];
        for _ in 0..4 {
            let c = naive_matmul(&a, &a, n);
            assert_eq!(c[0], n as f64);
            churn(500);
            for _ in 0..10 {
                read_tile(64);
            }
        }
    });

    // Analyse a snapshot of everything recorded so far.
    let analyzer = BottleneckAnalyzer::new(&profiler);
    let analysis = analyzer.analyze_bottlenecks();
    let ba = &analysis.bottleneck_analysis;

    println!("slowest operations by self time:");
    for op in ba.slowest_by_self_time.iter().take(3) {
        println!(
            "  {:<14} {:<15} x{:<3} self {:>10.3?}  share {:>5.1}%  [{}]",
            op.name,
            op.kind.as_str(),
            op.count,
            op.self_time,
            op.time_share * 100.0,
            op.severity
        );
    }
    println!("top bottleneck: {}", ba.slowest_by_self_time[0].name);
    assert_eq!(ba.slowest_by_self_time[0].name, "naive_matmul");

    // The same analysis rendered for a terminal (`generate_markdown_report` for Markdown).
    println!();
    println!("{}", analyzer.generate_optimization_report());
}
