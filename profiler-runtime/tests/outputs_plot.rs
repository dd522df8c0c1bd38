//! Charts: every `PlotType` drawn to PNG and SVG, for a full, a one-event and an empty profile;
//! the files must be real images of the chart's size with text in them, and never a panic.
//!
//! Set `RRAM_PLOT_DIR=/some/dir` to keep the images for a look.

mod outputs_fixture;

use std::path::{Path, PathBuf};

use profiler_runtime::output::plot::{render, PlotType};
use profiler_runtime::{EventKind, PerformanceProfiler, Profile, ProfileError};

/// The width and height in a PNG's IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 24, "PNG too short: {} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// Where to draw: a kept directory when `RRAM_PLOT_DIR` is set, else a temporary one.
fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("RRAM_PLOT_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            std::fs::create_dir_all(&d).unwrap();
            (None, d)
        }
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_owned();
            (Some(t), p)
        }
    }
}

/// Draws every chart of `p` to `dir/<tag>_<chart>.{png,svg}` and checks the files; returns the
/// SVG texts by chart.
fn draw_all(p: &Profile, dir: &Path, tag: &str) -> Vec<(PlotType, String)> {
    let mut svgs = Vec::new();
    for plot in PlotType::ALL {
        let png = dir.join(format!("{tag}_{plot}.png"));
        render(p, plot, &png).unwrap_or_else(|e| panic!("{tag} {plot} png: {e}"));
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(png_size(&bytes), (1280, 800), "{tag} {plot}");
        // A blank white 1280x800 PNG compresses to a few KiB; a chart with text is much larger.
        assert!(
            bytes.len() > 12_000,
            "{tag} {plot}: PNG only {} bytes",
            bytes.len()
        );

        let svg = dir.join(format!("{tag}_{plot}.svg"));
        p.plot(plot, &svg)
            .unwrap_or_else(|e| panic!("{tag} {plot} svg: {e}"));
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            text.contains("<svg")
                && text.contains("width=\"1280\"")
                && text.contains("height=\"800\"")
        );
        assert!(
            text.matches("<text").count() >= 3,
            "{tag} {plot}: too little text"
        );
        // A "no data" panel is a frame and three lines of text; a chart is much more.
        let min = if text.contains("no data") { 600 } else { 4_000 };
        assert!(
            text.len() > min,
            "{tag} {plot}: SVG only {} bytes",
            text.len()
        );
        svgs.push((plot, text));
    }
    svgs
}

#[test]
fn every_chart_of_the_fixture_renders_with_titles_and_units() {
    let (_keep, dir) = out_dir();
    let svgs = draw_all(&outputs_fixture::profile(), &dir, "fixture");
    for (plot, svg) in &svgs {
        assert!(
            !svg.contains("no data"),
            "{plot}: the fixture has data for every chart"
        );
        // Every chart names its units on an axis.
        let units = match plot {
            PlotType::ExecutionTime => vec!["total time over all calls (ms)", "self"],
            PlotType::MemoryUsage => vec!["RSS (MiB)", "time since profiler start (ms)", "(MiB)"],
            PlotType::EventCounts => vec!["events"],
            PlotType::EnergyBreakdown => vec!["energy (nJ)", "adc", "crossbar.mvm"],
            PlotType::Scaling => vec!["(ns)", "problem size n"],
            PlotType::Convergence => vec!["residual", "iteration"],
        };
        for u in units {
            assert!(svg.contains(u), "{plot}: no `{u}` in the SVG");
        }
    }
    let conv = &svgs
        .iter()
        .find(|(p, _)| *p == PlotType::Convergence)
        .unwrap()
        .1;
    assert!(
        conv.contains("hp_inv"),
        "the convergence chart names the run"
    );
    let scaling = &svgs
        .iter()
        .find(|(p, _)| *p == PlotType::Scaling)
        .unwrap()
        .1;
    assert!(
        scaling.contains("matmul") && scaling.contains("n^"),
        "the scaling chart shows the fit"
    );
}

#[test]
fn empty_and_one_event_profiles_draw_charts_that_say_so() {
    let (_keep, dir) = out_dir();
    for (plot, svg) in draw_all(&Profile::empty(), &dir, "empty") {
        assert!(
            svg.contains("no data"),
            "{plot}: an empty profile must say `no data`"
        );
    }
    // One event: counts and time have something to show; the rest must say what is missing.
    for (plot, svg) in draw_all(&outputs_fixture::one_event(), &dir, "one") {
        if matches!(
            plot,
            PlotType::Scaling | PlotType::Convergence | PlotType::MemoryUsage
        ) {
            assert!(
                svg.contains("no data"),
                "{plot}: one event has no data for it"
            );
        }
    }
}

#[test]
fn live_profiler_visualizes_its_report() {
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    for i in 0..5 {
        profiler.record_event(
            "program_tile",
            EventKind::HardwareAccess,
            [("energy_pj", 12.5 + f64::from(i))],
        );
    }
    let report = profiler.get_performance_report();
    let dir = tempfile::tempdir().unwrap();
    for plot in PlotType::ALL {
        let path = dir.path().join(format!("{plot}.png"));
        profiler.visualize_profile(&report, plot, &path).unwrap();
        assert_eq!(png_size(&std::fs::read(&path).unwrap()), (1280, 800));
    }
    let err = profiler
        .visualize_profile(
            &report,
            PlotType::EventCounts,
            dir.path().join("chart.jpeg"),
        )
        .unwrap_err();
    assert!(
        matches!(err, ProfileError::InvalidInput(_)) && err.to_string().contains("jpeg"),
        "{err}"
    );
    let err = render(
        &Profile::empty(),
        PlotType::Scaling,
        dir.path().join("no/such/dir/s.png"),
    )
    .unwrap_err();
    assert!(
        matches!(err, ProfileError::Render { .. } | ProfileError::Io { .. }),
        "{err:?}"
    );
}

#[test]
fn odd_values_do_not_panic() {
    let mut p = outputs_fixture::profile();
    // Non-finite and huge metrics, zero-length spans, an end before its start.
    p.events[0]
        .metrics
        .insert("energy_pj".into(), f64::INFINITY);
    p.events[1].metrics.insert("residual".into(), f64::NAN);
    p.events[2].metrics.insert("energy.adc_pj".into(), -5.0);
    p.events[3].end_ns = p.events[3].start_ns;
    p.events[4].end_ns = p.events[4].start_ns.saturating_sub(1);
    p.events[5].metrics.insert("n".into(), 0.0);
    p.events[6].metrics.insert("energy_pj".into(), 1e300);
    let (_keep, dir) = out_dir();
    // SVG only: both backends run the same drawing code, and PNG encoding is slow in debug.
    for plot in PlotType::ALL {
        let r = render(&p, plot, dir.join(format!("odd_{plot}.svg")));
        assert!(
            r.is_ok() || matches!(r, Err(ProfileError::Render { .. })),
            "{plot}: {r:?}"
        );
    }
}
