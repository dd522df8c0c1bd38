//! Command-line definitions (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Profile RRAM analogue solvers, and read, plot, export and compare saved profiles.
///
/// With no subcommand, runs `demo`: it profiles HP-INV and BlockAMC on a simulated TaOx crossbar
/// and writes a report folder (`profile-out/`).
#[derive(Debug, Parser)]
#[command(name = "rram-prof", version, about, long_about = None)]
pub struct Cli {
    /// What to do (default: `demo`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Profile the simulator's solvers over a sweep of sizes and write a report folder.
    Demo(DemoArgs),
    /// Print the performance report of a saved profile.
    Report {
        /// A profile saved by `demo` or `Profile::save` (JSON), or `-` for standard input.
        file: PathBuf,
        /// Print Markdown instead of text.
        #[arg(long)]
        markdown: bool,
        /// Watts per busy core for the modelled CPU energy (where the profile has no RAPL
        /// readings); default: the profile's own setting, else 10 W.
        #[arg(long, value_name = "W", value_parser = parse_watts, allow_negative_numbers = true)]
        cpu_watts: Option<f64>,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Print the bottleneck analysis of a saved profile (ranked findings with advice).
    Analyze {
        /// A saved profile, or `-` for standard input.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = AnalyzeFormat::Text)]
        format: AnalyzeFormat,
        /// Watts per busy core for the modelled CPU energy (where the profile has no RAPL
        /// readings); default: the profile's own setting, else 10 W.
        #[arg(long, value_name = "W", value_parser = parse_watts, allow_negative_numbers = true)]
        cpu_watts: Option<f64>,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Draw a chart of a saved profile (PNG or SVG by the output's extension).
    Plot {
        /// A saved profile, or `-` for standard input.
        file: PathBuf,
        /// Chart: execution_time, memory_usage, event_counts, energy_breakdown, scaling,
        /// convergence.
        #[arg(long = "type", short = 't', value_name = "T")]
        plot_type: String,
        /// Output image (`.png` or `.svg`).
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Export a saved profile for other tools, or send it to an OpenTelemetry collector.
    Export {
        /// A saved profile, or `-` for standard input.
        file: PathBuf,
        /// `chrome` (Chrome/Perfetto trace JSON), `folded` (folded stacks), `flamegraph` (SVG),
        /// `otlp` (spans and metrics sent over OTLP/HTTP to `--endpoint`).
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output file (every format but `otlp`).
        #[arg(short, long, value_name = "OUT", required_unless_present = "endpoint")]
        output: Option<PathBuf>,
        /// The collector's OTLP/HTTP base URL (`--format otlp`), e.g. `http://127.0.0.1:4318`:
        /// spans go to `/v1/traces`, metrics to `/v1/metrics`.
        #[arg(long, value_name = "URL", conflicts_with = "output")]
        endpoint: Option<String>,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Merge the saved profiles of several processes (or machines) into one: exact aggregates
    /// summed, events kept per process, times aligned on the wall clock.
    Merge {
        /// The saved profiles (at least two; `-` for standard input, once).
        #[arg(required = true, num_args = 2..)]
        files: Vec<PathBuf>,
        /// Where to save the merged profile (JSON); never one of the inputs.
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Compare two saved profiles per operation; exits with status 1 when a regression passes
    /// the threshold (for CI).
    Diff {
        /// The baseline profile (`-` for standard input).
        old: PathBuf,
        /// The profile to check (`-` for standard input).
        new: PathBuf,
        /// Regression threshold in percent of time, memory or energy per call (`10` or `10%`).
        /// A cost that appears (from 0 to above a floor: 1 us median, 1 KiB or 1 pJ per call)
        /// is a regression whatever the threshold.
        #[arg(
            long,
            default_value = "10%",
            value_parser = parse_percent,
            allow_negative_numbers = true
        )]
        threshold: f64,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Rebuild a profile from the journal of a run that crashed (or was killed), and save it.
    Recover {
        /// The journal (`ProfilerBuilder::journal`; the demo's is `profile-out/profile.journal`).
        journal: PathBuf,
        /// Where to save the recovered profile (JSON).
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
    },
}

/// Options of every command that reads a profile.
#[derive(Debug, Clone, Copy, Args)]
pub struct ReadArgs {
    /// Repair inconsistent events (end before start, self time above busy time, duplicate
    /// ids, parents that point nowhere or form cycles) instead of refusing the file, and say
    /// how many were repaired.
    #[arg(long)]
    pub lenient: bool,
}

/// How `analyze` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    /// Plain text for a terminal.
    Text,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// The analysis as JSON.
    Json,
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Chrome Trace Event JSON for Perfetto or chrome://tracing.
    Chrome,
    /// Folded stacks (`a;b;c <self ns>`), the input of flame-graph tools.
    Folded,
    /// A flame-graph SVG.
    Flamegraph,
    /// OTLP/HTTP (protobuf) to an OpenTelemetry collector at `--endpoint`.
    Otlp,
}

/// A device preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// 3-bit TaOx cells after Zuo et al. 2025 (programming error, noise, drift).
    Taox3bit,
    /// An ideal device: no programming error, noise or drift.
    Ideal,
    /// The Zuo et al. 2025 chip as far as sources allow (rram_sim's `DeviceParams::zuo2025`
    /// and `PeripheryParams::zuo2025`: 40-nm 1T1R, 3-bit, INV and MVM latencies of the chip).
    Zuo2025,
}

/// Options of `demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Problem sizes of the HP-INV sweep (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [16usize, 32, 64, 128, 256, 512, 1024])]
    pub sizes: Vec<usize>,
    /// Problem sizes of the BlockAMC sweep (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [64usize, 128, 256, 512, 1024])]
    pub block_sizes: Vec<usize>,
    /// Tile (array) sizes for BlockAMC (comma-separated); each runs where it is smaller than n.
    #[arg(long, value_delimiter = ',', default_values_t = [32usize, 64, 256])]
    pub tiles: Vec<usize>,
    /// Seed of every random draw (matrices and devices): same seed, same profile.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Output folder.
    #[arg(long, short, default_value = "profile-out")]
    pub out: PathBuf,
    /// Device preset.
    #[arg(long, value_enum, default_value_t = Preset::Taox3bit)]
    pub preset: Preset,
    /// Array temperature, K.
    #[arg(long, default_value_t = 300.0, allow_negative_numbers = true)]
    pub temperature: f64,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Serve live Prometheus metrics at `http://ADDR/metrics` while the sweep runs (e.g.
    /// `127.0.0.1:9184`; port 0 picks a free port, printed on stderr).
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<String>,
    /// With `--serve`: keep serving for SECS seconds after the sweep (so a scraper sees the
    /// final figures).
    #[arg(long, value_name = "SECS", requires = "serve", default_value_t = 0)]
    pub linger: u64,
}

impl Default for DemoArgs {
    fn default() -> Self {
        // The same defaults as the command line, for `rram-prof` with no subcommand.
        let cli = Cli::parse_from(["rram-prof", "demo"]);
        match cli.command {
            Some(Command::Demo(args)) => args,
            _ => unreachable!("`demo` parses to Command::Demo"),
        }
    }
}

/// Parses `10`, `10%` or `12.5 %` as a percentage.
fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%').trim();
    let v: f64 = t
        .parse()
        .map_err(|_| "expected a percentage such as `10%` or `2.5`".to_owned())?;
    if !v.is_finite() {
        return Err("threshold must be a finite percentage".to_owned());
    }
    if v < 0.0 {
        return Err("threshold must be non-negative".to_owned());
    }
    Ok(v)
}

/// `--cpu-watts`: a power per busy core in (0, 1000] W.
fn parse_watts(s: &str) -> Result<f64, String> {
    let w: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of watts"))?;
    if w.is_finite() && w > 0.0 && w <= 1000.0 {
        Ok(w)
    } else {
        Err(format!("{w} W per core is outside (0, 1000] W"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("10%"), Ok(10.0));
        assert_eq!(parse_percent("2.5"), Ok(2.5));
        assert!(parse_percent("-1").is_err());
        assert!(parse_percent("ten").is_err());
    }

    #[test]
    fn demo_defaults() {
        let d = DemoArgs::default();
        assert_eq!(d.sizes.first(), Some(&16));
        assert_eq!(d.sizes.last(), Some(&1024));
        assert_eq!(d.out, PathBuf::from("profile-out"));
    }
}
