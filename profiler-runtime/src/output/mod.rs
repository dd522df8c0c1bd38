//! Everything the profiler writes: versioned JSON profiles (`persist`), traces and folded
//! stacks (`export`), flame graphs and charts (`plot`), the crash-safe journal (`journal`);
//! every file goes through the one safe writer ([`write`](mod@write)).

#[cfg(feature = "export")]
pub mod export;
#[cfg(feature = "persist")]
pub mod journal;
#[cfg(feature = "persist")]
pub mod persist;
#[cfg(feature = "plot")]
pub mod plot;
pub mod write;
