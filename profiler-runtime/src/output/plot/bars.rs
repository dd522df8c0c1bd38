//! Horizontal bar charts with readable category labels: the building block of the execution
//! time, allocation and energy charts.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{color, de, font, short, span, Scale, AXIS, LABEL, SUBTITLE};
use super::DrawResult;

/// One bar: an outer value, optionally with an inner (thinner, darker) value drawn over it.
#[derive(Debug, Clone)]
pub(crate) struct Bar {
    /// Category label.
    pub(crate) label: String,
    /// The bar's length, base units.
    pub(crate) value: f64,
    /// A second value drawn as a thinner bar inside, base units.
    pub(crate) inner: Option<f64>,
}

/// A horizontal bar chart, largest bar on top.
pub(crate) struct HBars<'a> {
    /// Caption.
    pub(crate) title: &'a str,
    /// What the x axis measures (the unit is appended).
    pub(crate) quantity: &'a str,
    /// Display unit.
    pub(crate) scale: Scale,
    /// Legend of the outer bars.
    pub(crate) outer: &'a str,
    /// Legend of the inner bars, if any.
    pub(crate) inner: Option<&'a str>,
    /// The bars, in display order from the top.
    pub(crate) bars: Vec<Bar>,
    /// Width of the label column, pixels.
    pub(crate) label_width: u32,
}

/// Draws `c` into `area`. The caller handles the empty case.
pub(crate) fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &HBars<'_>) -> DrawResult {
    let n = c.bars.len().max(1);
    let max = c
        .bars
        .iter()
        .flat_map(|b| [b.value, b.inner.unwrap_or(0.0)])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let (lo, hi) = span(0.0, c.scale.apply(max) * 1.22);
    let x_desc = if c.scale.unit.is_empty() {
        c.quantity.to_owned()
    } else {
        format!("{} ({})", c.quantity, c.scale.unit)
    };
    let integral = c.scale.unit.is_empty();
    let mut chart = ChartBuilder::on(area)
        .caption(c.title, font(SUBTITLE))
        .margin(12)
        .margin_right(28)
        .x_label_area_size(48)
        .y_label_area_size(c.label_width)
        .build_cartesian_2d(lo..hi, 0.0..n as f64)
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(8)
        .x_desc(x_desc)
        .label_style(font(LABEL))
        .axis_desc_style(font(AXIS))
        .x_label_formatter(&|v| {
            // Counts have no fractional ticks.
            if integral && v.fract() != 0.0 {
                String::new()
            } else {
                short_num(*v)
            }
        })
        .draw()
        .map_err(de)?;

    let top = |i: usize| (n - i) as f64;
    let outer_color = if c.inner.is_some() {
        color(4).mix(0.55)
    } else {
        color(0).mix(0.9)
    };
    chart
        .draw_series(c.bars.iter().enumerate().map(|(i, b)| {
            let v = c.scale.apply(finite(b.value));
            Rectangle::new(
                [(0.0, top(i) - 0.12), (v, top(i) - 0.88)],
                outer_color.filled(),
            )
        }))
        .map_err(de)?
        .label(c.outer)
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], outer_color.filled()));
    if let Some(inner_label) = c.inner {
        let inner_color = color(0);
        chart
            .draw_series(c.bars.iter().enumerate().filter_map(|(i, b)| {
                let v = c.scale.apply(finite(b.inner?));
                Some(Rectangle::new(
                    [(0.0, top(i) - 0.3), (v, top(i) - 0.7)],
                    inner_color.filled(),
                ))
            }))
            .map_err(de)?
            .label(inner_label)
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 4), (x + 16, y + 4)], inner_color.filled())
            });
    }
    // Value labels at the bar ends.
    chart
        .draw_series(c.bars.iter().enumerate().map(|(i, b)| {
            let v = c.scale.apply(finite(b.value));
            let text = match b.inner {
                Some(inner) => {
                    format!(
                        "{} (self {})",
                        c.scale.label_own(b.value),
                        c.scale.label_own(inner)
                    )
                }
                None => c.scale.label_own(b.value),
            };
            EmptyElement::at((v, top(i) - 0.5))
                + Text::new(
                    text,
                    (6, 0),
                    font(LABEL - 2).pos(Pos::new(HPos::Left, VPos::Center)),
                )
        }))
        .map_err(de)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(font(LABEL))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(de)?;

    // Category labels, right-aligned against the y axis.
    let (bx, by) = area.get_base_pixel();
    let anchor = Pos::new(HPos::Right, VPos::Center);
    for (i, b) in c.bars.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(lo, top(i) - 0.5));
        area.draw(&Text::new(
            short(&b.label),
            (px - bx - 8, py - by),
            font(LABEL).pos(anchor),
        ))
        .map_err(de)?;
    }
    Ok(())
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v.max(0.0)
    } else {
        0.0
    }
}

/// Tick label: few digits, no trailing zeros (`0.5`, `0.01`, `250`, `1e5`, `2.5e-4`).
pub(crate) fn short_num(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || !a.is_finite() {
        return if a == 0.0 {
            "0".to_owned()
        } else {
            v.to_string()
        };
    }
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replacen(".0e", "e", 1);
    }
    let s = if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::short_num;

    #[test]
    fn tick_labels_are_short() {
        let cases = [
            (0.0, "0"),
            (0.5, "0.5"),
            (0.01, "0.01"),
            (0.001, "0.001"),
            (1.5, "1.5"),
            (2.0, "2"),
            (250.0, "250"),
            (1e5, "1e5"),
            (2.5e-4, "2.5e-4"),
            (-0.25, "-0.25"),
        ];
        for (v, s) in cases {
            assert_eq!(short_num(v), s, "{v}");
        }
    }
}
