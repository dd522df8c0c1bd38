//! In plain sight: a profiler that was never attached, `#[profile]` spans a filter
//! disabled, and an empty report each say so on the session, the snapshot and the report,
//! instead of a silently empty profile.
#![cfg(feature = "analysis")]

use profiler_runtime::{metrics, profile, PerformanceProfiler};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

mod common;

#[profile]
fn never_attached_step() -> u64 {
    7
}

#[profile(kind = "computation")]
fn filtered_step(n: u64) -> u64 {
    n * 2
}

#[profile(level = "warn")]
fn loud_step() {}

#[test]
fn a_session_without_install_warns_that_the_profiler_was_never_attached() {
    let p = common::profiler();
    p.start_profiling("run");
    never_attached_step();
    let run = p.stop_profiling("run").unwrap();
    assert_eq!(run.events_count, 0);
    assert_eq!(run.warnings.len(), 1, "{:?}", run.warnings);
    assert!(
        run.warnings[0].contains("never attached"),
        "{:?}",
        run.warnings
    );
    assert!(run.warnings[0].contains("install()"));
    // The report of the snapshot says it too, first.
    let report = p.get_performance_report();
    assert!(report.warnings.iter().any(|w| w.contains("never attached")));
    assert!(report
        .to_string()
        .contains("warning: this profiler was never attached"));
    assert!(report
        .to_text()
        .contains("Warning: this profiler was never attached"));
}

#[test]
fn a_global_level_filter_that_hides_profile_spans_is_named_with_the_per_layer_pattern() {
    let p = common::profiler();
    // A filter on the whole registry: INFO spans (the `#[profile]` default) are disabled.
    let subscriber = tracing_subscriber::registry()
        .with(p.layer())
        .with(LevelFilter::WARN);
    tracing::subscriber::with_default(subscriber, || {
        p.start_profiling("run");
        filtered_step(3);
        loud_step();
        let run = p.stop_profiling("run").unwrap();
        assert_eq!(run.events_count, 1, "the WARN-level span is kept");
        let w = run.warnings.join("\n");
        assert!(w.contains("a filter in the subscriber disabled"), "{w}");
        assert!(w.contains("`filtered_step`"), "{w}");
        assert!(!w.contains("`loud_step`"), "{w}");
        assert!(w.contains(".with_filter("), "{w}");
    });
    let report = p.get_performance_report();
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("`filtered_step`")),
        "{:?}",
        report.warnings
    );
    assert!(report.to_markdown().contains("`filtered_step`"));
}

#[test]
fn an_attached_profiler_that_sees_everything_says_nothing() {
    let p = common::profiler();
    p.in_scope(|| {
        p.start_profiling("run");
        never_attached_step();
        let run = p.stop_profiling("run").unwrap();
        assert_eq!(run.events_count, 1);
        assert!(run.warnings.is_empty(), "{:?}", run.warnings);
    });
}

#[test]
fn a_report_with_no_events_says_so_and_warnings_survive_save_and_load() {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    let report = p.get_performance_report();
    assert_eq!(report.total_events, 0);
    assert!(!report.warnings.is_empty());
    let snap = p.snapshot();
    assert!(!snap.warnings.is_empty(), "a snapshot carries its warnings");
    #[cfg(feature = "persist")]
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        snap.save(&path).unwrap();
        let back = profiler_runtime::Profile::load(&path).unwrap();
        assert_eq!(back.warnings, snap.warnings);
    }
}

#[profile(err)]
fn may_fail(k: u64) -> Result<u64, String> {
    if k % 2 == 0 {
        Err(format!("even input {k}"))
    } else {
        Ok(k)
    }
}

#[test]
fn errors_are_counted_per_operation_and_shown_in_every_form_of_the_report() {
    let p = common::profiler();
    p.in_scope(|| {
        for k in 0..5 {
            let _ = may_fail(k);
        }
    });
    let report = p.get_performance_report();
    let op = report
        .operations
        .iter()
        .find(|o| o.name == "may_fail")
        .unwrap();
    assert_eq!((op.count, op.errors, op.panics), (5, 3, 0));
    assert!(
        report
            .to_string()
            .contains("may_fail returned an error 3 time(s)"),
        "{report}"
    );
    let text = report.to_text();
    assert!(text.contains("Errors and panics"), "{text}");
    let snap = p.snapshot();
    let failed: Vec<_> = snap
        .events_named("may_fail")
        .filter_map(|e| e.error.as_deref())
        .collect();
    assert_eq!(failed, ["even input 0", "even input 2", "even input 4"]);
}

#[profile]
fn may_panic(k: u64) -> u64 {
    assert!(k != 1, "k = 1 is refused");
    k
}

#[test]
fn the_analysis_counts_errors_and_panics_per_operation_and_says_when_it_saw_nothing() {
    let p = common::profiler();
    p.in_scope(|| {
        for k in 0..5 {
            let _ = may_fail(k);
            let _ = std::panic::catch_unwind(|| may_panic(k));
        }
    });
    let a = profiler_runtime::BottleneckAnalyzer::from_profile(&p.snapshot()).analyze_bottlenecks();
    let by_name = |n: &str| a.summary.failures.iter().find(|f| f.name == n).cloned();
    let f = by_name("may_fail").unwrap();
    assert_eq!((f.calls, f.errors, f.panics), (5, 3, 0));
    let f = by_name("may_panic").unwrap();
    assert_eq!((f.calls, f.errors, f.panics), (5, 0, 1));
    let text = a.to_text();
    assert!(text.contains("Errors and panics"), "{text}");
    assert!(a.summary.warnings.is_empty(), "{:?}", a.summary.warnings);
    // The JSON form carries them too (what `rram-prof analyze --format json` prints).
    let json = a.to_json().unwrap();
    assert!(json.contains("\"failures\""), "{json}");

    // An analysis of nothing says so, instead of "no bottleneck".
    let empty = common::profiler();
    empty.in_scope(|| ());
    let a =
        profiler_runtime::BottleneckAnalyzer::from_profile(&empty.snapshot()).analyze_bottlenecks();
    assert!(
        a.summary.warnings.iter().any(|w| w.contains("no events")),
        "{:?}",
        a.summary.warnings
    );
    assert!(a.to_text().contains("warning: "), "{}", a.to_text());
}

/// Reports a utilisation: tile 3 is five times as loaded as the others (deterministic: the
/// analysis compares reported utilisation, not time).
fn use_cells(tile: usize) {
    metrics!(utilization = if tile == 3 { 1.0 } else { 0.2 });
}

#[profile(kind = "hardware_access")]
fn load_by_argument(tile: usize) {
    use_cells(tile)
}

#[profile(kind = "hardware_access", fields(tile = tile))]
fn load_reported(tile: usize) {
    use_cells(tile)
}

fn imbalance_after(run: impl Fn(usize)) -> Option<profiler_runtime::analysis::Imbalance> {
    let p = common::profiler();
    p.in_scope(|| {
        for _ in 0..5 {
            for tile in 0..4 {
                run(tile);
            }
        }
    });
    let analysis = profiler_runtime::BottleneckAnalyzer::new(&p).analyze_bottlenecks();
    analysis.bottleneck_analysis.hardware_analysis.imbalance
}

#[test]
fn an_argument_named_tile_is_not_a_tile_index_unless_it_is_reported_as_one() {
    let p = common::profiler();
    p.in_scope(|| load_by_argument(2));
    let e = p
        .snapshot()
        .events_named("load_by_argument")
        .next()
        .cloned();
    let e = e.unwrap();
    assert_eq!(e.metric("arg.tile"), Some(2.0));
    assert_eq!(e.metric("tile"), None);
    assert!(
        imbalance_after(load_by_argument).is_none(),
        "an argument is not a tile index"
    );
    assert!(
        imbalance_after(load_reported).is_some(),
        "a reported tile index is analysed"
    );
}

#[test]
fn metrics_outside_any_span_are_said_to_belong_to_no_operation() {
    let p = common::profiler();
    p.in_scope(|| {
        metrics!(energy_pj = 5.0);
        metrics!(energy_pj = 7.0);
    });
    let report = p.get_performance_report();
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with("2 `metrics!` call(s) ran outside any profiled span")),
        "{:?}",
        report.warnings
    );
    assert!(report.to_text().contains("belong to no operation"));
    // Inside a span they are the span's: no warning.
    let p = common::profiler();
    p.in_scope(step_with_metrics);
    assert!(p.get_performance_report().warnings.is_empty());
}

#[profile]
fn step_with_metrics() {
    metrics!(energy_pj = 1.0);
}
