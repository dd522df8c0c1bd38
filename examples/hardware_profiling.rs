//! Hardware profiling: wrap any `RramDevice` (here the simulator's TaOx `Crossbar`) in a
//! `HardwarePerformanceProfiler` to get the time, data volume, energy and array utilisation of
//! every write, read, MVM and analogue inversion, and a summary over all of them.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example hardware_profiling
//! ```

use nalgebra::{DMatrix, DVector};
use rram_profiler::profiler_runtime::{HardwarePerformanceProfiler, MatrixOp};
use rram_profiler::rram_sim::{Crossbar, DeviceParams};
use rram_profiler::PerformanceProfiler;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = 16;
    let g = DMatrix::from_fn(n, n, |i, j| {
        if i == j {
            1.0
        } else {
            0.05 * ((i + j) % 3) as f64
        }
    });
    let b = DVector::from_fn(n, |i, _| 1.0 + i as f64 / n as f64);

    // Optional: with a profiler subscribed, every operation is also a `hardware.*` span (with
    // the crossbar's own `crossbar.*` spans inside) in the profile.
    let profiler = PerformanceProfiler::new();
    let summary = profiler.in_scope(|| -> Result<_, Box<dyn std::error::Error>> {
        // A 16 x 16 array of 3-bit TaOx devices, seeded for reproducible noise.
        let crossbar = Crossbar::new(n, n, DeviceParams::taox_3bit(), 42);
        let mut hw = HardwarePerformanceProfiler::new(crossbar);

        // Program the matrix once (write-verify), read it back, then compute on it.
        let w = hw.profile_write_matrix(&g)?;
        println!(
            "write_matrix: {:>10.3?}, {:>5} bytes, {:>9.1} pJ, utilisation {:.0}%",
            w.execution_time,
            w.data_volume_bytes,
            w.energy_pj,
            w.utilization * 100.0
        );
        let r = hw.profile_read_matrix()?;
        println!(
            "read_matrix:  {:>10.3?}, {:>5} bytes, {:>9.1} pJ",
            r.execution_time, r.data_volume_bytes, r.energy_pj
        );
        for _ in 0..10 {
            hw.profile_matrix_operation(MatrixOp::Mvm(&b))?;
        }
        let inv = hw.profile_matrix_operation(MatrixOp::Invert(&b))?;
        // One analogue solve on 3-bit cells is only a few bits accurate: HP-INV refines it.
        let residual = (&b - &g * &inv.output).norm() / b.norm();
        println!(
            "analogue INV: {:>10.3?}, {:>9.1} pJ, relative residual {residual:.1e}",
            inv.execution_time, inv.energy_pj
        );
        Ok(hw.get_hardware_performance_summary())
    })?;

    // The summary over every profiled operation.
    println!(
        "{} hardware operations on a {:?} array: {:.1} pJ, mean utilisation {:.0}%",
        summary.total_operations,
        summary.device_shape,
        summary.total_energy_pj,
        summary.utilization * 100.0
    );
    for (name, op) in &summary.operations {
        println!(
            "  {name:<12} x{:<3} mean {:>10.3?}  {:>9.1} pJ",
            op.count, op.mean_execution_time, op.total_energy_pj
        );
    }
    for (component, pj) in &summary.energy_by_component {
        println!("  energy {component:<12} {pj:>9.1} pJ");
    }
    assert_eq!(summary.total_operations, 13);

    let spans = profiler.snapshot();
    println!("profile: {} events", spans.total_events());
    Ok(())
}
