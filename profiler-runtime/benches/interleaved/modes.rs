//! The modes of the `interleaved` rows, each run in a child process of its own: what the child
//! sets up, calls and times, and the one line it prints for the parent.

use std::time::{Duration, Instant};

use profiler_runtime::PerformanceProfiler;
use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt;

use crate::{call_one_arg, call_two_args, empty, empty_process, ClockOnly, Noop};

/// Calls per timed run.
pub const N: u64 = 1_000_000;
/// Calls before the timing in every child (the same for every mode), so one-time costs (callsite
/// registration, thread-locals, lazy statics, the first pages of buffers) are not timed.
const WARMUP: u64 = 10_000;
/// The journaled row times whole runs of `N` calls until this much has passed: at least one
/// write of the journal's default 1 s interval falls in its timed window.
const JOURNAL_WINDOW: Duration = Duration::from_millis(1_500);
/// The prefix of the child's result line.
pub const RESULT_PREFIX: &str = "overhead-child:";

/// One row of the `interleaved` group.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// `tracing_subscriber::registry()` with a no-op layer: the floor.
    Floor,
    FloorOneArg,
    ClockOnly,
    Layer,
    LayerOneArg,
    LayerTwoArgs,
    Installed,
    InstalledOneArg,
    InstalledTwoArgs,
    LayerJournal,
    LayerAllocProcess,
    InstalledAllocProcess,
    Puffin,
    Tracy,
    Hotpath,
}

impl Mode {
    /// Every row, in the order they are printed (the floor first).
    pub const ALL: [Mode; 15] = [
        Mode::Floor,
        Mode::FloorOneArg,
        Mode::ClockOnly,
        Mode::Layer,
        Mode::LayerOneArg,
        Mode::LayerTwoArgs,
        Mode::Installed,
        Mode::InstalledOneArg,
        Mode::InstalledTwoArgs,
        Mode::LayerJournal,
        Mode::LayerAllocProcess,
        Mode::InstalledAllocProcess,
        Mode::Puffin,
        Mode::Tracy,
        Mode::Hotpath,
    ];

    /// The row's name (also what the parent passes the child).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Floor => "baseline_noop_layer",
            Mode::FloorOneArg => "baseline_noop_layer_one_arg",
            Mode::ClockOnly => "clock_only_layer",
            Mode::Layer => "profiler_layer",
            Mode::LayerOneArg => "profiler_layer_one_arg",
            Mode::LayerTwoArgs => "profiler_layer_two_args",
            Mode::Installed => "profiler_installed",
            Mode::InstalledOneArg => "profiler_installed_one_arg",
            Mode::InstalledTwoArgs => "profiler_installed_two_args",
            Mode::LayerJournal => "profiler_layer_journal",
            Mode::LayerAllocProcess => "profiler_layer_alloc_process",
            Mode::InstalledAllocProcess => "profiler_installed_alloc_process",
            Mode::Puffin => "peer_puffin_frame_scope",
            Mode::Tracy => "peer_tracing_tracy",
            Mode::Hotpath => "peer_hotpath",
        }
    }

    pub fn from_name(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The row an argument row is compared with (the same subscriber, the empty function).
    pub fn empty_row(self) -> Option<Mode> {
        match self {
            Mode::FloorOneArg => Some(Mode::Floor),
            Mode::LayerOneArg | Mode::LayerTwoArgs => Some(Mode::Layer),
            Mode::InstalledOneArg | Mode::InstalledTwoArgs => Some(Mode::Installed),
            _ => None,
        }
    }
}

/// What a child measured.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    pub ns_per_call: f64,
    /// Calls in the timed window.
    pub calls: u64,
    /// Peak RSS over the timed window minus the RSS before it, in KiB.
    pub rss_growth_kib: u64,
    /// The journal's size after the timed window (the journaled row only).
    pub journal_bytes: Option<u64>,
}

impl Measured {
    /// The line the child prints.
    pub fn to_line(self) -> String {
        let mut line = format!(
            "{RESULT_PREFIX} ns_per_call={} calls={} rss_growth_kib={}",
            self.ns_per_call, self.calls, self.rss_growth_kib
        );
        if let Some(b) = self.journal_bytes {
            line.push_str(&format!(" journal_bytes={b}"));
        }
        line
    }

    /// Parses a child's stdout (its result line; anything else it printed is ignored).
    pub fn from_output(stdout: &str) -> Option<Measured> {
        let line = stdout.lines().find_map(|l| l.strip_prefix(RESULT_PREFIX))?;
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        };
        Some(Measured {
            ns_per_call: field("ns_per_call")?.parse().ok()?,
            calls: field("calls")?.parse().ok()?,
            rss_growth_kib: field("rss_growth_kib")?.parse().ok()?,
            journal_bytes: field("journal_bytes").and_then(|b| b.parse().ok()),
        })
    }
}

/// `OVERHEAD_SCOPED=1`: the children use scoped dispatchers (`with_default`, `in_scope`) instead
/// of global ones (`set_global_default`, `install()`).
pub const SCOPED_ENV: &str = "OVERHEAD_SCOPED";

fn scoped() -> bool {
    std::env::var_os(SCOPED_ENV).is_some_and(|v| v == "1")
}

/// Runs `mode` in this (child) process and prints its result line.
pub fn run_child(mode: Mode) {
    let measured = match mode {
        Mode::Floor => under(registry_noop(), N, empty),
        Mode::FloorOneArg => under(registry_noop(), N, call_one_arg),
        Mode::ClockOnly => under(tracing_subscriber::registry().with(ClockOnly), N, empty),
        Mode::Layer => layer(N, empty),
        Mode::LayerOneArg => layer(N, call_one_arg),
        Mode::LayerTwoArgs => layer(N, call_two_args),
        Mode::Installed => installed(N, empty),
        Mode::InstalledOneArg => installed(N, call_one_arg),
        Mode::InstalledTwoArgs => installed(N, call_two_args),
        Mode::LayerJournal => journaled(),
        // Fewer calls: each reads every thread's heap counters twice and builds a side record.
        Mode::LayerAllocProcess => layer(N / 10, empty_process),
        Mode::InstalledAllocProcess => installed(N / 10, empty_process),
        Mode::Puffin => puffin_frame(),
        // `TracyLayer::default()` starts tracy's client (`manual-lifetime`); with no server
        // connected it keeps every span in memory, released when this process exits.
        Mode::Tracy => under(
            tracing_subscriber::registry().with(tracing_tracy::TracyLayer::default()),
            N,
            empty,
        ),
        Mode::Hotpath => hotpath_guarded(),
    };
    println!("{}", measured.to_line());
}

fn registry_noop() -> impl Subscriber + Send + Sync + 'static {
    tracing_subscriber::registry().with(Noop)
}

/// A profiler as every profiler row uses it.
fn profiler() -> PerformanceProfiler {
    PerformanceProfiler::builder()
        .raw_capacity(1 << 16)
        .without_monitor()
        .build()
        .expect("valid config")
}

/// Times `n` calls of `f` under `subscriber`, set as the global default (or, with
/// `OVERHEAD_SCOPED=1`, as this thread's).
fn under<S: Subscriber + Send + Sync + 'static>(subscriber: S, n: u64, f: fn()) -> Measured {
    if scoped() {
        tracing::subscriber::with_default(subscriber, || timed(n, f))
    } else {
        tracing::subscriber::set_global_default(subscriber).expect("a fresh process");
        timed(n, f)
    }
}

/// The profiler's layer over a registry.
fn layer(n: u64, f: fn()) -> Measured {
    let profiler = profiler();
    let m = under(profiler.subscriber(), n, f);
    check_counted(&profiler, n);
    m
}

/// The profiler's own subscriber: `install()` (or, with `OVERHEAD_SCOPED=1`, `in_scope`).
fn installed(n: u64, f: fn()) -> Measured {
    let profiler = profiler();
    let m = if scoped() {
        profiler.in_scope(|| timed(n, f))
    } else {
        profiler.install().expect("a fresh process");
        timed(n, f)
    };
    check_counted(&profiler, n);
    m
}

/// The profiler must have counted every call (the warm-up's and the timed ones): a row that
/// recorded nothing would time nothing.
fn check_counted(profiler: &PerformanceProfiler, n: u64) {
    let counted = profiler.snapshot().total_events();
    assert_eq!(counted, WARMUP + n, "every call must be counted");
}

/// The profiler's layer with a crash-safe journal (default interval), timed over whole runs of
/// `N` calls until `JOURNAL_WINDOW` has passed.
fn journaled() -> Measured {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.journal");
    let profiler = PerformanceProfiler::builder()
        .raw_capacity(1 << 16)
        .without_monitor()
        .journal(&path)
        .build()
        .expect("valid config");
    let run = || {
        warm_up(empty);
        let rss_before = rss_kib("VmRSS:");
        reset_peak_rss();
        let t0 = Instant::now();
        let mut calls = 0;
        while calls == 0 || t0.elapsed() < JOURNAL_WINDOW {
            for _ in 0..N {
                empty();
            }
            calls += N;
        }
        let ns = t0.elapsed().as_nanos() as f64;
        measured(ns, calls, rss_before)
    };
    let mut m = if scoped() {
        tracing::subscriber::with_default(profiler.subscriber(), run)
    } else {
        tracing::subscriber::set_global_default(profiler.subscriber()).expect("a fresh process");
        run()
    };
    m.journal_bytes = Some(std::fs::metadata(&path).map_or(0, |m| m.len()));
    check_counted(&profiler, m.calls);
    m
}

/// `empty` under puffin: one scope per call.
#[inline(never)]
fn puffin_empty() {
    puffin::profile_function!();
}

/// `puffin_empty` inside one outer frame scope; the frame is handed to puffin's global profiler
/// after the timing, as a frame loop would.
fn puffin_frame() -> Measured {
    puffin::set_scopes_on(true);
    {
        puffin::profile_scope!("warm-up");
        warm_up(puffin_empty);
    }
    puffin::GlobalProfiler::lock().new_frame();
    let rss_before = rss_kib("VmRSS:");
    reset_peak_rss();
    let t0 = Instant::now();
    {
        puffin::profile_scope!("frame");
        for _ in 0..N {
            puffin_empty();
        }
    }
    let ns = t0.elapsed().as_nanos() as f64;
    let m = measured(ns, N, rss_before);
    puffin::GlobalProfiler::lock().new_frame();
    m
}

/// `empty` under hotpath: its attribute, timing every call (hotpath's default).
#[hotpath::measure]
#[inline(never)]
fn hotpath_empty() {}

/// `hotpath_empty` with hotpath's guard alive (its metrics server is off: the parent sets
/// `HOTPATH_METRICS_SERVER_OFF`); the guard writes its report, read back to check that hotpath
/// measured every call, when it drops after the timing.
fn hotpath_guarded() -> Measured {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("hotpath.json");
    let guard = hotpath::HotpathGuardBuilder::new("overhead_bench")
        .format(hotpath::Format::Json)
        .output_path(&report)
        .build();
    let m = timed(N, hotpath_empty);
    drop(guard);
    let text = std::fs::read_to_string(&report).expect("hotpath wrote its report");
    let json: serde_json::Value = serde_json::from_str(&text).expect("hotpath's report is JSON");
    let entry = json["functions_timing"]["data"]
        .as_array()
        .and_then(|rows| {
            rows.iter().find(|r| {
                r["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with("::hotpath_empty"))
            })
        })
        .unwrap_or_else(|| panic!("hotpath's report has no row for hotpath_empty: {text}"));
    for key in ["calls", "sampled_calls"] {
        assert_eq!(
            entry[key].as_u64(),
            Some(WARMUP + N),
            "hotpath must have timed every call ({key}): {entry}"
        );
    }
    m
}

fn warm_up(f: fn()) {
    for _ in 0..WARMUP {
        f();
    }
}

/// Warms up, then times `n` calls of `f`, with the RSS growth over the timed window.
fn timed(n: u64, f: fn()) -> Measured {
    warm_up(f);
    let rss_before = rss_kib("VmRSS:");
    reset_peak_rss();
    let t0 = Instant::now();
    for _ in 0..n {
        f();
    }
    let ns = t0.elapsed().as_nanos() as f64;
    measured(ns, n, rss_before)
}

fn measured(ns: f64, calls: u64, rss_before: Option<u64>) -> Measured {
    let peak = rss_kib("VmHWM:");
    Measured {
        ns_per_call: ns / calls as f64,
        calls,
        rss_growth_kib: match (peak, rss_before) {
            (Some(p), Some(b)) => p.saturating_sub(b),
            _ => 0,
        },
        journal_bytes: None,
    }
}

/// A line of `/proc/self/status` in KiB (`VmRSS:`, `VmHWM:`).
fn rss_kib(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak RSS (`VmHWM`) to the current RSS, so the peak read after the timed window is
/// that window's (Linux: `5` into `/proc/self/clear_refs`). Without it, the growth is measured
/// against a peak that may include the setup's (an over-estimate, never an under-estimate).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
