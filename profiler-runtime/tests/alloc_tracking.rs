//! With `CountingAllocator` installed, spans report their heap traffic, excluding the
//! profiler's own allocations.

mod common;

use profiler_runtime::{profile, CountingAllocator, MemorySource};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

const MIB: usize = 1 << 20;

#[profile(kind = "memory_usage")]
fn allocates_one_mib() -> usize {
    let v = vec![1u8; MIB];
    std::hint::black_box(&v);
    v.len()
}

#[profile]
fn keeps(n: usize) -> Vec<u8> {
    vec![0u8; n]
}

#[profile]
fn nothing() {}

#[profile]
fn outer() -> usize {
    allocates_one_mib() + allocates_one_mib()
}

#[test]
fn a_span_that_allocates_one_mib_reports_it() {
    let p = common::profiler();
    p.in_scope(|| {
        allocates_one_mib();
        let kept = keeps(4096);
        nothing();
        outer();
        drop(kept);
    });
    let snap = p.snapshot();
    assert!(snap.alloc_tracking);
    let e = snap.events_named("allocates_one_mib").next().unwrap();
    let a = e
        .alloc
        .expect("allocation stats with the allocator installed");
    assert!(a.allocated_bytes >= MIB as u64, "{a:?}");
    assert!(a.allocations >= 1);
    assert_eq!(a.net_bytes(), 0, "freed before returning");

    let k = snap.events_named("keeps").next().unwrap().alloc.unwrap();
    assert!(
        k.net_bytes() >= 4096,
        "returned memory is net growth: {k:?}"
    );

    let n = snap.events_named("nothing").next().unwrap().alloc.unwrap();
    assert_eq!(
        n.allocations, 0,
        "the profiler's own allocations are excluded: {n:?}"
    );

    let o = snap.events_named("outer").next().unwrap().alloc.unwrap();
    assert!(
        o.allocated_bytes >= 2 * MIB as u64,
        "inclusive of children: {o:?}"
    );
    assert!(
        o.allocated_bytes < 2 * MIB as u64 + 4096,
        "children's profiler work excluded: {o:?}"
    );
}

#[test]
fn profile_function_reports_allocator_memory() {
    let p = common::profiler();
    let (v, m) = p.profile_function("build", || vec![7u8; 3 * MIB]);
    assert_eq!(v.len(), 3 * MIB);
    assert_eq!(m.memory_source, MemorySource::Allocator);
    assert!(m.allocated_bytes.unwrap() >= 3 * MIB as u64);
    assert!(m.memory_delta_bytes >= 3 * MIB as i64);
}
