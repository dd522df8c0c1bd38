//! Visualisation: draw every chart of a profile to SVG files, and one as a PNG.
//!
//! `PerformanceProfiler::visualize_profile(&report, PlotType, path)` draws from a report plus a
//! fresh snapshot; `Profile::plot(PlotType, path)` draws a snapshot (or a loaded file). The
//! format follows the extension: `.png` or `.svg`.
//!
//! The workload solves `G x = b` with HP-INV at three sizes, so the scaling chart has a line to
//! fit and the convergence chart has residual curves.
//!
//! Run it with (the directory is optional; the default is under the system temp dir):
//!
//! ```text
//! cargo run --example visualization -- /tmp/charts
//! ```

use std::path::PathBuf;

use rram_profiler::profiler_runtime::PlotType;
use rram_profiler::rram_sim::{hp_inv, HpInvConfig};
use rram_profiler::PerformanceProfiler;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rram-profiler-visualization"));
    std::fs::create_dir_all(&out_dir)?;

    let profiler = PerformanceProfiler::new();
    profiler.in_scope(|| -> Result<(), Box<dyn std::error::Error>> {
        for n in [8, 16, 32] {
            let g = rram_sim::systems::diagonally_dominant(n);
            let b = rram_sim::systems::smooth_rhs(n);
            let out = hp_inv(&g, &b, &HpInvConfig::default())?;
            println!("n = {n:>2}: {} iterations", out.iterations);
        }
        Ok(())
    })?;

    // Every chart as SVG, from a snapshot (also works on a profile loaded from a file).
    let profile = profiler.snapshot();
    let mut written = Vec::new();
    for plot in PlotType::ALL {
        let path = out_dir.join(format!("{plot}.svg"));
        profile.plot(plot, &path)?;
        written.push(path);
    }

    // A PNG through the profiler, from a report the caller holds. (Bitmaps take about a
    // second each in a debug build; pass `--release` to draw many.)
    let report = profiler.get_performance_report();
    let path = out_dir.join("event_counts.png");
    profiler.visualize_profile(&report, PlotType::EventCounts, &path)?;
    written.push(path);

    for path in &written {
        let bytes = std::fs::metadata(path)?.len();
        println!("wrote {} ({bytes} bytes)", path.display());
    }

    // An unsupported extension is an error value, not a panic.
    let err = profile
        .plot(PlotType::EventCounts, out_dir.join("chart.jpg"))
        .expect_err("only .png and .svg are supported");
    println!("as expected, {err}");
    println!("{} charts in {}", written.len(), out_dir.display());
    Ok(())
}
