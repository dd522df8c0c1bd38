//! The hardware profiler: the [`RramDevice`] trait and [`HardwarePerformanceProfiler`].
