//! Allocation sizes per operation, and pool advice for many small allocations of one size.
//!
//! Alone in its binary: a span that counts every thread's allocations would also count another
//! test's.

mod common;

use profiler_runtime::{profile, BottleneckAnalyzer, CountingAllocator, PerformanceMetric};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

/// Many small allocations of one size, counted for the whole process.
#[profile(kind = "computation", alloc = "process")]
fn many_small_nodes() -> usize {
    let nodes: Vec<Box<[u64; 3]>> = (0..5_000u64).map(|i| Box::new([i, i + 1, i + 2])).collect();
    nodes.iter().map(|b| b[1] as usize).sum()
}

#[test]
fn allocation_sizes_per_operation_give_pool_advice() {
    let p = common::profiler();
    p.in_scope(many_small_nodes);
    let a = BottleneckAnalyzer::new(&p).analyze_bottlenecks();
    let sizes = &a.bottleneck_analysis.memory_analysis.sizes;
    let z = sizes
        .iter()
        .find(|z| z.name == "many_small_nodes")
        .expect("size classes of the operation");
    // 24-byte boxes: the 17-32 B class.
    assert_eq!(z.dominant_class, 2, "{z:?}");
    assert!(z.sizes.counts[2] >= 5_000 && z.pool_candidate, "{z:?}");
    let b = a
        .bottleneck_analysis
        .bottlenecks
        .iter()
        .find(|b| b.subject == "many_small_nodes" && b.title.contains("one size"))
        .expect("pool advice");
    assert_eq!(b.metric, PerformanceMetric::MemoryUsage);
    assert!(
        b.title.contains("17-32 B") && b.recommendation.contains("pool"),
        "{b:?}"
    );
}
