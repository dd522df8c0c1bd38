//! Convergence: the relative residual of each iteration of iterative solvers, log axis.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::short_num;
use super::style::{color, de, font, log_span, no_data, short, span, AXIS, LABEL, TITLE};
use super::{DrawResult, Input};
use crate::analysis::convergence_runs;

/// Runs shown.
const MAX_RUNS: usize = 8;

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    input: &Input<'_>,
) -> DrawResult {
    let title = "Convergence: residual per iteration";
    let runs: Vec<_> = convergence_runs(input.profile)
        .into_iter()
        .filter(|r| {
            r.points
                .iter()
                .any(|p| p.residual.is_finite() && p.residual > 0.0)
        })
        .collect();
    if runs.is_empty() {
        return no_data(
            root,
            title,
            "needs algorithm_step events that report a positive `residual`",
        );
    }
    let total = runs.len();
    let shown = &runs[..total.min(MAX_RUNS)];
    let ok = |r: f64| r.is_finite() && r > 0.0;
    let ys = log_span(
        shown
            .iter()
            .flat_map(|r| r.points.iter().map(|p| p.residual)),
    );
    let Some((y0, y1)) = ys else {
        return no_data(root, title, "no positive residuals to plot");
    };
    let k_max = shown
        .iter()
        .flat_map(|r| r.points.iter().map(|p| p.iteration))
        .max()
        .unwrap_or(0);
    let k_min = shown
        .iter()
        .flat_map(|r| r.points.iter().map(|p| p.iteration))
        .min()
        .unwrap_or(0);
    let (x0, x1) = span(k_min as f64 - 0.5, k_max as f64 + 0.5);
    let caption = if total > MAX_RUNS {
        format!("{title} ({MAX_RUNS} of {total} runs)")
    } else {
        format!("{title} ({total} run{})", if total == 1 { "" } else { "s" })
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, font(TITLE))
        .margin(16)
        .margin_right(30)
        .x_label_area_size(56)
        .y_label_area_size(100)
        .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
        .map_err(de)?;
    chart
        .configure_mesh()
        .x_desc("iteration k")
        .y_desc("relative residual ||b - Gx|| / ||b||")
        .label_style(font(LABEL))
        .axis_desc_style(font(AXIS))
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-9 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| short_num(*v))
        .draw()
        .map_err(de)?;
    for (i, run) in shown.iter().enumerate() {
        let c = color(i);
        let pts: Vec<(f64, f64)> = run
            .points
            .iter()
            .filter(|p| ok(p.residual))
            .map(|p| (p.iteration as f64, p.residual))
            .collect();
        let last = run.points.last().map_or(f64::NAN, |p| p.residual);
        let label = format!(
            "{}{}: {} iterations, final {:.2e}",
            short(&run.operation),
            run.n.map_or_else(String::new, |n| format!(" (n = {n})")),
            run.points.len(),
            last
        );
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
            .map_err(de)?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2)));
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
            .map_err(de)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(font(LABEL + 1))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(de)
}
