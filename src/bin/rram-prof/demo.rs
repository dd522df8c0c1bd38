//! `rram-prof demo`: profiles HP-INV and BlockAMC over a sweep of sizes on a simulated crossbar
//! and writes a report folder.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rram_profiler::profiler_runtime::PerformanceProfiler;
use rram_profiler::rram_sim::solver::{amc_once, block_amc_once, OneShot};
use rram_profiler::rram_sim::{
    block_amc, hp_inv, BlockAmcConfig, DeviceParams, EnergyLedger, HpInvConfig, PeripheryParams,
};

use crate::cli::{DemoArgs, Preset};
use crate::error::CliError;
use crate::folder::{write_folder, WrittenFiles};
use crate::summary::print_summary;

/// Which solver a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Solver {
    /// `rram_sim::hp_inv`.
    HpInv,
    /// `rram_sim::block_amc` with a tile size.
    BlockAmc(usize),
}

impl Solver {
    /// Name as in the profile.
    pub fn name(self) -> &'static str {
        match self {
            Solver::HpInv => "hp_inv",
            Solver::BlockAmc(_) => "block_amc",
        }
    }

    /// The tile size, for BlockAMC.
    pub fn tile(self) -> Option<usize> {
        match self {
            Solver::HpInv => None,
            Solver::BlockAmc(t) => Some(t),
        }
    }
}

/// One solve of the sweep.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// The solver.
    pub solver: Solver,
    /// Problem size.
    pub n: usize,
}

/// What one solve gave.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The job.
    pub job: Job,
    /// Wall time of the solve on this machine.
    pub wall: Duration,
    /// The solver's result, or its error as text.
    pub result: Result<Solved, String>,
}

/// The figures of a successful solve.
#[derive(Debug, Clone)]
pub struct Solved {
    /// Refinement iterations.
    pub iterations: usize,
    /// Final relative residual.
    pub residual: f64,
    /// Whether it reached the tolerance.
    pub converged: bool,
    /// Bits gained per iteration.
    pub bits_gained: Vec<f64>,
    /// Energy of the whole solve (programming and compute), by component.
    pub energy: EnergyLedger,
    /// Area of every array and its periphery, mm².
    pub area_mm2: f64,
}

/// One row of the BlockAMC paper's comparison: one solve without refinement on a single
/// array and on two-stage BlockAMC (tiles n/4).
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Problem size.
    pub n: usize,
    /// The single array's solve, or its error.
    pub single: Result<OneShot, String>,
    /// BlockAMC's solve, or its error.
    pub block: Result<OneShot, String>,
}

/// Everything the demo measured.
#[derive(Debug)]
pub struct DemoRun {
    /// The options it ran with.
    pub args: DemoArgs,
    /// One outcome per job, in order.
    pub outcomes: Vec<Outcome>,
    /// Wall time of the whole sweep.
    pub elapsed: Duration,
    /// The BlockAMC-vs-single-array comparison.
    pub comparison: Vec<Comparison>,
    /// The unsourced parameters behind the figures.
    pub assumptions: Vec<String>,
}

/// Sizes of the BlockAMC-vs-single-array comparison.
pub const COMPARISON_SIZES: [usize; 3] = [16, 64, 256];

/// The comparison at [`COMPARISON_SIZES`] on the demo's systems.
pub fn compare(args: &DemoArgs) -> Vec<Comparison> {
    let hp = config(args);
    COMPARISON_SIZES
        .iter()
        .map(|&n| {
            let (g, b) = test_system(n, args.seed ^ (n as u64).wrapping_mul(0x9E37_79B9));
            let block = BlockAmcConfig {
                tile_size: (n / 4).max(1),
                hp: hp.clone(),
            };
            Comparison {
                n,
                single: amc_once(&g, &b, &hp).map_err(|e| e.to_string()),
                block: block_amc_once(&g, &b, &block).map_err(|e| e.to_string()),
            }
        })
        .collect()
}

/// A well-conditioned test system: `G = I + (0.5 / sqrt n) U` with `U` uniform in `[-1, 1]`
/// (condition number about 3), and `b` uniform in `[-1, 1]`.
pub fn test_system(n: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let s = 0.5 / (n as f64).sqrt();
    let g = DMatrix::from_fn(
        n,
        n,
        |i, j| if i == j { 1.0 } else { 0.0 } + s * rng.random_range(-1.0..1.0),
    );
    let b = DVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0));
    (g, b)
}

fn validate(args: &DemoArgs) -> Result<(), CliError> {
    if args.sizes.is_empty() && args.block_sizes.is_empty() {
        return Err(CliError::Invalid(
            "nothing to run: both --sizes and --block-sizes are empty".into(),
        ));
    }
    if let Some(n) = args.sizes.iter().chain(&args.block_sizes).find(|&&n| n < 2) {
        return Err(CliError::Invalid(format!(
            "--sizes/--block-sizes: size {n} is too small (at least 2)"
        )));
    }
    if let Some(n) = args
        .sizes
        .iter()
        .chain(&args.block_sizes)
        .find(|&&n| n > 8192)
    {
        return Err(CliError::Invalid(format!(
            "--sizes/--block-sizes: size {n} is too large for a demo (at most 8192)"
        )));
    }
    if !args.block_sizes.is_empty() && args.tiles.is_empty() {
        return Err(CliError::Invalid(
            "--tiles is empty but --block-sizes asks for BlockAMC solves".into(),
        ));
    }
    if let Some(t) = args.tiles.iter().find(|&&t| t == 0) {
        return Err(CliError::Invalid(format!(
            "--tiles: tile size {t} must be at least 1"
        )));
    }
    if !(args.temperature.is_finite() && args.temperature > 0.0 && args.temperature <= 1000.0) {
        return Err(CliError::Invalid(format!(
            "--temperature {} K is outside (0, 1000] K",
            args.temperature
        )));
    }
    Ok(())
}

/// The jobs of a sweep: HP-INV at every size, then BlockAMC at every size and every tile
/// strictly smaller than the size.
pub fn plan(args: &DemoArgs) -> Vec<Job> {
    let mut jobs: Vec<Job> = args
        .sizes
        .iter()
        .map(|&n| Job {
            solver: Solver::HpInv,
            n,
        })
        .collect();
    for &n in &args.block_sizes {
        for &t in &args.tiles {
            if t < n {
                jobs.push(Job {
                    solver: Solver::BlockAmc(t),
                    n,
                });
            }
        }
    }
    jobs
}

fn config(args: &DemoArgs) -> HpInvConfig {
    let (device, periphery) = match args.preset {
        Preset::Taox3bit => (DeviceParams::taox_3bit(), PeripheryParams::default()),
        Preset::Ideal => (DeviceParams::ideal(), PeripheryParams::default()),
        Preset::Zuo2025 => (DeviceParams::zuo2025(), PeripheryParams::zuo2025()),
    };
    HpInvConfig {
        seed: args.seed,
        device,
        periphery,
        temperature_k: args.temperature,
        ..HpInvConfig::default()
    }
}

fn run_job(job: Job, args: &DemoArgs) -> Outcome {
    let (g, b) = test_system(job.n, args.seed ^ (job.n as u64).wrapping_mul(0x9E37_79B9));
    let hp = config(args);
    let t = Instant::now();
    let out = match job.solver {
        Solver::HpInv => hp_inv(&g, &b, &hp),
        Solver::BlockAmc(tile) => block_amc(
            &g,
            &b,
            &BlockAmcConfig {
                tile_size: tile,
                hp,
            },
        ),
    };
    let wall = t.elapsed();
    let result = out
        .map(|o| Solved {
            iterations: o.iterations,
            residual: o.info.final_residual,
            converged: o.info.converged,
            bits_gained: o.info.bits_gained.clone(),
            energy: o.energy,
            area_mm2: o.info.area.total_mm2(),
        })
        .map_err(|e| e.to_string());
    Outcome { job, wall, result }
}

fn progress(total: usize, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// Checks the options and makes the output folder; returns the path of the run's journal.
pub fn prepare(args: &DemoArgs) -> Result<std::path::PathBuf, CliError> {
    validate(args)?;
    std::fs::create_dir_all(&args.out).map_err(|e| CliError::io(&args.out, e))?;
    Ok(args.out.join("profile.journal"))
}

/// Runs the demo: the sweep under the profiler, then the report folder and the summary. The
/// profiler's journal is closed and removed once `profile.json` holds the run.
pub fn run(args: DemoArgs, profiler: &PerformanceProfiler) -> Result<(), CliError> {
    validate(&args)?;
    let jobs = plan(&args);
    let bar = progress(jobs.len(), args.quiet);
    profiler.start_profiling("demo");
    let t0 = Instant::now();
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        let tile = job
            .solver
            .tile()
            .map_or(String::new(), |t| format!(" tile {t}"));
        bar.set_message(format!("{} n={}{tile}", job.solver.name(), job.n));
        outcomes.push(run_job(job, &args));
        bar.inc(1);
    }
    bar.set_message("BlockAMC vs one array");
    let comparison = compare(&args);
    let elapsed = t0.elapsed();
    profiler.stop_profiling("demo")?;
    bar.finish_and_clear();
    let hp = config(&args);
    let assumptions = rram_profiler::rram_sim::assumptions::assumptions(&hp.device, &hp.periphery);
    let run = DemoRun {
        args,
        outcomes,
        elapsed,
        comparison,
        assumptions,
    };
    if !run.args.quiet {
        eprintln!("writing reports to {} ...", run.args.out.display());
    }
    let profile = profiler.snapshot();
    let files: WrittenFiles = match write_folder(&profile, &run.args.out) {
        Ok(f) => f,
        Err(e) => {
            let kept = profiler.close_journal().ok().flatten();
            return Err(match kept {
                Some(j) => CliError::NotWritten(format!(
                    "{e}; the run is kept in the journal `{}` (`rram-prof recover {} -o OUT`)",
                    j.display(),
                    j.display()
                )),
                None => e,
            });
        }
    };
    // profile.json holds the run now: the journal has done its job.
    if let Ok(Some(journal)) = profiler.close_journal() {
        let _ = std::fs::remove_file(journal);
    }
    print_summary(&run, &profile, &files);
    files.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_skips_tiles_not_smaller_than_n() {
        let args = DemoArgs {
            sizes: vec![16],
            block_sizes: vec![32, 64],
            tiles: vec![32, 8],
            ..DemoArgs::default()
        };
        let jobs = plan(&args);
        let tiles: Vec<(usize, Option<usize>)> =
            jobs.iter().map(|j| (j.n, j.solver.tile())).collect();
        assert_eq!(
            tiles,
            vec![(16, None), (32, Some(8)), (64, Some(32)), (64, Some(8))]
        );
    }

    #[test]
    fn bad_options_are_rejected() {
        let bad = |f: fn(&mut DemoArgs)| {
            let mut a = DemoArgs::default();
            f(&mut a);
            validate(&a).is_err()
        };
        assert!(bad(|a| a.sizes = vec![1]));
        assert!(bad(|a| a.tiles = vec![0]));
        assert!(bad(|a| a.temperature = -3.0));
        assert!(bad(|a| a.temperature = f64::NAN));
        assert!(bad(|a| {
            a.sizes.clear();
            a.block_sizes.clear();
        }));
        assert!(validate(&DemoArgs::default()).is_ok());
    }

    #[test]
    fn test_systems_are_seeded() {
        assert_eq!(test_system(8, 1), test_system(8, 1));
        assert_ne!(test_system(8, 1).0, test_system(8, 2).0);
    }
}
