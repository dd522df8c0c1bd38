//! `rram-prof` end to end, as a user runs it: every subcommand and every error path.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use rram_profiler::profiler_runtime::{profile, PerformanceProfiler, Profile};

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
    let trace = dir.path().join("trace.json");
    assert_one_line_error(
        &run(&[
            "export",
            truncated.to_str().unwrap(),
            "--format",
            "chrome",
            "-o",
            trace.to_str().unwrap(),
        ]),
        "truncated.json",
    );
    assert!(!trace.exists());

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
        &run(&["diff", p, p, "--threshold", "-1"]),
        "threshold must be non-negative",
    );
    // A missing argument is named, with what it expects.
    let o = run(&["plot", p, "-o", out.to_str().unwrap()]);
    assert_one_line_error(&o, "--type <T>");
    assert_one_line_error(&run(&["export", p, "-o", "x.json"]), "--format <FORMAT>");
    assert_one_line_error(&run(&["recover", "j.journal"]), "--output <OUT>");
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

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn outputs_never_replace_devices_fifos_directories_or_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile_json();
    let p = p.to_str().unwrap();
    let fifo = dir.path().join("pipe.json");
    assert!(bin_status("mkfifo", &[fifo.to_str().unwrap()]));
    let adir = dir.path().join("adir");
    std::fs::create_dir(&adir).unwrap();
    let mut targets = vec![(fifo.clone(), "FIFO"), (adir.clone(), "directory")];
    let node = dir.path().join("null");
    if is_root() && bin_status("mknod", &[node.to_str().unwrap(), "c", "1", "3"]) {
        targets.push((node.clone(), "character device"));
    } else {
        println!("SKIPPED the device-node case: mknod needs root");
    }
    for (target, kind) in &targets {
        let t = target.to_str().unwrap();
        for args in [
            vec!["export", p, "--format", "chrome", "-o", t],
            vec!["export", p, "--format", "flamegraph", "-o", t],
            vec!["recover", p, "-o", t],
        ] {
            assert_one_line_error(&run(&args), t);
            let e = stderr(&run(&args));
            assert!(e.contains(kind), "{e}");
        }
    }
    assert!(adir.is_dir());
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        names.len(),
        targets.len(),
        "nothing left beside the targets: {names:?}"
    );

    // The input itself, by the same path or through standard input.
    let same = dir.path().join("same.json");
    std::fs::copy(profile_json(), &same).unwrap();
    let before = std::fs::read(&same).unwrap();
    let s = same.to_str().unwrap();
    let o = run(&["export", s, "--format", "chrome", "-o", s]);
    assert_one_line_error(&o, "same file as the input");
    let o = bin()
        .args(["export", "-", "--format", "folded", "-o", s])
        .stdin(std::fs::File::open(&same).unwrap())
        .output()
        .unwrap();
    assert_one_line_error(&o, "same file as the input");
    let o = run(&["plot", s, "--type", "scaling", "-o", s]);
    assert_one_line_error(&o, "extension");
    assert_eq!(std::fs::read(&same).unwrap(), before);
}

fn bin_status(cmd: &str, args: &[&str]) -> bool {
    std::process::Command::new(cmd)
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn reading_refuses_what_is_not_a_regular_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("p.json");
    assert!(bin_status("mkfifo", &[fifo.to_str().unwrap()]));
    // No writer ever opens the FIFO: the command must not block.
    for f in [
        fifo.to_str().unwrap(),
        "/dev/zero",
        dir.path().to_str().unwrap(),
    ] {
        assert_one_line_error(&run(&["report", f]), "not a regular file");
        assert_one_line_error(&run(&["diff", f, f]), "not a regular file");
    }
    // Standard input works.
    let o = bin()
        .args(["report", "-"])
        .stdin(std::fs::File::open(profile_json()).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("hp_inv"));
}

#[test]
fn concurrent_exports_to_one_target_each_leave_valid_json() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.json");
    let p = profile_json();
    for _round in 0..3 {
        let children: Vec<_> = (0..8)
            .map(|_| {
                bin()
                    .args(["export", p.to_str().unwrap(), "--format", "chrome", "-o"])
                    .arg(&target)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
            let text = std::fs::read_to_string(&target).unwrap();
            serde_json::from_str::<serde_json::Value>(&text).expect("a whole trace");
        }
    }
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn the_demo_lists_what_it_could_not_write_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("scaling.png")).unwrap();
    let o = run(&[
        "demo",
        "--sizes",
        "8,16",
        "--block-sizes",
        "16",
        "--tiles",
        "8",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stdout(&o).contains("not written"), "{}", stdout(&o));
    let e = stderr(&o);
    assert!(
        e.contains("1 of 13 outputs were not written (scaling.png)"),
        "{e}"
    );
    assert!(out.join("scaling.png").is_dir());
    assert!(out.join("profile.json").is_file());
    // The journal is gone once profile.json holds the run.
    assert!(!out.join("profile.journal").exists());
    // A journal left by a crashed run is never overwritten: the demo refuses to start.
    std::fs::write(out.join("profile.journal"), "a crashed run").unwrap();
    let o = run(&[
        "demo",
        "--sizes",
        "8",
        "--block-sizes",
        "16",
        "--tiles",
        "8",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_one_line_error(&o, "profile.journal");
    assert!(stderr(&o).contains("recover"));
    assert_eq!(
        std::fs::read_to_string(out.join("profile.journal")).unwrap(),
        "a crashed run"
    );
}

#[test]
fn plot_on_a_full_disk_keeps_the_old_chart() {
    if !is_root() {
        println!("SKIPPED: mounting a small tmpfs needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    if !bin_status(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            "size=128k",
            "tmpfs",
            small.to_str().unwrap(),
        ],
    ) {
        println!("SKIPPED: cannot mount a tmpfs here");
        return;
    }
    let chart = small.join("c.svg");
    std::fs::write(&chart, "the old chart").unwrap();
    let filler = small.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 1 << 20]);
    let p = profile_json();
    let o = run(&[
        "plot",
        p.to_str().unwrap(),
        "--type",
        "execution_time",
        "-o",
        chart.to_str().unwrap(),
    ]);
    let kept = std::fs::read_to_string(&chart).unwrap_or_default();
    let names: Vec<String> = std::fs::read_dir(&small)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    bin_status("umount", &[small.to_str().unwrap()]);
    assert_one_line_error(&o, "c.svg");
    assert_eq!(kept, "the old chart");
    names
        .iter()
        .for_each(|n| assert!(n == "c.svg" || n == "filler", "left behind: {n}"));
}

#[test]
fn lenient_repairs_what_strict_refuses() {
    let dir = tempfile::tempdir().unwrap();
    // Edited through the runtime's own model (a JSON round trip through serde_json::Value would
    // turn the integer sums beyond u64 into floats).
    let mut p = Profile::load(profile_json()).unwrap();
    let first_id = p.events[0].id;
    // A later event takes the first one's id (one that is not its child).
    let k = (1..p.events.len())
        .find(|&k| p.events[k].parent != Some(first_id))
        .unwrap();
    p.events[k].id = first_id;
    let bad = dir.path().join("dup.json");
    p.save(&bad).unwrap();
    let b = bad.to_str().unwrap();
    assert_one_line_error(&run(&["report", b]), "inconsistent");
    assert_one_line_error(&run(&["analyze", b]), &format!("event #{k} has id"));
    for args in [
        vec!["report", "--lenient", b],
        vec!["analyze", "--lenient", b],
        vec!["diff", "--lenient", b, b],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("repaired 1: 1 with a duplicate id"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn recover_rebuilds_a_profile_from_a_journal() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .journal(&journal)
        .build()
        .unwrap();
    profiler.in_scope(|| {
        for _ in 0..3 {
            step(1);
        }
    });
    profiler.flush_journal();
    // The process is still "running" (no closing record), as after a crash.
    let out = dir.path().join("recovered.json");
    let o = run(&[
        "recover",
        journal.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("cut short"), "{}", stderr(&o));
    let o = run(&["report", out.to_str().unwrap()]);
    assert!(
        o.status.success() && stdout(&o).contains("step"),
        "{}",
        stderr(&o)
    );
    assert_one_line_error(
        &run(&["recover", out.to_str().unwrap(), "-o", "x.json"]),
        "not a journal",
    );
    drop(profiler);
}
