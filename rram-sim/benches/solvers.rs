//! Whole-solve wall time of HP-INV at n = 1024 and 2048, and BlockAMC at n = 4096 on 256x256
//! tiles (set `RRAM_SIM_BENCH_4096=1`; one solve takes tens of seconds), on the systems of
//! `examples/numbers.rs` (G = I + (0.5 / sqrt n) U). `scripts/hp_inv_numpy.py` times the same
//! HP-INV in NumPy for the side-by-side comparison.
//!
//! `cargo bench -p rram-sim --bench solvers`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rram_sim::{block_amc, hp_inv, BlockAmcConfig, HpInvConfig};

fn system(n: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let s = 0.5 / (n as f64).sqrt();
    let g = DMatrix::from_fn(n, n, |i, j| {
        f64::from(u8::from(i == j)) + s * rng.random_range(-1.0..1.0)
    });
    let b = DVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0));
    (g, b)
}

fn solvers(c: &mut Criterion) {
    let mut group = c.benchmark_group("hp_inv");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(5));
    for n in [1024usize, 2048] {
        let (g, b) = system(n, 7);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| {
                let out = hp_inv(&g, &b, &HpInvConfig::default()).expect("hp_inv");
                assert!(out.info.converged);
                out.iterations
            });
        });
    }
    group.finish();
    if std::env::var_os("RRAM_SIM_BENCH_4096").is_some() {
        let mut group = c.benchmark_group("block_amc_tile256");
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_secs(5));
        let (g, b) = system(4096, 11);
        group.bench_function(BenchmarkId::from_parameter(4096), |bench| {
            bench.iter(|| {
                let cfg = BlockAmcConfig {
                    tile_size: 256,
                    ..Default::default()
                };
                let out = block_amc(&g, &b, &cfg).expect("block_amc");
                assert!(out.info.converged);
                out.iterations
            });
        });
        group.finish();
    }
}

criterion_group!(benches, solvers);
criterion_main!(benches);
