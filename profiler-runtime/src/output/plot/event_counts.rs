//! EventCounts: events by kind (exact counts, including events dropped from the raw buffer).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::{self, Bar, HBars};
use super::style::{no_data, plural, Scale};
use super::{DrawResult, Input};
use crate::model::event::EventKind;

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    input: &Input<'_>,
) -> DrawResult {
    let counts = &input.report.event_counts_by_type;
    let total: u64 = counts.values().sum();
    if total == 0 {
        return no_data(root, "Events by kind", "no events were recorded");
    }
    let mut bars: Vec<Bar> = EventKind::ALL
        .iter()
        .map(|k| Bar {
            label: k.as_str().to_owned(),
            value: counts.get(k).copied().unwrap_or(0) as f64,
            inner: None,
        })
        .collect();
    bars.sort_by(|a, b| b.value.total_cmp(&a.value));
    let title = format!("Events by kind ({})", plural(total, "event"));
    bars::draw(
        root,
        &HBars {
            title: &title,
            quantity: "events",
            scale: Scale::count(),
            outer: "events of this kind",
            inner: None,
            bars,
            label_width: 200,
        },
    )
}
