//! HardwarePerformanceProfiler over rram-sim's Crossbar (and a mock device), and the crossbar's
//! operations as `hardware_access` events in an installed PerformanceProfiler's profile.

#[path = "../profiler-runtime/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use nalgebra::{DMatrix, DVector};
use profiler_runtime::hardware::{
    DeviceCost, DeviceOutput, HardwareOperation, HardwarePerformanceProfiler, MatrixOp, RramDevice,
};
use profiler_runtime::EventKind;
use rram_sim::{Crossbar, DeviceParams, EnergyLedger, SimError};

fn matrix() -> DMatrix<f64> {
    DMatrix::from_row_slice(
        4,
        4,
        &[
            1.0, 0.1, -0.2, 0.0, //
            0.05, 1.0, 0.1, -0.1, //
            -0.1, 0.0, 1.0, 0.2, //
            0.1, -0.05, 0.0, 1.0,
        ],
    )
}

#[test]
fn profiles_every_crossbar_operation() {
    // Under a profiler like the other tests: tracing caches each callsite's interest globally,
    // and a callsite first hit with no subscriber, while another test thread installs its
    // scoped one, can be cached as uninteresting for that test too.
    common::profiler().in_scope(profiles_every_crossbar_operation_body);
}

fn profiles_every_crossbar_operation_body() {
    let mut hw =
        HardwarePerformanceProfiler::new(Crossbar::new(8, 8, DeviceParams::taox_3bit(), 3));
    let g = matrix();
    let w = hw.profile_write_matrix(&g).unwrap();
    assert_eq!(w.operation, HardwareOperation::WriteMatrix);
    assert_eq!(w.data_volume_bytes, 16 * 8);
    assert!(w.energy_pj > 0.0 && w.latency_ns > 0.0);
    assert_eq!(w.cells_used, 32, "two devices per value");
    assert_eq!(w.cells_available, 128);
    assert_eq!(w.utilization, 0.25);
    let sum: f64 = w.energy_by_component.values().sum();
    assert!((sum - w.energy_pj).abs() <= 1e-9 * w.energy_pj);
    assert!(w.energy_by_component["write_driver"] > 0.0);

    let r = hw.profile_read_matrix().unwrap();
    assert_eq!(r.output.shape(), (4, 4));
    assert!((&r.output - &g).amax() < 0.2, "3-bit levels of g");

    let x = DVector::from_vec(vec![1.0, -0.5, 0.25, 1.0]);
    let m = hw.profile_matrix_operation(MatrixOp::Mvm(&x)).unwrap();
    assert!((&m.output - &g * &x).amax() < 0.2);
    assert_eq!(m.data_volume_bytes, 8 * 8);
    let b = &g * &x;
    let inv = hw.profile_matrix_operation(MatrixOp::Invert(&b)).unwrap();
    assert!((&inv.output - &x).amax() < 0.3, "{}", inv.output);
    assert!(inv.energy_by_component["opamp"] > 0.0);

    // A bad input is the device's typed error, counted as a failure, never a panic.
    let err = hw
        .profile_matrix_operation(MatrixOp::Mvm(&DVector::zeros(3)))
        .unwrap_err();
    assert!(
        matches!(err, SimError::ShapeMismatch { input: "x", .. }),
        "{err}"
    );
    let big = DMatrix::zeros(9, 9);
    assert!(matches!(
        hw.profile_write_matrix(&big),
        Err(SimError::DoesNotFit { .. })
    ));

    let s = hw.get_hardware_performance_summary();
    assert_eq!(s.total_operations, 4);
    assert_eq!(s.failed_operations, 2);
    assert_eq!(s.device_shape, (8, 8));
    assert_eq!(s.cells_available, 128);
    assert_eq!(s.operations["write_matrix"].count, 1);
    assert_eq!(s.operations["write_matrix"].failures, 1);
    assert_eq!(s.operations["mvm"].failures, 1);
    assert_eq!(s.operations["invert"].count, 1);
    let total = w.energy_pj + r.energy_pj + m.energy_pj + inv.energy_pj;
    assert!((s.total_energy_pj - total).abs() <= 1e-9 * total);
    let by_component: f64 = s.energy_by_component.values().sum();
    assert!((by_component - total).abs() <= 1e-9 * total);
    assert_eq!(s.peak_utilization, 0.25);
    assert!((s.utilization - 0.25).abs() < 1e-12);
    // The crossbar's own running total agrees with the profiler's.
    let ledger: &EnergyLedger = hw.device().total_energy();
    assert!((ledger.total_pj() - total).abs() <= 1e-9 * total);
}

#[test]
fn crossbar_operations_are_hardware_access_events_with_energy() {
    let p = common::profiler();
    p.in_scope(|| {
        let mut hw =
            HardwarePerformanceProfiler::new(Crossbar::new(4, 4, DeviceParams::taox_3bit(), 1));
        hw.profile_write_matrix(&matrix()).unwrap();
        hw.profile_matrix_operation(MatrixOp::Mvm(&DVector::from_element(4, 0.5)))
            .unwrap();
        hw.profile_matrix_operation(MatrixOp::Invert(&DVector::from_element(4, 1.0)))
            .unwrap();
        assert!(hw.profile_read_matrix().is_ok());
        let _ = hw.profile_matrix_operation(MatrixOp::Mvm(&DVector::zeros(2)));
    });
    let snap = p.snapshot();
    for name in [
        "crossbar.write_matrix",
        "crossbar.mvm",
        "crossbar.inv",
        "crossbar.read_matrix",
    ] {
        let ev = snap
            .events_named(name)
            .next()
            .unwrap_or_else(|| panic!("no {name} event"));
        assert_eq!(ev.kind, EventKind::HardwareAccess, "{name}");
        for key in ["energy_pj", "latency_ns", "bytes"] {
            assert!(
                ev.metric(key).is_some_and(|v| v > 0.0),
                "{name}: {key} in {:?}",
                ev.metrics
            );
        }
        let components: f64 = EnergyLedger::COMPONENTS
            .iter()
            .map(|c| {
                ev.metric(&format!("energy.{c}_pj"))
                    .unwrap_or_else(|| panic!("{name}: energy.{c}_pj"))
            })
            .sum();
        let total = ev.metric("energy_pj").unwrap();
        assert!(
            (components - total).abs() <= 1e-9 * total,
            "{name}: components {components} vs {total}"
        );
        // Nested in the hardware profiler's span, which carries utilisation but not the
        // energy again (the crossbar reports its own).
        let parent = snap
            .events
            .iter()
            .find(|e| Some(e.id) == ev.parent)
            .expect("parent span");
        assert_eq!(parent.kind, EventKind::HardwareAccess);
        assert!(parent.name.starts_with("hardware."), "{}", &*parent.name);
        assert!(parent.metric("utilization").is_some());
        assert_eq!(parent.metric("energy_pj"), None, "no double counting");
    }
    let failed = snap
        .events_named("hardware.mvm")
        .find(|e| e.error.is_some())
        .expect("failed mvm span");
    assert!(
        failed.error.as_deref().unwrap().contains("x"),
        "{:?}",
        failed.error
    );
}

/// An ideal device that does not report metrics itself.
struct Ideal {
    m: DMatrix<f64>,
}

#[derive(Debug, thiserror::Error)]
#[error("ideal device: {0}")]
struct IdealError(&'static str);

fn cost(cells: usize) -> DeviceCost {
    let mut c = DeviceCost::new(3.0 * cells as f64, 5.0, 8 * cells as u64, cells as u64);
    c.energy_by_component = BTreeMap::from([
        ("array".to_owned(), cells as f64),
        ("adc".to_owned(), 2.0 * cells as f64),
    ]);
    c
}

impl RramDevice for Ideal {
    type Error = IdealError;
    fn shape(&self) -> (usize, usize) {
        (2, 2)
    }
    fn write_matrix(&mut self, m: &DMatrix<f64>) -> Result<DeviceOutput<()>, IdealError> {
        self.m = m.clone();
        Ok(DeviceOutput {
            value: (),
            cost: cost(m.len()),
        })
    }
    fn read_matrix(&mut self) -> Result<DeviceOutput<DMatrix<f64>>, IdealError> {
        Ok(DeviceOutput {
            value: self.m.clone(),
            cost: cost(self.m.len()),
        })
    }
    fn matrix_vector_multiply(
        &mut self,
        x: &DVector<f64>,
    ) -> Result<DeviceOutput<DVector<f64>>, IdealError> {
        Ok(DeviceOutput {
            value: &self.m * x,
            cost: cost(self.m.len()),
        })
    }
    fn solve(&mut self, _b: &DVector<f64>) -> Result<DeviceOutput<DVector<f64>>, IdealError> {
        Err(IdealError("no INV circuit"))
    }
}

#[test]
fn a_device_without_own_metrics_gets_them_from_the_profiler_span() {
    let p = common::profiler();
    p.in_scope(|| {
        let mut hw = HardwarePerformanceProfiler::new(Ideal {
            m: DMatrix::zeros(0, 0),
        });
        hw.profile_write_matrix(&DMatrix::identity(2, 2)).unwrap();
        let err = hw
            .profile_matrix_operation(MatrixOp::Invert(&DVector::zeros(2)))
            .unwrap_err();
        assert!(err.to_string().contains("no INV circuit"));
        let s = hw.get_hardware_performance_summary();
        assert_eq!((s.total_operations, s.failed_operations), (1, 1));
        assert_eq!(s.energy_by_component["adc"], 8.0);
        assert_eq!(s.utilization, 1.0);
    });
    let snap = p.snapshot();
    let w = snap.events_named("hardware.write_matrix").next().unwrap();
    assert_eq!(w.kind, EventKind::HardwareAccess);
    assert_eq!(w.metric("energy_pj"), Some(12.0));
    assert_eq!(w.metric("latency_ns"), Some(5.0));
    assert_eq!(w.metric("bytes"), Some(32.0));
    assert_eq!(w.metric("energy.array_pj"), Some(4.0));
    assert_eq!(w.metric("energy.adc_pj"), Some(8.0));
    assert_eq!(w.metric("utilization"), Some(1.0));
    let inv = snap.events_named("hardware.invert").next().unwrap();
    assert!(inv
        .error
        .as_deref()
        .is_some_and(|e| e.contains("no INV circuit")));
}
