//! Profiles from several processes, merged and sent on, as a user does it from a shell:
//! three child processes each profile their share of an HP-INV sweep and save it;
//! `rram-prof merge` combines them (exact counts, one process each in the Chrome trace, a
//! per-process table in the report, never over an input), and
//! `rram-prof export --format otlp --endpoint URL` sends the merged profile to an OTLP/HTTP
//! receiver built from the OpenTelemetry protobuf definitions.

// Shared with the runtime's OTLP tests; this test does not use every mode.
#[allow(dead_code)]
#[path = "../profiler-runtime/tests/otlp_receiver/mod.rs"]
mod otlp_receiver;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use otlp_receiver::{Mode, Receiver};
use rram_profiler::profiler_runtime::{EventKind, PerformanceProfiler, Profile};
use rram_profiler::rram_sim::{hp_inv, HpInvConfig};

/// Set in a child process: `<output path>,<solves>`.
const CHILD: &str = "RRAM_PRODUCTION_CLI_CHILD";
/// The test that spawns the children (and that each child runs).
const TEST: &str = "three_child_processes_merge_export_and_send";

fn rram_prof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rram-prof"))
        .args(args)
        .output()
        .expect("rram-prof runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A child's work: `solves` HP-INV solves of size 8 under its own profiler, saved to `out`.
fn child(out: &Path, solves: usize) {
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .expect("profiler");
    profiler.in_scope(|| {
        for k in 0..solves {
            let n = 8;
            let g = nalgebra::DMatrix::from_fn(n, n, |i, j| {
                if i == j {
                    1.0
                } else {
                    0.01 * ((i * 7 + j * 3 + k) % 5) as f64
                }
            });
            let b = nalgebra::DVector::from_fn(n, |i, _| 1.0 - 0.1 * i as f64);
            hp_inv(&g, &b, &HpInvConfig::default()).expect("HP-INV solves");
        }
    });
    profiler.snapshot().save(out).expect("child saves");
}

fn hp_inv_count(p: &Profile) -> u64 {
    p.operations
        .iter()
        .find(|o| o.name.to_string() == "hp_inv" && o.kind == EventKind::Computation)
        .map_or(0, |o| o.count)
}

/// A resource's `process.pid`.
fn pid_of(r: &opentelemetry_proto::tonic::resource::v1::Resource) -> Option<u32> {
    match otlp_receiver::attr(&r.attributes, "process.pid")? {
        Value::IntValue(i) => u32::try_from(*i).ok(),
        _ => None,
    }
}

/// The `rram_profiler.calls` data point of `hp_inv` the receiver got.
fn hp_inv_calls_sent(rx: &Receiver) -> Option<i64> {
    let data = rx.data.lock().ok()?;
    let metric = data
        .metrics
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .find(|m| m.name == "rram_profiler.calls")?;
    let Some(metric::Data::Sum(sum)) = &metric.data else {
        return None;
    };
    sum.data_points.iter().find_map(|p| {
        let is = |k: &str, v: &str| {
            matches!(otlp_receiver::attr(&p.attributes, k), Some(Value::StringValue(s)) if s == v)
        };
        match p.value.as_ref()? {
            number_data_point::Value::AsInt(i) if is("operation", "hp_inv") && is("kind", "computation") => Some(*i),
            _ => None,
        }
    })
}

#[test]
fn three_child_processes_merge_export_and_send() {
    if let Ok(spec) = std::env::var(CHILD) {
        let (out, solves) = spec.rsplit_once(',').expect("path,solves");
        child(Path::new(out), solves.parse().expect("solves"));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let me = std::env::current_exe().expect("this test's binary");
    let shares = [1usize, 2, 3];
    let parts: Vec<PathBuf> = shares
        .iter()
        .enumerate()
        .map(|(i, _)| dir.path().join(format!("part{i}.json")))
        .collect();
    let children: Vec<_> = parts
        .iter()
        .zip(shares)
        .map(|(out, solves)| {
            Command::new(&me)
                .args(["--exact", TEST, "--test-threads=1"])
                .env(CHILD, format!("{},{solves}", out.display()))
                .output()
                .expect("child runs")
        })
        .collect();
    for (c, out) in children.iter().zip(&parts) {
        assert!(c.status.success(), "child failed: {}", text(c));
        assert!(out.is_file(), "{} not written", out.display());
    }
    let inputs: Vec<Profile> = parts
        .iter()
        .map(|p| Profile::load(p).expect("part loads"))
        .collect();
    let pids: BTreeSet<u32> = inputs
        .iter()
        .map(|p| p.process().expect("names its process").pid)
        .collect();
    assert_eq!(pids.len(), 3, "three processes");
    assert!(!pids.contains(&std::process::id()));

    // merge: exact counts, one process record each.
    let all = dir.path().join("all.json");
    let (a, b, c, o) = (
        parts[0].to_str().unwrap(),
        parts[1].to_str().unwrap(),
        parts[2].to_str().unwrap(),
        all.to_str().unwrap(),
    );
    let m = rram_prof(&["merge", a, b, c, "-o", o]);
    assert!(m.status.success(), "{}", text(&m));
    let merged = Profile::load(&all).expect("merged profile loads");
    assert_eq!(hp_inv_count(&merged), 6, "1 + 2 + 3 solves");
    for op in &merged.operations {
        let sum: u64 = inputs
            .iter()
            .filter_map(|p| {
                p.operations
                    .iter()
                    .find(|q| q.name == op.name && q.kind == op.kind)
            })
            .map(|q| q.count)
            .sum();
        assert_eq!(op.count, sum, "{}", op.name);
    }
    assert_eq!(
        merged.events.len(),
        inputs.iter().map(|p| p.events.len()).sum::<usize>()
    );
    let merged_pids: BTreeSet<u32> = merged.processes.iter().map(|p| p.pid).collect();
    assert_eq!(merged_pids, pids);

    // The report has a row per process and a total.
    let r = rram_prof(&["report", o]);
    assert!(r.status.success(), "{}", text(&r));
    let report = text(&r);
    assert!(report.contains("total (3 processes)"), "{report}");
    for p in &parts {
        let label = p.with_extension("");
        assert!(
            report.contains(&label.display().to_string()),
            "no row for {}:\n{report}",
            label.display()
        );
    }

    // The Chrome trace has one process per input.
    let trace = dir.path().join("trace.json");
    let e = rram_prof(&[
        "export",
        o,
        "--format",
        "chrome",
        "-o",
        trace.to_str().unwrap(),
    ]);
    assert!(e.status.success(), "{}", text(&e));
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let events = t["traceEvents"].as_array().expect("traceEvents");
    let named: BTreeSet<u64> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "process_name")
        .filter_map(|e| e["pid"].as_u64())
        .collect();
    let with_spans: BTreeSet<u64> = events
        .iter()
        .filter(|e| e["ph"] == "X")
        .filter_map(|e| e["pid"].as_u64())
        .collect();
    assert_eq!(with_spans.len(), 3, "spans in three process tracks");
    assert!(with_spans.is_subset(&named), "every track is named");

    // merge never writes over an input.
    let before = std::fs::read(&parts[0]).unwrap();
    let refused = rram_prof(&["merge", a, b, "-o", a]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("same file as the input"),
        "{}",
        text(&refused)
    );
    assert_eq!(std::fs::read(&parts[0]).unwrap(), before);

    // export --format otlp: every kept event as a span, each process under its own resource.
    let rx = Receiver::start(Mode::Accept);
    let s = rram_prof(&["export", o, "--format", "otlp", "--endpoint", &rx.url()]);
    assert!(s.status.success(), "{}", text(&s));
    let spans = rx.spans();
    assert_eq!(spans.len(), merged.events.len());
    let span_pids: BTreeSet<u32> = spans.iter().filter_map(|(r, _)| pid_of(r)).collect();
    assert_eq!(span_pids, pids);
    let calls = hp_inv_calls_sent(&rx).expect("the aggregates went out as metrics");
    assert_eq!(calls, 6);

    // A collector that refuses: a one-line error naming the endpoint, in bounded time.
    let down = Receiver::start(Mode::Refuse(503));
    let f = rram_prof(&["export", o, "--format", "otlp", "--endpoint", &down.url()]);
    assert_eq!(f.status.code(), Some(2), "{}", text(&f));
    assert!(text(&f).contains(&down.url()), "{}", text(&f));
    assert!(down.requests() >= 1, "it did try");
}
