//! Profiles of several profiler runs merged: exact counts, ids kept apart, one Chrome process
//! per input, per-process figures in the reports, a file that loads back, and the mistakes
//! refused (the same run twice).

use std::collections::{BTreeSet, HashSet};

use profiler_runtime::{
    metrics, profile, BottleneckAnalyzer, PerformanceProfiler, PerformanceReport, Profile,
    ProfileError,
};

#[profile(kind = "algorithm_step")]
fn solve(n: usize) -> usize {
    (0..n).map(tile).sum()
}

#[profile(kind = "hardware_access")]
fn tile(k: usize) -> usize {
    metrics!(energy_pj = 1.5);
    k
}

/// One "process": a profiler that solves `solves` systems of size 4.
fn run(solves: usize) -> Profile {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    p.in_scope(|| {
        for _ in 0..solves {
            solve(4);
        }
    });
    p.snapshot()
}

#[test]
fn three_runs_merge_with_exact_counts_and_one_chrome_process_each() {
    let parts = [run(2), run(3), run(5)];
    for (i, p) in parts.iter().enumerate() {
        let me = p.process().expect("a snapshot names its process");
        assert_eq!(me.pid, std::process::id());
        assert!(me.clock_source == "tsc" || me.clock_source == "os-monotonic");
        assert!(
            me.process_started_at_unix_ns <= me.started_at_unix_ns,
            "run {i}"
        );
    }
    let mut labelled = parts.to_vec();
    for (i, p) in labelled.iter_mut().enumerate() {
        p.set_process_label(&format!("part-{i}.json"));
    }
    let all = Profile::merge(labelled).expect("three distinct runs");
    assert_eq!(all.operation("solve").unwrap().count, 10);
    assert_eq!(all.operation("tile").unwrap().count, 40);
    assert_eq!(all.total_events(), 50);
    assert_eq!(all.events.len(), 50);
    assert_eq!(all.processes.len(), 3);
    assert_eq!(all.metric_total("energy_pj"), 60.0);
    // Ids stay unique and every parent link stays inside its process.
    let ids: HashSet<u64> = all.events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 50);
    for e in &all.events {
        if let Some(parent) = e.parent {
            let p = all
                .events
                .iter()
                .find(|x| x.id == parent)
                .expect("parent kept");
            assert_eq!(
                all.process_index_of_thread(p.thread_id),
                all.process_index_of_thread(e.thread_id)
            );
        }
    }
    // Per-process figures are each input's own.
    let figures = all.process_figures();
    let events: Vec<u64> = figures.iter().map(|f| f.totals.events).collect();
    assert_eq!(events, [10, 15, 25]);
    // Time: the merged profile starts at the earliest run; each run's events moved by its
    // distance from it.
    let base = parts.iter().map(|p| p.started_at_unix_ns).min().unwrap();
    assert_eq!(all.started_at_unix_ns, base);
    let last = &parts[2];
    let first_of_last = last.events.iter().map(|e| e.start_ns).min().unwrap();
    let pi = 2;
    let moved = all
        .events
        .iter()
        .filter(|e| all.process_index_of_thread(e.thread_id) == Some(pi))
        .map(|e| e.start_ns)
        .min()
        .unwrap();
    assert_eq!(moved, first_of_last + (last.started_at_unix_ns - base));

    // Chrome: one pid per process, each named, every event on its process's pid.
    let mut out = Vec::new();
    all.to_chrome_trace(&mut out).unwrap();
    let trace: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let evs = trace["traceEvents"].as_array().unwrap();
    let names: Vec<(u64, String)> = evs
        .iter()
        .filter(|e| e["name"] == "process_name")
        .map(|e| {
            (
                e["pid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(names.len(), 3);
    assert!(names[1].1.starts_with("part-1.json ("), "{names:?}");
    let per_pid = |pid: u64| {
        evs.iter()
            .filter(|e| e["ph"] == "X" && e["pid"].as_u64() == Some(pid))
            .count()
    };
    assert_eq!((per_pid(1), per_pid(2), per_pid(3)), (10, 15, 25));
    let pids: BTreeSet<u64> = evs.iter().filter_map(|e| e["pid"].as_u64()).collect();
    assert_eq!(pids, BTreeSet::from([1, 2, 3]));

    // The reports show each process and the total.
    let text = PerformanceReport::from_profile(&all).to_text();
    assert!(text.contains("Processes"), "{text}");
    assert!(text.contains("total (3 processes)"), "{text}");
    assert!(text.contains("part-2.json"), "{text}");
    let analysis = BottleneckAnalyzer::from_profile(&all).analyze_bottlenecks();
    assert_eq!(analysis.summary.processes.len(), 3);
    assert!(analysis.to_text().contains("total (3 processes)"));

    // A merged profile saves, loads back equal, and merges again with a fourth run.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.json");
    all.save(&path).unwrap();
    let back = Profile::load(&path).unwrap();
    assert_eq!(back, all);
    let more = Profile::merge([back, run(1)]).unwrap();
    assert_eq!(more.processes.len(), 4);
    assert_eq!(more.total_events(), 55);
    assert_eq!(more.process_figures()[3].totals.events, 5);
}

#[test]
fn the_same_run_twice_is_refused_and_nothing_is_an_error() {
    let a = run(1);
    let err = Profile::merge([a.clone(), a]).expect_err("the same run twice");
    assert!(matches!(err, ProfileError::InvalidInput(_)), "{err}");
    assert!(err.to_string().contains("count twice"), "{err}");
    assert!(Profile::merge(Vec::<Profile>::new()).is_err());
    let one = Profile::merge([run(2)]).unwrap();
    assert_eq!(one.total_events(), 10);
    assert!(!one.is_multi_process());
}

#[test]
fn profiles_from_before_process_records_merge_as_unknown_processes() {
    let mut old = run(1);
    old.processes.clear();
    let mut older = run(2);
    older.processes.clear();
    let all = Profile::merge([old, older]).expect("unknown processes are never the same run");
    assert_eq!(all.processes.len(), 2);
    assert_eq!(all.processes[0].pid, 0);
    assert_eq!(all.total_events(), 15);
}
