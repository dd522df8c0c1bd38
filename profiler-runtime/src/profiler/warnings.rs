//! Warnings in plain sight: what a profiler could not record, said on the session results,
//! the snapshot and the report instead of a silently empty profile.

use std::sync::atomic::Ordering;

use crate::record::notes::disabled_callsites;

use super::PerformanceProfiler;

/// Names listed in one warning at most (the rest are counted).
const LISTED: usize = 8;

impl PerformanceProfiler {
    /// What this profiler could not see, in words, for a window of `events` recorded events
    /// (empty when all is well):
    ///
    /// - it was never attached to a subscriber (no [`install`](Self::install), no
    ///   [`layer`](Self::layer) added to a registry), so `#[profile]` spans are not recorded;
    /// - `#[profile]` spans that a filter in the subscriber disabled while a profiler was
    ///   attached (a global `EnvFilter` or `LevelFilter` filters the profiler's spans too),
    ///   with the per-layer pattern that avoids it;
    /// - `#[profile]` spans that ran where no profiler was the subscriber (another thread of a
    ///   scoped profiler), when the window recorded nothing.
    ///
    /// Session results ([`stop_profiling`](Self::stop_profiling)), snapshots and reports carry
    /// these as `warnings`.
    ///
    /// ```
    /// use profiler_runtime::{profile, PerformanceProfiler};
    ///
    /// #[profile]
    /// fn step() {}
    ///
    /// let profiler = PerformanceProfiler::new(); // never installed
    /// profiler.start_profiling("run");
    /// step();
    /// let run = profiler.stop_profiling("run").unwrap();
    /// assert_eq!(run.events_count, 0);
    /// assert!(run.warnings[0].contains("never attached"));
    /// ```
    pub fn warnings(&self, events: u64) -> Vec<String> {
        let mut out = Vec::new();
        let attached = self.inner.collector.attached.load(Ordering::Relaxed);
        let (filtered, unattached) = disabled_callsites(self.inner.collector.id);
        if !attached && (events == 0 || !unattached.is_empty()) {
            out.push(
                "this profiler was never attached to a subscriber, so `#[profile]` spans are not \
                 recorded: call `profiler.install()` at start-up, or add `profiler.layer()` to \
                 your registry (`record_event` and `profile_function` record without it)"
                    .to_owned(),
            );
        }
        if attached && !filtered.is_empty() {
            out.push(format!(
                "a filter in the subscriber disabled {} `#[profile]` span(s): {}; a filter on \
                 the whole registry filters the profiler's spans too, so give it to the layer \
                 it is for: `registry().with(profiler.layer()).with(fmt::layer()\
                 .with_filter(EnvFilter::from_default_env()))`, or raise the spans' level with \
                 `#[profile(level = \"..\")]`",
                filtered.len(),
                listed(&filtered)
            ));
        }
        if attached && events == 0 && !unattached.is_empty() {
            out.push(format!(
                "no events were recorded, and {} `#[profile]` span(s) ran where this profiler \
                 was not the subscriber: {} (a scoped profiler, `in_scope` or `with_default`, \
                 sees only its own thread; `install()` sees every thread)",
                unattached.len(),
                listed(&unattached)
            ));
        }
        out
    }
}

/// `a, b, c` (and `… and N more`).
fn listed(names: &[&str]) -> String {
    let mut s = names
        .iter()
        .take(LISTED)
        .map(|n| format!("`{}`", n.escape_debug()))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED {
        s.push_str(&format!(" and {} more", names.len() - LISTED));
    }
    s
}
