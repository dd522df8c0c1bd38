//! The `mimo_detection` example's core at a small size: ZF detection by HP-INV reaches FP32's
//! bit error rate within the confidence intervals.

use rram_sim::mimo::{run_point, wilson_interval, MimoConfig, Modulation};

#[test]
fn hp_inv_zf_matches_fp32_on_small_16x4_qpsk() {
    let cfg = MimoConfig {
        receive: 16,
        transmit: 4,
        modulation: Modulation::Qpsk,
        snr_db: -3.0,
        channels: 12,
        vectors_per_channel: 2,
        iterations: 4,
        ..Default::default()
    };
    let p = run_point(&cfg).unwrap();
    assert_eq!(p.failed, 0, "{:?}", p.first_error);
    assert_eq!(p.fp32.bits, 12 * 2 * 4 * 2);
    assert_eq!(p.hp_by_iteration.len(), 4);
    assert!(p.hp_by_iteration.iter().all(|c| c.bits == p.fp32.bits));
    // (Nearly) every solve reached 2^-24 (the stop test is HP-MVM's measurement, so the true
    // residual of a rare solve ends just above it), gaining bits each iteration.
    assert!(p.converged >= 22, "{} of 24 converged", p.converged);
    assert!(
        p.mean_bits_per_iteration() > 1.0,
        "{}",
        p.mean_bits_per_iteration()
    );
    let k = p
        .matched_at()
        .expect("HP-INV matches FP32 within 4 iterations");
    assert!(k <= 4);
    // At the last iteration HP-INV's decisions are FP32's up to a few bits.
    let last = p.hp_by_iteration[3];
    assert!(
        last.errors.abs_diff(p.fp32.errors) <= 2,
        "{last:?} vs {:?}",
        p.fp32
    );
}

#[test]
fn qam16_on_128x8_runs_and_wilson_intervals_bracket_the_rate() {
    let cfg = MimoConfig {
        receive: 128,
        transmit: 8,
        modulation: Modulation::Qam16,
        snr_db: -6.0,
        channels: 2,
        vectors_per_channel: 1,
        iterations: 3,
        ..Default::default()
    };
    let p = run_point(&cfg).unwrap();
    assert_eq!(p.fp32.bits, 2 * 8 * 4);
    let (lo, hi) = p.fp32.wilson(1.96);
    assert!(lo <= p.fp32.rate() && p.fp32.rate() <= hi);
    let (lo, hi) = wilson_interval(10, 100, 1.96);
    assert!(
        (lo - 0.0552).abs() < 1e-3 && (hi - 0.1744).abs() < 1e-3,
        "{lo} {hi}"
    );
}
