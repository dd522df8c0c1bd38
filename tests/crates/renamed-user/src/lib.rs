//! A crate that depends on the runtime renamed (`prt = { package = "profiler-runtime" }`):
//! `#[profile]` reads the new name from this crate's manifest.

use prt::{metrics, profile, profile_scope};

/// One profiled operation with a metric and a scope inside.
#[profile(kind = "computation", fields(n = n))]
pub fn solve(n: u64) -> u64 {
    profile_scope!("solve.inner");
    metrics!(flops = 2 * n * n);
    n * n
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_renamed_runtime_is_found() {
        let p = prt::PerformanceProfiler::builder()
            .without_monitor()
            .build()
            .unwrap();
        p.in_scope(|| super::solve(4));
        let snap = p.snapshot();
        let e = snap.events_named("solve").next().unwrap();
        assert_eq!(e.metric("n"), Some(4.0));
        let inner = snap.events_named("solve.inner").next().unwrap();
        assert_eq!(inner.parent, Some(e.id));
        assert_eq!(inner.metric("flops"), Some(32.0));
    }
}
