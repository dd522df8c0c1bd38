//! Measures the numbers issue 3 asks for:
//! `cargo run --release -p rram-sim --example numbers [--big]`.
//!
//! Systems are G = I + (s / sqrt n) U with U uniform in [-1, 1]. HP-INV's error contracts by
//! rho(I - G M^-1) per iteration, where M is G's 3-bit image on the INV array, so the bits gained
//! per iteration, -log2 rho, depend on how well 3 bits represent G: s = 0.25 (cond about 1.4)
//! gives about 3 bits per iteration, s = 0.5 (cond about 2.2) about 2.3.

use std::time::Instant;

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rram_sim::{
    adaptive_hp_inv, block_amc, hp_inv, AdaptiveConfig, BlockAmcConfig, HpInvConfig, SolveOutput,
};

fn system(n: usize, s: f64, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let s = s / (n as f64).sqrt();
    let g = DMatrix::from_fn(n, n, |i, j| {
        f64::from(u8::from(i == j)) + s * rng.random_range(-1.0..1.0)
    });
    let b = DVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0));
    (g, b)
}

fn cond(g: &DMatrix<f64>) -> f64 {
    let sv = g.clone().singular_values();
    sv.max() / sv.min()
}

fn show(name: &str, out: &SolveOutput, secs: f64) {
    let bits: Vec<String> = out
        .info
        .bits_gained
        .iter()
        .map(|b| format!("{b:.1}"))
        .collect();
    println!(
        "{name}: {} it, residual {:.2e} (2^{:.1}), converged {}, rho {:.3}, bits/it [{}], mean {:.2}, E {:.3e} pJ (prog {:.3e}, compute {:.3e}), latency {:.1} ns, {:.3} s",
        out.iterations,
        out.info.final_residual,
        out.info.final_residual.log2(),
        out.info.converged,
        out.info.spectral_radius,
        bits.join(" "),
        -out.info.final_residual.log2() / out.iterations as f64,
        out.energy.total_pj(),
        out.info.programming.total_pj(),
        out.info.compute.total_pj(),
        out.info.compute.latency_ns,
        secs
    );
}

fn cfg(seed: u64) -> HpInvConfig {
    HpInvConfig {
        seed,
        ..Default::default()
    }
}

fn main() {
    let big = std::env::args().any(|a| a == "--big");
    for s in [0.25, 0.5] {
        let mut worst = [0usize; 3];
        for seed in 0..8 {
            let (g, b) = system(16, s, seed);
            let c = cond(&g);
            let t = Instant::now();
            let hp = hp_inv(&g, &b, &cfg(seed)).expect("hp_inv 16");
            let hp_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let blk = block_amc(
                &g,
                &b,
                &BlockAmcConfig {
                    tile_size: 8,
                    hp: cfg(seed),
                },
            )
            .expect("block_amc 16/8");
            let blk_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let ad = adaptive_hp_inv(
                &g,
                &b,
                &AdaptiveConfig {
                    base: cfg(seed),
                    ..Default::default()
                },
            )
            .expect("adaptive 16");
            let ad_s = t.elapsed().as_secs_f64();
            if seed < 3 {
                println!("-- n=16, s={s}, seed {seed}, cond(G) {c:.2}");
                show("hp_inv n=16", &hp, hp_s);
                show("block_amc n=16 tile 8", &blk, blk_s);
                show("adaptive_hp_inv n=16", &ad, ad_s);
            }
            for (w, o) in worst.iter_mut().zip([&hp, &blk, &ad]) {
                assert!(o.info.converged, "s={s} seed {seed}: not converged");
                *w = (*w).max(o.iterations);
            }
        }
        println!(
            "== s={s}: over 8 seeds, most iterations to 2^-24: hp_inv {}, block_amc {}, adaptive {}",
            worst[0], worst[1], worst[2]
        );
    }
    let sizes: &[usize] = if big { &[256, 1024, 2048] } else { &[256] };
    for &n in sizes {
        let (g, b) = system(n, 0.5, 7);
        let t = Instant::now();
        let out = hp_inv(&g, &b, &HpInvConfig::default()).expect("hp_inv");
        show(
            &format!("hp_inv n={n} s=0.5"),
            &out,
            t.elapsed().as_secs_f64(),
        );
    }
    let blocks: &[(usize, usize)] = if big {
        &[(1024, 256), (4096, 256)]
    } else {
        &[(256, 64)]
    };
    for &(n, tile) in blocks {
        let (g, b) = system(n, 0.5, 11);
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
            &format!("block_amc n={n} tile {tile} s=0.5"),
            &out,
            t.elapsed().as_secs_f64(),
        );
    }
}
