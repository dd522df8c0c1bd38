//! The hardware profiler: the [`RramDevice`] trait and [`HardwarePerformanceProfiler`].
//!
//! The runtime knows no RRAM physics: a device (a simulator such as `rram-sim`'s `Crossbar`, or a
//! driver for a real chip) implements [`RramDevice`] and reports, with every operation, what it
//! cost ([`DeviceCost`]: energy by component, modelled latency, bytes moved, cells used). The
//! profiler times each call, adds the utilisation (cells used / cells available), keeps
//! per-operation statistics, and opens a `hardware_access` span per call (`hardware.write_matrix`,
//! `hardware.read_matrix`, `hardware.mvm`, `hardware.invert`), so the operations land in any
//! installed [`PerformanceProfiler`](crate::PerformanceProfiler)'s profile.
//!
//! ```
//! use nalgebra::{DMatrix, DVector};
//! use profiler_runtime::hardware::{
//!     DeviceCost, DeviceOutput, HardwarePerformanceProfiler, MatrixOp, RramDevice,
//! };
//!
//! /// A tiny ideal device: stores the matrix, 1 pJ per cell touched, 10 ns per operation.
//! struct Mock {
//!     m: DMatrix<f64>,
//! }
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("mock: {0}")]
//! struct MockError(&'static str);
//!
//! fn cost(cells: usize, bytes: usize) -> DeviceCost {
//!     DeviceCost::new(cells as f64, 10.0, bytes as u64, cells as u64)
//! }
//!
//! impl RramDevice for Mock {
//!     type Error = MockError;
//!     fn shape(&self) -> (usize, usize) {
//!         (4, 4)
//!     }
//!     fn write_matrix(&mut self, m: &DMatrix<f64>) -> Result<DeviceOutput<()>, MockError> {
//!         if m.nrows() > 4 || m.ncols() > 4 {
//!             return Err(MockError("matrix larger than the array"));
//!         }
//!         self.m = m.clone();
//!         Ok(DeviceOutput { value: (), cost: cost(m.len(), m.len() * 8) })
//!     }
//!     fn read_matrix(&mut self) -> Result<DeviceOutput<DMatrix<f64>>, MockError> {
//!         Ok(DeviceOutput { value: self.m.clone(), cost: cost(self.m.len(), self.m.len() * 8) })
//!     }
//!     fn matrix_vector_multiply(&mut self, x: &DVector<f64>) -> Result<DeviceOutput<DVector<f64>>, MockError> {
//!         if x.len() != self.m.ncols() {
//!             return Err(MockError("x does not match the matrix"));
//!         }
//!         let y = &self.m * x;
//!         Ok(DeviceOutput { value: y, cost: cost(self.m.len(), (x.len() + self.m.nrows()) * 8) })
//!     }
//!     fn solve(&mut self, b: &DVector<f64>) -> Result<DeviceOutput<DVector<f64>>, MockError> {
//!         let x = self.m.clone().lu().solve(b).ok_or(MockError("singular"))?;
//!         Ok(DeviceOutput { value: x, cost: cost(self.m.len(), 2 * b.len() * 8) })
//!     }
//! }
//!
//! let mut hw = HardwarePerformanceProfiler::new(Mock { m: DMatrix::zeros(0, 0) });
//! let g = DMatrix::from_row_slice(2, 2, &[2.0, 0.0, 0.0, 4.0]);
//! let w = hw.profile_write_matrix(&g).unwrap();
//! assert_eq!(w.data_volume_bytes, 32);
//! assert_eq!(w.energy_pj, 4.0);
//! assert_eq!(w.utilization, 0.25);                        // 4 of 16 cells
//! let b = DVector::from_vec(vec![2.0, 4.0]);
//! let m = hw.profile_matrix_operation(MatrixOp::Mvm(&b)).unwrap();
//! assert_eq!(m.output, DVector::from_vec(vec![4.0, 16.0]));
//! let x = hw.profile_matrix_operation(MatrixOp::Invert(&b)).unwrap();
//! assert_eq!(x.output, DVector::from_vec(vec![1.0, 1.0]));
//! assert!(hw.profile_matrix_operation(MatrixOp::Mvm(&DVector::zeros(3))).is_err());
//! let s = hw.get_hardware_performance_summary();
//! assert_eq!(s.total_operations, 3);
//! assert_eq!(s.failed_operations, 1);
//! assert_eq!(s.total_energy_pj, 12.0);
//! assert_eq!(s.operations["mvm"].count, 1);
//! assert_eq!(s.operations["mvm"].failures, 1);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use tracing::field::Empty;

/// What one device operation cost, as the device reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceCost {
    /// Total energy, pJ (the sum of `energy_by_component` where the device gives components).
    pub energy_pj: f64,
    /// Modelled hardware latency, ns (not the host's wall time, which the profiler measures).
    pub latency_ns: f64,
    /// Data moved between the digital side and the array, bytes.
    pub data_volume_bytes: u64,
    /// Cells (devices) the operation used.
    pub cells_used: u64,
    /// Energy by circuit component, pJ, keyed by component name (`array`, `dac`, `adc`,
    /// `opamp`, `write_driver`, `digital`, or the device's own names). May be empty.
    pub energy_by_component: BTreeMap<String, f64>,
}

impl DeviceCost {
    /// A cost without a component breakdown.
    pub fn new(energy_pj: f64, latency_ns: f64, data_volume_bytes: u64, cells_used: u64) -> Self {
        Self {
            energy_pj,
            latency_ns,
            data_volume_bytes,
            cells_used,
            energy_by_component: BTreeMap::new(),
        }
    }
}

/// The result of one device operation and its cost.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceOutput<T> {
    /// What the operation produced.
    pub value: T,
    /// What it cost.
    pub cost: DeviceCost,
}

/// A resistive-memory array (simulated or real) the hardware profiler can drive.
///
/// Matrices and vectors are `nalgebra` types. Each operation returns its result with its
/// [`DeviceCost`], or the device's own typed error (a bad input must be an error, never a panic).
/// See the [module docs](self) for a complete implementation.
pub trait RramDevice {
    /// The device's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// (rows, cols) of the array.
    fn shape(&self) -> (usize, usize);

    /// Cells available on the array, the denominator of utilisation. Default rows x cols; a
    /// device storing each value on a differential pair returns 2 x rows x cols.
    fn cells_available(&self) -> u64 {
        let (r, c) = self.shape();
        (r as u64).saturating_mul(c as u64)
    }

    /// Whether the device reports `energy_pj`, `latency_ns`, `bytes` and `energy.<component>_pj`
    /// to the profiler itself (as `#[profile]` spans with `metrics!` inside its operations). If
    /// so the hardware profiler's span does not repeat them, so totals are not counted twice.
    /// Default `false`.
    fn reports_own_metrics(&self) -> bool {
        false
    }

    /// Programs `m` onto the array.
    fn write_matrix(&mut self, m: &DMatrix<f64>) -> Result<DeviceOutput<()>, Self::Error>;

    /// Reads the stored matrix back.
    fn read_matrix(&mut self) -> Result<DeviceOutput<DMatrix<f64>>, Self::Error>;

    /// Analogue matrix-vector multiplication y = M x.
    fn matrix_vector_multiply(
        &mut self,
        x: &DVector<f64>,
    ) -> Result<DeviceOutput<DVector<f64>>, Self::Error>;

    /// Analogue inversion (INV): x with M x = b.
    fn solve(&mut self, b: &DVector<f64>) -> Result<DeviceOutput<DVector<f64>>, Self::Error>;
}

/// A compute operation for [`HardwarePerformanceProfiler::profile_matrix_operation`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MatrixOp<'a> {
    /// y = M x.
    Mvm(&'a DVector<f64>),
    /// x with M x = b (analogue INV).
    Invert(&'a DVector<f64>),
}

/// The kinds of operation the hardware profiler tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HardwareOperation {
    /// [`RramDevice::write_matrix`].
    WriteMatrix,
    /// [`RramDevice::read_matrix`].
    ReadMatrix,
    /// [`RramDevice::matrix_vector_multiply`].
    Mvm,
    /// [`RramDevice::solve`].
    Invert,
}

impl HardwareOperation {
    /// Short name, the key of [`HardwarePerformanceSummary::operations`]: `write_matrix`,
    /// `read_matrix`, `mvm`, `invert`.
    pub fn name(self) -> &'static str {
        match self {
            Self::WriteMatrix => "write_matrix",
            Self::ReadMatrix => "read_matrix",
            Self::Mvm => "mvm",
            Self::Invert => "invert",
        }
    }

    /// Name of the `hardware_access` span: `hardware.<name>`.
    pub fn span_name(self) -> &'static str {
        match self {
            Self::WriteMatrix => "hardware.write_matrix",
            Self::ReadMatrix => "hardware.read_matrix",
            Self::Mvm => "hardware.mvm",
            Self::Invert => "hardware.invert",
        }
    }
}

impl fmt::Display for HardwareOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One profiled operation: its output and its performance.
#[derive(Debug, Clone, PartialEq)]
pub struct HardwareOperationResult<T> {
    /// Which operation.
    pub operation: HardwareOperation,
    /// What it produced (`()` for a write).
    pub output: T,
    /// Wall time of the call on the host.
    pub execution_time: Duration,
    /// Data moved between the digital side and the array, bytes.
    pub data_volume_bytes: u64,
    /// Energy, pJ.
    pub energy_pj: f64,
    /// Modelled hardware latency, ns.
    pub latency_ns: f64,
    /// Energy by component, pJ.
    pub energy_by_component: BTreeMap<String, f64>,
    /// Cells used.
    pub cells_used: u64,
    /// Cells available on the device.
    pub cells_available: u64,
    /// `cells_used / cells_available` (0 for a device with no cells).
    pub utilization: f64,
}

/// Statistics of one kind of operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HardwareOperationStats {
    /// Successful calls.
    pub count: u64,
    /// Calls that returned an error.
    pub failures: u64,
    /// Sum of the successful calls' wall times.
    pub total_execution_time: Duration,
    /// Mean wall time of a successful call.
    pub mean_execution_time: Duration,
    /// Shortest successful call.
    pub min_execution_time: Duration,
    /// Longest successful call.
    pub max_execution_time: Duration,
    /// Total energy, pJ.
    pub total_energy_pj: f64,
    /// Mean energy per call, pJ.
    pub mean_energy_pj: f64,
    /// Total modelled hardware latency, ns.
    pub total_latency_ns: f64,
    /// Total data volume, bytes.
    pub total_data_volume_bytes: u64,
    /// Mean utilisation over the calls.
    pub mean_utilization: f64,
}

impl HardwareOperationStats {
    fn add<T>(&mut self, r: &HardwareOperationResult<T>) {
        let first = self.count == 0;
        self.count += 1;
        self.total_execution_time += r.execution_time;
        self.min_execution_time = if first {
            r.execution_time
        } else {
            self.min_execution_time.min(r.execution_time)
        };
        self.max_execution_time = self.max_execution_time.max(r.execution_time);
        self.total_energy_pj += r.energy_pj;
        self.total_latency_ns += r.latency_ns;
        self.total_data_volume_bytes = self
            .total_data_volume_bytes
            .saturating_add(r.data_volume_bytes);
        let n = self.count as f64;
        self.mean_utilization += (r.utilization - self.mean_utilization) / n;
        self.mean_energy_pj = self.total_energy_pj / n;
        self.mean_execution_time =
            self.total_execution_time / u32::try_from(self.count).unwrap_or(u32::MAX);
    }
}

/// Everything profiled so far, from [`HardwarePerformanceProfiler::get_hardware_performance_summary`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HardwarePerformanceSummary {
    /// (rows, cols) of the device.
    pub device_shape: (usize, usize),
    /// Cells available on the device.
    pub cells_available: u64,
    /// Successful operations.
    pub total_operations: u64,
    /// Operations that returned an error.
    pub failed_operations: u64,
    /// Sum of the wall times of successful operations.
    pub total_execution_time: Duration,
    /// Total energy, pJ.
    pub total_energy_pj: f64,
    /// Total modelled hardware latency, ns (operations in sequence).
    pub total_latency_ns: f64,
    /// Total data volume, bytes.
    pub total_data_volume_bytes: u64,
    /// Mean utilisation over all successful operations.
    pub utilization: f64,
    /// Highest utilisation of any operation.
    pub peak_utilization: f64,
    /// Energy by component over all operations, pJ.
    pub energy_by_component: BTreeMap<String, f64>,
    /// Per-operation statistics, keyed by [`HardwareOperation::name`].
    pub operations: BTreeMap<String, HardwareOperationStats>,
}

/// Profiles any [`RramDevice`]: times each operation, records its energy, data volume and
/// utilisation, keeps statistics per operation, and opens a `hardware_access` span per call.
#[derive(Debug)]
pub struct HardwarePerformanceProfiler<D> {
    device: D,
    summary: HardwarePerformanceSummary,
}

macro_rules! hardware_span {
    ($name:literal) => {
        tracing::span!(
            target: "profiler_runtime::hardware",
            tracing::Level::INFO,
            $name,
            profile.kind.hardware_access = Empty,
            profile.sync = Empty,
            profile.alloc.process = Empty,
        )
    };
}

impl<D: RramDevice> HardwarePerformanceProfiler<D> {
    /// Wraps `device`.
    pub fn new(device: D) -> Self {
        Self {
            device,
            summary: HardwarePerformanceSummary::default(),
        }
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The device, mutably (operations run through it directly are not profiled).
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// Returns the device.
    pub fn into_inner(self) -> D {
        self.device
    }

    /// Forgets every statistic so far.
    pub fn reset(&mut self) {
        self.summary = HardwarePerformanceSummary::default();
    }

    /// Programs `m` and profiles it.
    pub fn profile_write_matrix(
        &mut self,
        m: &DMatrix<f64>,
    ) -> Result<HardwareOperationResult<()>, D::Error> {
        self.run(HardwareOperation::WriteMatrix, |d| d.write_matrix(m))
    }

    /// Reads the matrix back and profiles it.
    pub fn profile_read_matrix(
        &mut self,
    ) -> Result<HardwareOperationResult<DMatrix<f64>>, D::Error> {
        self.run(HardwareOperation::ReadMatrix, |d| d.read_matrix())
    }

    /// Runs an MVM or an INV and profiles it.
    pub fn profile_matrix_operation(
        &mut self,
        op: MatrixOp<'_>,
    ) -> Result<HardwareOperationResult<DVector<f64>>, D::Error> {
        match op {
            MatrixOp::Mvm(x) => self.run(HardwareOperation::Mvm, |d| d.matrix_vector_multiply(x)),
            MatrixOp::Invert(b) => self.run(HardwareOperation::Invert, |d| d.solve(b)),
        }
    }

    /// Totals, utilisation, energy by component and per-operation statistics so far.
    pub fn get_hardware_performance_summary(&self) -> HardwarePerformanceSummary {
        let mut s = self.summary.clone();
        s.device_shape = self.device.shape();
        s.cells_available = self.device.cells_available();
        s
    }

    fn run<T>(
        &mut self,
        op: HardwareOperation,
        f: impl FnOnce(&mut D) -> Result<DeviceOutput<T>, D::Error>,
    ) -> Result<HardwareOperationResult<T>, D::Error> {
        let span = match op {
            HardwareOperation::WriteMatrix => hardware_span!("hardware.write_matrix"),
            HardwareOperation::ReadMatrix => hardware_span!("hardware.read_matrix"),
            HardwareOperation::Mvm => hardware_span!("hardware.mvm"),
            HardwareOperation::Invert => hardware_span!("hardware.invert"),
        };
        let _entered = span.enter();
        let start = Instant::now();
        let out = f(&mut self.device);
        let execution_time = start.elapsed();
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                crate::record::metrics::record_error(&e);
                tracing::event!(tracing::Level::ERROR, error = %e);
                self.summary.failed_operations += 1;
                self.summary
                    .operations
                    .entry(op.name().to_owned())
                    .or_default()
                    .failures += 1;
                return Err(e);
            }
        };
        let cells_available = self.device.cells_available();
        let c = out.cost;
        let utilization = if cells_available > 0 {
            c.cells_used as f64 / cells_available as f64
        } else {
            0.0
        };
        if !self.device.reports_own_metrics() {
            crate::metrics!(
                energy_pj = c.energy_pj,
                latency_ns = c.latency_ns,
                bytes = c.data_volume_bytes
            );
            for (k, v) in &c.energy_by_component {
                emit_component(k, *v);
            }
        }
        crate::metrics!(
            utilization = utilization,
            cells_used = c.cells_used,
            cells_available = cells_available
        );
        let r = HardwareOperationResult {
            operation: op,
            output: out.value,
            execution_time,
            data_volume_bytes: c.data_volume_bytes,
            energy_pj: c.energy_pj,
            latency_ns: c.latency_ns,
            energy_by_component: c.energy_by_component,
            cells_used: c.cells_used,
            cells_available,
            utilization,
        };
        self.record(&r);
        Ok(r)
    }

    fn record<T>(&mut self, r: &HardwareOperationResult<T>) {
        let s = &mut self.summary;
        s.total_operations += 1;
        s.total_execution_time += r.execution_time;
        s.total_energy_pj += r.energy_pj;
        s.total_latency_ns += r.latency_ns;
        s.total_data_volume_bytes = s
            .total_data_volume_bytes
            .saturating_add(r.data_volume_bytes);
        s.utilization += (r.utilization - s.utilization) / s.total_operations as f64;
        s.peak_utilization = s.peak_utilization.max(r.utilization);
        for (k, v) in &r.energy_by_component {
            *s.energy_by_component.entry(k.clone()).or_default() += v;
        }
        s.operations
            .entry(r.operation.name().to_owned())
            .or_default()
            .add(r);
    }
}

/// `energy.<component>_pj` for the conventional components (metric keys are static names).
fn emit_component(component: &str, v: f64) {
    match component {
        "array" => crate::metrics!(energy.array_pj = v),
        "dac" => crate::metrics!(energy.dac_pj = v),
        "adc" => crate::metrics!(energy.adc_pj = v),
        "opamp" => crate::metrics!(energy.opamp_pj = v),
        "write_driver" => crate::metrics!(energy.write_driver_pj = v),
        "digital" => crate::metrics!(energy.digital_pj = v),
        _ => crate::metrics!(energy.other_pj = v),
    }
}
