//! Analysis plus report over a profile of 1M events (issue 4's budget: at most 1 s, and the
//! analyzer's peak memory at most twice the profile's). Rows:
//!
//! - `analysis_1M/analyze`: `BottleneckAnalyzer::analyze_bottlenecks`;
//! - `analysis_1M/analyze_report`: the analysis, its text and Markdown reports, and the
//!   `PerformanceReport` with its text: the number the budget is about.
//!
//! The profile comes out of the real pipeline: a synthetic solver (runs of iterations, each
//! with crossbar operations reporting energy by component, a digital update reporting flops
//! and bytes, a growing buffer, a log write) runs under the profiler with a raw buffer large
//! enough to keep all 1M events, with the `CountingAllocator` installed so every event carries
//! allocation stats. A peak-tracking wrapper around that allocator measures the profile's heap
//! (the growth across `snapshot()`) and the analyzer's peak heap above its starting point; the
//! bench prints both and their ratio before timing.
//!
//! Run: `cargo bench -p profiler-runtime --bench analysis`.

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use profiler_runtime::sys::thread_cpu_ns;
use profiler_runtime::{
    metrics, profile, BottleneckAnalyzer, CountingAllocator, PerformanceProfiler,
    PerformanceReport, Profile,
};

/// The profiler's counting allocator, plus live and peak bytes over the whole process.
struct PeakAlloc {
    inner: CountingAllocator,
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl PeakAlloc {
    fn grew(&self, n: usize) {
        let now = self.live.fetch_add(n, Ordering::Relaxed) + n;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    fn shrank(&self, n: usize) {
        self.live.fetch_sub(n, Ordering::Relaxed);
    }

    fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Restarts peak tracking from the current live bytes; returns them.
    fn reset_peak(&self) -> usize {
        let now = self.live();
        self.peak.store(now, Ordering::Relaxed);
        now
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}

// SAFETY: every call forwards to the wrapped allocator with the caller's arguments; the
// counters only observe sizes.
unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null() {
            self.grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if !p.is_null() {
            self.grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.inner.dealloc(ptr, layout) };
        self.shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                self.grew(new_size - layout.size());
            } else {
                self.shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc {
    inner: CountingAllocator::system(),
    live: AtomicUsize::new(0),
    peak: AtomicUsize::new(0),
};

/// Events in the profile.
const EVENTS: usize = 1_000_000;
/// Iterations per solver run.
const ITERATIONS: usize = 10;
/// Events per solver run: the run, a log write, and per iteration the step, an MVM, an INV,
/// a digital update and every fourth iteration a buffer growth.
const PER_RUN: usize = 2 + ITERATIONS * 4 + ITERATIONS.div_ceil(4);

#[profile(kind = "hardware_access", name = "xbar.mvm", skip_all, fields(tile = tile))]
fn mvm(n: usize, tile: usize) {
    let e = n as f64 * 0.8;
    metrics!(
        energy_pj = e,
        energy.array_pj = 0.1 * e,
        energy.adc_pj = 0.6 * e,
        energy.dac_pj = 0.3 * e,
        bytes = 16 * n
    );
}

#[profile(kind = "hardware_access", name = "xbar.inv", skip_all, fields(tile = tile))]
fn inv(n: usize, tile: usize) {
    let e = n as f64 * 1.7;
    metrics!(
        energy_pj = e,
        energy.opamp_pj = 0.9 * e,
        energy.array_pj = 0.1 * e,
        bytes = 16 * n
    );
}

#[profile(kind = "computation", name = "digital.update", fields(n = n))]
fn update(n: usize) -> f64 {
    metrics!(flops = 2 * n, bytes = 24 * n);
    std::hint::black_box((0..n).map(|i| i as f64).sum())
}

#[profile(kind = "memory_usage", name = "buffer.grow", skip_all)]
fn grow(keep: &mut Vec<Vec<u8>>) {
    keep.push(vec![0u8; 64]);
}

#[profile(kind = "algorithm_step", name = "solver.iteration", skip_all, fields(k = k))]
fn iteration(k: usize, n: usize, keep: &mut Vec<Vec<u8>>) {
    mvm(n, k % 4);
    inv(n, k % 4);
    update(n);
    if k % 4 == 0 {
        grow(keep);
    }
    metrics!(residual = 0.125f64.powi(k as i32 + 1), bits_gained = 3.0);
}

#[profile(kind = "io_operation", name = "log.write", skip_all)]
fn log_write(n: usize) {
    metrics!(bytes = 128 + n);
}

#[profile(kind = "computation", name = "solver.run", skip_all, fields(n = n))]
fn run(n: usize, keep: &mut Vec<Vec<u8>>) {
    for k in 0..ITERATIONS {
        iteration(k, n, keep);
    }
    log_write(n);
}

/// Runs the synthetic solver under a profiler until about [`EVENTS`] events closed, and
/// returns the profiler (raw buffer large enough to keep them all).
fn record() -> PerformanceProfiler {
    let p = PerformanceProfiler::builder()
        .raw_capacity(EVENTS + PER_RUN)
        .without_monitor()
        .build()
        .expect("valid config");
    let mut keep = Vec::new();
    p.in_scope(|| {
        for r in 0..EVENTS / PER_RUN {
            run(16 << (r % 4), &mut keep);
        }
    });
    black_box(keep);
    p
}

/// The work the budget is about: analysis, its text and Markdown reports, and the
/// performance report and its text. Returns the total length of the texts.
fn analyse_and_report(profile: &Profile) -> usize {
    let analysis = BottleneckAnalyzer::from_profile(profile).analyze_bottlenecks();
    let text = analysis.to_text();
    let md = analysis.to_markdown();
    let report = PerformanceReport::from_profile(profile);
    let report_text = report.to_string();
    text.len() + md.len() + report_text.len()
}

fn analysis(c: &mut Criterion) {
    let t0 = Instant::now();
    let profiler = record();
    let recorded = t0.elapsed();
    let before = ALLOC.live();
    let profile = profiler.snapshot();
    let profile_bytes = ALLOC.live().saturating_sub(before);
    drop(profiler);
    eprintln!(
        "analysis: {} events ({} kept, {} dropped) recorded in {:.2?}; profile heap {:.1} MiB",
        profile.total_events(),
        profile.events.len(),
        profile.dropped_events,
        recorded,
        profile_bytes as f64 / (1024.0 * 1024.0)
    );
    assert!(
        profile.events.len() >= EVENTS - PER_RUN,
        "the profile must keep ~1M raw events"
    );

    let base = ALLOC.reset_peak();
    black_box(analyse_and_report(&profile));
    let analyzer_peak = ALLOC.peak().saturating_sub(base);
    let ratio = analyzer_peak as f64 / profile_bytes.max(1) as f64;
    eprintln!(
        "analysis: analyzer peak heap {:.1} MiB = {:.2}x the profile's (budget 2x: {})",
        analyzer_peak as f64 / (1024.0 * 1024.0),
        ratio,
        if ratio <= 2.0 { "met" } else { "NOT MET" }
    );
    // Wall time on a shared machine includes time other processes took the core; the
    // thread's CPU time does not. Both, median of 5.
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let c0 = thread_cpu_ns();
        let t = Instant::now();
        black_box(analyse_and_report(&profile));
        wall.push(t.elapsed());
        if let (Some(a), Some(b)) = (c0, thread_cpu_ns()) {
            cpu.push(Duration::from_nanos(b - a));
        }
    }
    wall.sort();
    cpu.sort();
    eprintln!(
        "analysis: analysis + reports, median of 5: wall {:.2?}, thread CPU {:.2?} (budget 1 s)",
        wall[2],
        cpu.get(cpu.len() / 2).copied().unwrap_or_default()
    );
    let report = BottleneckAnalyzer::from_profile(&profile).generate_optimization_report();
    eprintln!("{}", report.lines().take(12).collect::<Vec<_>>().join("\n"));

    let mut g = c.benchmark_group("analysis_1M");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .warm_up_time(Duration::from_secs(2));
    g.bench_function("analyze", |b| {
        b.iter(|| black_box(BottleneckAnalyzer::from_profile(&profile).analyze_bottlenecks()))
    });
    g.bench_function("analyze_report", |b| {
        b.iter(|| black_box(analyse_and_report(&profile)))
    });
    g.finish();
}

criterion_group!(benches, analysis);
criterion_main!(benches);
