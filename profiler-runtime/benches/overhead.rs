//! Per-call overhead of `#[profile]`, every row from one run:
//!
//! - `no_subscriber`: no dispatcher at all (must be ~free);
//! - `baseline_noop_layer`: `tracing_subscriber::registry()` with a no-op layer (the floor);
//! - `clock_only_layer`: a layer that only reads the TSC at a span's enter and exit (where the
//!   profiler reads it) and sums the difference (the cost of the two clock reads any timing layer pays: not a product
//!   path, a reference for the rows around it);
//! - `profiler_layer`: the full profiler layer (timing, allocation counting, metrics);
//! - `profiler_layer_metrics`: the same with one numeric argument and one `metrics!` value, and
//!   `baseline_noop_layer_metrics`, that function under the floor's subscriber (its own floor);
//! - `interleaved`: the floor, the clock-only layer and the profiler in alternating rounds of 1M
//!   calls (15 rounds), printing each one's median ns and its median per-round ratio to the
//!   floor: drift of a noisy machine hits all of them alike, unlike rows measured one after
//!   another; with them, the profiler with a crash-safe journal (default 1 s interval), and its
//!   median per-round ratio to the profiler without one; plus `profiler_layer_alloc_process`, a
//!   span with `#[profile(alloc = "process")]` (100k calls a round), which reads every thread's
//!   heap counters at its enter and exit;
//! - `threads_8x1M`: 8 threads x 1M calls, then the aggregates must count every call exactly;
//! - `bounded_50M`: 50M calls into a raw buffer of 1M events; prints the peak RSS.
//!
//! Run: `cargo bench -p profiler-runtime --bench overhead`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use profiler_runtime::{metrics, profile, CountingAllocator, PerformanceProfiler};
use std::cell::Cell;

use tracing::{span, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

#[profile]
#[inline(never)]
fn empty() {}

/// `empty` counting every thread's allocations while open (`alloc = "process"`).
#[profile(alloc = "process")]
#[inline(never)]
fn empty_process() {}

#[profile(kind = "hardware_access")]
#[inline(never)]
fn with_metric(n: usize) {
    metrics!(energy_pj = n as f64 * 0.5);
}

struct Noop;
impl<S: Subscriber> Layer<S> for Noop {}

thread_local! {
    static OPENED: Cell<u64> = const { Cell::new(0) };
    static TOTAL: Cell<u64> = const { Cell::new(0) };
}

/// Reads the same clock as the profiler (the TSC, inline) at enter and exit, nothing else.
struct ClockOnly;
impl<S: Subscriber> Layer<S> for ClockOnly {
    fn on_enter(&self, _: &span::Id, _: Context<'_, S>) {
        let now = tsc();
        OPENED.with(|o| o.set(now));
    }
    fn on_exit(&self, _: &span::Id, _: Context<'_, S>) {
        let now = tsc();
        let d = now.wrapping_sub(OPENED.with(Cell::get));
        TOTAL.with(|t| t.set(t.get().wrapping_add(d)));
    }
}

/// The TSC, read as the profiler reads it on x86_64 (elsewhere, quanta's raw clock).
#[inline(always)]
fn tsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `rdtsc` exists on every x86_64 CPU and has no preconditions.
    #[allow(unused_unsafe)]
    return unsafe { core::arch::x86_64::_rdtsc() };
    #[cfg(not(target_arch = "x86_64"))]
    {
        use std::sync::OnceLock;
        static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
        CLOCK.get_or_init(quanta::Clock::new).raw()
    }
}

fn no_subscriber(c: &mut Criterion) {
    // Must run before any dispatcher exists in this process.
    c.bench_function("no_subscriber", |b| b.iter(empty));
}

fn layers(c: &mut Criterion) {
    let mut g = c.benchmark_group("per_call");
    let baseline = tracing_subscriber::registry().with(Noop);
    tracing::subscriber::with_default(baseline, || {
        g.bench_function("baseline_noop_layer", |b| b.iter(empty));
        g.bench_function("baseline_noop_layer_metrics", |b| {
            b.iter(|| with_metric(black_box(3)))
        });
    });
    let clock_only = tracing_subscriber::registry().with(ClockOnly);
    tracing::subscriber::with_default(clock_only, || {
        g.bench_function("clock_only_layer", |b| b.iter(empty));
    });
    let profiler = PerformanceProfiler::builder()
        .raw_capacity(1 << 16)
        .without_monitor()
        .build()
        .expect("valid config");
    tracing::subscriber::with_default(profiler.subscriber(), || {
        g.bench_function("profiler_layer", |b| b.iter(empty));
        g.bench_function("profiler_layer_metrics", |b| {
            b.iter(|| with_metric(black_box(3)))
        });
    });
    g.finish();
}

/// ns per call of `f` over `n` calls under `subscriber`.
fn ns_per_call_of<S: Subscriber + Send + Sync + 'static>(subscriber: S, n: u32, f: fn()) -> f64 {
    tracing::subscriber::with_default(subscriber, || {
        let t0 = Instant::now();
        for _ in 0..n {
            f();
        }
        t0.elapsed().as_nanos() as f64 / f64::from(n)
    })
}

/// ns per call of `empty` over `n` calls under `subscriber`.
fn ns_per_call<S: Subscriber + Send + Sync + 'static>(subscriber: S, n: u32) -> f64 {
    ns_per_call_of(subscriber, n, empty)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn interleaved(_c: &mut Criterion) {
    const ROUNDS: usize = 15;
    const N: u32 = 1_000_000;
    let profiler = PerformanceProfiler::builder()
        .raw_capacity(1 << 16)
        .without_monitor()
        .build()
        .expect("valid config");
    let dir = tempfile::tempdir().expect("temp dir");
    let journaled = PerformanceProfiler::builder()
        .raw_capacity(1 << 16)
        .without_monitor()
        .journal(dir.path().join("bench.journal"))
        .build()
        .expect("valid config");
    let mut rows: [Vec<f64>; 5] = Default::default();
    for _ in 0..ROUNDS {
        rows[0].push(ns_per_call(tracing_subscriber::registry().with(Noop), N));
        rows[1].push(ns_per_call(
            tracing_subscriber::registry().with(ClockOnly),
            N,
        ));
        rows[2].push(ns_per_call(profiler.subscriber(), N));
        rows[3].push(ns_per_call(journaled.subscriber(), N));
        // Fewer calls: each reads every thread's heap counters twice and builds a side record.
        rows[4].push(ns_per_call_of(profiler.subscriber(), N / 10, empty_process));
    }
    let names = [
        "baseline_noop_layer",
        "clock_only_layer",
        "profiler_layer",
        "profiler_layer_journal",
        "profiler_layer_alloc_process",
    ];
    for (name, row) in names.iter().zip(&rows) {
        let ratios = row.iter().zip(&rows[0]).map(|(t, f)| t / f).collect();
        println!(
            "interleaved/{name}: median {:.1} ns/call, median ratio to the floor {:.3}",
            median(row.clone()),
            median(ratios)
        );
    }
    let ratios = rows[3].iter().zip(&rows[2]).map(|(j, p)| j / p).collect();
    println!(
        "interleaved/journal_cost: median ratio of the journaled profiler to the profiler without a journal {:.3} ({} journal bytes)",
        median(ratios),
        std::fs::metadata(dir.path().join("bench.journal")).map_or(0, |m| m.len())
    );
}

fn threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("scale");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("threads_8x1M", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let profiler = PerformanceProfiler::builder()
                    .raw_capacity(1 << 16)
                    .without_monitor()
                    .build()
                    .expect("valid config");
                let t0 = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..8 {
                        let sub = profiler.subscriber();
                        s.spawn(move || {
                            tracing::subscriber::with_default(sub, || {
                                for _ in 0..1_000_000 {
                                    empty();
                                }
                            })
                        });
                    }
                });
                total += t0.elapsed();
                let counted = profiler.snapshot().total_events();
                assert_eq!(counted, 8_000_000, "every call must be counted exactly");
            }
            total
        })
    });
    g.finish();
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn bounded(_c: &mut Criterion) {
    let profiler = PerformanceProfiler::builder()
        .raw_capacity(1_000_000)
        .without_monitor()
        .build()
        .expect("valid config");
    let before = peak_rss_kib();
    let t0 = Instant::now();
    tracing::subscriber::with_default(profiler.subscriber(), || {
        for _ in 0..50_000_000u64 {
            empty();
        }
    });
    let elapsed = t0.elapsed();
    let peak_recording = peak_rss_kib();
    let p = profiler.snapshot();
    assert_eq!(p.total_events(), 50_000_000);
    println!(
        "bounded_50M: {} calls in {:.2?} ({:.1} ns/call), kept {} raw events, dropped {}, \
         peak RSS before {} KiB, while recording {} KiB, after snapshot {} KiB",
        p.total_events(),
        elapsed,
        elapsed.as_nanos() as f64 / 5e7,
        p.events.len(),
        p.dropped_events,
        before.unwrap_or(0),
        peak_recording.unwrap_or(0),
        peak_rss_kib().unwrap_or(0)
    );
}

criterion_group!(
    benches,
    no_subscriber,
    layers,
    interleaved,
    threads,
    bounded
);
criterion_main!(benches);
