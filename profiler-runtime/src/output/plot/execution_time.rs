//! ExecutionTime: the top operations by inclusive (wall) time, self time drawn inside.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::{self, Bar, HBars};
use super::style::{no_data, plural, Scale};
use super::{DrawResult, Input};

/// Operations shown.
const TOP: usize = 15;

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    input: &Input<'_>,
) -> DrawResult {
    let mut ops: Vec<_> = input
        .report
        .operations
        .iter()
        .filter(|o| o.count > 0)
        .collect();
    if ops.is_empty() {
        return no_data(root, "Execution time", "no events were recorded");
    }
    ops.sort_by(|a, b| {
        b.total_ns
            .cmp(&a.total_ns)
            .then_with(|| a.name.cmp(&b.name))
    });
    let shown = ops.len().min(TOP);
    let events = plural(input.report.total_events, "event");
    let title = if shown == ops.len() {
        format!(
            "Execution time: {} ({events})",
            plural(ops.len() as u64, "operation")
        )
    } else {
        format!(
            "Execution time: top {shown} of {} operations ({events})",
            ops.len()
        )
    };
    let bars: Vec<Bar> = ops
        .iter()
        .take(TOP)
        .map(|o| Bar {
            label: format!("{} ×{}", o.name, o.count),
            value: o.total_ns as f64,
            inner: Some(o.self_ns as f64),
        })
        .collect();
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    bars::draw(
        root,
        &HBars {
            title: &title,
            quantity: "total time over all calls",
            scale: Scale::time(max),
            outer: "inclusive (wall, with children)",
            inner: Some("self (own code)"),
            bars,
            label_width: 330,
        },
    )
}
