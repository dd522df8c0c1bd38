//! `rram-prof`: profiles the RRAM simulator's solvers (`demo`, the default) and works on saved
//! profiles (`report`, `analyze`, `plot`, `export`, `diff`). See `rram-prof --help`.

mod cli;
mod commands;
mod demo;
mod error;
mod folder;
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
    let profiler = PerformanceProfiler::new();
    profiler.install()?;
    demo::run(args, &profiler)?;
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
            cpu_watts,
        } => commands::report(&file, markdown, cpu_watts),
        Command::Analyze {
            file,
            format,
            cpu_watts,
        } => commands::analyze(&file, format, cpu_watts),
        Command::Plot {
            file,
            plot_type,
            output,
        } => commands::plot(&file, &plot_type, &output),
        Command::Export {
            file,
            format,
            output,
        } => commands::export(&file, format, &output),
        Command::Diff {
            old,
            new,
            threshold,
        } => commands::diff(&old, &new, threshold),
    }
}

/// `--help` and `--version` print as clap prints them; a bad option is one line.
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
    let rendered = e.render().to_string();
    let line = rendered
        .lines()
        .next()
        .unwrap_or("bad command line")
        .trim_start_matches("error: ");
    eprintln!("rram-prof: error: {line} (see `rram-prof --help`)");
    ExitCode::from(EXIT_ERROR)
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
