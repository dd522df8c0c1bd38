//! A planted leak is found as a leak suspect (needs the counting allocator), and is attributed
//! to the function that leaks, not to its caller.

use std::sync::Mutex;

use profiler_runtime::{profile, BottleneckAnalyzer, PerformanceProfiler};

#[global_allocator]
static A: profiler_runtime::CountingAllocator = profiler_runtime::CountingAllocator::system();

static KEPT: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

#[profile(kind = "memory_usage")]
fn leaky(i: usize) {
    let mut v = vec![0u8; 1024];
    v[0] = i as u8;
    KEPT.lock().unwrap().push(v);
}

#[profile]
fn tidy(i: usize) -> usize {
    let v = vec![i; 512];
    std::hint::black_box(v.iter().sum())
}

#[profile]
fn step(i: usize) {
    leaky(i);
    tidy(i);
}

#[test]
fn planted_leak_is_a_leak_suspect() {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    p.in_scope(|| {
        for i in 0..200 {
            step(i);
        }
    });
    let analyzer = BottleneckAnalyzer::new(&p);
    let a = analyzer.analyze_bottlenecks();
    let m = &a.bottleneck_analysis.memory_analysis;
    assert!(m.tracked);
    let names: Vec<&str> = m.leak_suspects.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["leaky"], "{:#?}", m.leak_suspects);
    let l = &m.leak_suspects[0];
    assert!(l.growth_per_call_bytes >= 1024.0, "{l:?}");
    assert!(l.retained_bytes >= 200 * 1024);
    assert!(m.top_allocators.iter().any(|t| t.name == "tidy"));
    let b = a
        .bottleneck_analysis
        .bottlenecks
        .iter()
        .find(|b| b.subject == "leaky")
        .expect("the leak is a bottleneck");
    assert!(b.severity >= profiler_runtime::Severity::Medium);
    assert!(analyzer
        .generate_optimization_report()
        .contains("leak suspect `leaky`"));
    drop(KEPT.lock().unwrap().drain(..));
}
