//! Charts of a profile, drawn with plotters into PNG or SVG files (by the path's extension).
//!
//! | [`PlotType`] | shows | from |
//! |---|---|---|
//! | `ExecutionTime` | top operations as horizontal bars, inclusive (wall) time with self time inside | the report's per-operation stats |
//! | `MemoryUsage` | RSS over time, and bytes allocated per operation | monitor samples; `CountingAllocator` |
//! | `EventCounts` | events by kind | the report |
//! | `EnergyBreakdown` | energy by circuit component and by operation | [`energy_by_component`](crate::analysis::energy_by_component), [`energy_by_operation`](crate::analysis::energy_by_operation) |
//! | `Scaling` | median time against problem size `n`, log-log, with the fitted power law and its exponent | [`scaling_series`](crate::analysis::scaling_series), [`fit_power_law`](crate::analysis::fit_power_law) |
//! | `Convergence` | relative residual per iteration, log axis | [`convergence_runs`](crate::analysis::convergence_runs) |
//!
//! A chart without the data it needs (an empty profile, no monitor samples, no energy metrics,
//! fewer than two problem sizes, ...) is still drawn, as a panel that says "no data" and why.
//! Text uses the bundled DejaVu Sans (see `font.rs`), never the system's fonts.
//!
//! [`PerformanceProfiler::visualize_profile`] takes the report the user holds and snapshots the
//! profiler for what a report does not carry (samples, raw events). [`Profile::plot`] and
//! [`render`] draw a snapshot or a loaded file.

mod bars;
mod convergence;
mod energy;
mod event_counts;
mod execution_time;
mod font;
mod memory;
mod scaling;
mod style;

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::str::FromStr;

use plotters::prelude::*;

use crate::error::ProfileError;
use crate::model::profile::Profile;
use crate::output::write::SafeWriter;
use crate::profiler::PerformanceProfiler;
use crate::report::PerformanceReport;

/// What a chart-drawing step returns: plotters' errors as text.
type DrawResult = Result<(), String>;

/// Which chart to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlotType {
    /// Top operations by inclusive time, with their self time.
    ExecutionTime,
    /// RSS over time and bytes allocated per operation.
    MemoryUsage,
    /// Events by kind.
    EventCounts,
    /// Energy by component and by operation.
    EnergyBreakdown,
    /// Time against problem size, log-log, with the fitted exponent.
    Scaling,
    /// Residual per iteration of iterative solvers, log axis.
    Convergence,
}

impl PlotType {
    /// Every chart, in declaration order.
    pub const ALL: [PlotType; 6] = [
        PlotType::ExecutionTime,
        PlotType::MemoryUsage,
        PlotType::EventCounts,
        PlotType::EnergyBreakdown,
        PlotType::Scaling,
        PlotType::Convergence,
    ];

    /// The snake_case name (`execution_time`, ...), as the CLI takes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            PlotType::ExecutionTime => "execution_time",
            PlotType::MemoryUsage => "memory_usage",
            PlotType::EventCounts => "event_counts",
            PlotType::EnergyBreakdown => "energy_breakdown",
            PlotType::Scaling => "scaling",
            PlotType::Convergence => "convergence",
        }
    }
}

impl fmt::Display for PlotType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlotType {
    type Err = ProfileError;

    /// Accepts the snake_case names, case-insensitively, with `-` for `_`.
    ///
    /// ```
    /// use profiler_runtime::output::plot::PlotType;
    /// assert_eq!("energy-breakdown".parse::<PlotType>().unwrap(), PlotType::EnergyBreakdown);
    /// assert!("pie".parse::<PlotType>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        PlotType::ALL
            .into_iter()
            .find(|p| p.as_str() == norm)
            .ok_or_else(|| {
                let names: Vec<&str> = PlotType::ALL.iter().map(|p| p.as_str()).collect();
                ProfileError::InvalidInput(format!(
                    "unknown chart `{s}`; expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// An image format, chosen by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// `.png`
    Png,
    /// `.svg`
    Svg,
}

impl ImageFormat {
    /// The format of `path` by its extension (case-insensitive), or an
    /// [`InvalidInput`](ProfileError::InvalidInput) error naming the extension.
    pub fn of(path: &Path) -> Result<ImageFormat, ProfileError> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("png") => Ok(ImageFormat::Png),
            Some("svg") => Ok(ImageFormat::Svg),
            Some(other) => Err(ProfileError::InvalidInput(format!(
                "cannot draw a chart to `{}`: unsupported extension `.{other}`; expected `.png` or `.svg`",
                path.display()
            ))),
            None => Err(ProfileError::InvalidInput(format!(
                "cannot draw a chart to `{}`: no file extension; expected `.png` or `.svg`",
                path.display()
            ))),
        }
    }
}

/// What every chart reads.
pub(crate) struct Input<'a> {
    pub(crate) report: &'a PerformanceReport,
    pub(crate) profile: &'a Profile,
}

/// Draws `plot` of `profile` to `path` (PNG or SVG by extension).
///
/// ```
/// use profiler_runtime::{output::plot::{render, PlotType}, Profile};
/// let dir = tempfile::tempdir().unwrap();
/// render(&Profile::empty(), PlotType::Scaling, dir.path().join("s.svg")).unwrap();
/// ```
pub fn render(
    profile: &Profile,
    plot: PlotType,
    path: impl AsRef<Path>,
) -> Result<(), ProfileError> {
    render_with_report(
        &PerformanceReport::from_profile(profile),
        profile,
        plot,
        path,
    )
}

/// Draws `plot` to `path` from a report and the profile it was made from (the report for
/// per-operation stats and counts, the profile for samples and raw events).
pub fn render_with_report(
    report: &PerformanceReport,
    profile: &Profile,
    plot: PlotType,
    path: impl AsRef<Path>,
) -> Result<(), ProfileError> {
    render_to(report, profile, plot, &SafeWriter::new(path))
}

/// Draws `plot` (PNG or SVG by the extension of the writer's target) and writes it through
/// `writer` (which may refuse, for example, to write over an input).
pub fn render_to(
    report: &PerformanceReport,
    profile: &Profile,
    plot: PlotType,
    writer: &SafeWriter,
) -> Result<(), ProfileError> {
    let path = writer.target();
    let format = ImageFormat::of(path)?;
    writer.check()?;
    let bytes = draw(report, profile, plot, format).map_err(|reason| ProfileError::Render {
        what: format!("the {plot} chart to `{}`", path.display()),
        reason,
    })?;
    writer.write_bytes(&bytes)
}

/// Draws `plot` in memory and encodes it (the file is written whole, or not at all).
fn draw(
    report: &PerformanceReport,
    profile: &Profile,
    plot: PlotType,
    format: ImageFormat,
) -> Result<Vec<u8>, String> {
    font::ensure_registered().map_err(|e| e.to_string())?;
    let input = Input { report, profile };
    let (w, h) = style::SIZE;
    let drawn = catch_unwind(AssertUnwindSafe(|| match format {
        ImageFormat::Png => {
            let mut rgb = vec![0u8; (w as usize) * (h as usize) * 3];
            draw_to(
                BitMapBackend::with_buffer(&mut rgb, style::SIZE),
                plot,
                &input,
            )?;
            let mut png = Vec::new();
            image::ImageEncoder::write_image(
                image::codecs::png::PngEncoder::new(&mut png),
                &rgb,
                w,
                h,
                image::ColorType::Rgb8,
            )
            .map_err(|e| format!("encoding the PNG: {e}"))?;
            Ok(png)
        }
        ImageFormat::Svg => {
            let mut svg = String::new();
            draw_to(SVGBackend::with_string(&mut svg, style::SIZE), plot, &input)?;
            Ok(svg.into_bytes())
        }
    }));
    match drawn {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(format!("the plotting library failed: {msg}"))
        }
    }
}

fn draw_to<DB: DrawingBackend>(backend: DB, plot: PlotType, input: &Input<'_>) -> DrawResult {
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(style::de)?;
    match plot {
        PlotType::ExecutionTime => execution_time::draw(&root, input)?,
        PlotType::MemoryUsage => memory::draw(&root, input)?,
        PlotType::EventCounts => event_counts::draw(&root, input)?,
        PlotType::EnergyBreakdown => energy::draw(&root, input)?,
        PlotType::Scaling => scaling::draw(&root, input)?,
        PlotType::Convergence => convergence::draw(&root, input)?,
    }
    root.present().map_err(style::de)
}

impl Profile {
    /// Draws `plot` of this profile to `path` ([`render`]).
    pub fn plot(&self, plot: PlotType, path: impl AsRef<Path>) -> Result<(), ProfileError> {
        render(self, plot, path)
    }
}

impl PerformanceProfiler {
    /// Draws `plot` to `path` (PNG or SVG by the extension). Per-operation bars and counts come
    /// from `report`; RSS samples, raw events (scaling, convergence, energy by component) from a
    /// fresh [`snapshot`](Self::snapshot) of this profiler.
    ///
    /// ```
    /// use profiler_runtime::{output::plot::PlotType, EventKind, PerformanceProfiler};
    /// let profiler = PerformanceProfiler::builder().without_monitor().build().unwrap();
    /// profiler.record_event("program_tile", EventKind::HardwareAccess, [("energy_pj", 12.5)]);
    /// let report = profiler.get_performance_report();
    /// let dir = tempfile::tempdir().unwrap();
    /// profiler.visualize_profile(&report, PlotType::EventCounts, dir.path().join("counts.png")).unwrap();
    /// assert!(profiler.visualize_profile(&report, PlotType::EventCounts, dir.path().join("c.jpg")).is_err());
    /// ```
    pub fn visualize_profile(
        &self,
        report: &PerformanceReport,
        plot: PlotType,
        path: impl AsRef<Path>,
    ) -> Result<(), ProfileError> {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let path = path.as_ref();
        ImageFormat::of(path)?;
        render_with_report(report, &self.snapshot(), plot, path)
    }
}
