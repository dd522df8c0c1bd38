//! A driver crate that depends on `rram-profiler` only (no `profiler-runtime`, no `tracing`):
//! the attribute and the macros find the runtime through the umbrella crate.

use rram_profiler::{metrics, profile, profile_scope};

/// One profiled operation with a metric and a scope inside.
#[profile(kind = "hardware_access", fields(tile = tile))]
pub fn program(tile: usize, cells: usize) -> usize {
    metrics!(energy_pj = cells as f64 * 2.5);
    {
        profile_scope!("program.verify", kind = "computation");
        metrics!(bytes = cells * 8);
    }
    cells
}

#[cfg(test)]
mod tests {
    use rram_profiler::PerformanceProfiler;

    #[test]
    fn the_umbrella_crate_is_enough() {
        let p = PerformanceProfiler::builder()
            .without_monitor()
            .build()
            .unwrap();
        p.in_scope(|| super::program(3, 64));
        let snap = p.snapshot();
        let e = snap.events_named("program").next().unwrap();
        assert_eq!(e.metric("energy_pj"), Some(160.0));
        assert_eq!(e.metric("tile"), Some(3.0));
        let v = snap.events_named("program.verify").next().unwrap();
        assert_eq!(v.parent, Some(e.id));
        assert_eq!(v.metric("bytes"), Some(512.0));
    }
}
