//! Measures the numbers issue 3 asks for. `cargo run --release -p rram-sim --example numbers`.

use std::time::Instant;

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rram_sim::{
    adaptive_hp_inv, block_amc, hp_inv, AdaptiveConfig, BlockAmcConfig, HpInvConfig, SolveOutput,
};

/// G = I + (0.5 / sqrt n) U, U uniform in [-1, 1]: well conditioned (cond about 3).
fn system(n: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
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

fn show(name: &str, out: &SolveOutput, secs: f64) {
    let bits: Vec<String> = out
        .info
        .bits_gained
        .iter()
        .map(|b| format!("{b:.1}"))
        .collect();
    println!(
        "{name}: {} it, residual {:.2e} (2^{:.1}), converged {}, rho {:.3}, bits/it [{}], mean {:.2}, hp_mvm exact {}, E {:.3e} pJ (prog {:.3e}, compute {:.3e}), latency {:.1} ns, {:.3} s",
        out.iterations,
        out.info.final_residual,
        out.info.final_residual.log2(),
        out.info.converged,
        out.info.spectral_radius,
        bits.join(" "),
        -out.info.final_residual.log2() / out.iterations as f64,
        out.info.hp_mvm_exact,
        out.energy.total_pj(),
        out.info.programming.total_pj(),
        out.info.compute.total_pj(),
        out.info.compute.latency_ns,
        secs
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let big = args.iter().any(|a| a == "--big");
    for seed in 0..3 {
        let (g, b) = system(16, seed);
        let t = Instant::now();
        let out = hp_inv(
            &g,
            &b,
            &HpInvConfig {
                seed,
                ..Default::default()
            },
        )
        .expect("hp_inv 16");
        show("hp_inv n=16", &out, t.elapsed().as_secs_f64());
        let t = Instant::now();
        let out = block_amc(
            &g,
            &b,
            &BlockAmcConfig {
                tile_size: 8,
                hp: HpInvConfig {
                    seed,
                    ..Default::default()
                },
            },
        )
        .expect("block_amc 16/8");
        show("block_amc n=16 tile 8", &out, t.elapsed().as_secs_f64());
        let t = Instant::now();
        let out = adaptive_hp_inv(
            &g,
            &b,
            &AdaptiveConfig {
                base: HpInvConfig {
                    seed,
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .expect("adaptive 16");
        show("adaptive_hp_inv n=16", &out, t.elapsed().as_secs_f64());
    }
    let sizes: &[usize] = if big { &[256, 1024, 2048] } else { &[256] };
    for &n in sizes {
        let (g, b) = system(n, 7);
        let t = Instant::now();
        let out = hp_inv(&g, &b, &HpInvConfig::default()).expect("hp_inv");
        show(&format!("hp_inv n={n}"), &out, t.elapsed().as_secs_f64());
    }
    let blocks: &[(usize, usize)] = if big {
        &[(1024, 256), (4096, 256)]
    } else {
        &[(256, 64)]
    };
    for &(n, tile) in blocks {
        let (g, b) = system(n, 11);
        let t = Instant::now();
        let out = block_amc(
            &g,
            &b,
            &BlockAmcConfig {
                tile_size: tile,
                ..Default::default()
            },
        )
        .expect("block_amc");
        show(
            &format!("block_amc n={n} tile {tile}"),
            &out,
            t.elapsed().as_secs_f64(),
        );
    }
}
