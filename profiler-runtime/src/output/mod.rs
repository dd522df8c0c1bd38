//! Everything the profiler writes: versioned JSON profiles (`persist`), traces and folded
//! stacks (`export`), flame graphs and charts (`plot`).

#[cfg(feature = "export")]
pub mod export;
#[cfg(feature = "persist")]
pub mod persist;
#[cfg(feature = "plot")]
pub mod plot;
