//! The subcommands that work on saved profiles.

use std::io::Write;
use std::path::Path;

use rram_profiler::profiler_runtime::output::plot::PlotType;
use rram_profiler::profiler_runtime::report::diff::ProfileDiff;
use rram_profiler::profiler_runtime::{BottleneckAnalyzer, PerformanceReport, Profile};

use crate::cli::{AnalyzeFormat, ExportFormat};
use crate::error::CliError;
use crate::folder::write_with;

/// What a command asks the process to exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Success.
    Ok,
    /// `diff` found a regression past the threshold.
    Regression,
}

fn stdout_text(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`rram-prof report f | head`) is not an error worth reporting.
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::io(Path::new("<stdout>"), e))
        }
        _ => Ok(()),
    }
}

/// `rram-prof report FILE [--cpu-watts W]`.
pub fn report(file: &Path, markdown: bool, cpu_watts: Option<f64>) -> Result<Outcome, CliError> {
    let profile = Profile::load(file)?;
    let report = PerformanceReport::from_profile_with_cpu_watts(&profile, cpu_watts);
    stdout_text(&if markdown {
        report.to_markdown()
    } else {
        report.to_text()
    })?;
    Ok(Outcome::Ok)
}

/// `rram-prof analyze FILE [--cpu-watts W]`.
pub fn analyze(
    file: &Path,
    format: AnalyzeFormat,
    cpu_watts: Option<f64>,
) -> Result<Outcome, CliError> {
    let profile = Profile::load(file)?;
    let mut analyzer = BottleneckAnalyzer::from_profile(&profile);
    if let Some(w) = cpu_watts {
        analyzer = analyzer.watts_per_core(w);
    }
    let analysis = analyzer.analyze_bottlenecks();
    let text = match format {
        AnalyzeFormat::Text => analysis.to_text(),
        AnalyzeFormat::Markdown => analysis.to_markdown(),
        AnalyzeFormat::Json => analysis.to_json()? + "\n",
    };
    stdout_text(&text)?;
    Ok(Outcome::Ok)
}

/// `rram-prof plot FILE --type T -o OUT`.
pub fn plot(file: &Path, plot_type: &str, output: &Path) -> Result<Outcome, CliError> {
    // Check the cheap things before loading a large file.
    let plot: PlotType = plot_type.parse()?;
    rram_profiler::profiler_runtime::output::plot::ImageFormat::of(output)?;
    let profile = Profile::load(file)?;
    profile.plot(plot, output)?;
    eprintln!("wrote {}", output.display());
    Ok(Outcome::Ok)
}

/// `rram-prof export FILE --format F -o OUT`.
pub fn export(file: &Path, format: ExportFormat, output: &Path) -> Result<Outcome, CliError> {
    let profile = Profile::load(file)?;
    match format {
        ExportFormat::Chrome => write_with(output, |w| {
            profile
                .to_chrome_trace(w)
                .map_err(|e| CliError::io(output, e))
        })?,
        ExportFormat::Folded => write_with(output, |w| {
            profile
                .to_folded_stacks(w)
                .map_err(|e| CliError::io(output, e))
        })?,
        ExportFormat::Flamegraph => write_with(output, |w| {
            profile.to_flamegraph_svg(w).map_err(CliError::from)
        })?,
    }
    eprintln!("wrote {}", output.display());
    Ok(Outcome::Ok)
}

/// `rram-prof diff OLD NEW --threshold P`.
pub fn diff(old: &Path, new: &Path, threshold_pct: f64) -> Result<Outcome, CliError> {
    let a = Profile::load(old)?;
    let b = Profile::load(new)?;
    let d = ProfileDiff::compare(&a, &b, threshold_pct)?;
    stdout_text(&d.to_string())?;
    let regressions = d.regressions().count();
    if regressions > 0 {
        eprintln!("{regressions} operation(s) regressed by more than {threshold_pct}%");
        Ok(Outcome::Regression)
    } else {
        Ok(Outcome::Ok)
    }
}
