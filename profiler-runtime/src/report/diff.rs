//! Comparing two profiles operation by operation: time, memory and energy per call, with
//! regressions marked against a threshold (for CI gates such as `rram-prof diff`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ProfileError;
use crate::model::event::EventKind;
use crate::model::profile::Profile;
use crate::model::stats::OperationStats;
use crate::model::units::{fmt_bytes, fmt_ns, fmt_pj};

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
    /// Whether any change passes the threshold in the bad direction.
    pub regression: bool,
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
                let regression = [time, mem, energy]
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

fn change(c: Option<f64>) -> String {
    c.map_or_else(|| "-".to_owned(), |c| format!("{c:+.1}%"))
}

impl fmt::Display for ProfileDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.regressions().count();
        writeln!(
            f,
            "{} operation(s) compared, {} regression(s) over {:.1}%",
            self.operations.len(),
            n,
            self.threshold_pct
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
                change(d.time_change_pct),
                d.new
                    .and_then(|x| x.alloc_bytes_per_call)
                    .map_or_else(|| "-".to_owned(), fmt_bytes),
                change(d.memory_change_pct),
                d.new
                    .and_then(|x| x.energy_pj_per_call)
                    .map_or_else(|| "-".to_owned(), fmt_pj),
                change(d.energy_change_pct),
            )?;
        }
        Ok(())
    }
}
