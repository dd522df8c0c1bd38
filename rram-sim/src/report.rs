//! What each crossbar operation returns: its result and its physical cost.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::energy::EnergyLedger;

/// The physical cost of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct OpCost {
    /// Energy by component and latency.
    pub energy: EnergyLedger,
    /// Data moved between the digital side and the array, bytes (f64 per value).
    pub bytes: u64,
    /// Devices involved (two per differential pair).
    pub cells_used: u64,
    /// Area of the hardware the operation used (the array and its periphery), µm².
    pub area_um2: f64,
}

/// Result of [`Crossbar::write_matrix`](crate::Crossbar::write_matrix).
#[derive(Debug, Clone, PartialEq)]
pub struct WriteReport {
    /// Energy, latency, bytes, cells.
    pub cost: OpCost,
    /// Write pulses over all devices (write-verify iterations).
    pub pulses_total: u64,
    /// Most pulses any one device needed.
    pub pulses_max: u32,
    /// Devices left outside the write-verify tolerance after the maximum number of pulses.
    pub cells_failed: u64,
    /// Largest programming error |G - target|, uS.
    pub max_error_us: f64,
}

/// Result of [`Crossbar::read_matrix`](crate::Crossbar::read_matrix).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadReport {
    /// The matrix as read (value units), with read noise and ADC rounding.
    pub matrix: DMatrix<f64>,
    /// Energy, latency, bytes, cells.
    pub cost: OpCost,
}

/// Result of [`Crossbar::matrix_vector_multiply`](crate::Crossbar::matrix_vector_multiply).
#[derive(Debug, Clone, PartialEq)]
pub struct MvmReport {
    /// y = M x as digitised.
    pub y: DVector<f64>,
    /// Energy, latency, bytes, cells.
    pub cost: OpCost,
    /// Input bit slices applied (bit-serial steps).
    pub input_slices: u32,
}

/// Result of [`Crossbar::solve`](crate::Crossbar::solve).
#[derive(Debug, Clone, PartialEq)]
pub struct InvReport {
    /// x with M x = b as digitised.
    pub x: DVector<f64>,
    /// Energy, latency, bytes, cells.
    pub cost: OpCost,
    /// Settling time of the loop, ns.
    pub settling_ns: f64,
    /// Smallest real part of the eigenvalues of the loop matrix D^-1 G + I/A (the same as
    /// `dynamics.min_re_lambda`): sets the settling time.
    pub lambda_min: f64,
    /// The loop's eigenvalue summary and settling time.
    pub dynamics: crate::dynamics::LoopDynamics,
}
