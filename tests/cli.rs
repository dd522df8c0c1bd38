//! `rram-prof` end to end, as a user runs it: every subcommand and every error path.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use rram_profiler::profiler_runtime::{profile, PerformanceProfiler};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rram-prof"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("rram-prof runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One small demo run shared by the tests that read its folder.
fn demo_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("out");
        let o = run(&[
            "demo",
            "--sizes",
            "8,16,32",
            "--block-sizes",
            "16,32",
            "--tiles",
            "8",
            "--seed",
            "3",
            "--quiet",
            "--out",
            out.to_str().expect("utf-8 temp path"),
        ]);
        assert!(o.status.success(), "demo failed: {}", stderr(&o));
        let text = stdout(&o);
        for needle in [
            "hp_inv",
            "block_amc/8",
            "Energy per solve by component",
            "Scaling",
            "Top bottlenecks",
            "trace.json",
        ] {
            assert!(text.contains(needle), "summary lacks `{needle}`:\n{text}");
        }
        dir
    })
    .path()
}

fn profile_json() -> PathBuf {
    demo_dir().join("out/profile.json")
}

fn assert_one_line_error(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(o));
    let err = stderr(o);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "error is not one line:\n{err}"
    );
    assert!(
        err.contains(needle),
        "error `{err}` does not mention `{needle}`"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn demo_writes_the_report_folder() {
    let out = demo_dir().join("out");
    for f in [
        "profile.json",
        "report.txt",
        "report.md",
        "analysis.json",
        "execution_time.png",
        "memory_usage.png",
        "event_counts.png",
        "energy_breakdown.png",
        "scaling.png",
        "convergence.png",
        "trace.json",
        "folded.txt",
        "flamegraph.svg",
    ] {
        let len = std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 100, "{f} missing or trivial ({len} bytes)");
    }
    let report = std::fs::read_to_string(out.join("report.txt")).expect("report.txt");
    assert!(
        report.contains("hp_inv") && report.contains("crossbar"),
        "{report}"
    );
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("trace.json")).expect("trace"))
            .expect("trace is JSON");
    assert!(trace["traceEvents"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
}

#[test]
fn report_and_analyze_read_a_saved_profile() {
    let p = profile_json();
    let o = run(&["report", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("hp_inv"));
    let o = run(&["report", "--markdown", p.to_str().unwrap()]);
    assert!(o.status.success() && stdout(&o).contains('|'));
    let o = run(&["analyze", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).is_empty());
    let o = run(&["analyze", "--format", "json", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("analysis JSON");
    assert!(v.get("bottleneck_analysis").is_some());
}

#[test]
fn plot_and_export_write_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile_json();
    let p = p.to_str().unwrap();
    for (t, ext) in [
        ("scaling", "svg"),
        ("convergence", "png"),
        ("energy-breakdown", "png"),
    ] {
        let out = dir.path().join(format!("{t}.{ext}"));
        let o = run(&["plot", p, "--type", t, "-o", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(std::fs::metadata(&out).unwrap().len() > 1000);
    }
    for (fmt, name) in [
        ("chrome", "t.json"),
        ("folded", "f.txt"),
        ("flamegraph", "f.svg"),
    ] {
        let out = dir.path().join(name);
        let o = run(&["export", p, "--format", fmt, "-o", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(std::fs::metadata(&out).unwrap().len() > 100, "{fmt}");
    }
    let folded = std::fs::read_to_string(dir.path().join("f.txt")).unwrap();
    assert!(folded.lines().all(|l| l
        .rsplit_once(' ')
        .is_some_and(|(_, n)| n.parse::<u64>().is_ok())));
}

#[profile]
fn step(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

fn saved_profile(dir: &Path, name: &str, ms: u64) -> PathBuf {
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    profiler.in_scope(|| {
        for _ in 0..5 {
            step(ms);
        }
    });
    let path = dir.join(name);
    profiler.snapshot().save(&path).unwrap();
    path
}

#[test]
fn diff_exits_non_zero_on_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let fast = saved_profile(dir.path(), "fast.json", 2);
    let slow = saved_profile(dir.path(), "slow.json", 12);
    let (fast, slow) = (fast.to_str().unwrap(), slow.to_str().unwrap());
    let o = run(&["diff", fast, fast]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["diff", fast, slow, "--threshold", "10%"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("step"));
    // Getting faster is not a regression.
    let o = run(&["diff", slow, fast, "--threshold", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A threshold above the change lets it pass.
    let o = run(&["diff", fast, slow, "--threshold", "10000%"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn errors_are_one_line_and_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let m = missing.to_str().unwrap();
    assert_one_line_error(&run(&["report", m]), "nope.json");
    assert_one_line_error(&run(&["analyze", m]), "nope.json");
    assert_one_line_error(&run(&["diff", m, m]), "nope.json");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "this is not json").unwrap();
    let b = bad.to_str().unwrap();
    assert_one_line_error(&run(&["report", b]), "bad.json");
    let truncated = dir.path().join("truncated.json");
    let full = std::fs::read_to_string(profile_json()).unwrap();
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    assert_one_line_error(
        &run(&[
            "export",
            truncated.to_str().unwrap(),
            "--format",
            "chrome",
            "-o",
            "/dev/null",
        ]),
        "truncated.json",
    );

    let p = profile_json();
    let p = p.to_str().unwrap();
    let out = dir.path().join("x.svg");
    assert_one_line_error(
        &run(&["plot", p, "--type", "pie", "-o", out.to_str().unwrap()]),
        "pie",
    );
    assert_one_line_error(
        &run(&["plot", p, "--type", "scaling", "-o", "chart.jpg"]),
        "jpg",
    );
    assert_one_line_error(&run(&["export", p, "--format", "xml", "-o", "x"]), "xml");
    assert_one_line_error(&run(&["diff", p, p, "--threshold", "ten"]), "ten");
    assert_one_line_error(
        &run(&[
            "demo",
            "--sizes",
            "1",
            "--out",
            dir.path().to_str().unwrap(),
        ]),
        "size 1",
    );
    assert_one_line_error(
        &run(&[
            "demo",
            "--temperature",
            "-5",
            "--out",
            dir.path().to_str().unwrap(),
        ]),
        "temperature",
    );
    assert_one_line_error(&run(&["frobnicate"]), "frobnicate");
    let unwritable = run(&[
        "export",
        p,
        "--format",
        "folded",
        "-o",
        "/nonexistent-dir/x.txt",
    ]);
    assert_one_line_error(&unwritable, "/nonexistent-dir");
}

#[test]
fn help_and_version_succeed() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let h = stdout(&o);
    for sub in ["demo", "report", "analyze", "plot", "export", "diff"] {
        assert!(h.contains(sub), "{h}");
    }
    assert!(run(&["--version"]).status.success());
}
