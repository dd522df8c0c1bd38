//! The profiler layer composed with a level filter and with a `fmt` layer.
//!
//! A test binary of its own: `tracing` caches each callsite's interest process-wide, so the
//! filtered subscribers here are kept away from the other test files' callsites. Every test runs
//! its profiled code under a subscriber, and no two tests share a profiled function.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use profiler_runtime::{metrics, profile, EventKind, PerformanceProfiler, Profile};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

/// Runs `f` under `registry().with(profiler.layer()).with(LevelFilter::INFO)` and returns the
/// profiler's snapshot.
fn under_info_filter(f: impl FnOnce()) -> Profile {
    let p = common::profiler();
    let subscriber = tracing_subscriber::registry()
        .with(p.layer())
        .with(LevelFilter::INFO);
    tracing::subscriber::with_default(subscriber, f);
    p.snapshot()
}

#[derive(Debug)]
struct TileError(u32);

impl std::fmt::Display for TileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tile {} failed", self.0)
    }
}

// ---- a level filter -------------------------------------------------------------------------

#[profile(level = "debug")]
fn debug_step(k: u32) -> u32 {
    k + 1
}

#[profile(level = "trace")]
fn trace_step(k: u32) -> u32 {
    k + 2
}

#[profile(level = "warn", kind = "computation")]
fn warn_step(k: u32) -> u32 {
    k + 3
}

#[profile]
fn info_step(k: u32) -> u32 {
    debug_step(k) + trace_step(k)
}

#[test]
fn spans_below_the_filter_level_are_not_recorded_and_the_others_are() {
    let snap = under_info_filter(|| {
        for k in 0..10 {
            assert_eq!(info_step(k), 2 * k + 3);
            assert_eq!(debug_step(k), k + 1);
            assert_eq!(warn_step(k), k + 3);
        }
    });
    assert!(snap.operation("debug_step").is_none(), "DEBUG is filtered");
    assert!(snap.operation("trace_step").is_none(), "TRACE is filtered");
    assert_eq!(snap.events_named("debug_step").count(), 0);
    assert_eq!(snap.operation("info_step").unwrap().count, 10);
    let warn = snap.operation("warn_step").unwrap();
    assert_eq!(warn.count, 10);
    assert_eq!(warn.kind, EventKind::Computation);
    assert_eq!(snap.total_events(), 20);
    assert_eq!(snap.events.len(), 20);
    for e in snap.events_named("info_step") {
        assert_eq!(e.parent, None);
        assert_eq!(
            e.self_ns, e.busy_ns,
            "a filtered callee is not a child span: all of it is the caller's own time"
        );
    }
}

#[profile]
fn info_with_energy(cells: u32) -> u32 {
    metrics!(energy_pj = 3.0);
    metrics!(energy.adc_pj = cells);
    cells * 2
}

#[test]
fn metrics_inside_an_info_span_are_recorded_through_an_info_filter() {
    let snap = under_info_filter(|| {
        for cells in 1..=4 {
            assert_eq!(info_with_energy(cells), cells * 2);
        }
    });
    let evs: Vec<_> = snap.events_named("info_with_energy").collect();
    assert_eq!(evs.len(), 4, "the INFO span itself passes the filter");
    for e in &evs {
        assert_eq!(
            e.metrics.get("energy_pj"),
            Some(&3.0),
            "metrics! values bypass the level filter: {:?}",
            e.metrics
        );
        assert_eq!(e.metric("energy.adc_pj"), e.metric("cells"));
    }
    let op = snap.operation("info_with_energy").unwrap();
    assert_eq!(op.metric_sum("energy_pj"), 12.0);
    assert_eq!(op.metric_sum("energy.adc_pj"), 10.0);
}

#[profile(err)]
fn info_fallible(code: u32) -> Result<u32, TileError> {
    if code > 0 {
        return Err(TileError(code));
    }
    Ok(code)
}

#[test]
fn err_text_is_recorded_through_an_info_filter() {
    let snap = under_info_filter(|| {
        assert!(info_fallible(0).is_ok());
        assert!(info_fallible(4).is_err());
    });
    let errors: Vec<_> = snap
        .events_named("info_fallible")
        .filter_map(|e| e.error.as_deref())
        .collect();
    assert_eq!(errors, vec!["tile 4 failed"]);
    assert_eq!(snap.operation("info_fallible").unwrap().errors, 1);
}

// ---- alongside a fmt layer ------------------------------------------------------------------

/// A `fmt` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[profile(kind = "hardware_access")]
fn fmt_leaf(k: u64) -> u64 {
    metrics!(energy_pj = 0.5);
    k * 3
}

#[profile]
fn fmt_parent(n: u64) -> u64 {
    (0..n).map(fmt_leaf).sum()
}

fn check_exact(p: &PerformanceProfiler) {
    let snap = p.snapshot();
    assert_eq!(snap.operation("fmt_parent").unwrap().count, 100);
    let leaf = snap.operation("fmt_leaf").unwrap();
    assert_eq!(leaf.count, 1000);
    assert_eq!(leaf.metric_sum("energy_pj"), 500.0);
    assert_eq!(snap.events.len(), 1100);
    assert_eq!(snap.dropped_events, 0);
    let parents: std::collections::HashSet<u64> =
        snap.events_named("fmt_parent").map(|e| e.id).collect();
    for e in snap.events_named("fmt_leaf") {
        let parent = e.parent.expect("a leaf has its parent");
        assert!(parents.contains(&parent), "leaf {} parent {parent}", e.id);
    }
}

fn run_fmt_workload() {
    for _ in 0..100 {
        assert_eq!(fmt_parent(10), 135);
    }
}

#[test]
fn with_a_fmt_layer_to_a_sink_every_call_is_recorded_exactly() {
    let p = common::profiler();
    let subscriber = tracing_subscriber::registry()
        .with(p.layer())
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, run_fmt_workload);
    check_exact(&p);
}

#[test]
fn with_a_fmt_layer_first_every_call_is_recorded_exactly() {
    let p = common::profiler();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .with(p.layer());
    tracing::subscriber::with_default(subscriber, run_fmt_workload);
    check_exact(&p);
}

#[profile(err)]
fn fmt_fallible(code: u32) -> Result<u32, TileError> {
    if code > 0 {
        return Err(TileError(code));
    }
    Ok(code)
}

#[test]
fn the_fmt_layer_still_sees_what_the_profiler_records() {
    let p = common::profiler();
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::registry()
        .with(p.layer())
        .with(tracing_subscriber::fmt::layer().with_writer(move || writer.clone()));
    tracing::subscriber::with_default(subscriber, || {
        assert!(fmt_fallible(0).is_ok());
        assert!(fmt_fallible(6).is_err());
    });
    let snap = p.snapshot();
    assert_eq!(snap.operation("fmt_fallible").unwrap().count, 2);
    let errors: Vec<_> = snap
        .events_named("fmt_fallible")
        .filter_map(|e| e.error.as_deref())
        .collect();
    assert_eq!(errors, vec!["tile 6 failed"]);
    let text = out.text();
    assert!(text.contains("tile 6 failed"), "fmt output: {text}");
    assert!(text.contains("fmt_fallible"), "fmt output: {text}");
}

// ---- no filter: what the filtered tests above hide is recorded ------------------------------

common::both_paths! {
    #[test]
    fn without_a_filter_spans_of_every_level_are_recorded_with_metrics_and_errors() {
        let p = common::profiler();
        PATH.in_scope(&p, || {
            assert_eq!(info_step(1), 5);
            warn_step(1);
            info_with_energy(2);
            assert!(info_fallible(4).is_err());
        });
        let snap = p.snapshot();
        for name in ["info_step", "debug_step", "trace_step", "warn_step"] {
            assert_eq!(snap.events_named(name).count(), 1, "{name}");
        }
        let info = snap.events_named("info_step").next().map(|e| e.id);
        for name in ["debug_step", "trace_step"] {
            let e = snap.events_named(name).next().expect("recorded");
            assert_eq!(e.parent, info, "{name} nests in its caller");
        }
        let e = snap.events_named("info_with_energy").next().expect("recorded");
        assert_eq!(e.metrics.get("energy_pj"), Some(&3.0));
        let f = snap.events_named("info_fallible").next().expect("recorded");
        assert!(f.error.as_deref().is_some_and(|t| t.contains('4')), "{:?}", f.error);
        assert!(p.warnings(snap.total_events()).is_empty());
    }
}
