//! Per-call overhead of `#[profile]`, every row from one run:
//!
//! - `no_subscriber`: no dispatcher at all (must be ~free), beside a plain `tracing` span
//!   around the same empty function (what tracing itself costs there), two alternating rounds;
//! - `baseline_noop_layer`: `tracing_subscriber::registry()` with a no-op layer (the floor);
//! - `clock_only_layer`: a layer that only reads the TSC at a span's enter and exit (where the
//!   profiler reads it) and sums the difference (the cost of the two clock reads any timing layer pays: not a product
//!   path, a reference for the rows around it);
//! - `profiler_layer`: the full profiler layer (timing, allocation counting, metrics);
//! - `profiler_installed`: the profiler's own subscriber (what `install()` and `in_scope` use:
//!   the same recorder without tracing-subscriber's registry);
//! - `profiler_layer_metrics`: the same with one numeric argument and one `metrics!` value, and
//!   `baseline_noop_layer_metrics`, that function under the floor's subscriber (its own floor);
//! - `interleaved`: every row below in a process of its own (the bench re-executes itself with
//!   `OVERHEAD_MODE=<row>`), one child per row per round, 15 rounds alternating between the rows
//!   (each round in a rotated order), 1M calls a timed run after 10k calls of warm-up, under a
//!   global dispatcher (`set_global_default`, `install()`; `OVERHEAD_SCOPED=1`: `with_default`,
//!   `in_scope`): the floor, the clock-only layer, the profiler's layer and its own installed
//!   subscriber (each for an empty function and for ones with one and two numeric arguments,
//!   `*_one_arg`, `*_two_args`). It prints each row's median ns, its median per-round ratio to
//!   the floor (and of the argument rows to their own empty rows) and its RSS growth over its timed
//!   window: drift of a noisy machine hits all of them alike, unlike rows measured one after
//!   another, and no row's global state (puffin's frames, tracy's queue, hotpath's guard, a
//!   journal's writer) can tax another. With them: the profiler with a crash-safe journal
//!   (default 1 s interval; timed over whole 1M-call runs until 1.5 s have passed, so a journal
//!   write falls in the window) and its median per-round ratio to the profiler without one;
//!   peers: puffin (one `profile_function!` scope per call inside an outer frame scope, the
//!   frame handed over after the timing), tracing-tracy (`only-localhost`, `manual-lifetime`, no
//!   server connected) and hotpath (`#[hotpath::measure]` with its guard alive, timing every
//!   call, its metrics server off); plus `profiler_*_alloc_process`, a span with
//!   `#[profile(alloc = "process")]` (100k calls a run), which reads every thread's heap
//!   counters at its enter and exit;
//! - `threads_8x1M`: 8 threads x 1M calls, then the aggregates must count every call exactly;
//! - `bounded_50M`: 50M calls into a raw buffer of 1M events; prints the peak RSS;
//! - `bounded_installed_10M`: 10M calls under the installed subscriber, with the default raw
//!   capacity; prints the peak RSS.
//!
//! Run: `cargo bench -p profiler-runtime --bench overhead`.

mod interleaved;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
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

/// `empty` with one numeric argument (recorded as a field, as `#[profile]` records numbers).
#[profile]
#[inline(never)]
fn one_arg(x: u64) {
    black_box(x);
}

fn call_one_arg() {
    one_arg(black_box(3));
}

/// `empty` with two numeric arguments.
#[profile]
#[inline(never)]
fn two_args(x: u64, y: f64) {
    black_box((x, y));
}

fn call_two_args() {
    two_args(black_box(3), black_box(0.5));
}

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

/// The reference for `no_subscriber`: the same empty function with a plain `tracing` span
/// entered around it and nothing of the profiler's (what tracing itself costs with no
/// subscriber).
#[inline(never)]
fn empty_plain_span() {
    let _guard = tracing::info_span!("empty").entered();
}

fn no_subscriber(c: &mut Criterion) {
    // Must run before any dispatcher exists in this process. Alternating, so drift of a
    // shared machine hits both.
    for round in 1..=2 {
        c.bench_function(&format!("no_subscriber/profile/{round}"), |b| b.iter(empty));
        c.bench_function(&format!("no_subscriber/plain_tracing_span/{round}"), |b| {
            b.iter(empty_plain_span)
        });
    }
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
    profiler.in_scope(|| {
        g.bench_function("profiler_installed", |b| b.iter(empty));
        g.bench_function("profiler_installed_one_arg", |b| b.iter(call_one_arg));
        g.bench_function("profiler_installed_metrics", |b| {
            b.iter(|| with_metric(black_box(3)))
        });
    });
    g.finish();
}

fn interleaved(_c: &mut Criterion) {
    interleaved::run();
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

/// 10M calls under the installed subscriber with the default raw capacity: the peak RSS stays
/// bounded by that capacity, not by the calls.
fn bounded_installed(_c: &mut Criterion) {
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .expect("valid config");
    let before = peak_rss_kib();
    profiler.in_scope(|| {
        for _ in 0..10_000_000u64 {
            empty();
        }
    });
    let recording = peak_rss_kib();
    let p = profiler.snapshot();
    assert_eq!(p.total_events(), 10_000_000);
    println!(
        "bounded_installed_10M: kept {} raw events (capacity {}), dropped {}, peak RSS before \
         {} KiB, after 10M calls {} KiB, after a snapshot {} KiB",
        p.events.len(),
        p.raw_capacity,
        p.dropped_events,
        before.unwrap_or(0),
        recording.unwrap_or(0),
        peak_rss_kib().unwrap_or(0)
    );
}

criterion_group!(
    benches,
    no_subscriber,
    // Before the rows that keep memory in this process, so its peak RSS is the profiler's.
    bounded_installed,
    layers,
    interleaved,
    threads,
    bounded
);

fn main() {
    // A child of the `interleaved` group runs its one row and nothing else.
    if interleaved::run_child_if_asked() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
