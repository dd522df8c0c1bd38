//! Times one solve at a given size: `cargo run --release -p rram-sim --example scale -- hp 1024`
//! or `-- block 4096 256`.

use std::time::Instant;

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rram_sim::{block_amc, hp_inv, BlockAmcConfig, HpInvConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("hp");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1024);
    let tile: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(256);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let s = 0.5 / (n as f64).sqrt();
    let g = DMatrix::from_fn(n, n, |i, j| {
        f64::from(u8::from(i == j)) + s * rng.random_range(-1.0..1.0)
    });
    let b = DVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0));
    let t = Instant::now();
    let out = if which == "block" {
        block_amc(
            &g,
            &b,
            &BlockAmcConfig {
                tile_size: tile,
                ..Default::default()
            },
        )
    } else {
        hp_inv(&g, &b, &HpInvConfig::default())
    };
    match out {
        Ok(o) => println!(
            "{which} n={n}: {} it, residual {:.3e}, converged {}, {:.3} s",
            o.iterations,
            o.info.final_residual,
            o.info.converged,
            t.elapsed().as_secs_f64()
        ),
        Err(e) => println!("{which} n={n}: error {e}"),
    }
}
