//! Exports of a [`Profile`](crate::Profile) for the tools people already use:
//!
//! - [`Profile::to_chrome_trace`](crate::Profile::to_chrome_trace): Chrome Trace Event JSON for
//!   Perfetto (ui.perfetto.dev) and `chrome://tracing`;
//! - [`Profile::to_folded_stacks`](crate::Profile::to_folded_stacks): folded stacks
//!   (`a;b;c 123`, self time in ns) for flame-graph tools;
//! - [`Profile::to_flamegraph_svg`](crate::Profile::to_flamegraph_svg): an interactive
//!   flame-graph SVG drawn by `inferno` (feature `flamegraph`).

mod chrome;
#[cfg(feature = "flamegraph")]
mod flamegraph;
mod folded;
mod lanes;

pub use chrome::TRACE_PID;
pub use folded::{folded_stacks, folded_stacks_with_depth, DEEPER_FRAME, DEFAULT_MAX_STACK_DEPTH};
