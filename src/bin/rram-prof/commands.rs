//! The subcommands that work on saved profiles (and journals).

use std::io::Write;
use std::path::Path;

use rram_profiler::profiler_runtime::output::journal::recover as recover_journal;
use rram_profiler::profiler_runtime::output::otlp::{Endpoint, OtlpOptions};
use rram_profiler::profiler_runtime::output::persist::{Input, LoadOptions, Loaded};
use rram_profiler::profiler_runtime::output::plot::{render_to, ImageFormat, PlotType};
use rram_profiler::profiler_runtime::output::write::SafeWriter;
use rram_profiler::profiler_runtime::report::diff::ProfileDiff;
use rram_profiler::profiler_runtime::{BottleneckAnalyzer, PerformanceReport};

use crate::cli::{AnalyzeFormat, ExportFormat, ReadArgs};
use crate::error::CliError;

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

/// Reads the profile `file` names (`-`: standard input), keeping its events or not, and says
/// on stderr what a lenient read repaired.
pub(crate) fn read(file: &Path, args: ReadArgs, events: bool) -> Result<Loaded, CliError> {
    let input = Input::from_arg(file);
    let loaded = LoadOptions::new()
        .lenient(args.lenient)
        .events(events)
        .read(&input)?;
    if loaded.repairs.total() > 0 {
        eprintln!("rram-prof: {}: {}", input.label().display(), loaded.repairs);
    }
    Ok(loaded)
}

/// A writer of `output` that refuses to write over `input`; checked now, before the input is
/// read (a large file is not read for nothing).
fn writer_for(output: &Path, input: &Path) -> Result<SafeWriter, CliError> {
    let input = Input::from_arg(input);
    let mut w = SafeWriter::new(output);
    if let Some(id) = input.file_id() {
        w = w.input(id, input.label());
    }
    w.check()?;
    Ok(w)
}

/// `rram-prof report FILE [--cpu-watts W]`: reads the aggregates and counts the events without keeping them.
pub fn report(
    file: &Path,
    markdown: bool,
    args: ReadArgs,
    cpu_watts: Option<f64>,
) -> Result<Outcome, CliError> {
    let loaded = read(file, args, false)?;
    let mut report = PerformanceReport::from_profile_with_cpu_watts(&loaded.profile, cpu_watts);
    // The events were counted, not kept.
    let kept = usize::try_from(loaded.events_in_file).unwrap_or(usize::MAX);
    report.kept_events = kept;
    if report.total_events > 0 {
        report.derived_metrics.insert(
            "kept_event_fraction".to_owned(),
            kept as f64 / report.total_events as f64,
        );
    }
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
    args: ReadArgs,
    cpu_watts: Option<f64>,
) -> Result<Outcome, CliError> {
    let profile = read(file, args, true)?.profile;
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
pub fn plot(
    file: &Path,
    plot_type: &str,
    output: &Path,
    args: ReadArgs,
) -> Result<Outcome, CliError> {
    // Check the cheap things before loading a large file.
    let plot: PlotType = plot_type.parse()?;
    ImageFormat::of(output)?;
    let w = writer_for(output, file)?;
    let profile = read(file, args, true)?.profile;
    let report = PerformanceReport::from_profile(&profile);
    render_to(&report, &profile, plot, &w)?;
    eprintln!("wrote {}", output.display());
    Ok(Outcome::Ok)
}

/// `rram-prof export FILE --format F -o OUT`, or `--format otlp --endpoint URL`.
pub fn export(
    file: &Path,
    format: ExportFormat,
    output: Option<&Path>,
    endpoint: Option<&str>,
    args: ReadArgs,
) -> Result<Outcome, CliError> {
    let output = match (format, output, endpoint) {
        (ExportFormat::Otlp, None, Some(url)) => return export_otlp(file, url, args),
        (ExportFormat::Otlp, _, None) => {
            return Err(CliError::Invalid(
                "export --format otlp sends to a collector: give --endpoint URL (e.g. http://127.0.0.1:4318), not -o".into(),
            ))
        }
        (_, Some(out), None) => out,
        _ => {
            return Err(CliError::Invalid(
                "--endpoint is for --format otlp; the other formats write a file (-o OUT)".into(),
            ))
        }
    };
    let w = writer_for(output, file)?;
    let profile = read(file, args, true)?.profile;
    match format {
        ExportFormat::Chrome => w.write(|s| Ok(profile.to_chrome_trace(s)?))?,
        ExportFormat::Folded => w.write(|s| Ok(profile.to_folded_stacks(s)?))?,
        ExportFormat::Flamegraph => w.write(|s| profile.to_flamegraph_svg(s))?,
        ExportFormat::Otlp => {
            return Err(CliError::Invalid(
                "export --format otlp needs --endpoint URL".into(),
            ))
        }
    }
    eprintln!("wrote {}", output.display());
    Ok(Outcome::Ok)
}

/// `rram-prof export FILE --format otlp --endpoint URL`: every kept event as a span and the
/// aggregates as metrics, over OTLP/HTTP (protobuf).
fn export_otlp(file: &Path, endpoint: &str, args: ReadArgs) -> Result<Outcome, CliError> {
    // A bad URL is refused before a large file is read.
    Endpoint::parse(endpoint)?;
    let profile = read(file, args, true)?.profile;
    let sent = profile.export_otlp(endpoint, &OtlpOptions::default())?;
    eprintln!("sent {sent} to {endpoint}");
    Ok(Outcome::Ok)
}

/// `rram-prof diff OLD NEW --threshold P`: reads only the aggregates of both.
pub fn diff(
    old: &Path,
    new: &Path,
    threshold_pct: f64,
    args: ReadArgs,
) -> Result<Outcome, CliError> {
    if old.as_os_str() == "-" && new.as_os_str() == "-" {
        return Err(CliError::Invalid(
            "diff: OLD and NEW are both `-`; standard input can be only one of them".into(),
        ));
    }
    let a = read(old, args, false)?.profile;
    let b = read(new, args, false)?.profile;
    let d = ProfileDiff::compare(&a, &b, threshold_pct)?;
    stdout_text(&d.to_string())?;
    let regressions = d.regressions().count();
    if regressions > 0 {
        eprintln!(
            "{regressions} operation(s) regressed by more than {threshold_pct}% or gained a new cost"
        );
        Ok(Outcome::Regression)
    } else {
        Ok(Outcome::Ok)
    }
}

/// `rram-prof recover JOURNAL -o OUT`.
pub fn recover(journal: &Path, output: &Path) -> Result<Outcome, CliError> {
    let w = writer_for(output, journal)?;
    let r = recover_journal(journal)?;
    w.write(|s| r.profile.write_json(s, output))?;
    eprintln!("recovered {}: {}", journal.display(), r.summary());
    eprintln!("wrote {}", output.display());
    Ok(Outcome::Ok)
}
