//! `rram-prof`: profiles the RRAM simulator's solvers (`demo`, the default) and works on saved
//! profiles (`report`, `analyze`, `plot`, `export`, `diff`, `merge`, `recover`). See `rram-prof --help`.

mod cli;
mod commands;
mod demo;
mod error;
mod folder;
mod merge;
mod summary;

use std::process::ExitCode;

use clap::Parser;
use rram_profiler::profiler_runtime::{CountingAllocator, PerformanceProfiler};

use crate::cli::{Cli, Command, DemoArgs};
use crate::commands::Outcome;
use crate::error::CliError;

/// Counts heap traffic per span, so the demo's profile has memory figures.
#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

/// Exit status for a regression found by `diff`.
const EXIT_REGRESSION: u8 = 1;
/// Exit status for an error (a missing or bad file, a bad option).
const EXIT_ERROR: u8 = 2;

fn demo(args: DemoArgs) -> Result<Outcome, CliError> {
    let journal = demo::prepare(&args)?;
    // The run is journaled while it runs, so a crash or a kill loses at most a second of it.
    let profiler = PerformanceProfiler::builder().journal(&journal).build()?;
    profiler.install()?;
    // Served while the sweep runs and `--linger` seconds after; dropping it stops it.
    let server = match &args.serve {
        Some(addr) => {
            let server = profiler.serve_metrics(addr.as_str())?;
            eprintln!("serving metrics at {}", server.url());
            Some(server)
        }
        None => None,
    };
    let linger = std::time::Duration::from_secs(args.linger);
    demo::run(args, &profiler)?;
    if let Some(server) = server {
        if !linger.is_zero() {
            eprintln!(
                "serving metrics at {} for {} s more",
                server.url(),
                linger.as_secs()
            );
            std::thread::sleep(linger);
        }
    }
    Ok(Outcome::Ok)
}

fn run(cli: Cli) -> Result<Outcome, CliError> {
    match cli
        .command
        .unwrap_or_else(|| Command::Demo(DemoArgs::default()))
    {
        Command::Demo(args) => demo(args),
        Command::Report {
            file,
            markdown,
            read,
            cpu_watts,
        } => commands::report(&file, markdown, read, cpu_watts),
        Command::Analyze {
            file,
            format,
            read,
            cpu_watts,
        } => commands::analyze(&file, format, read, cpu_watts),
        Command::Plot {
            file,
            plot_type,
            output,
            read,
        } => commands::plot(&file, &plot_type, &output, read),
        Command::Export {
            file,
            format,
            output,
            endpoint,
            read,
        } => commands::export(&file, format, output.as_deref(), endpoint.as_deref(), read),
        Command::Merge {
            files,
            output,
            read,
        } => merge::merge(&files, &output, read),
        Command::Diff {
            old,
            new,
            threshold,
            read,
        } => commands::diff(&old, &new, threshold, read),
        Command::Recover { journal, output } => commands::recover(&journal, &output),
    }
}

/// `--help` and `--version` print as clap prints them; a bad command line is one line: clap's
/// own message (which names the argument and what it expected) up to its usage block, joined.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    eprintln!(
        "rram-prof: error: {} (see `rram-prof --help`)",
        one_line(&e.render().to_string())
    );
    ExitCode::from(EXIT_ERROR)
}

/// Clap's rendered error as one line: the message and its indented details, without the
/// usage and "for more information" lines.
fn one_line(rendered: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for line in rendered.lines() {
        let t = line.trim();
        if t.starts_with("Usage:") || t.starts_with("For more information") {
            break;
        }
        if !t.is_empty() {
            parts.push(t.trim_start_matches("error: "));
        }
    }
    if parts.is_empty() {
        "bad command line".to_owned()
    } else {
        parts.join(" ")
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Regression) => ExitCode::from(EXIT_REGRESSION),
        Err(e) => {
            eprintln!("rram-prof: error: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
