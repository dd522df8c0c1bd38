//! Runs every example in `examples/` as a user would, and checks that it exits 0 and prints its
//! key line (and, for those that write files, that the files are there).
//!
//! The examples are built once with `cargo build --examples` into the same target directory
//! and profile as this test (a no-op under `cargo test`, which builds the examples already),
//! then each binary is executed directly. The table below must name every file in
//! `examples/`, so a new example cannot be forgotten.
//!
//! `opentelemetry_layers` is also checked on what it wrote: the spans `tracing-opentelemetry`
//! exported are exactly the events of the profile saved next to them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// One example: its name, whether it takes an output directory as its argument, the lines its
/// stdout must contain, and the files it must leave in that directory.
struct Case {
    name: &'static str,
    takes_dir: bool,
    stdout_contains: &'static [&'static str],
    files: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "async_instrumentation",
        takes_dir: false,
        stdout_contains: &["busy < wall for every async span"],
        files: &[],
    },
    Case {
        name: "basic_session",
        takes_dir: false,
        stdout_contains: &["session `solve`: 17 events"],
        files: &[],
    },
    Case {
        name: "bottleneck_analysis",
        takes_dir: false,
        stdout_contains: &["top bottleneck: naive_matmul", "Optimization report"],
        files: &[],
    },
    Case {
        name: "distributed_sweep",
        takes_dir: true,
        stdout_contains: &[
            "merged 3 processes: 6 hp_inv solves (expected 6)",
            "total (3 processes)",
        ],
        files: &["part-0.json", "part-1.json", "part-2.json", "sweep.json"],
    },
    Case {
        name: "hardware_profiling",
        takes_dir: false,
        stdout_contains: &[
            "13 hardware operations on a (16, 16) array",
            "analogue INV:",
        ],
        files: &[],
    },
    Case {
        name: "memory_scaling",
        takes_dir: false,
        stdout_contains: &["memory measured by Allocator", "memory exponent"],
        files: &[],
    },
    Case {
        name: "multithreaded",
        takes_dir: false,
        stdout_contains: &[
            "1004 events from 4 threads (expected 1004)",
            "mac_row: 1000 calls",
        ],
        files: &[],
    },
    Case {
        name: "opentelemetry_layers",
        takes_dir: true,
        stdout_contains: &[
            "spans reached both layers: every operation's count and every parent link agree",
        ],
        files: &["profile.json", "otel-spans.json"],
    },
    Case {
        name: "performance_report",
        takes_dir: false,
        stdout_contains: &["Performance report", "crossbar.mvm: 20 calls"],
        files: &[],
    },
    Case {
        name: "profile_algorithm",
        takes_dir: false,
        stdout_contains: &["jacobi: ", "converged: true"],
        files: &[],
    },
    Case {
        name: "profile_function",
        takes_dir: false,
        stdout_contains: &["net growth 524288 B", "(source: Allocator)"],
        files: &[],
    },
    Case {
        name: "save_load",
        takes_dir: true,
        stdout_contains: &[
            "saved and reloaded 16 events",
            "bad file rejected",
            "missing file rejected",
        ],
        files: &["profile.json", "trace.json"],
    },
    Case {
        name: "visualization",
        takes_dir: true,
        stdout_contains: &["7 charts in", "as expected, invalid input"],
        files: &[
            "execution_time.svg",
            "memory_usage.svg",
            "event_counts.svg",
            "energy_breakdown.svg",
            "scaling.svg",
            "convergence.svg",
            "event_counts.png",
        ],
    },
];

/// A guard against a hung example; generous, since CI machines are slow (not a timing test).
const TIMEOUT: Duration = Duration::from_secs(120);

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The profile directory this test binary was built into (`<target>/debug`, `<target>/release`,
/// ...): the test runs from `<profile dir>/deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("the test binary is in a directory");
    match deps.parent() {
        Some(dir) if deps.file_name().is_some_and(|n| n == "deps") => dir.to_owned(),
        // Unusual layout: fall back to CARGO_TARGET_DIR, else <manifest>/target, and `debug`.
        _ => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| manifest_dir().join("target"))
            .join("debug"),
    }
}

fn example_names_on_disk() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(manifest_dir().join("examples"))
        .expect("examples/ exists")
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs") || p.join("main.rs").is_file())
        .map(|p| {
            p.file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn build_examples(profile_dir: &Path) {
    let target_dir = profile_dir
        .parent()
        .expect("the profile dir is inside the target dir");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(manifest_dir().join("Cargo.toml"))
        .args(["-p", env!("CARGO_PKG_NAME"), "--examples", "--quiet"])
        .arg("--target-dir")
        .arg(target_dir);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "`cargo build --examples` failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run_with_timeout(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waiting on the example").is_some() {
            return child.wait_with_output().expect("the example's output");
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let out = child.wait_with_output().expect("the example's output");
            panic!(
                "{cmd:?} did not finish within {TIMEOUT:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_table_names_every_example() {
    let mut listed: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    listed.sort_unstable();
    assert_eq!(
        example_names_on_disk(),
        listed,
        "tests/examples_run.rs must have one Case per file in examples/"
    );
}

#[test]
fn every_example_runs() {
    let profile_dir = profile_dir();
    build_examples(&profile_dir);
    let bin_dir = profile_dir.join("examples");
    let mut failures = Vec::new();
    for case in CASES {
        let exe = bin_dir.join(format!("{}{}", case.name, std::env::consts::EXE_SUFFIX));
        let out_dir = tempfile::tempdir().expect("a temp dir");
        let mut cmd = Command::new(&exe);
        // Anything an example writes without an argument goes under the temp dir; keep that
        // inside this test's own temp dir too.
        cmd.env("TMPDIR", out_dir.path());
        if case.takes_dir {
            cmd.arg(out_dir.path().join("out"));
        }
        let out = run_with_timeout(cmd);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut problems = Vec::new();
        if !out.status.success() {
            problems.push(format!("exited with {}", out.status));
        }
        for line in case.stdout_contains {
            if !stdout.contains(line) {
                problems.push(format!("stdout lacks {line:?}"));
            }
        }
        for file in case.files {
            let path = out_dir.path().join("out").join(file);
            match std::fs::metadata(&path) {
                Ok(m) if m.len() > 0 => {}
                _ => problems.push(format!("did not write {}", path.display())),
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "example `{}`: {}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
                case.name,
                problems.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The forest of spans as one canonical string per root: a span's name with its children's
/// strings, sorted; so two forests give the same sorted list exactly when they have the same
/// shape and names, whatever the ids and the order the spans closed in.
fn canonical_forest(spans: &[(String, String, Option<String>)]) -> Vec<String> {
    let mut children: HashMap<Option<&str>, Vec<usize>> = HashMap::new();
    for (i, (_, _, parent)) in spans.iter().enumerate() {
        children.entry(parent.as_deref()).or_default().push(i);
    }
    fn canon(
        i: usize,
        spans: &[(String, String, Option<String>)],
        children: &HashMap<Option<&str>, Vec<usize>>,
    ) -> String {
        let (id, name, _) = &spans[i];
        let mut kids: Vec<String> = children
            .get(&Some(id.as_str()))
            .map(|c| c.iter().map(|&k| canon(k, spans, children)).collect())
            .unwrap_or_default();
        kids.sort_unstable();
        format!("{name}({})", kids.join(","))
    }
    let mut roots: Vec<String> = children
        .get(&None)
        .map(|r| r.iter().map(|&i| canon(i, spans, &children)).collect())
        .unwrap_or_default();
    roots.sort_unstable();
    roots
}

#[test]
fn opentelemetry_layers_exports_exactly_the_profiled_spans() {
    let profile_dir = profile_dir();
    build_examples(&profile_dir);
    let exe = profile_dir.join("examples").join(format!(
        "opentelemetry_layers{}",
        std::env::consts::EXE_SUFFIX
    ));
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut cmd = Command::new(&exe);
    cmd.arg(dir.path()).env("TMPDIR", dir.path());
    let out = run_with_timeout(cmd);
    assert!(
        out.status.success(),
        "{exe:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    // The profiler's side: its saved profile.
    let profile = rram_profiler::Profile::load(dir.path().join("profile.json"))
        .expect("the example saved its profile");
    assert_eq!(profile.dropped_events, 0, "every event kept");
    // The OpenTelemetry side: what the exporter received.
    let text = std::fs::read_to_string(dir.path().join("otel-spans.json"))
        .expect("the example wrote otel-spans.json");
    let otel: Vec<serde_json::Value> = serde_json::from_str(&text).expect("a JSON array");
    let field = |s: &serde_json::Value, key: &str| s[key].as_str().map(str::to_owned);

    // Every operation: its exact count in the profiler = its kept events = its OTel spans.
    let mut exact: BTreeMap<String, u64> = BTreeMap::new();
    for op in &profile.operations {
        *exact.entry(op.name.to_string()).or_default() += op.count;
    }
    let mut kept: BTreeMap<String, u64> = BTreeMap::new();
    for e in &profile.events {
        *kept.entry(e.name.to_string()).or_default() += 1;
    }
    let mut exported: BTreeMap<String, u64> = BTreeMap::new();
    for s in &otel {
        *exported
            .entry(field(s, "name").expect("every span has a name"))
            .or_default() += 1;
    }
    assert_eq!(exact, kept, "the profile's aggregates and its events");
    assert_eq!(exact, exported, "the profiler's counts and the OTel spans");
    // The user's own span, their #[profile] functions and the simulator's spans, on both sides.
    for name in [
        "handle_request",
        "solve_on_array",
        "power_iteration",
        "hp_inv",
        "hp_inv.iteration",
        "crossbar.mvm",
    ] {
        assert!(exported.get(name).is_some_and(|&n| n > 0), "no {name} span");
    }

    // Parent links: every OTel parent resolves within its trace, and both sides have the same
    // trees (same names under the same parents).
    let trace_of: HashMap<String, String> = otel
        .iter()
        .map(|s| {
            (
                field(s, "span_id").expect("a span id"),
                field(s, "trace_id").expect("a trace id"),
            )
        })
        .collect();
    assert_eq!(trace_of.len(), otel.len(), "span ids are distinct");
    for s in &otel {
        if let Some(parent) = field(s, "parent_span_id") {
            assert_eq!(
                trace_of.get(&parent),
                field(s, "trace_id").as_ref(),
                "the parent of {s} is a span of the same trace"
            );
        }
    }
    let ids: std::collections::HashSet<u64> = profile.events.iter().map(|e| e.id).collect();
    for e in &profile.events {
        if let Some(p) = e.parent {
            assert!(ids.contains(&p), "the parent of event {} was kept", e.id);
        }
    }
    let profiler_forest: Vec<(String, String, Option<String>)> = profile
        .events
        .iter()
        .map(|e| {
            (
                e.id.to_string(),
                e.name.to_string(),
                e.parent.map(|p| p.to_string()),
            )
        })
        .collect();
    let otel_forest: Vec<(String, String, Option<String>)> = otel
        .iter()
        .map(|s| {
            (
                field(s, "span_id").expect("a span id"),
                field(s, "name").expect("a name"),
                field(s, "parent_span_id"),
            )
        })
        .collect();
    let trees = canonical_forest(&profiler_forest);
    let roots: Vec<&str> = trees
        .iter()
        .map(|t| t.split('(').next().unwrap_or_default())
        .collect();
    assert_eq!(
        roots,
        ["crossbar.write_matrix", "handle_request", "handle_request"],
        "the array's programming and the two requests are the roots"
    );
    assert_eq!(trees, canonical_forest(&otel_forest));

    // A span's fields reach both: `solve_on_array`'s `n` is a metric of the profiler's event
    // and an attribute of the OTel span.
    let solve = profile
        .events
        .iter()
        .find(|e| &*e.name == "solve_on_array")
        .expect("a solve_on_array event");
    assert_eq!(solve.metrics.get("n"), Some(&16.0));
    let span = otel
        .iter()
        .find(|s| s["name"] == "solve_on_array")
        .expect("a solve_on_array span");
    assert_eq!(span["attributes"]["n"], "16");
}
