//! Issue 17 (the simulator's part): bounded work, memory checked before allocating, no silent
//! non-finite results, correct wide quantisers, validated slice widths.

use nalgebra::{DMatrix, DVector};
use rram_sim::quantize::{max_level, quantize_signed};
use rram_sim::{
    adaptive_hp_inv, block_amc, hp_inv, AdaptiveConfig, BlockAmcConfig, Crossbar, DeviceParams,
    HpInvConfig, SimError,
};

fn good(n: usize) -> (DMatrix<f64>, DVector<f64>) {
    let g = DMatrix::from_fn(n, n, |i, j| if i == j { 1.0 } else { 0.05 });
    (g, DVector::from_fn(n, |i, _| 1.0 - 0.1 * i as f64))
}

#[test]
fn unbounded_write_verify_is_refused() {
    // u32::MAX pulses at tolerance 0 would program every device for 4 billion pulses.
    let dev = DeviceParams {
        max_write_pulses: u32::MAX,
        write_verify_tol_us: 0.0,
        ..DeviceParams::taox_3bit()
    };
    let mut x = Crossbar::new(4, 4, dev.clone(), 0);
    match x.write_matrix(&DMatrix::identity(4, 4)) {
        Err(SimError::InvalidParameter { name, .. }) => {
            assert_eq!(name, "DeviceParams::max_write_pulses")
        }
        other => panic!("{other:?}"),
    }
    let (g, b) = good(4);
    let cfg = HpInvConfig {
        device: dev,
        ..Default::default()
    };
    assert!(matches!(
        hp_inv(&g, &b, &cfg),
        Err(SimError::InvalidParameter {
            name: "DeviceParams::max_write_pulses",
            ..
        })
    ));
}

#[test]
fn unbounded_iterations_are_refused() {
    let (g, b) = good(4);
    let cfg = HpInvConfig {
        max_iter: usize::MAX,
        ..Default::default()
    };
    assert!(matches!(
        hp_inv(&g, &b, &cfg),
        Err(SimError::InvalidParameter {
            name: "max_iter",
            ..
        })
    ));
}

#[test]
fn a_tiny_g_is_a_scale_error_not_ok_nan() {
    let (g, b) = good(4);
    let g = g * 1e-300;
    let results = [
        hp_inv(&g, &b, &HpInvConfig::default()),
        adaptive_hp_inv(&g, &b, &AdaptiveConfig::default()),
        block_amc(
            &g,
            &b,
            &BlockAmcConfig {
                tile_size: 2,
                ..Default::default()
            },
        ),
    ];
    for r in results {
        match r {
            Err(e @ SimError::BadScale { input: "g", .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("underflow") && msg.contains("rescale"),
                    "{msg}"
                );
            }
            other => panic!("expected BadScale for g, got {other:?}"),
        }
    }
}

#[test]
fn a_huge_b_names_the_overflow_not_the_conditioning() {
    let (g, _) = good(4);
    let b = DVector::from_element(4, 1e308);
    let err = hp_inv(&g, &b, &HpInvConfig::default()).unwrap_err();
    assert!(
        matches!(err, SimError::BadScale { input: "b", .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(!msg.contains("ill-conditioned"), "{msg}");
    assert!(msg.contains("overflow"), "{msg}");
}

#[test]
fn quantisers_are_right_at_63_and_64_bits() {
    assert_eq!(max_level(62), (u64::MAX >> 2) as f64);
    assert_eq!(max_level(63), 2f64.powi(63));
    assert_eq!(max_level(64), 2f64.powi(64));
    assert_eq!(max_level(80), 2f64.powi(64));
    assert_eq!(quantize_signed(1.0, 1.0, 63), 2f64.powi(63));
    assert_eq!(quantize_signed(-0.5, 1.0, 64), -(2f64.powi(63)));
}

#[test]
fn an_input_slice_wider_than_the_input_is_refused() {
    let (g, b) = good(4);
    let cfg = HpInvConfig {
        input_bits: 4,
        input_slice_bits: 8,
        ..Default::default()
    };
    assert!(matches!(
        hp_inv(&g, &b, &cfg),
        Err(SimError::InvalidParameter {
            name: "input_slice_bits",
            ..
        })
    ));
}

/// Run in a child process under `ulimit -v` (about 1 GB): hp_inv at n = 4096 needs about
/// 1.3 GB of matrices; without the check it aborts on a failed allocation.
#[test]
fn a_solve_too_large_for_memory_is_refused_before_allocating() {
    const CHILD: &str = "RRAM_SIM_LIMITS_CHILD";
    const NAME: &str = "a_solve_too_large_for_memory_is_refused_before_allocating";
    if std::env::var_os(CHILD).is_some() {
        let n = 4096;
        let g = DMatrix::<f64>::identity(n, n);
        let b = DVector::from_element(n, 1.0);
        match hp_inv(&g, &b, &HpInvConfig::default()) {
            Err(SimError::TooLarge {
                n: 4096,
                needed_bytes,
                available_bytes,
                ..
            }) => assert!(needed_bytes > available_bytes),
            other => panic!("expected TooLarge, got {:?}", other.map(|o| o.iterations)),
        }
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 1000000 && exec "$0" --exact "$1" --test-threads=1"#)
        .arg(exe)
        .arg(NAME)
        .env(CHILD, "1")
        .status()
        .unwrap();
    assert!(status.success(), "child: {status}");
}
