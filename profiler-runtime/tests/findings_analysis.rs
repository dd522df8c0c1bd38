//! Findings say how they are known and what they are about, never over-rank a guess, never call
//! a call with skipped arguments a repeat, and report the machine as it is: heap fragmentation
//! from the counting allocator, the rest of the machine's load, hardware counters (or why
//! there are none) and CPU energy labelled modelled where RAPL is absent.

mod common;

use std::time::Duration;

use profiler_runtime::analysis::{Basis, Category};
use profiler_runtime::model::counters::HardwareCounters;
use profiler_runtime::model::energy::EnergySource;
use profiler_runtime::sys::{Counter, CounterEvent, SessionCounters};
use profiler_runtime::{
    profile, BottleneckAnalyzer, CountingAllocator, PerformanceMetric, PerformanceProfiler,
    PerformanceReport, Profile, SessionRecord, Severity,
};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

struct Config {
    tol: f64,
}

/// A solve whose configuration is skipped: equal `n` says nothing about equal arguments.
#[profile(kind = "computation", skip(cfg))]
fn solve(n: u64, cfg: &Config) -> f64 {
    std::thread::sleep(Duration::from_millis(2));
    n as f64 * cfg.tol
}

/// Every argument recorded: calls with equal `n` did repeat their arguments.
#[profile(kind = "computation")]
fn pure_square(n: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(2));
    n * n
}

/// Named like serialisation code, and hogging the time.
#[profile]
fn write_json_report() {
    std::thread::sleep(Duration::from_millis(60));
}

#[test]
fn repeats_are_never_claimed_where_arguments_were_skipped() {
    let p = common::profiler();
    p.in_scope(|| {
        for i in 0..20 {
            solve(
                64,
                &Config {
                    tol: 1.0 / f64::from(i + 1),
                },
            );
        }
    });
    let a = BottleneckAnalyzer::new(&p).analyze_bottlenecks();
    let c = &a.bottleneck_analysis.compute_analysis;
    assert!(c.repeated_calls.is_empty(), "{:?}", c.repeated_calls);
    assert!(
        !a.bottleneck_analysis
            .bottlenecks
            .iter()
            .any(|b| b.title.contains("identical arguments")),
        "{:#?}",
        a.bottleneck_analysis.bottlenecks
    );
}

#[test]
fn every_finding_has_a_basis_and_a_metric_and_a_heuristic_one_is_at_most_medium() {
    let p = common::profiler();
    p.in_scope(|| {
        write_json_report();
        for _ in 0..10 {
            pure_square(7);
        }
    });
    let analyzer = BottleneckAnalyzer::new(&p);
    let a = analyzer.analyze_bottlenecks();
    let found = &a.bottleneck_analysis.bottlenecks;
    // The serialisation guess (by name) and the repeat (purity assumed) are heuristic and capped,
    // while the same operation's measured time share stays critical.
    let ser = found
        .iter()
        .find(|b| b.category == Category::Io && b.subject == "write_json_report")
        .expect("a serialisation finding");
    assert_eq!(ser.basis, Basis::Heuristic);
    assert_eq!(ser.metric, PerformanceMetric::ExecutionTime);
    assert!(ser.severity <= Severity::Medium, "{ser:?}");
    let hot = found
        .iter()
        .find(|b| b.category == Category::Compute && b.subject == "write_json_report")
        .expect("a time finding");
    assert_eq!(
        (hot.basis, hot.severity),
        (Basis::Measured, Severity::Critical)
    );
    let rep = found
        .iter()
        .find(|b| b.subject == "pure_square" && b.title.contains("identical arguments"))
        .expect("a repeat finding");
    assert_eq!(rep.basis, Basis::Heuristic);
    assert!(rep.severity <= Severity::Medium);
    for b in found {
        if b.basis == Basis::Heuristic {
            assert!(b.severity <= Severity::Medium, "{b:?}");
        }
    }
    // The JSON form carries both on every finding; the report groups by metric and shows the
    // basis.
    let json: serde_json::Value =
        serde_json::from_str(&a.to_json().expect("json")).expect("parses");
    let list = json["bottleneck_analysis"]["bottlenecks"]
        .as_array()
        .expect("a list");
    assert!(!list.is_empty());
    for b in list {
        assert!(b["basis"].is_string() && b["metric"].is_string(), "{b}");
    }
    let text = analyzer.generate_optimization_report();
    assert!(text.contains("Execution time\n--------------"), "{text}");
    assert!(
        text.contains("[heuristic]") && text.contains("[measured]"),
        "{text}"
    );
}

/// Allocates many blocks, then frees every other one: holes the allocator keeps.
fn fragment() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = (0..20_000).map(|i| vec![i as u8; 2048]).collect();
    let mut kept = Vec::with_capacity(v.len() / 2);
    for (i, b) in v.drain(..).enumerate() {
        if i % 2 == 0 {
            kept.push(b);
        }
    }
    kept
}

#[test]
fn fragmentation_is_reported_with_the_counting_allocator() {
    let p = PerformanceProfiler::builder()
        .monitor_interval(Duration::from_millis(5))
        .build()
        .expect("valid config");
    let kept = p.in_scope(fragment);
    std::thread::sleep(Duration::from_millis(60));
    let snap = p.snapshot();
    assert!(snap.samples.iter().any(|s| s.heap_live_bytes.is_some()));
    let a = BottleneckAnalyzer::from_profile(&snap).analyze_bottlenecks();
    let f = a
        .bottleneck_analysis
        .memory_analysis
        .fragmentation
        .clone()
        .expect("fragmentation from the live-heap samples");
    assert!(f.samples >= 2, "{f:?}");
    // The 20 MiB kept are live.
    assert!(f.last_live_bytes >= 20_000 / 2 * 2048, "{f:?}");
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        let fp = f.last_footprint_bytes.expect("glibc's footprint");
        assert!(fp >= f.last_live_bytes / 2, "{f:?}");
    }
    assert!(a.to_text().contains("Heap fragmentation"));
    let report = PerformanceReport::from_profile(&snap);
    assert!(report.fragmentation.is_some());
    assert!(report.to_text().contains("Heap: live peak"));
    drop(kept);
}

#[test]
fn background_load_is_sampled_where_proc_stat_is_readable() {
    if profiler_runtime::sys::read_proc_stat().is_none() {
        eprintln!("skipped: /proc/stat is not readable here");
        return;
    }
    let p = PerformanceProfiler::builder()
        .monitor_interval(Duration::from_millis(5))
        .build()
        .expect("valid config");
    std::thread::sleep(Duration::from_millis(60));
    let snap = p.snapshot();
    let a = BottleneckAnalyzer::from_profile(&snap).analyze_bottlenecks();
    let b = a
        .machine
        .background
        .clone()
        .expect("background load sampled");
    assert!(b.samples >= 2);
    assert!(b.mean_other_cpu_percent >= 0.0 && b.mean_steal_percent >= 0.0);
    assert!(a.to_text().contains("Background load over"));
}

#[test]
fn hardware_counters_are_measured_or_unavailable_with_the_reason() {
    let p = common::profiler();
    p.start_profiling("run");
    let s: u64 = (0..200_000u64).map(std::hint::black_box).sum();
    std::hint::black_box(s);
    let r = p.stop_profiling("run").expect("session");
    let counters = r.hardware_counters.expect("the session read its counters");
    match &counters {
        HardwareCounters::Measured(v) => {
            // The available path (a kernel with a PMU that allows it).
            assert!(v.cycles > 0 && v.instructions > 0, "{v:?}");
        }
        HardwareCounters::Unavailable { reason } => {
            eprintln!("hardware counters unavailable here: {reason}");
            assert!(reason.contains("perf_event_open"), "{reason}");
        }
    }
    let snap = p.snapshot();
    assert_eq!(snap.sessions[0].hardware_counters.as_ref(), Some(&counters));
    let text = BottleneckAnalyzer::from_profile(&snap)
        .analyze_bottlenecks()
        .to_text();
    match counters {
        HardwareCounters::Measured(_) => assert!(text.contains("cycles"), "{text}"),
        HardwareCounters::Unavailable { reason } => {
            assert!(text.contains(&format!("unavailable ({reason})")), "{text}")
        }
    }
}

#[test]
fn the_unavailable_path_reports_the_reason_and_no_numbers() {
    let mut p = Profile::empty();
    p.sessions.push(SessionRecord {
        name: "sweep".into(),
        start_ns: 0,
        end_ns: Some(10),
        events_count: Some(0),
        hardware_counters: Some(HardwareCounters::Unavailable {
            reason: "perf_event_open: No such file or directory".into(),
        }),
    });
    let text = BottleneckAnalyzer::from_profile(&p)
        .analyze_bottlenecks()
        .to_text();
    assert!(
        text.contains("session `sweep`: unavailable (perf_event_open: No such file or directory)"),
        "{text}"
    );
    assert!(!text.contains("cycles"), "nothing invented: {text}");
    let report = PerformanceReport::from_profile(&p).to_text();
    assert!(report.contains("unavailable (perf_event_open"), "{report}");
}

#[test]
fn the_counter_reader_reads_a_counter_the_kernel_allows() {
    // The software task clock needs no PMU: where the kernel allows perf events at all, this
    // checks opening, counting and reading on a real counter.
    let c = match Counter::open(CounterEvent::TASK_CLOCK) {
        Ok(c) => c,
        Err(reason) => {
            eprintln!("skipped: the kernel allows no perf events here: {reason}");
            return;
        }
    };
    let s: u64 = (0..2_000_000u64).map(std::hint::black_box).sum();
    std::hint::black_box(s);
    let r = c.read().expect("read");
    assert!(r.value > 0, "{r:?}");
    // The hardware set either opens or says why not.
    let hw = SessionCounters::start();
    if !hw.is_available() {
        assert!(matches!(hw.read(), HardwareCounters::Unavailable { .. }));
    }
}

#[test]
fn cpu_energy_is_modelled_at_the_builders_watts_where_rapl_is_absent() {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .cpu_watts(35.0)
        .build()
        .expect("valid config");
    p.in_scope(|| pure_square(3));
    let snap = p.snapshot();
    assert_eq!(snap.cpu_watts_per_core, Some(35.0));
    let a = BottleneckAnalyzer::from_profile(&snap).analyze_bottlenecks();
    // No monitor samples here, so no RAPL readings: modelled, and saying so.
    assert_eq!(a.energy.cpu.source, EnergySource::Modelled);
    assert!(
        a.energy.cpu.method.contains("35 W per busy core"),
        "{}",
        a.energy.cpu.method
    );
    let overridden = BottleneckAnalyzer::from_profile(&snap)
        .watts_per_core(12.5)
        .analyze_bottlenecks();
    assert!(overridden.energy.cpu.method.contains("12.5 W"));
    let report = PerformanceReport::from_profile_with_cpu_watts(&snap, Some(20.0));
    let c = report.cpu_energy.clone().expect("cpu energy");
    assert!(c.method.contains("20 W") && report.to_text().contains("modelled"));
    assert!(PerformanceProfiler::builder()
        .cpu_watts(-1.0)
        .build()
        .is_err());
    assert!(PerformanceProfiler::builder()
        .cpu_watts(f64::NAN)
        .build()
        .is_err());
}
