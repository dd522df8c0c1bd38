//! # rram-sim
//!
//! An RRAM crossbar simulator with a physical energy and latency model, and the solvers that
//! get digital precision out of analogue arrays: HP-INV (Zuo et al., Nature Electronics 2025),
//! an adaptive variant, and BlockAMC (Pan, Zuo et al. 2024). Every crossbar operation is a
//! `hardware_access` profiler span reporting `energy_pj`, `latency_ns`, `bytes` and energy by
//! component; every solver iteration is an `algorithm_step` span with `residual` and
//! `bits_gained`.
//!
//! ```
//! use nalgebra::{DMatrix, DVector};
//! use rram_sim::{hp_inv, HpInvConfig};
//!
//! let g = DMatrix::from_fn(8, 8, |i, j| if i == j { 2.0 } else { 0.1 });
//! let b = DVector::from_element(8, 1.0);
//! let out = hp_inv(&g, &b, &HpInvConfig::default()).unwrap();
//! assert!(out.info.converged);
//! println!("{} iterations, {:.1} pJ", out.iterations, out.energy.total_pj());
//! ```
#![warn(missing_docs)]

pub mod area;
pub mod assumptions;
pub mod crossbar;
pub mod device;
mod device_impl;
pub mod dynamics;
mod effective;
pub mod energy;
pub mod error;
mod inv_loop;
pub mod limits;
mod linalg;
pub mod mapping;
pub mod mimo;
pub mod periphery;
mod program;
pub mod quantize;
pub mod report;
mod rng;
pub mod solver;
pub mod systems;
mod write_verify;
mod ziggurat;

pub use crossbar::Crossbar;
pub use device::DeviceParams;
pub use energy::EnergyLedger;
pub use error::SimError;
pub use periphery::{AdcModel, PeripheryParams};
pub use report::{InvReport, MvmReport, OpCost, ReadReport, WriteReport};
pub use solver::{
    adaptive_hp_inv, block_amc, hp_inv, hp_inv_observed, AdaptiveConfig, BlockAmcConfig,
    HpInvConfig, SolveInfo, SolveOutput,
};
