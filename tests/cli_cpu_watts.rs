//! `rram-prof report` and `analyze` take `--cpu-watts W` for the modelled CPU energy, and say
//! it is modelled.

use std::process::Command;

use rram_profiler::profiler_runtime::EventKind;
use rram_profiler::PerformanceProfiler;

fn saved_profile(dir: &std::path::Path) -> std::path::PathBuf {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .expect("valid config");
    for i in 0..10 {
        p.record_event(
            "tile_read",
            EventKind::HardwareAccess,
            [("energy_pj", f64::from(i))],
        );
    }
    let path = dir.join("p.json");
    p.save_profile_data(&path).expect("saved");
    path
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rram-prof"))
        .args(args)
        .output()
        .expect("rram-prof runs")
}

#[test]
fn report_and_analyze_model_cpu_energy_at_the_given_watts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = saved_profile(dir.path());
    let file = path.to_str().expect("utf-8 path");
    for cmd in ["report", "analyze"] {
        let o = run(&[cmd, file, "--cpu-watts", "35"]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.contains("35 W per busy core"), "{cmd}:\n{out}");
        assert!(out.contains("modelled"), "{cmd}:\n{out}");
        // Without the flag, the default.
        let o = run(&[cmd, file]);
        assert!(String::from_utf8_lossy(&o.stdout).contains("10 W per busy core"));
    }
    for bad in ["0", "-3", "nan", "5000", "lots"] {
        let o = run(&["report", file, "--cpu-watts", bad]);
        assert!(!o.status.success(), "--cpu-watts {bad} must be refused");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--cpu-watts"), "{bad}: {err}");
    }
}
