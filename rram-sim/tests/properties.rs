//! Property tests over random well-conditioned systems (convergence, ledger invariants) and
//! seeded determinism.

use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use rram_sim::{block_amc, hp_inv, BlockAmcConfig, EnergyLedger, HpInvConfig, SolveOutput};

/// G = I + (s / sqrt n) U with U in [-1, 1] and s <= 0.5: diagonally dominant, cond <= ~3.
fn system() -> impl Strategy<Value = (DMatrix<f64>, DVector<f64>, u64)> {
    (2usize..=12, 0.0f64..0.5, any::<u64>()).prop_flat_map(|(n, s, seed)| {
        let scale = s / (n as f64).sqrt();
        (
            proptest::collection::vec(-1.0f64..1.0, n * n),
            proptest::collection::vec(-1.0f64..1.0, n),
        )
            .prop_filter("b must not be ~0", |(_, b)| {
                b.iter().any(|v| v.abs() > 0.05)
            })
            .prop_map(move |(u, b)| {
                let g = DMatrix::from_fn(n, n, |i, j| {
                    f64::from(u8::from(i == j)) + scale * u[j * n + i]
                });
                (g, DVector::from_vec(b), seed)
            })
    })
}

fn check_ledger(l: &EnergyLedger) -> Result<(), TestCaseError> {
    for (name, v) in EnergyLedger::COMPONENTS.iter().zip(l.components()) {
        prop_assert!(v.is_finite() && v >= 0.0, "{name} = {v}");
    }
    prop_assert!(l.latency_ns.is_finite() && l.latency_ns >= 0.0);
    let sum: f64 = l.components().iter().sum();
    prop_assert!((l.total_pj() - sum).abs() <= 1e-12 * sum.max(1.0));
    Ok(())
}

fn check_output(
    out: &SolveOutput,
    g: &DMatrix<f64>,
    b: &DVector<f64>,
    tol: f64,
) -> Result<(), TestCaseError> {
    prop_assert!(out.info.converged, "residuals {:?}", out.info.residuals);
    prop_assert!(out.info.final_residual <= tol);
    let true_res = (b - g * &out.x).norm() / b.norm();
    prop_assert!(
        (true_res - out.info.final_residual).abs() <= 1e-9,
        "{true_res} vs {}",
        out.info.final_residual
    );
    prop_assert!(out.info.spectral_radius < 1.0);
    prop_assert_eq!(out.iterations, out.info.residuals.len());
    prop_assert_eq!(out.info.bits_gained.len(), out.iterations);
    check_ledger(&out.energy)?;
    check_ledger(&out.info.programming)?;
    check_ledger(&out.info.compute)?;
    // Programming then compute, in sequence.
    let total = out.info.programming.total_pj() + out.info.compute.total_pj();
    prop_assert!((out.energy.total_pj() - total).abs() <= 1e-9 * total);
    prop_assert!(
        (out.energy.latency_ns - out.info.programming.latency_ns - out.info.compute.latency_ns)
            .abs()
            <= 1e-6 * out.energy.latency_ns
    );
    prop_assert!(out.info.compute.total_pj() > 0.0 && out.info.programming.write_driver_pj > 0.0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn hp_inv_converges_and_ledgers_add_up((g, b, seed) in system()) {
        let cfg = HpInvConfig { seed, ..Default::default() };
        let out = hp_inv(&g, &b, &cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_output(&out, &g, &b, cfg.tol)?;
        prop_assert!(out.iterations <= 16, "{} iterations", out.iterations);
    }

    #[test]
    fn block_amc_converges_and_ledgers_add_up((g, b, seed) in system(), tile_frac in 0.1f64..1.0) {
        let n = g.nrows();
        let tile = ((n as f64 * tile_frac).ceil() as usize).clamp(1, n);
        let cfg = BlockAmcConfig { tile_size: tile, hp: HpInvConfig { seed, ..Default::default() } };
        let out = block_amc(&g, &b, &cfg).map_err(|e| TestCaseError::fail(format!("tile {tile}: {e}")))?;
        check_output(&out, &g, &b, cfg.hp.tol)?;
    }

    #[test]
    fn ledger_sums_are_order_free(parts in proptest::collection::vec(proptest::array::uniform7(0.0f64..1e3), 1..8)) {
        let ledgers: Vec<EnergyLedger> = parts.iter().map(|p| EnergyLedger {
            array_pj: p[0], dac_pj: p[1], adc_pj: p[2], opamp_pj: p[3], write_driver_pj: p[4], digital_pj: p[5], latency_ns: p[6],
        }).collect();
        let (mut seq, mut par) = (EnergyLedger::default(), EnergyLedger::default());
        for l in &ledgers {
            seq.add_sequential(l);
            par.add_parallel(l);
            check_ledger(&seq)?;
        }
        let total: f64 = ledgers.iter().map(EnergyLedger::total_pj).sum();
        prop_assert!((seq.total_pj() - total).abs() <= 1e-9 * total.max(1.0));
        prop_assert!((par.total_pj() - total).abs() <= 1e-9 * total.max(1.0));
        let lat_sum: f64 = ledgers.iter().map(|l| l.latency_ns).sum();
        let lat_max = ledgers.iter().map(|l| l.latency_ns).fold(0.0, f64::max);
        prop_assert!((seq.latency_ns - lat_sum).abs() <= 1e-9 * lat_sum.max(1.0));
        prop_assert_eq!(par.latency_ns, lat_max);
    }
}

fn sixteen() -> (DMatrix<f64>, DVector<f64>) {
    let g = DMatrix::from_fn(16, 16, |i, j| {
        f64::from(u8::from(i == j)) + 0.1 * ((((i * 7 + j * 13) % 17) as f64) / 8.0 - 1.0)
    });
    let b = DVector::from_fn(16, |i, _| (i as f64 * 0.7).cos());
    (g, b)
}

#[test]
fn same_seed_same_result_different_seed_different_devices() {
    let (g, b) = sixteen();
    let run = |seed| {
        hp_inv(
            &g,
            &b,
            &HpInvConfig {
                seed,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let (a, a2, c) = (run(7), run(7), run(8));
    assert_eq!(a.x, a2.x);
    assert_eq!(a.info, a2.info);
    assert_eq!(a.energy, a2.energy);
    assert_ne!(
        a.info.programming, c.info.programming,
        "other seed, other devices"
    );
    let blk = |seed| {
        block_amc(
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
        .unwrap()
    };
    let (p, q) = (blk(3), blk(3));
    assert_eq!(p.x, q.x);
    assert_eq!(p.info, q.info);
}

#[test]
fn crossbar_is_deterministic_per_seed() {
    use rram_sim::{Crossbar, DeviceParams};
    let (g, b) = sixteen();
    let run = |seed| {
        let mut x = Crossbar::new(16, 16, DeviceParams::taox_3bit(), seed);
        let w = x.write_matrix(&g).unwrap();
        let y = x.matrix_vector_multiply(&b).unwrap();
        let s = x.solve(&b).unwrap();
        let r = x.read_matrix().unwrap();
        (w, y, s, r)
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1).0.cost, run(2).0.cost);
}

/// The `numbers` example's family: G = I + (0.25 / sqrt n) U, cond about 1.5.
fn well_conditioned(n: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let s = 0.25 / (n as f64).sqrt();
    let g = DMatrix::from_fn(n, n, |i, j| {
        f64::from(u8::from(i == j)) + s * rng.random_range(-1.0..1.0)
    });
    let b = DVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0));
    (g, b)
}

#[test]
fn sixteen_by_sixteen_reaches_24_bits_in_at_most_10_iterations() {
    for seed in 0..4 {
        let (g, b) = well_conditioned(16, seed);
        let out = hp_inv(
            &g,
            &b,
            &HpInvConfig {
                seed,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            out.info.converged && out.info.final_residual <= 2f64.powi(-24),
            "{:?}",
            out.info.residuals
        );
        assert!(
            out.iterations <= 10,
            "seed {seed}: {} iterations",
            out.iterations
        );
        let bits = -out.info.final_residual.log2() / out.iterations as f64;
        assert!(bits >= 2.4, "seed {seed}: {bits} bits per iteration");
        let blk = block_amc(
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
        .unwrap();
        assert!(blk.info.converged && blk.info.final_residual <= 2f64.powi(-24));
        assert!(
            blk.iterations <= 10,
            "seed {seed}: block_amc {} iterations",
            blk.iterations
        );
    }
}
