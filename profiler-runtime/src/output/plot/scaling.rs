//! Scaling: median wall time against problem size `n`, log-log, with the fitted power law.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::short_num;
use super::style::{color, de, font, log_span, no_data, short, AXIS, LABEL, TITLE};
use super::{DrawResult, Input};
use crate::analysis::{fit_power_law, scaling_series, ScalingSeries};

/// Series shown.
const MAX_SERIES: usize = 6;

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    input: &Input<'_>,
) -> DrawResult {
    let mut series: Vec<ScalingSeries> = scaling_series(input.profile)
        .into_iter()
        .filter(|s| {
            s.points
                .iter()
                .filter(|p| p.n > 0.0 && p.median_ns > 0.0)
                .count()
                >= 2
        })
        .collect();
    let title = "Scaling: time against problem size";
    if series.is_empty() {
        return no_data(
            root,
            title,
            "needs events of one operation reporting at least two sizes `n`",
        );
    }
    let total = series.len();
    series.sort_by(|a, b| {
        b.points
            .len()
            .cmp(&a.points.len())
            .then_with(|| a.operation.cmp(&b.operation))
    });
    series.truncate(MAX_SERIES);
    let xs = log_span(series.iter().flat_map(|s| s.points.iter().map(|p| p.n)));
    let ys = log_span(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.median_ns)),
    );
    let (Some((x0, x1)), Some((y0, y1))) = (xs, ys) else {
        return no_data(root, title, "no positive sizes and times to plot");
    };
    let caption = if total > MAX_SERIES {
        format!("{title} (log-log; {MAX_SERIES} of {total} operations)")
    } else {
        format!("{title} (log-log)")
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, font(TITLE))
        .margin(16)
        .margin_right(30)
        .x_label_area_size(56)
        .y_label_area_size(100)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
        .map_err(de)?;
    chart
        .configure_mesh()
        .x_desc("problem size n")
        .y_desc("median wall time per call (ns)")
        .label_style(font(LABEL))
        .axis_desc_style(font(AXIS))
        .x_label_formatter(&|v| short_num(*v))
        .y_label_formatter(&|v| short_num(*v))
        .draw()
        .map_err(de)?;
    for (i, s) in series.iter().enumerate() {
        let c = color(i);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.n > 0.0 && p.median_ns > 0.0 && p.median_ns.is_finite())
            .map(|p| (p.n, p.median_ns))
            .collect();
        let fit = fit_power_law(&pts);
        let label = match fit {
            Some(f) => format!(
                "{}: t ∝ n^{:.2} (R² {:.3})",
                short(&s.operation),
                f.exponent,
                f.r_squared
            ),
            None => short(&s.operation),
        };
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))
            .map_err(de)?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 8, y), 5, c.filled()));
        if let Some(f) = fit {
            let (a, b) = (pts[0].0, pts[pts.len() - 1].0);
            let line: Vec<(f64, f64)> = (0..=24)
                .map(|k| a * (b / a).powf(f64::from(k) / 24.0))
                .map(|x| (x, f.predict(x)))
                .filter(|(_, y)| y.is_finite() && *y > 0.0)
                .collect();
            chart
                .draw_series(LineSeries::new(line, c.stroke_width(2)))
                .map_err(de)?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(font(LABEL + 1))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(de)
}
