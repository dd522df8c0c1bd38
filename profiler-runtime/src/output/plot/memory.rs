//! MemoryUsage: RSS over time from the monitor (top), bytes allocated per operation from the
//! `CountingAllocator` (bottom).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::{self, short_num, Bar, HBars};
use super::style::{color, de, font, no_data, span, Scale, AXIS, LABEL, SUBTITLE, TITLE};
use super::{DrawResult, Input};

/// Operations shown.
const TOP: usize = 8;

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    input: &Input<'_>,
) -> DrawResult {
    let p = input.profile;
    let allocs: Vec<_> = input
        .report
        .operations
        .iter()
        .filter_map(|o| o.allocated_bytes.filter(|b| *b > 0).map(|b| (o, b)))
        .collect();
    if p.samples.is_empty() && allocs.is_empty() {
        return no_data(
            root,
            "Memory usage",
            "no RSS samples (monitor off or run too short) and no per-span allocation (no CountingAllocator)",
        );
    }
    let body = root.titled("Memory usage", font(TITLE)).map_err(de)?;
    let (_, h) = body.dim_in_pixel();
    let (top, bottom) = body.split_vertically(h / 2);
    rss(&top, input)?;
    if allocs.is_empty() {
        let why = if p.alloc_tracking || input.report.alloc_tracking {
            "no span allocated memory"
        } else {
            "per-span memory unknown: install profiler_runtime::CountingAllocator as #[global_allocator]"
        };
        return no_data(&bottom, "Allocated per operation", why);
    }
    let mut allocs = allocs;
    allocs.sort_by_key(|a| std::cmp::Reverse(a.1));
    let bars: Vec<Bar> = allocs
        .iter()
        .take(TOP)
        .map(|(o, b)| Bar {
            label: format!("{} ×{}", o.name, o.count),
            value: *b as f64,
            inner: None,
        })
        .collect();
    let max = bars.first().map_or(0.0, |b| b.value);
    let title = format!(
        "Allocated per operation (top {} of {})",
        bars.len(),
        allocs.len()
    );
    bars::draw(
        &bottom,
        &HBars {
            title: &title,
            quantity: "bytes allocated, all calls",
            scale: Scale::bytes(max),
            outer: "allocated (inclusive of children)",
            inner: None,
            bars,
            label_width: 330,
        },
    )
}

fn rss<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, input: &Input<'_>) -> DrawResult {
    let samples = &input.profile.samples;
    if samples.is_empty() {
        return no_data(
            area,
            "Resident set size over time",
            "no monitor samples (monitor off, or the run was shorter than its interval)",
        );
    }
    let t_max = samples.iter().map(|s| s.t_ns).max().unwrap_or(0) as f64;
    let t_min = samples.iter().map(|s| s.t_ns).min().unwrap_or(0) as f64;
    let r_max = samples.iter().map(|s| s.rss_bytes).max().unwrap_or(0) as f64;
    let ts = Scale::time(t_max);
    let rs = Scale::bytes(r_max);
    let (x0, x1) = span(ts.apply(t_min), ts.apply(t_max));
    let (_, y1) = span(0.0, rs.apply(r_max) * 1.15);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "Resident set size over time ({} samples, peak {})",
                samples.len(),
                rs.label(r_max)
            ),
            font(SUBTITLE),
        )
        .margin(12)
        .margin_right(28)
        .x_label_area_size(48)
        .y_label_area_size(90)
        .build_cartesian_2d(x0..x1, 0.0..y1)
        .map_err(de)?;
    chart
        .configure_mesh()
        .x_desc(format!("time since profiler start ({})", ts.unit))
        .y_desc(format!("RSS ({})", rs.unit))
        .label_style(font(LABEL))
        .axis_desc_style(font(AXIS))
        .x_label_formatter(&|v| short_num(*v))
        .y_label_formatter(&|v| short_num(*v))
        .draw()
        .map_err(de)?;
    let pts: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (ts.apply(s.t_ns as f64), rs.apply(s.rss_bytes as f64)))
        .collect();
    let c = color(0);
    chart
        .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
        .map_err(de)?
        .label("RSS (monitor)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2)));
    if pts.len() <= 50 {
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(de)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(font(LABEL))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(de)
}
