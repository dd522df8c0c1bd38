//! Analysis of a [`Profile`](crate::Profile): fits, series, bottlenecks and recommendations.

mod fit;
mod series;

pub use fit::{fit_power_law, PowerLawFit};
pub use series::{
    component_of, convergence_runs, energy_by_component, energy_by_operation, scaling_series,
    ConvergencePoint, ConvergenceRun, ScalingPoint, ScalingSeries, COMPONENT_PREFIX,
    COMPONENT_SUFFIX, ENERGY_KEY, ITERATION_KEY, RESIDUAL_KEY, SIZE_KEY,
};
