//! Shared look of the charts: sizes, fonts, colours, unit scaling, the "no data" panel.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::FAMILY;
use super::DrawResult;

/// Size of every chart, pixels (PNG) or user units (SVG).
pub(crate) const SIZE: (u32, u32) = (1280, 800);
/// Caption font size.
pub(crate) const TITLE: u32 = 30;
/// Panel caption font size.
pub(crate) const SUBTITLE: u32 = 22;
/// Axis description font size.
pub(crate) const AXIS: u32 = 19;
/// Tick label font size.
pub(crate) const LABEL: u32 = 16;
/// Longest bar label, characters.
pub(crate) const MAX_LABEL: usize = 34;

/// Colour-blind-safe palette (Okabe-Ito).
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// The `i`-th palette colour.
pub(crate) fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A font of the bundled family.
pub(crate) fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// Unit steps: (size of the unit in base units, its name), smallest first.
type Steps = &'static [(f64, &'static str)];

const TIME: Steps = &[(1.0, "ns"), (1e3, "µs"), (1e6, "ms"), (1e9, "s")];
const BYTES: Steps = &[
    (1.0, "B"),
    (1024.0, "KiB"),
    (1048576.0, "MiB"),
    (1073741824.0, "GiB"),
];
const ENERGY: Steps = &[
    (1.0, "pJ"),
    (1e3, "nJ"),
    (1e6, "µJ"),
    (1e9, "mJ"),
    (1e12, "J"),
];
const COUNT: Steps = &[(1.0, "")];

/// A display unit for a quantity: values are divided by `div` and labelled `unit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub(crate) div: f64,
    pub(crate) unit: &'static str,
    steps: Steps,
}

impl Scale {
    fn pick(max: f64, steps: Steps) -> Scale {
        let mut s = steps[0];
        for &step in steps {
            if max.abs() >= step.0 {
                s = step;
            }
        }
        Scale {
            div: s.0,
            unit: s.1,
            steps,
        }
    }

    /// ns, µs, ms or s for durations in ns up to `max_ns`.
    pub(crate) fn time(max_ns: f64) -> Scale {
        Scale::pick(max_ns, TIME)
    }

    /// B, KiB, MiB or GiB for sizes up to `max` bytes.
    pub(crate) fn bytes(max: f64) -> Scale {
        Scale::pick(max, BYTES)
    }

    /// pJ, nJ, µJ, mJ or J for energies up to `max` pJ.
    pub(crate) fn energy(max_pj: f64) -> Scale {
        Scale::pick(max_pj, ENERGY)
    }

    /// Plain counts.
    pub(crate) fn count() -> Scale {
        Scale::pick(1.0, COUNT)
    }

    /// `v` (base units) labelled in the unit of its own size (`500 ns` on a chart in ms).
    pub(crate) fn label_own(self, v: f64) -> String {
        Scale::pick(v, self.steps).label(v)
    }

    /// `v` in this unit.
    pub(crate) fn apply(self, v: f64) -> f64 {
        v / self.div
    }

    /// `v` (in base units) as a short label with the unit.
    pub(crate) fn label(self, v: f64) -> String {
        let x = self.apply(v);
        let num = if x.abs() >= 100.0 || x == x.trunc() {
            format!("{x:.0}")
        } else if x.abs() >= 10.0 {
            format!("{x:.1}")
        } else {
            format!("{x:.2}")
        };
        if self.unit.is_empty() {
            num
        } else {
            format!("{num} {}", self.unit)
        }
    }
}

/// `s` cut to [`MAX_LABEL`] characters with an ellipsis.
///
/// Control characters (and XML's non-characters) become visible escapes first (`\n`,
/// `\u{1b}`): plotters escapes `<`, `&` and quotes in SVG text but writes everything else as
/// it is, and a control character makes the whole SVG invalid XML.
pub(crate) fn short(s: &str) -> String {
    let s = printable(s);
    if s.chars().count() <= MAX_LABEL {
        s
    } else {
        let mut t: String = s.chars().take(MAX_LABEL - 1).collect();
        t.push('…');
        t
    }
}

/// `s` with every character that may not appear in an SVG text node written as its escape.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Fills `area` with a titled panel that says there is no data, and why.
pub(crate) fn no_data<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    why: &str,
) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let center = Pos::new(HPos::Center, VPos::Center);
    area.draw(&Rectangle::new(
        [(8, 8), (w - 8, h - 8)],
        RGBColor(200, 200, 200).stroke_width(2),
    ))
    .map_err(de)?;
    area.draw(&Text::new(
        title.to_owned(),
        (w / 2, 40),
        font(TITLE).pos(center),
    ))
    .map_err(de)?;
    area.draw(&Text::new(
        "no data",
        (w / 2, h / 2 - 20),
        font(TITLE + 10).color(&RGBColor(120, 120, 120)).pos(center),
    ))
    .map_err(de)?;
    area.draw(&Text::new(
        why.to_owned(),
        (w / 2, h / 2 + 30),
        font(AXIS).pos(center),
    ))
    .map_err(de)?;
    Ok(())
}

/// A drawing error as text.
pub(crate) fn de<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// `(lo, hi)` widened so that it is a usable, finite, non-empty axis range.
pub(crate) fn span(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(hi), lo.max(hi))
    } else {
        (0.0, 1.0)
    };
    if hi - lo > f64::EPSILON * hi.abs().max(1.0) {
        (lo, hi)
    } else if hi == 0.0 {
        (0.0, 1.0)
    } else {
        (lo - hi.abs() * 0.5, hi + hi.abs() * 0.5)
    }
}

/// A positive range for a log axis covering `values` (positive, finite ones), padded by a
/// factor on each side.
pub(crate) fn log_span(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() || hi <= 0.0 {
        return None;
    }
    Some((lo / 1.6, hi * 1.6))
}

/// `n` and the noun, singular for one: `1 event`, `3 events`.
pub(crate) fn plural(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
