//! Memory stays bounded under adversarial workloads: many distinct operation names, many
//! short-lived threads, deep parent chains.
//!
//! Each case runs in a child process (this test binary, re-run on just that test with
//! `RRAM_BOUNDED_CHILD` set), so its peak RSS (`VmHWM`) is its own; the child prints its
//! figures and the parent asserts the bound with a wide margin over what was measured. Linux
//! only (`/proc/self/status`); elsewhere each test prints that it skipped.

use std::process::Command;

use profiler_runtime::output::export::{DEEPER_FRAME, DEFAULT_MAX_STACK_DEPTH};
use profiler_runtime::{EventKind, PerformanceProfiler, Profile, ProfileEvent};

const CHILD: &str = "RRAM_BOUNDED_CHILD";

/// Peak RSS of this process, bytes (`VmHWM`).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Whether this process is the child for `test`.
fn is_child(test: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|v| v == test)
}

/// Runs `test` of this binary in a child process (under `ulimit -v limit_kb` when given) and
/// returns its standard output; `None` (after printing why) where peak RSS cannot be read.
fn run_child(test: &str, limit_kb: Option<u64>) -> Option<String> {
    if peak_rss_bytes().is_none() {
        println!("skipped: no /proc/self/status on this system, peak RSS unknown");
        return None;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let args = [test, "--exact", "--nocapture", "--test-threads=1"];
    let mut cmd = match limit_kb {
        Some(kb) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("ulimit -v {kb} && exec \"$0\" \"$@\""))
                .arg(&exe)
                .args(args);
            c
        }
        None => {
            let mut c = Command::new(&exe);
            c.args(args);
            c
        }
    };
    let out = cmd.env(CHILD, test).output().expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child {test} failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Some(stdout)
}

/// The value printed by the child as `key=value`.
fn figure(out: &str, key: &str) -> u64 {
    let tag = format!("@{key}=");
    out.lines()
        .find_map(|l| l.split_once(&tag).map(|(_, v)| v))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("the child printed no {key}: {out}"))
}

fn rss(at: &str) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or("");
    println!("{at}: {line}");
}

fn report_peak() {
    let peak = peak_rss_bytes().unwrap_or(0);
    println!("\n@peak_rss_bytes={peak}");
    println!("peak RSS {:.1} MB", peak as f64 / 1e6);
}

/// Records one event under each of `names` distinct names, then reads the snapshot and the
/// report as a user would.
fn distinct_names(p: &PerformanceProfiler, names: u64) {
    for i in 0..names {
        p.record_event(
            &format!("item-{i}"),
            EventKind::Computation,
            [("n", i as f64)],
        );
    }
    rss("recorded");
    let snap = p.snapshot();
    rss("snapshot");
    println!("\n@total_events={}", snap.total_events());
    println!("\n@operations={}", snap.operations.len());
    let other = snap.operation("<other>");
    println!("\n@other_count={}", other.as_ref().map_or(0, |o| o.count));
    println!(
        "\n@folded_names={}",
        other.as_ref().map_or(0, |o| o.folded_names)
    );
    drop(snap);
    let report = p.get_performance_report();
    rss("report");
    let text = report.to_text();
    rss("text");
    println!(
        "\n@report_mentions_fold={}",
        u64::from(text.contains("folded into <other>"))
    );
    drop(text);
    drop(report);
    report_peak();
}

#[test]
fn a_hundred_thousand_distinct_names_stay_under_300_mb() {
    const TEST: &str = "a_hundred_thousand_distinct_names_stay_under_300_mb";
    if is_child(TEST) {
        let p = PerformanceProfiler::builder()
            .without_monitor()
            .build()
            .expect("valid config");
        distinct_names(&p, 100_000);
        return;
    }
    let Some(out) = run_child(TEST, None) else {
        return;
    };
    println!("{out}");
    assert_eq!(figure(&out, "total_events"), 100_000);
    assert_eq!(
        figure(&out, "operations"),
        100_000,
        "all under their own names"
    );
    assert!(figure(&out, "peak_rss_bytes") <= 300_000_000);
}

#[test]
fn a_million_distinct_names_complete_under_4_gb_with_the_cap_reported() {
    const TEST: &str = "a_million_distinct_names_complete_under_4_gb_with_the_cap_reported";
    if is_child(TEST) {
        let p = PerformanceProfiler::builder()
            .without_monitor()
            .build()
            .expect("valid config");
        distinct_names(&p, 1_000_000);
        return;
    }
    let Some(out) = run_child(TEST, Some(4 * 1024 * 1024)) else {
        return;
    };
    println!("{out}");
    assert_eq!(
        figure(&out, "total_events"),
        1_000_000,
        "every call counted"
    );
    // The cap's worth under their own names, one <other> beyond it.
    assert_eq!(figure(&out, "operations"), 100_001);
    assert_eq!(figure(&out, "other_count"), 900_000);
    assert_eq!(figure(&out, "folded_names"), 900_000);
    assert_eq!(figure(&out, "report_mentions_fold"), 1);
}

#[test]
fn two_hundred_thousand_short_lived_threads_stay_under_200_mb() {
    const TEST: &str = "two_hundred_thousand_short_lived_threads_stay_under_200_mb";
    const THREADS: u64 = 200_000;
    if is_child(TEST) {
        let p = PerformanceProfiler::builder()
            .without_monitor()
            .build()
            .expect("valid config");
        // Installed once, as a program does (this child process is this test's alone).
        p.install().expect("the child's first subscriber");
        // A few at a time, as a pool that keeps replacing its workers would.
        for _ in 0..THREADS / 4 {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    std::thread::spawn(|| {
                        tracing::info_span!("one_call").in_scope(|| {});
                    })
                })
                .collect();
            for h in hs {
                h.join().expect("worker");
            }
        }
        rss("recorded");
        let snap = p.snapshot();
        rss("snapshot");
        println!("\n@total_events={}", snap.total_events());
        println!("\n@kept_events={}", snap.events.len());
        drop(snap);
        report_peak();
        return;
    }
    let Some(out) = run_child(TEST, None) else {
        return;
    };
    println!("{out}");
    assert_eq!(figure(&out, "total_events"), THREADS);
    assert_eq!(
        figure(&out, "kept_events"),
        THREADS,
        "within the raw capacity"
    );
    // Measured about 80 MB here, most of it the snapshot of the 200k kept events. Before small
    // chunks shared a buffer, each exited thread kept a 32 KiB staging buffer (6.4 GB for
    // 200k), and each unnamed thread's `thread-N` string, allocated in that thread's malloc
    // arena, kept the arenas fragmented (over 200 MB).
    assert!(figure(&out, "peak_rss_bytes") <= 200_000_000);
}

/// A chain of `depth` events, each the parent of the next (a deep recursion), 1 µs of self
/// time each.
fn deep_chain(depth: u64) -> Profile {
    let mut p = Profile::empty();
    for i in 0..depth {
        let mut e = ProfileEvent::new(
            i + 1,
            format!("recurse_{}", i % 7).into(),
            EventKind::FunctionCall,
            1,
            i * 1_000,
            2 * depth * 1_000 - i * 1_000,
        );
        e.parent = (i > 0).then_some(i);
        e.self_ns = 1_000;
        p.events.push(e);
    }
    p
}

#[test]
fn folded_export_and_flame_graph_of_a_30k_deep_chain_are_capped_and_under_300_mb() {
    const TEST: &str =
        "folded_export_and_flame_graph_of_a_30k_deep_chain_are_capped_and_under_300_mb";
    const DEPTH: u64 = 30_000;
    if is_child(TEST) {
        let p = deep_chain(DEPTH);
        let t0 = std::time::Instant::now();
        let mut out = Vec::new();
        p.to_folded_stacks(&mut out).expect("writes to memory");
        let secs = t0.elapsed().as_secs_f64();
        let text = String::from_utf8(out).expect("UTF-8");
        let max_frames = text
            .lines()
            .map(|l| l.split(';').count())
            .max()
            .unwrap_or(0);
        let deeper: u64 = text
            .lines()
            .find(|l| l.contains(DEEPER_FRAME))
            .and_then(|l| l.rsplit_once(' '))
            .and_then(|(_, ns)| ns.parse().ok())
            .unwrap_or(0);
        println!(
            "folded export of a {DEPTH}-deep chain: {secs:.3} s, {} bytes",
            text.len()
        );
        println!("\n@lines={}", text.lines().count());
        println!("\n@max_frames={max_frames}");
        println!("\n@deeper_ns={deeper}");
        println!("\n@bytes={}", text.len());
        drop(text);
        let t0 = std::time::Instant::now();
        let mut svg = Vec::new();
        p.to_flamegraph_svg(&mut svg).expect("draws");
        println!(
            "flame graph of a {DEPTH}-deep chain: {:.3} s, {} bytes",
            t0.elapsed().as_secs_f64(),
            svg.len()
        );
        println!(
            "\n@svg_deeper={}",
            u64::from(String::from_utf8_lossy(&svg).contains(DEEPER_FRAME))
        );
        drop(svg);
        drop(p);
        report_peak();
        return;
    }
    let Some(out) = run_child(TEST, None) else {
        return;
    };
    println!("{out}");
    assert_eq!(
        figure(&out, "svg_deeper"),
        1,
        "the flame graph is capped too"
    );
    let depth = DEFAULT_MAX_STACK_DEPTH as u64;
    // One stack per depth up to the cap, then one [deeper] stack with everything below.
    assert_eq!(figure(&out, "lines"), depth + 1);
    assert_eq!(figure(&out, "max_frames"), depth + 1);
    assert_eq!(figure(&out, "deeper_ns"), (DEPTH - depth) * 1_000);
    assert!(figure(&out, "peak_rss_bytes") <= 300_000_000);
}
