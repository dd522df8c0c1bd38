//! The report folder the demo writes: the profile, reports, charts and exports.

use std::path::{Path, PathBuf};

use rram_profiler::profiler_runtime::output::plot::{render_with_report, PlotType};
use rram_profiler::profiler_runtime::output::write::SafeWriter;
use rram_profiler::profiler_runtime::{BottleneckAnalyzer, PerformanceReport, Profile};

use crate::error::CliError;

/// The files written, and what failed without stopping the rest.
#[derive(Debug, Default)]
pub struct WrittenFiles {
    /// Each file with a short description.
    pub files: Vec<(PathBuf, &'static str)>,
    /// Outputs that could not be written: the path and the reason.
    pub failures: Vec<(PathBuf, String)>,
}

impl WrittenFiles {
    fn record(&mut self, path: PathBuf, what: &'static str, r: Result<(), CliError>) {
        match r {
            Ok(()) => self.files.push((path, what)),
            Err(e) => self.failures.push((path, e.to_string())),
        }
    }

    /// Fails, naming every output that was not written, if any was not.
    pub fn check(&self) -> Result<(), CliError> {
        if self.failures.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = self
            .failures
            .iter()
            .map(|(p, _)| {
                p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )
            })
            .collect();
        Err(CliError::NotWritten(format!(
            "{} of {} outputs were not written ({}); the reasons are listed above",
            self.failures.len(),
            self.failures.len() + self.files.len(),
            names.join(", ")
        )))
    }
}

/// Writes `text` to `path` through the safe writer.
pub fn write_text(path: &Path, text: &str) -> Result<(), CliError> {
    Ok(SafeWriter::new(path).write_bytes(text.as_bytes())?)
}

/// Writes `profile.json`, `report.txt`, `report.md`, `analysis.json`, one PNG per chart,
/// `trace.json` (Perfetto), `folded.txt` and `flamegraph.svg` into `dir`.
///
/// The profile is written first and must succeed; every other output is attempted even if an
/// earlier one failed, and failures are listed in the result.
pub fn write_folder(profile: &Profile, dir: &Path) -> Result<WrittenFiles, CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir, e))?;
    let mut out = WrittenFiles::default();
    let json = dir.join("profile.json");
    profile.save(&json)?;
    out.files.push((
        json,
        "the profile (rram-prof report/analyze/plot/export/diff read it)",
    ));

    let report = PerformanceReport::from_profile(profile);
    let analysis = BottleneckAnalyzer::from_profile(profile).analyze_bottlenecks();
    let txt = dir.join("report.txt");
    let text = format!("{}\n{}", report.to_text(), analysis.to_text());
    out.record(
        txt.clone(),
        "performance report and bottleneck analysis (text)",
        write_text(&txt, &text),
    );
    let md = dir.join("report.md");
    let markdown = format!("{}\n{}", report.to_markdown(), analysis.to_markdown());
    out.record(
        md.clone(),
        "the same as Markdown",
        write_text(&md, &markdown),
    );
    let aj = dir.join("analysis.json");
    let r = analysis
        .to_json()
        .map_err(CliError::from)
        .and_then(|j| write_text(&aj, &j));
    out.record(aj, "the analysis as JSON", r);

    for plot in PlotType::ALL {
        let png = dir.join(format!("{}.png", plot.as_str()));
        let r = render_with_report(&report, profile, plot, &png).map_err(CliError::from);
        out.record(png, chart_description(plot), r);
    }

    let trace = dir.join("trace.json");
    let r = SafeWriter::new(&trace)
        .write(|w| Ok(profile.to_chrome_trace(w)?))
        .map_err(CliError::from);
    out.record(
        trace.clone(),
        "Chrome/Perfetto trace: open at https://ui.perfetto.dev",
        r,
    );
    let folded = dir.join("folded.txt");
    let r = SafeWriter::new(&folded)
        .write(|w| Ok(profile.to_folded_stacks(w)?))
        .map_err(CliError::from);
    out.record(
        folded.clone(),
        "folded stacks (self ns), for flame-graph tools",
        r,
    );
    let svg = dir.join("flamegraph.svg");
    let r = SafeWriter::new(&svg)
        .write(|w| profile.to_flamegraph_svg(w))
        .map_err(CliError::from);
    out.record(svg, "flame graph of self time (open in a browser)", r);
    Ok(out)
}

fn chart_description(plot: PlotType) -> &'static str {
    match plot {
        PlotType::ExecutionTime => "chart: top operations, self against inclusive time",
        PlotType::MemoryUsage => "chart: RSS over time and allocation per operation",
        PlotType::EventCounts => "chart: events by kind",
        PlotType::EnergyBreakdown => "chart: energy by circuit component and by operation",
        PlotType::Scaling => "chart: time against n, log-log, with fitted exponents",
        PlotType::Convergence => "chart: residual per iteration",
    }
}
