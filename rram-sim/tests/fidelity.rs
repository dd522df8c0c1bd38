//! Issue 21: BlockAMC in analogue on its stored blocks, INV dynamics and stability from the
//! circuit, the area model against its cited numbers.

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rram_sim::area::{array_area, ArrayKind};
use rram_sim::{
    adaptive_hp_inv, block_amc, hp_inv, AdaptiveConfig, BlockAmcConfig, Crossbar, DeviceParams,
    HpInvConfig, PeripheryParams, SimError,
};

/// The demo's family: G = I + (0.5 / sqrt n) U, U uniform in [-1, 1].
fn system(n: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let s = 0.5 / (n as f64).sqrt();
    let g = DMatrix::from_fn(n, n, |i, j| {
        f64::from(u8::from(i == j)) + s * rng.random_range(-1.0..1.0)
    });
    let b = DVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0));
    (g, b)
}

#[test]
fn block_amc_256_on_32_tiles_programs_only_the_blocks_and_is_mostly_analogue() {
    let (n, tile) = (256, 32);
    let (g, b) = system(n, 11);
    let out = block_amc(
        &g,
        &b,
        &BlockAmcConfig {
            tile_size: tile,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        out.info.converged && out.info.final_residual <= 2f64.powi(-24),
        "{:?}",
        out.info.residuals
    );
    // Nothing beyond the blocks: every entry of G on exactly one tile, (n / tile)^2 tiles.
    assert_eq!(out.info.inv_cells, 2 * (n * n) as u64);
    assert_eq!(out.info.inv_arrays, (n / tile) * (n / tile));
    // The Schur complements are analogue loops: digital work is the O(n) additions and
    // HP-MVM's shift-and-add only.
    let digital = out.energy.digital_pj / out.energy.total_pj();
    assert!(digital < 0.2, "digital share {digital}");
    let compute_digital = out.info.compute.digital_pj / out.info.compute.total_pj();
    assert!(
        compute_digital < 0.2,
        "digital share of compute {compute_digital}"
    );
}

#[test]
fn block_amc_one_stage_matches_hp_inv_convergence_without_exact_blocks() {
    // The BlockAMC operator is the programmed matrix's inverse (up to noise), so it converges
    // at the rate of a single array's, not faster (the old digital Schur complement was exact).
    let (g, b) = system(32, 3);
    let single = hp_inv(&g, &b, &HpInvConfig::default()).unwrap();
    let blk = block_amc(
        &g,
        &b,
        &BlockAmcConfig {
            tile_size: 16,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(single.info.converged && blk.info.converged);
    assert!(
        blk.info.spectral_radius > 0.5 * single.info.spectral_radius,
        "{} vs {}",
        blk.info.spectral_radius,
        single.info.spectral_radius
    );
}

fn mixed_signs() -> DMatrix<f64> {
    DMatrix::from_diagonal(&DVector::from_fn(8, |i, _| if i < 4 { -1.0 } else { 1.0 }))
}

#[test]
fn a_loop_with_negative_eigenvalues_is_refused_as_unstable() {
    let mut x = Crossbar::new(8, 8, DeviceParams::taox_3bit(), 1);
    x.write_matrix(&mixed_signs()).unwrap();
    match x.solve(&DVector::from_element(8, 1.0)) {
        Err(SimError::Unstable { re, .. }) => assert!(re < 0.0, "{re}"),
        other => panic!("expected Unstable, got {other:?}"),
    }
    let msg = x
        .solve(&DVector::from_element(8, 1.0))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("unstable") && msg.contains("flip the sign"),
        "{msg}"
    );
    // The solvers refuse it too, before iterating.
    let b = DVector::from_element(8, 1.0);
    let g = mixed_signs();
    assert!(matches!(
        hp_inv(&g, &b, &HpInvConfig::default()),
        Err(SimError::Unstable { .. })
    ));
    assert!(matches!(
        adaptive_hp_inv(&g, &b, &AdaptiveConfig::default()),
        Err(SimError::Unstable { .. })
    ));
    let cfg = BlockAmcConfig {
        tile_size: 4,
        ..Default::default()
    };
    assert!(matches!(
        block_amc(&g, &b, &cfg),
        Err(SimError::Unstable { .. })
    ));
    // The documented remedy: flip the sign of the rows with a negative diagonal.
    let s = DMatrix::from_diagonal(&DVector::from_fn(8, |i, _| if i < 4 { -1.0 } else { 1.0 }));
    let out = hp_inv(&(&s * &g), &(&s * &b), &HpInvConfig::default()).unwrap();
    assert!(out.info.converged);
    assert!((&g * &out.x - &b).norm() / b.norm() <= 2f64.powi(-24));
}

#[test]
fn area_of_an_8x8_inv_array_from_the_cited_numbers() {
    let (d, p) = (DeviceParams::taox_3bit(), PeripheryParams::default());
    let a = array_area(&d, &p, 8, 8, ArrayKind::Inv);
    // 128 cells x 48 F^2 (NeuroSim 1T1R, 4 F x 12 F) at F = 40 nm (Zuo 2025's chip).
    let cell = 48.0 * 0.04 * 0.04;
    assert!((a.cells_um2 - 128.0 * cell).abs() < 1e-9, "{}", a.cells_um2);
    // Two op-amps per row (loop amplifier, inverting buffer) at 1000 um^2 (assumption).
    assert!((a.opamp_um2 - 16.0 * 1000.0).abs() < 1e-9);
    // One 9-bit ADC per output: ISAAC's 8-bit SAR, 0.0096 mm^2 / 8, doubled for 9 bits.
    assert!(
        (a.adc_um2 - 8.0 * 0.0096e6 / 8.0 * 2.0).abs() < 1e-6,
        "{}",
        a.adc_um2
    );
    // One 7-bit DAC per input: ISAAC's 1-bit DAC, 0.00017 mm^2 / 1024, times 2^6.
    assert!(
        (a.dac_um2 - 8.0 * 0.00017e6 / 1024.0 * 64.0).abs() < 1e-9,
        "{}",
        a.dac_um2
    );
    assert!((a.total_um2() - (a.cells_um2 + a.opamp_um2 + a.adc_um2 + a.dac_um2)).abs() < 1e-9);
    // A crossbar reports the same area with its operations.
    let mut x = Crossbar::new(8, 8, d, 0);
    x.write_matrix(&DMatrix::identity(8, 8)).unwrap();
    let inv = x.solve(&DVector::from_element(8, 1.0)).unwrap();
    assert!((inv.cost.area_um2 - a.total_um2()).abs() < 1e-9);
}

#[test]
fn solves_report_area_and_assumptions() {
    let (g, b) = system(16, 1);
    let out = hp_inv(&g, &b, &HpInvConfig::default()).unwrap();
    assert!(out.info.area.total_um2() > 0.0 && out.info.area.cells_um2 > 0.0);
    assert_eq!(out.info.inv_arrays, 1);
    assert!(out
        .info
        .assumptions
        .iter()
        .any(|a| a.starts_with("opamp_power_uw")));
}
