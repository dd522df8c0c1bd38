#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

/// The `#[profile]` attribute's crate.
pub use profiler_macros;
/// The runtime: the layer, the profiler API, analysis, reports and exports.
pub use profiler_runtime;
/// The RRAM crossbar simulator.
pub use rram_sim;

pub use profiler_runtime::{
    metrics, profile, profile_scope, CountingAllocator, EventKind, PerformanceProfiler, Profile,
    ProfileError, ProfileEvent,
};
