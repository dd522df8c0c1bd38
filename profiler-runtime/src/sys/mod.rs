//! What the profiler reads from the machine, off the hot path: the background monitor (RSS and
//! CPU%), the machine's description, CPU-time clocks and the RAPL energy meter.

pub mod cputime;
#[cfg(feature = "monitor")]
pub(crate) mod monitor;
pub mod power;
mod process;
pub(crate) mod rss;
mod system;

pub use cputime::{thread_cpu_ns, ScalingClock};
pub use power::{process_cpu_seconds, CpuEnergyMeter, RaplReader, POWERCAP_DIR};
pub use process::process_started_at_unix_ns;
pub(crate) use process::this_process;
pub use rss::current_rss_bytes;
