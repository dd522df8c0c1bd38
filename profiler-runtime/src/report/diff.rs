//! Comparing two profiles operation by operation: time, memory and energy per call, with
//! regressions marked against a threshold (for CI gates such as `rram-prof diff`).
//!
//! A relative threshold cannot judge a figure that was 0: any growth from 0 is infinitely many
//! percent. So a figure that goes from 0 to above an absolute floor is a regression whatever
//! the threshold (a *new cost*), and one that stays at or below the floor is not:
//!
//! | figure | floor | why |
//! |---|---|---|
//! | median time per call | [`NEW_TIME_FLOOR_NS`] = 1 µs | ten times the profiler's own cost per call (about 100 ns) and the timer's jitter, so a zero-length event that picks up noise is not flagged, while real work (0 -> 100 ms) is |
//! | bytes allocated per call | [`NEW_MEMORY_FLOOR_BYTES`] = 1 KiB | allocation counts are exact, but a few small incidental allocations (a formatted string, a `Vec` push) come and go with inputs; 1 KiB per call is a buffer, not noise |
//! | energy per call | [`NEW_ENERGY_FLOOR_PJ`] = 1 pJ | energy is modelled, hence deterministic: anything above rounding (about the energy of one device read) is a real new cost |
//!
//! An operation that did not report energy at all in the old profile counts as 0 pJ there
//! (energy is additive: nothing reported, nothing spent); one without allocation data (no
//! counting allocator) is not compared.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ProfileError;
use crate::model::event::EventKind;
use crate::model::profile::Profile;
use crate::model::stats::OperationStats;
use crate::model::units::{fmt_bytes, fmt_ns, fmt_pj};

/// A median time per call that appears from 0 above this, ns, is a regression (see the
/// [module docs](self)).
pub const NEW_TIME_FLOOR_NS: f64 = 1_000.0;
/// Bytes allocated per call that appear from 0 above this are a regression.
pub const NEW_MEMORY_FLOOR_BYTES: f64 = 1024.0;
/// Energy per call, pJ, that appears from 0 above this is a regression.
pub const NEW_ENERGY_FLOOR_PJ: f64 = 1.0;

/// Per-call figures of one operation in one profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CallFigures {
    /// Calls.
    pub count: u64,
    /// Median wall time per call, ns (robust to outliers; within 1%).
    pub p50_ns: f64,
    /// Mean wall time per call, ns.
    pub mean_ns: f64,
    /// Bytes allocated per call, where known.
    pub alloc_bytes_per_call: Option<f64>,
    /// Energy per call, pJ, where reported.
    pub energy_pj_per_call: Option<f64>,
}

impl CallFigures {
    fn of(o: &OperationStats) -> Self {
        let n = o.count.max(1) as f64;
        CallFigures {
            count: o.count,
            p50_ns: o.p50_ns() as f64,
            mean_ns: o.mean_ns(),
            alloc_bytes_per_call: (o.alloc_count > 0)
                .then(|| o.alloc.allocated_bytes as f64 / o.alloc_count as f64),
            energy_pj_per_call: o.metrics.get("energy_pj").map(|m| m.sum / n),
        }
    }
}

/// How one operation changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationDiff {
    /// Operation name.
    pub name: String,
    /// Its kind.
    pub kind: EventKind,
    /// Figures in the old profile (`None`: new operation).
    pub old: Option<CallFigures>,
    /// Figures in the new profile (`None`: removed operation).
    pub new: Option<CallFigures>,
    /// Change of the median time per call, percent (positive: slower).
    pub time_change_pct: Option<f64>,
    /// Change of bytes allocated per call, percent.
    pub memory_change_pct: Option<f64>,
    /// Change of energy per call, percent.
    pub energy_change_pct: Option<f64>,
    /// Whether any change passes the threshold in the bad direction, or a cost appeared
    /// from 0 (see [`new_costs`](Self::new_costs)).
    pub regression: bool,
    /// The figures that went from 0 to above their floor: `"time"`, `"memory"`, `"energy"`.
    #[serde(default)]
    pub new_costs: Vec<String>,
}

/// The comparison of two profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileDiff {
    /// The threshold used, percent.
    pub threshold_pct: f64,
    /// Per-operation changes, regressions first, then by the size of the time change.
    pub operations: Vec<OperationDiff>,
}

impl ProfileDiff {
    /// Compares `old` and `new`: an operation regresses when its median time, bytes or energy
    /// per call grows by more than `threshold_pct` percent.
    ///
    /// ```
    /// use profiler_runtime::{report::diff::ProfileDiff, Profile};
    /// let d = ProfileDiff::compare(&Profile::empty(), &Profile::empty(), 10.0).unwrap();
    /// assert!(d.regressions().next().is_none());
    /// ```
    pub fn compare(old: &Profile, new: &Profile, threshold_pct: f64) -> Result<Self, ProfileError> {
        if !threshold_pct.is_finite() || threshold_pct < 0.0 {
            return Err(ProfileError::InvalidInput(format!(
                "threshold must be a non-negative percentage, got {threshold_pct}"
            )));
        }
        let index = |p: &Profile| -> BTreeMap<(String, EventKind), CallFigures> {
            let mut m: BTreeMap<(String, EventKind), OperationStats> = BTreeMap::new();
            for o in &p.operations {
                match m.get_mut(&(o.name.to_string(), o.kind)) {
                    Some(x) => x.merge(o),
                    None => {
                        m.insert((o.name.to_string(), o.kind), o.clone());
                    }
                }
            }
            m.into_iter()
                .map(|(k, o)| (k, CallFigures::of(&o)))
                .collect()
        };
        let (a, b) = (index(old), index(new));
        let mut keys: Vec<&(String, EventKind)> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        let pct = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) if x > 0.0 => Some((y - x) / x * 100.0),
            _ => None,
        };
        let mut operations: Vec<OperationDiff> = keys
            .into_iter()
            .map(|k| {
                let (o, n) = (a.get(k).copied(), b.get(k).copied());
                let time = pct(o.map(|f| f.p50_ns), n.map(|f| f.p50_ns));
                let mem = pct(
                    o.and_then(|f| f.alloc_bytes_per_call),
                    n.and_then(|f| f.alloc_bytes_per_call),
                );
                let energy = pct(
                    o.and_then(|f| f.energy_pj_per_call),
                    n.and_then(|f| f.energy_pj_per_call),
                );
                let mut new_costs = Vec::new();
                if let (Some(o), Some(n)) = (o, n) {
                    let appeared = |was: Option<f64>, now: Option<f64>, floor: f64| {
                        was == Some(0.0) && now.is_some_and(|v| v > floor)
                    };
                    if appeared(Some(o.p50_ns), Some(n.p50_ns), NEW_TIME_FLOOR_NS) {
                        new_costs.push("time".to_owned());
                    }
                    if appeared(
                        o.alloc_bytes_per_call,
                        n.alloc_bytes_per_call,
                        NEW_MEMORY_FLOOR_BYTES,
                    ) {
                        new_costs.push("memory".to_owned());
                    }
                    if appeared(
                        Some(o.energy_pj_per_call.unwrap_or(0.0)),
                        n.energy_pj_per_call,
                        NEW_ENERGY_FLOOR_PJ,
                    ) {
                        new_costs.push("energy".to_owned());
                    }
                }
                let regression = !new_costs.is_empty()
                    || [time, mem, energy]
                        .iter()
                        .flatten()
                        .any(|c| *c > threshold_pct);
                OperationDiff {
                    name: k.0.clone(),
                    kind: k.1,
                    old: o,
                    new: n,
                    time_change_pct: time,
                    memory_change_pct: mem,
                    energy_change_pct: energy,
                    regression,
                    new_costs,
                }
            })
            .collect();
        operations.sort_by(|x, y| {
            y.regression.cmp(&x.regression).then_with(|| {
                let t = |d: &OperationDiff| d.time_change_pct.map_or(0.0, f64::abs);
                t(y).total_cmp(&t(x))
            })
        });
        Ok(ProfileDiff {
            threshold_pct,
            operations,
        })
    }

    /// The operations that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &OperationDiff> {
        self.operations.iter().filter(|d| d.regression)
    }
}

fn change(d: &OperationDiff, what: &str, c: Option<f64>) -> String {
    if d.new_costs.iter().any(|n| n == what) {
        return "new".to_owned();
    }
    c.map_or_else(|| "-".to_owned(), |c| format!("{c:+.1}%"))
}

impl fmt::Display for ProfileDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.regressions().count();
        writeln!(
            f,
            "{} operation(s) compared, {} regression(s) over {:.1}% or new costs (from 0 to above \
             {} per call, {} per call or a {} median)",
            self.operations.len(),
            n,
            self.threshold_pct,
            fmt_pj(NEW_ENERGY_FLOOR_PJ),
            fmt_bytes(NEW_MEMORY_FLOOR_BYTES),
            fmt_ns(NEW_TIME_FLOOR_NS),
        )?;
        writeln!(
            f,
            "  {:<2} {:<34} {:>11} {:>11} {:>9} {:>11} {:>9} {:>11} {:>9}",
            "",
            "operation",
            "old p50",
            "new p50",
            "time",
            "new bytes",
            "memory",
            "new energy",
            "energy"
        )?;
        for d in &self.operations {
            let mark = if d.regression {
                "!!"
            } else if d.old.is_none() {
                "+"
            } else if d.new.is_none() {
                "-"
            } else {
                ""
            };
            let p50 =
                |x: Option<CallFigures>| x.map_or_else(|| "-".to_owned(), |x| fmt_ns(x.p50_ns));
            writeln!(
                f,
                "  {:<2} {:<34} {:>11} {:>11} {:>9} {:>11} {:>9} {:>11} {:>9}",
                mark,
                d.name,
                p50(d.old),
                p50(d.new),
                change(d, "time", d.time_change_pct),
                d.new
                    .and_then(|x| x.alloc_bytes_per_call)
                    .map_or_else(|| "-".to_owned(), fmt_bytes),
                change(d, "memory", d.memory_change_pct),
                d.new
                    .and_then(|x| x.energy_pj_per_call)
                    .map_or_else(|| "-".to_owned(), fmt_pj),
                change(d, "energy", d.energy_change_pct),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(p50_ns: u64, alloc: Option<u64>, energy_pj: Option<f64>) -> Profile {
        let mut o = OperationStats::new("op".into(), EventKind::Computation);
        for _ in 0..10 {
            o.count += 1;
            o.total_ns += p50_ns;
            o.histogram.record(p50_ns);
        }
        o.min_ns = p50_ns;
        o.max_ns = p50_ns;
        if let Some(b) = alloc {
            o.alloc.allocated_bytes = b * 10;
            o.alloc_count = 10;
        }
        if let Some(e) = energy_pj {
            let mut m = crate::model::stats::MetricAggregate::of(e);
            m.sum = e * 10.0;
            m.count = 10;
            o.metrics.insert("energy_pj".into(), m);
        }
        let mut p = Profile::empty();
        p.operations.push(o);
        p
    }

    fn regressed(old: &Profile, new: &Profile) -> Vec<String> {
        let d = ProfileDiff::compare(old, new, 10.0).unwrap();
        d.operations[0].new_costs.clone()
    }

    #[test]
    fn costs_that_appear_from_zero_are_regressions() {
        let base = profile(0, Some(0), Some(0.0));
        // 0 -> 100 ms median, 0 -> 10 MiB per call, 0 -> 100 uJ per call.
        assert_eq!(
            regressed(&base, &profile(100_000_000, Some(0), Some(0.0))),
            ["time"]
        );
        assert_eq!(
            regressed(&base, &profile(0, Some(10 << 20), Some(0.0))),
            ["memory"]
        );
        assert_eq!(
            regressed(&base, &profile(0, Some(0), Some(1e8))),
            ["energy"]
        );
        // Energy never reported before counts as none spent.
        assert_eq!(
            regressed(&profile(0, None, None), &profile(0, None, Some(1e8))),
            ["energy"]
        );
        // At or below the floors: noise, not a regression.
        let small = profile(900, Some(512), Some(0.5));
        let d = ProfileDiff::compare(&base, &small, 10.0).unwrap();
        assert!(d.regressions().next().is_none(), "{d}");
        // No allocation data before: not compared.
        assert!(regressed(&profile(5, None, None), &profile(5, Some(1 << 20), None)).is_empty());
        let d =
            ProfileDiff::compare(&base, &profile(100_000_000, Some(0), Some(0.0)), 10.0).unwrap();
        assert!(d.to_string().contains("new"), "{d}");
    }
}
