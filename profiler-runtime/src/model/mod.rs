//! The data model: plain data that every other part reads and writes.
//!
//! One closed span is a [`ProfileEvent`](event::ProfileEvent); exact per-operation aggregates
//! are [`OperationStats`](stats::OperationStats); a [`Profile`](profile::Profile) is one
//! consistent snapshot of everything (events, aggregates, monitor samples, sessions, threads,
//! system info). Nothing here records, reads the machine or renders.

pub mod counters;
pub mod energy;
pub mod event;
pub mod float;
pub mod hash;
pub mod histogram;
pub(crate) mod merge;
pub mod metric_map;
pub mod otlp_status;
pub mod process;
pub mod profile;
pub mod sample;
pub mod session;
pub mod stats;
pub mod system;
pub mod units;
