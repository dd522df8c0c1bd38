//! [`Crossbar`] as an [`RramDevice`], so `HardwarePerformanceProfiler` can drive it.
//!
//! Costs are the crossbar's own reports ([`OpCost`]): energy by component and latency from the
//! physical model, bytes moved, and devices used (two per differential pair, so the cells
//! available are `2 x rows x cols`). The crossbar reports its metrics in its own
//! `hardware_access` spans, so [`RramDevice::reports_own_metrics`] is true.

use std::collections::BTreeMap;

use nalgebra::{DMatrix, DVector};
use profiler_runtime::hardware::{DeviceCost, DeviceOutput, RramDevice};

use crate::crossbar::Crossbar;
use crate::energy::EnergyLedger;
use crate::error::SimError;
use crate::report::OpCost;

/// The profiler-facing cost of one crossbar operation.
pub(crate) fn device_cost(c: &OpCost) -> DeviceCost {
    let components: BTreeMap<String, f64> = EnergyLedger::COMPONENTS
        .iter()
        .zip(c.energy.components())
        .map(|(k, v)| ((*k).to_owned(), v))
        .collect();
    DeviceCost {
        energy_pj: c.energy.total_pj(),
        latency_ns: c.energy.latency_ns,
        data_volume_bytes: c.bytes,
        cells_used: c.cells_used,
        energy_by_component: components,
    }
}

impl RramDevice for Crossbar {
    type Error = SimError;

    fn shape(&self) -> (usize, usize) {
        Crossbar::shape(self)
    }

    fn cells_available(&self) -> u64 {
        let (r, c) = Crossbar::shape(self);
        2u64.saturating_mul(r as u64).saturating_mul(c as u64)
    }

    fn reports_own_metrics(&self) -> bool {
        true
    }

    fn write_matrix(&mut self, m: &DMatrix<f64>) -> Result<DeviceOutput<()>, SimError> {
        let w = Crossbar::write_matrix(self, m)?;
        Ok(DeviceOutput {
            value: (),
            cost: device_cost(&w.cost),
        })
    }

    fn read_matrix(&mut self) -> Result<DeviceOutput<DMatrix<f64>>, SimError> {
        let r = Crossbar::read_matrix(self)?;
        Ok(DeviceOutput {
            cost: device_cost(&r.cost),
            value: r.matrix,
        })
    }

    fn matrix_vector_multiply(
        &mut self,
        x: &DVector<f64>,
    ) -> Result<DeviceOutput<DVector<f64>>, SimError> {
        let r = Crossbar::matrix_vector_multiply(self, x)?;
        Ok(DeviceOutput {
            cost: device_cost(&r.cost),
            value: r.y,
        })
    }

    fn solve(&mut self, b: &DVector<f64>) -> Result<DeviceOutput<DVector<f64>>, SimError> {
        let r = Crossbar::solve(self, b)?;
        Ok(DeviceOutput {
            cost: device_cost(&r.cost),
            value: r.x,
        })
    }
}
