//! Every bad input is a typed error naming the input (never a panic, never a silently wrong
//! answer), for each solver and for the crossbar.

use nalgebra::{DMatrix, DVector};
use rram_sim::{
    adaptive_hp_inv, block_amc, hp_inv, AdaptiveConfig, BlockAmcConfig, Crossbar, DeviceParams,
    HpInvConfig, PeripheryParams, SimError, SolveOutput,
};

type Solver = fn(&DMatrix<f64>, &DVector<f64>) -> Result<SolveOutput, SimError>;

fn solvers() -> [(&'static str, Solver); 3] {
    [
        ("hp_inv", |g, b| hp_inv(g, b, &HpInvConfig::default())),
        ("adaptive_hp_inv", |g, b| {
            adaptive_hp_inv(g, b, &AdaptiveConfig::default())
        }),
        // Tiles of half the matrix (at least 1): one BlockAMC stage or more.
        ("block_amc", |g, b| {
            let tile = g.nrows().div_ceil(2).max(1);
            block_amc(
                g,
                b,
                &BlockAmcConfig {
                    tile_size: tile,
                    ..Default::default()
                },
            )
        }),
    ]
}

fn good(n: usize) -> (DMatrix<f64>, DVector<f64>) {
    let g = DMatrix::from_fn(n, n, |i, j| {
        if i == j {
            1.0
        } else {
            0.05 * ((i + 2 * j) % 3) as f64
        }
    });
    (g, DVector::from_element(n, 1.0))
}

#[test]
fn divergence_is_refused_with_the_spectral_radius() {
    // A symmetric positive definite matrix whose 3-bit image (levels [[7, 4], [4, 3]]) is a
    // stable loop but a poor inverse: rho(I - G M^-1) is about 1.3. (The 3x3 matrix this test
    // used before has an image with a negative eigenvalue: its INV loop is unstable, which is
    // now `SimError::Unstable`, tested in tests/fidelity.rs.)
    let g = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, 0.5, 0.49]);
    let b = DVector::from_vec(vec![1.0, -1.0]);
    // BlockAMC on one tile holding all of g is the same LP-INV.
    let whole: Solver = |g, b| {
        block_amc(
            g,
            b,
            &BlockAmcConfig {
                tile_size: g.nrows(),
                ..Default::default()
            },
        )
    };
    let [hp, adaptive, _] = solvers();
    for (name, solve) in [hp, adaptive, ("block_amc", whole)] {
        match solve(&g, &b) {
            Err(SimError::Divergence {
                solver,
                spectral_radius,
                bits,
            }) => {
                assert_eq!(solver, name);
                assert!(spectral_radius >= 1.0, "{name}: {spectral_radius}");
                assert_eq!(bits, 3);
            }
            other => panic!("{name}: expected Divergence, got {other:?}"),
        }
    }
    let msg = hp_inv(&g, &b, &HpInvConfig::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("spectral radius") && msg.contains("`g`"),
        "{msg}"
    );
}

#[test]
fn singular_matrices_are_refused() {
    let b = DVector::from_element(2, 1.0);
    let rank_one = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
    for (name, solve) in solvers() {
        assert!(
            matches!(
                solve(&DMatrix::zeros(2, 2), &b),
                Err(SimError::Singular { input: "g", .. })
            ),
            "{name}: zero matrix"
        );
        assert!(
            matches!(
                solve(&rank_one, &b),
                Err(SimError::Singular { input: "g", .. })
            ),
            "{name}: rank one"
        );
    }
}

#[test]
fn block_amc_refuses_a_singular_leading_block() {
    let g = DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 1.0, 0.0]);
    let err = block_amc(
        &g,
        &DVector::from_element(2, 1.0),
        &BlockAmcConfig {
            tile_size: 1,
            ..Default::default()
        },
    )
    .unwrap_err();
    match &err {
        SimError::Singular { input: "g", why } => {
            assert!(why.contains("leading 1x1 block"), "{why}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_finite_inputs_name_the_input_and_index() {
    let (mut g, b) = good(3);
    g[(1, 2)] = f64::NAN;
    for (name, solve) in solvers() {
        match solve(&g, &b) {
            Err(SimError::NonFinite {
                input: "g", index, ..
            }) => assert_eq!(index, 2 * 3 + 1, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    let (g, mut b) = good(3);
    b[2] = f64::INFINITY;
    for (name, solve) in solvers() {
        assert!(
            matches!(
                solve(&g, &b),
                Err(SimError::NonFinite {
                    input: "b",
                    index: 2,
                    ..
                })
            ),
            "{name}"
        );
    }
}

#[test]
fn shapes_are_checked() {
    let b = DVector::from_element(2, 1.0);
    for (name, solve) in solvers() {
        assert_eq!(
            solve(&DMatrix::from_element(2, 3, 1.0), &b).unwrap_err(),
            SimError::NotSquare {
                input: "g",
                rows: 2,
                cols: 3
            },
            "{name}"
        );
        let (g, _) = good(3);
        assert!(
            matches!(
                solve(&g, &b),
                Err(SimError::ShapeMismatch {
                    input: "b",
                    found: 2,
                    expected: 3,
                    ..
                })
            ),
            "{name}"
        );
        assert_eq!(
            solve(&DMatrix::zeros(0, 0), &DVector::zeros(0)).unwrap_err(),
            SimError::Empty { input: "g" }
        );
        assert!(
            matches!(
                solve(&good(2).0, &DVector::zeros(2)),
                Err(SimError::Zero { input: "b", .. })
            ),
            "{name}"
        );
    }
}

#[test]
fn zero_bits_are_refused_by_name() {
    let (g, b) = good(4);
    let cfg = HpInvConfig {
        bits: 0,
        ..Default::default()
    };
    assert_eq!(
        hp_inv(&g, &b, &cfg).unwrap_err(),
        SimError::ZeroBits { name: "bits" }
    );
    let cfg = HpInvConfig {
        input_bits: 0,
        ..Default::default()
    };
    assert_eq!(
        hp_inv(&g, &b, &cfg).unwrap_err(),
        SimError::ZeroBits { name: "input_bits" }
    );
    let cfg = HpInvConfig {
        periphery: PeripheryParams {
            adc_bits: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        hp_inv(&g, &b, &cfg).unwrap_err(),
        SimError::ZeroBits {
            name: "PeripheryParams::adc_bits"
        }
    );
    let cfg = BlockAmcConfig {
        tile_size: 2,
        hp: HpInvConfig {
            bits: 0,
            ..Default::default()
        },
    };
    assert_eq!(
        block_amc(&g, &b, &cfg).unwrap_err(),
        SimError::ZeroBits { name: "bits" }
    );
    let cfg = AdaptiveConfig {
        base: HpInvConfig {
            bits: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        adaptive_hp_inv(&g, &b, &cfg).unwrap_err(),
        SimError::ZeroBits { name: "bits" }
    );
    let dev = DeviceParams {
        bits_per_cell: 0,
        ..DeviceParams::taox_3bit()
    };
    let mut x = Crossbar::new(2, 2, dev, 0);
    assert_eq!(
        x.write_matrix(&DMatrix::identity(2, 2)).unwrap_err(),
        SimError::ZeroBits {
            name: "DeviceParams::bits_per_cell"
        }
    );
}

#[test]
fn tiles_must_fit_the_matrix() {
    let (g, b) = good(4);
    let err = block_amc(
        &g,
        &b,
        &BlockAmcConfig {
            tile_size: 8,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err, SimError::TileTooLarge { tile: 8, n: 4 });
    assert!(err.to_string().contains("tile_size 8"), "{err}");
    let err = block_amc(
        &g,
        &b,
        &BlockAmcConfig {
            tile_size: 0,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            SimError::InvalidParameter {
                name: "tile_size",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn invalid_parameters_are_named() {
    let (g, b) = good(3);
    for (cfg, name) in [
        (
            HpInvConfig {
                tol: 0.0,
                ..Default::default()
            },
            "tol",
        ),
        (
            HpInvConfig {
                tol: f64::NAN,
                ..Default::default()
            },
            "tol",
        ),
        (
            HpInvConfig {
                max_iter: 0,
                ..Default::default()
            },
            "max_iter",
        ),
        (
            HpInvConfig {
                slices: 0,
                ..Default::default()
            },
            "slices",
        ),
        (
            HpInvConfig {
                temperature_k: -5.0,
                ..Default::default()
            },
            "temperature_k",
        ),
        (
            HpInvConfig {
                age_s: f64::INFINITY,
                ..Default::default()
            },
            "age_s",
        ),
    ] {
        match hp_inv(&g, &b, &cfg) {
            Err(SimError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let cfg = AdaptiveConfig {
        initial_slices: 0,
        ..Default::default()
    };
    assert!(matches!(
        adaptive_hp_inv(&g, &b, &cfg),
        Err(SimError::InvalidParameter {
            name: "initial_slices",
            ..
        })
    ));
}

#[test]
fn crossbar_refuses_bad_operations() {
    let mut x = Crossbar::new(2, 2, DeviceParams::taox_3bit(), 0);
    let v = DVector::from_element(2, 1.0);
    assert_eq!(
        x.matrix_vector_multiply(&v).unwrap_err(),
        SimError::NotProgrammed
    );
    assert_eq!(x.solve(&v).unwrap_err(), SimError::NotProgrammed);
    assert_eq!(x.read_matrix().unwrap_err(), SimError::NotProgrammed);
    assert!(matches!(
        x.write_matrix(&DMatrix::zeros(3, 2)),
        Err(SimError::DoesNotFit {
            input: "m",
            rows: 3,
            ..
        })
    ));
    assert_eq!(
        x.write_matrix(&DMatrix::zeros(0, 2)).unwrap_err(),
        SimError::Empty { input: "m" }
    );
    let mut bad = DMatrix::identity(2, 2);
    bad[(0, 1)] = f64::NEG_INFINITY;
    assert!(matches!(
        x.write_matrix(&bad),
        Err(SimError::NonFinite {
            input: "m",
            index: 2,
            ..
        })
    ));
    // Non-square image: MVM works, INV refuses.
    x.write_matrix(&DMatrix::from_element(2, 1, 1.0)).unwrap();
    assert!(x
        .matrix_vector_multiply(&DVector::from_element(1, 1.0))
        .is_ok());
    assert!(matches!(x.solve(&v), Err(SimError::NotSquare { .. })));
    x.write_matrix(&DMatrix::identity(2, 2)).unwrap();
    assert!(matches!(
        x.matrix_vector_multiply(&DVector::zeros(3)),
        Err(SimError::ShapeMismatch {
            input: "x",
            found: 3,
            expected: 2,
            ..
        })
    ));
    assert!(matches!(
        x.solve(&DVector::zeros(1)),
        Err(SimError::ShapeMismatch { input: "b", .. })
    ));
    assert!(matches!(
        x.matrix_vector_multiply(&DVector::from_vec(vec![1.0, f64::NAN])),
        Err(SimError::NonFinite {
            input: "x",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        x.set_temperature_k(f64::NAN),
        Err(SimError::InvalidParameter {
            name: "temperature_k",
            ..
        })
    ));
    assert!(matches!(
        x.set_age_s(-1.0),
        Err(SimError::InvalidParameter { name: "age_s", .. })
    ));
    // A singular programmed matrix (exact devices): INV refuses.
    let mut ideal = Crossbar::new(2, 2, DeviceParams::ideal(), 0);
    ideal
        .write_matrix(&DMatrix::from_element(2, 2, 1.0))
        .unwrap();
    assert!(matches!(
        ideal.solve(&v),
        Err(SimError::Singular { input: "g", .. })
    ));
    // An empty array.
    let mut e = Crossbar::new(0, 4, DeviceParams::taox_3bit(), 0);
    assert!(matches!(
        e.write_matrix(&DMatrix::identity(1, 1)),
        Err(SimError::Empty { .. })
    ));
}
