//! Energy and latency of each crossbar operation against hand-computed values (RRAM.md's
//! formulas), on a 2x2 ideal array whose conductances are known exactly.
//!
//! m = [[1, 3/7], [-2/7, 1]] with max |m| = 1 maps to 3-bit levels [[7, 3], [-2, 7]]. With
//! G_min = 0.5 uS and dG = 34.5 / 7 uS, each pair (G+, G-) is:
//!   (0,0): (35, 0.5)   (0,1): (0.5 + 3 dG, 0.5)
//!   (1,0): (0.5, 0.5 + 2 dG)   (1,1): (35, 0.5)
//! The ideal device programs exactly in one pulse; the ideal periphery has no IR drop.

use nalgebra::{DMatrix, DVector};
use rram_sim::energy::{adc_energy_pj, adc_latency_ns, dac_energy_pj, inv_settling_ns};
use rram_sim::{Crossbar, DeviceParams, PeripheryParams};

const DG: f64 = 34.5 / 7.0;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

fn programmed() -> Crossbar {
    let mut x =
        Crossbar::new(2, 2, DeviceParams::ideal(), 5).with_periphery(PeripheryParams::ideal());
    let m = DMatrix::from_row_slice(2, 2, &[1.0, 3.0 / 7.0, -2.0 / 7.0, 1.0]);
    x.write_matrix(&m).unwrap();
    x
}

/// Total conductance of both devices of each pair, per column (input line), uS.
fn line_g() -> [f64; 2] {
    [
        (35.0 + 0.5) + (0.5 + 0.5 + 2.0 * DG),
        (0.5 + 3.0 * DG + 0.5) + (35.0 + 0.5),
    ]
}

#[test]
fn write_verify_costs_pulses_times_v2_g_t() {
    let mut x =
        Crossbar::new(2, 2, DeviceParams::ideal(), 5).with_periphery(PeripheryParams::ideal());
    let m = DMatrix::from_row_slice(2, 2, &[1.0, 3.0 / 7.0, -2.0 / 7.0, 1.0]);
    let w = x.write_matrix(&m).unwrap();
    assert_eq!(w.pulses_total, 8, "one pulse per device");
    assert_eq!(w.pulses_max, 1);
    assert_eq!(w.cells_failed, 0);
    let sum_g: f64 = line_g().iter().sum(); // every device's target
    let e = &w.cost.energy;
    // Write driver: pulses x V_w^2 G t_w = (3 V)^2 x G x 10 ns x 1e-3 pJ / (V^2 uS ns).
    assert!(
        close(e.write_driver_pj, 9.0 * sum_g * 10.0 * 1e-3),
        "{}",
        e.write_driver_pj
    );
    // Verify read after each pulse: (0.1 V)^2 x G x 10 ns.
    assert!(close(e.array_pj, 0.01 * sum_g * 10.0 * 1e-3));
    // One 9-bit SAR conversion per verify: (0.538 x 9 + 4.38) uW x 10 ns.
    assert!(close(e.adc_pj, 8.0 * (0.538 * 9.0 + 4.38) * 10.0 * 1e-3));
    assert_eq!((e.dac_pj, e.opamp_pj, e.digital_pj), (0.0, 0.0, 0.0));
    // Rows in sequence, one pulse each: 2 x (write 10 + read 10 + ADC 10) ns.
    assert!(close(e.latency_ns, 60.0));
    assert_eq!(w.cost.bytes, 32);
    assert_eq!(w.cost.cells_used, 8);
}

#[test]
fn one_mvm_on_a_2x2_array_by_hand() {
    let mut x = programmed();
    // x = [1, 1]: 7-bit inputs in one 7-bit DAC slice, both lines at the full 0.1 V.
    let out = x
        .matrix_vector_multiply(&DVector::from_vec(vec![1.0, 1.0]))
        .unwrap();
    assert_eq!(out.input_slices, 1);
    let [g0, g1] = line_g();
    let e = &out.cost.energy;
    // Array: sum_j V_j^2 (sum_i G_ij) t.
    assert!(
        close(e.array_pj, (0.01 * g0 + 0.01 * g1) * 10.0 * 1e-3),
        "{}",
        e.array_pj
    );
    assert!(close(e.array_pj, 0.0097642857142857), "{}", e.array_pj);
    // DAC: 2 lines x (0.19 / 15 pJ per level) x 127 levels.
    assert!(close(e.dac_pj, 2.0 * 0.19 / 15.0 * 127.0));
    // ADC: 2 outputs x 9-bit SAR.
    assert!(close(e.adc_pj, 2.0 * 9.222 * 10.0 * 1e-3));
    // TIAs: 2 x 100 uW x 10 ns.
    assert!(close(e.opamp_pj, 2.0));
    // Shift-and-add: 2 x 0.1 pJ.
    assert!(close(e.digital_pj, 0.2));
    // DAC 1 + read 10 + ADC 10, then 1 ns of shift-and-add.
    assert!(close(e.latency_ns, 22.0));
    assert!(close(e.total_pj(), e.components().iter().sum()));
    // y = m x on the 3-bit levels, read through a 9-bit ADC.
    assert!(
        (out.y[0] - 10.0 / 7.0).abs() < 0.01 && (out.y[1] - 5.0 / 7.0).abs() < 0.01,
        "{}",
        out.y
    );
    assert_eq!(out.cost.bytes, 32);
}

#[test]
fn mvm_line_voltage_scales_with_the_input() {
    let mut x = programmed();
    // x = [1, 0]: only line 0 driven.
    let out = x
        .matrix_vector_multiply(&DVector::from_vec(vec![1.0, 0.0]))
        .unwrap();
    assert!(close(
        out.cost.energy.array_pj,
        0.01 * line_g()[0] * 10.0 * 1e-3
    ));
}

#[test]
fn read_by_hand() {
    let mut x = programmed();
    let r = x.read_matrix().unwrap();
    let e = &r.cost.energy;
    let sum_g: f64 = line_g().iter().sum();
    assert!(close(e.array_pj, 0.01 * sum_g * 10.0 * 1e-3));
    assert!(close(e.adc_pj, 4.0 * 9.222 * 10.0 * 1e-3));
    // 2 TIAs on for 2 columns x 10 ns.
    assert!(close(e.opamp_pj, 2.0 * 100.0 * 20.0 * 1e-3));
    // Columns in sequence: 2 x (read 10 + ADC 10).
    assert!(close(e.latency_ns, 40.0));
    assert!((r.matrix[(0, 1)] - 3.0 / 7.0).abs() < 1e-2);
}

#[test]
fn inv_by_hand() {
    let mut x = programmed();
    let out = x.solve(&DVector::from_vec(vec![1.0, 0.5])).unwrap();
    let p = PeripheryParams::ideal();
    let settle =
        10.0 * std::f64::consts::LN_2 / (std::f64::consts::TAU * 30e6 * out.lambda_min) * 1e9;
    assert!(close(out.settling_ns, settle));
    assert!(close(
        out.settling_ns,
        inv_settling_ns(&p, out.lambda_min, 9)
    ));
    let e = &out.cost.energy;
    // 4 op-amps (2 loop amplifiers, 2 output TIAs) x 100 uW for the settling time.
    assert!(close(e.opamp_pj, 4.0 * 100.0 * settle * 1e-3));
    assert!(close(e.dac_pj, 2.0 * dac_energy_pj(&p, 7, 300.0)));
    assert!(close(e.adc_pj, 2.0 * adc_energy_pj(&p, 9, 300.0)));
    assert!(close(e.digital_pj, 0.4));
    assert!(close(
        e.latency_ns,
        1.0 + settle + adc_latency_ns(&p, 9) + 1.0
    ));
    // Array: the outputs drive the lines, scaled to full 0.1 V, for the settling time.
    let xs = out.x.amax();
    let [g0, g1] = line_g();
    let expect =
        ((out.x[0] / xs * 0.1).powi(2) * g0 + (out.x[1] / xs * 0.1).powi(2) * g1) * settle * 1e-3;
    assert!(close(e.array_pj, expect), "{} vs {expect}", e.array_pj);
    // m x = b on the exact levels: m = [[1, 3/7], [-2/7, 1]].
    let m = DMatrix::from_row_slice(2, 2, &[1.0, 3.0 / 7.0, -2.0 / 7.0, 1.0]);
    let exact = m.lu().solve(&DVector::from_vec(vec![1.0, 0.5])).unwrap();
    assert!((&out.x - exact).amax() < 0.01, "{}", out.x);
}

#[test]
fn inv_settling_of_the_2x2_loop_by_hand() {
    // Differential conductances (uS): [[34.5, 3 dG], [-2 dG, 34.5]]. Each row node sees both
    // devices of both its pairs: D0 = 35.5 + (0.5 + 3 dG + 0.5), D1 = (0.5 + 0.5 + 2 dG) + 35.5.
    let d0 = 35.5 + 1.0 + 3.0 * DG;
    let d1 = 1.0 + 2.0 * DG + 35.5;
    let (a, b, c, d) = (34.5 / d0, 3.0 * DG / d0, -2.0 * DG / d1, 34.5 / d1);
    // L = D^-1 G (ideal op-amps): trace^2 / 4 < det, so a complex pair with Re = trace / 2.
    let (tr, det) = (a + d, a * d - b * c);
    assert!(tr * tr / 4.0 < det);
    let re = tr / 2.0;
    assert!((re - 0.708_46).abs() < 1e-4, "{re}");
    // 9-bit ADC: (9 + 1) ln 2 / (2 pi 30 MHz Re lambda).
    let t = 10.0 * std::f64::consts::LN_2 / (std::f64::consts::TAU * 30e6 * re) * 1e9;
    assert!((t - 51.9).abs() < 0.1, "{t}");
    let mut x = programmed();
    let out = x.solve(&DVector::from_vec(vec![1.0, 0.5])).unwrap();
    assert!((out.lambda_min - re).abs() < 1e-9, "{}", out.lambda_min);
    assert!((out.dynamics.min_re_lambda_im.abs() - (det - tr * tr / 4.0).sqrt()).abs() < 1e-9);
    assert!(
        (out.settling_ns - t).abs() < 1e-6,
        "{} vs {t}",
        out.settling_ns
    );
}

#[test]
fn periphery_formulas_by_hand() {
    let p = PeripheryParams::default();
    // SAR ADC, 9 bits: (0.538 x 9 + 4.38) uW x (9 + 1) ns = 0.09222 pJ; 10 ns.
    assert!(close(adc_energy_pj(&p, 9, 300.0), 0.09222));
    assert!(close(adc_latency_ns(&p, 9), 10.0));
    // Periphery power grows 1.3e-3 per K.
    assert!(close(
        adc_energy_pj(&p, 9, 350.0),
        0.09222 * (1.0 + 50.0 * 1.3e-3)
    ));
    // DAC 4-bit point of MNSIM: 0.19 pJ.
    assert!(close(dac_energy_pj(&p, 4, 300.0), 0.19));
}

#[test]
fn crossbar_total_is_the_sequential_sum_of_its_operations() {
    let mut x = programmed();
    let before = *x.total_energy();
    let a = x
        .matrix_vector_multiply(&DVector::from_vec(vec![0.5, -1.0]))
        .unwrap();
    let b = x.solve(&DVector::from_vec(vec![1.0, 1.0])).unwrap();
    let t = x.total_energy();
    assert!(close(
        t.total_pj(),
        before.total_pj() + a.cost.energy.total_pj() + b.cost.energy.total_pj()
    ));
    assert!(close(
        t.latency_ns,
        before.latency_ns + a.cost.energy.latency_ns + b.cost.energy.latency_ns
    ));
}
