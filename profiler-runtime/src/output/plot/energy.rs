//! EnergyBreakdown: energy by circuit component (left) and by operation (right).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::{self, Bar, HBars};
use super::style::{font, no_data, Scale, TITLE};
use super::{DrawResult, Input};
use crate::analysis::{energy_by_component, energy_by_operation};
use crate::model::units::fmt_pj;

/// Operations shown.
const TOP: usize = 12;

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    input: &Input<'_>,
) -> DrawResult {
    let p = input.profile;
    let components = energy_by_component(p);
    let ops = energy_by_operation(p);
    if components.is_empty() && ops.is_empty() {
        return no_data(
            root,
            "Energy breakdown",
            "no span reported energy (metrics `energy_pj` or `energy.<component>_pj`)",
        );
    }
    let total: f64 = ops.iter().map(|o| o.2).sum();
    let title = format!("Energy breakdown (total {})", fmt_pj(total));
    let body = root.titled(&title, font(TITLE)).map_err(super::style::de)?;
    let (w, _) = body.dim_in_pixel();
    let (left, right) = body.split_horizontally(w * 2 / 5);

    if components.is_empty() {
        no_data(&left, "By component", "no `energy.<component>_pj` metrics")?;
    } else {
        let mut bars: Vec<Bar> = components
            .iter()
            .map(|(c, pj)| Bar {
                label: c.clone(),
                value: *pj,
                inner: None,
            })
            .collect();
        bars.sort_by(|a, b| b.value.total_cmp(&a.value));
        let max = bars.first().map_or(0.0, |b| b.value);
        bars::draw(
            &left,
            &HBars {
                title: "By circuit component",
                quantity: "energy",
                scale: Scale::energy(max),
                outer: "energy",
                inner: None,
                bars,
                label_width: 120,
            },
        )?;
    }
    if ops.is_empty() {
        no_data(&right, "By operation", "no `energy_pj` metrics")?;
    } else {
        let bars: Vec<Bar> = ops
            .iter()
            .take(TOP)
            .map(|(name, kind, pj)| Bar {
                label: format!("{name} [{kind}]"),
                value: *pj,
                inner: None,
            })
            .collect();
        let max = bars.first().map_or(0.0, |b| b.value);
        let sub = format!("By operation (top {} of {})", bars.len(), ops.len());
        bars::draw(
            &right,
            &HBars {
                title: &sub,
                quantity: "energy",
                scale: Scale::energy(max),
                outer: "energy_pj, summed",
                inner: None,
                bars,
                label_width: 300,
            },
        )?;
    }
    Ok(())
}
