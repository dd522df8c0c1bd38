//! The BlockAMC paper's comparison (Pan, Zuo et al. 2024): one solve of the same system on a
//! single AMC array against two-stage BlockAMC (tiles of n/4), without HP refinement,
//! reporting area, energy, latency and error.
//!
//! `cargo run --release -p rram-sim --example blockamc_vs_amc [-- zuo2025] [--refined] [n ...]`
//!
//! With `--refined`, also the whole HP-refined solves to 2^-24 (`hp_inv` against `block_amc`
//! on the same tiles), programming included.
//!
//! Systems: G = I + (0.5 / sqrt n) U, U uniform in [-1, 1] (the demo's family).

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rram_sim::solver::{amc_once, block_amc_once, OneShot};
use rram_sim::{
    block_amc, hp_inv, BlockAmcConfig, DeviceParams, HpInvConfig, PeripheryParams, SolveOutput,
};

fn system(n: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let s = 0.5 / (n as f64).sqrt();
    let g = DMatrix::from_fn(n, n, |i, j| {
        f64::from(u8::from(i == j)) + s * rng.random_range(-1.0..1.0)
    });
    let b = DVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0));
    (g, b)
}

fn row(label: &str, o: &OneShot) {
    println!(
        "  {label:<22} arrays {:>4}  area {:>9.4} mm^2  energy {:>11.1} pJ  latency {:>8.1} ns  error {:.2e}",
        o.arrays,
        o.area.total_mm2(),
        o.compute.total_pj(),
        o.compute.latency_ns,
        o.relative_error
    );
}

fn refined_row(label: &str, o: &SolveOutput) {
    println!(
        "  {label:<22} {:>2} it  residual 2^{:.1}  area {:>8.4} mm^2  energy {:>11.3e} pJ (compute {:>10.3e})  latency {:>9.0} ns (compute {:>7.0})",
        o.iterations,
        o.info.final_residual.log2(),
        o.info.area.total_mm2(),
        o.energy.total_pj(),
        o.info.compute.total_pj(),
        o.energy.latency_ns,
        o.info.compute.latency_ns
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let zuo = args.iter().any(|a| a == "zuo2025");
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![16, 64, 256]
    } else {
        sizes
    };
    let hp = if zuo {
        HpInvConfig {
            device: DeviceParams::zuo2025(),
            periphery: PeripheryParams::zuo2025(),
            ..Default::default()
        }
    } else {
        HpInvConfig::default()
    };
    println!(
        "One solve, no refinement: one n x n AMC array vs two-stage BlockAMC (tiles n/4); preset {}",
        if zuo { "zuo2025" } else { "taox_3bit" }
    );
    for n in sizes {
        let (g, b) = system(n, 7 ^ n as u64);
        let single = match amc_once(&g, &b, &hp) {
            Ok(o) => o,
            Err(e) => {
                println!("n = {n}: single array failed: {e}");
                continue;
            }
        };
        let cfg = BlockAmcConfig {
            tile_size: (n / 4).max(1),
            hp: hp.clone(),
        };
        let blk = match block_amc_once(&g, &b, &cfg) {
            Ok(o) => o,
            Err(e) => {
                println!("n = {n}: BlockAMC failed: {e}");
                continue;
            }
        };
        println!("n = {n}:");
        row("single AMC array", &single);
        row(&format!("BlockAMC, tiles {}", cfg.tile_size), &blk);
        if args.iter().any(|a| a == "--refined") {
            match (hp_inv(&g, &b, &hp), block_amc(&g, &b, &cfg)) {
                (Ok(s), Ok(k)) => {
                    refined_row("HP-INV, one INV array", &s);
                    refined_row(&format!("BlockAMC/{}", cfg.tile_size), &k);
                }
                (s, k) => println!("  refined: {:?} / {:?}", s.err(), k.err()),
            }
        }
        println!(
            "  BlockAMC vs single: area efficiency {:+.0}%, energy efficiency {:+.0}% (paper: +49%, +40%); area x{:.2}, latency x{:.2}, energy x{:.2}",
            (blk.area_efficiency_vs(&single) - 1.0) * 100.0,
            (blk.energy_efficiency_vs(&single) - 1.0) * 100.0,
            blk.area.total_um2() / single.area.total_um2(),
            blk.compute.latency_ns / single.compute.latency_ns,
            blk.compute.total_pj() / single.compute.total_pj(),
        );
    }
}
