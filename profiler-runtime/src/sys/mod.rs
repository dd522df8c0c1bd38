//! What the profiler reads from the machine, off the hot path: the background monitor (RSS,
//! CPU%, live heap against the allocator's footprint, the rest of the machine's load), the
//! machine's description, CPU-time clocks, the RAPL energy meter and hardware counters.

pub mod cputime;
pub mod footprint;
#[cfg(feature = "monitor")]
pub(crate) mod monitor;
pub mod perf;
pub mod power;
mod process;
pub mod procstat;
pub(crate) mod rss;
mod system;

pub use cputime::{thread_cpu_ns, ScalingClock};
pub use footprint::allocator_footprint_bytes;
pub use perf::{Counter, CounterEvent, CounterReading, SessionCounters};
pub use power::{process_cpu_seconds, CpuEnergyMeter, RaplReader, POWERCAP_DIR};
pub use process::process_started_at_unix_ns;
pub(crate) use process::this_process;
pub use procstat::{read_proc_stat, CpuTimes};
pub use rss::current_rss_bytes;
