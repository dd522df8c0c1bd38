//! Severity, category and the [`Bottleneck`] record every analysis produces.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::event::PerformanceMetric;

/// How much a bottleneck matters, from its share of the total it is measured against
/// (profiled self time for time bottlenecks, reported energy for energy bottlenecks, allocated
/// bytes for memory bottlenecks).
///
/// Thresholds (share of the total):
///
/// | severity | share |
/// |---|---|
/// | [`Critical`](Severity::Critical) | at least 50% |
/// | [`High`](Severity::High) | at least 25% |
/// | [`Medium`](Severity::Medium) | at least 10% |
/// | [`Low`](Severity::Low) | below 10% |
///
/// ```
/// use profiler_runtime::analysis::Severity;
/// assert_eq!(Severity::from_share(0.8), Severity::Critical);
/// assert_eq!(Severity::from_share(0.3), Severity::High);
/// assert_eq!(Severity::from_share(0.1), Severity::Medium);
/// assert_eq!(Severity::from_share(0.01), Severity::Low);
/// assert!(Severity::Critical > Severity::Low);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Below [`MEDIUM_SHARE`].
    Low,
    /// At least [`MEDIUM_SHARE`].
    Medium,
    /// At least [`HIGH_SHARE`].
    High,
    /// At least [`CRITICAL_SHARE`].
    Critical,
}

/// Share of the total at or above which a bottleneck is [`Severity::Critical`].
pub const CRITICAL_SHARE: f64 = 0.50;
/// Share of the total at or above which a bottleneck is [`Severity::High`].
pub const HIGH_SHARE: f64 = 0.25;
/// Share of the total at or above which a bottleneck is [`Severity::Medium`].
pub const MEDIUM_SHARE: f64 = 0.10;

impl Severity {
    /// The severity of a share in `[0, 1]` of the total (NaN counts as 0).
    pub fn from_share(share: f64) -> Severity {
        if share >= CRITICAL_SHARE {
            Severity::Critical
        } else if share >= HIGH_SHARE {
            Severity::High
        } else if share >= MEDIUM_SHARE {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// The lower-case name (`critical`, `high`, `medium`, `low`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a bottleneck is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// CPU time in the program's own code.
    Compute,
    /// Heap allocation, growth, leaks.
    Memory,
    /// Time or energy in `hardware_access` spans; transfers; utilisation.
    Hardware,
    /// Blocking I/O.
    Io,
    /// Energy by operation or circuit component.
    Energy,
    /// Iterative algorithms: convergence, scaling.
    Algorithm,
}

impl Category {
    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Compute => "compute",
            Category::Memory => "memory",
            Category::Hardware => "hardware",
            Category::Io => "io",
            Category::Energy => "energy",
            Category::Algorithm => "algorithm",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a finding knows what it says.
///
/// | basis | meaning |
/// |---|---|
/// | [`Measured`](Basis::Measured) | from what the profiler timed or counted, or what the code under profile reported (rram-sim's energies are its own model's) |
/// | [`Modelled`](Basis::Modelled) | from a model with stated assumptions (watts per busy core, a machine balance) |
/// | [`Heuristic`](Basis::Heuristic) | inferred from names or patterns that can be wrong (a name containing "json", a function assumed to depend only on its recorded arguments, growth whose fate is unknown) |
///
/// A heuristic finding never ranks above [`Severity::Medium`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Timed, counted or reported.
    Measured,
    /// Computed from a model with stated assumptions.
    Modelled,
    /// Inferred from names or patterns.
    Heuristic,
}

impl Basis {
    /// `measured`, `modelled` or `heuristic`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Basis::Measured => "measured",
            Basis::Modelled => "modelled",
            Basis::Heuristic => "heuristic",
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The highest severity a finding on `basis` may have alone: [`Severity::Medium`] for a
/// heuristic one.
pub const fn severity_cap(basis: Basis) -> Severity {
    match basis {
        Basis::Heuristic => Severity::Medium,
        Basis::Measured | Basis::Modelled => Severity::Critical,
    }
}

/// One finding: what, how bad, the numbers behind it, how they are known, and what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bottleneck {
    /// What it is about.
    pub category: Category,
    /// The performance metric it concerns (reports group findings by it).
    pub metric: PerformanceMetric,
    /// How it is known; a [`Basis::Heuristic`] finding is at most [`Severity::Medium`].
    pub basis: Basis,
    /// How much it matters (see [`Severity`] for the thresholds).
    pub severity: Severity,
    /// The operation (span name) or component it concerns, if one.
    pub subject: String,
    /// Share of the total the severity was computed from, in `[0, 1]`.
    pub share: f64,
    /// One-line title.
    pub title: String,
    /// The evidence, in numbers.
    pub evidence: String,
    /// A concrete next step.
    pub recommendation: String,
}

/// `part / whole`, 0 where `whole` is not positive.
pub(crate) fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 && part.is_finite() {
        (part / whole).clamp(0.0, 1.0)
    } else {
        0.0
    }
}
