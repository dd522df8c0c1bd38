//! Solvers for `G x = b` that reach digital precision on analogue arrays: [`hp_inv`],
//! [`adaptive_hp_inv`] and [`block_amc`], all iterative refinement
//! x_{k+1} = x_k + M^-1 (b - G x_k) with a low-precision analogue inverse M^-1 (one array, or
//! BlockAMC over tiles) and a bit-sliced high-precision residual (HP-MVM).
//!
//! The error contracts by rho(I - G M^-1) per iteration; each solver estimates it by power
//! iteration before starting and refuses (with [`SimError::Divergence`](crate::SimError::Divergence)) when it is >= 1.

mod adaptive;
mod block_amc;
mod block_tree;
mod config;
mod hp_inv;
pub(crate) mod hp_mvm;
mod hp_slice;
mod one_shot;
mod refine;

pub use adaptive::{adaptive_hp_inv, AdaptiveConfig};
pub use block_amc::{block_amc, BlockAmcConfig};
pub use config::{HpInvConfig, SolveInfo, SolveOutput, MAX_ITER_LIMIT};
pub use hp_inv::{hp_inv, hp_inv_observed};
pub use one_shot::{amc_once, block_amc_once, OneShot};
