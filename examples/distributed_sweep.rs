//! A sweep split over several processes: the parent starts N child processes (this same
//! program with `--child`), each runs its share of an HP-INV sweep on a simulated crossbar
//! under its own profiler and saves its profile; the parent merges the profiles with
//! `Profile::merge` (exact aggregates summed, each process's events kept, times aligned on the
//! wall clock) and prints the report, whose "Processes" table has a row per child.
//!
//! Run it with (directory and process count are optional):
//!
//! ```text
//! cargo run --example distributed_sweep -- /tmp/sweep 3
//! rram-prof report /tmp/sweep/sweep.json
//! rram-prof export /tmp/sweep/sweep.json --format chrome -o /tmp/sweep/trace.json
//! ```
//!
//! On several machines, run each share wherever it fits, copy the `part-*.json` files
//! together, and merge them: `rram-prof merge part-*.json -o sweep.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use nalgebra::{DMatrix, DVector};
use rram_profiler::profiler_runtime::PerformanceReport;
use rram_profiler::rram_sim::{hp_inv, HpInvConfig};
use rram_profiler::{PerformanceProfiler, Profile};

/// The sizes of the whole sweep; child `k` of `n` takes every `n`-th one from the `k`-th.
const SIZES: [usize; 6] = [8, 12, 16, 24, 32, 48];

/// A well-conditioned system of order `n`.
fn system(n: usize) -> (DMatrix<f64>, DVector<f64>) {
    let g = DMatrix::from_fn(n, n, |i, j| {
        let off = 0.3 / (n as f64).sqrt() * (((i * 31 + j * 17) % 11) as f64 / 5.0 - 1.0);
        if i == j {
            1.0 + off
        } else {
            off
        }
    });
    let b = DVector::from_fn(n, |i, _| 1.0 - 2.0 * (i % 3) as f64 / 3.0);
    (g, b)
}

/// A child's share: profiles its sizes and saves `part-<k>.json` in `dir`.
fn child(k: usize, of: usize, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let profiler = PerformanceProfiler::builder().without_monitor().build()?;
    profiler.in_scope(|| -> Result<(), Box<dyn std::error::Error>> {
        for &n in SIZES.iter().skip(k).step_by(of) {
            let (g, b) = system(n);
            hp_inv(&g, &b, &HpInvConfig::default())?;
        }
        Ok(())
    })?;
    profiler
        .snapshot()
        .save(dir.join(format!("part-{k}.json")))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, k, of, dir] = args.as_slice() {
        if flag == "--child" {
            return child(k.parse()?, of.parse()?, Path::new(dir));
        }
    }
    let dir = args
        .get(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rram-profiler-distributed-sweep"));
    let processes: usize = args.get(2).map_or(Ok(3), |s| s.parse())?;
    if !(1..=SIZES.len()).contains(&processes) {
        return Err(format!("process count must be 1 to {}", SIZES.len()).into());
    }
    std::fs::create_dir_all(&dir)?;

    // Start every child, then wait for all of them: they run at the same time.
    let me = std::env::current_exe()?;
    let children = (0..processes)
        .map(|k| {
            Command::new(&me)
                .arg("--child")
                .arg(k.to_string())
                .arg(processes.to_string())
                .arg(&dir)
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (k, mut c) in children.into_iter().enumerate() {
        let status = c.wait()?;
        if !status.success() {
            return Err(format!("child {k} failed: {status}").into());
        }
    }

    // Merge: each process labelled with its file, then one profile.
    let mut parts = Vec::with_capacity(processes);
    for k in 0..processes {
        let path = dir.join(format!("part-{k}.json"));
        let mut p = Profile::load(&path)?;
        p.set_process_label(&format!("part-{k}"));
        parts.push(p);
    }
    let all = Profile::merge(parts)?;
    let merged = dir.join("sweep.json");
    all.save(&merged)?;

    let solves = all.operation("hp_inv").map_or(0, |o| o.count);
    println!(
        "merged {} processes: {solves} hp_inv solves (expected {})",
        all.processes.len(),
        SIZES.len()
    );
    println!("{}", PerformanceReport::from_profile(&all).to_text());
    println!("saved the merged profile to {}", merged.display());
    Ok(())
}
