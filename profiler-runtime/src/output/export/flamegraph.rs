//! A flame-graph SVG of self time, drawn by `inferno` from the folded stacks.

use std::io::Write;
use std::path::Path;

use crate::error::ProfileError;
use crate::model::profile::Profile;
use crate::output::export::{folded_stacks_with_depth, DEFAULT_MAX_STACK_DEPTH};
use crate::output::write::SafeWriter;

fn render_err(reason: impl std::fmt::Display) -> ProfileError {
    ProfileError::Render {
        what: "flame graph".to_owned(),
        reason: reason.to_string(),
    }
}

impl Profile {
    /// Writes an interactive flame-graph SVG (width = self time, ns) of the kept events. A
    /// profile with no self time gets a small SVG that says so.
    ///
    /// ```
    /// use profiler_runtime::Profile;
    /// let mut svg = Vec::new();
    /// Profile::empty().to_flamegraph_svg(&mut svg).unwrap();
    /// assert!(String::from_utf8(svg).unwrap().contains("no data"));
    /// ```
    pub fn to_flamegraph_svg<W: Write>(&self, writer: W) -> Result<(), ProfileError> {
        self.to_flamegraph_svg_with_depth(writer, DEFAULT_MAX_STACK_DEPTH)
    }

    /// [`to_flamegraph_svg`](Self::to_flamegraph_svg) with stacks of at most `max_depth`
    /// frames, deeper frames folded into one
    /// [`DEEPER_FRAME`](crate::output::export::DEEPER_FRAME) (the default is
    /// [`DEFAULT_MAX_STACK_DEPTH`]). Names are written with control characters escaped, so
    /// the SVG is valid XML whatever they hold.
    pub fn to_flamegraph_svg_with_depth<W: Write>(
        &self,
        mut writer: W,
        max_depth: usize,
    ) -> Result<(), ProfileError> {
        let stacks = folded_stacks_with_depth(self, max_depth);
        if stacks.is_empty() {
            return writer
                .write_all(EMPTY_SVG.as_bytes())
                .and_then(|()| writer.flush())
                .map_err(render_err);
        }
        let lines: Vec<String> = stacks.iter().map(|(s, ns)| format!("{s} {ns}")).collect();
        let mut opts = inferno::flamegraph::Options::default();
        opts.title = "rram-profiler: self time".to_owned();
        opts.subtitle = Some(format!(
            "{} kept events{}",
            self.events.len(),
            if self.dropped_events > 0 {
                format!(", {} dropped from the raw buffer", self.dropped_events)
            } else {
                String::new()
            }
        ));
        opts.count_name = "ns".to_owned();
        opts.name_type = "Operation:".to_owned();
        inferno::flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), &mut writer)
            .map_err(render_err)?;
        writer.flush().map_err(render_err)
    }

    /// Writes [`to_flamegraph_svg`](Self::to_flamegraph_svg) to a file, through the
    /// [`SafeWriter`].
    pub fn write_flamegraph(&self, path: impl AsRef<Path>) -> Result<(), ProfileError> {
        SafeWriter::new(path).write(|w| self.to_flamegraph_svg(w))
    }
}

const EMPTY_SVG: &str = r##"<?xml version="1.0" standalone="no"?>
<svg version="1.1" width="1200" height="80" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="1200" height="80" fill="#eeeeee"/>
<text x="600" y="45" font-family="Verdana, sans-serif" font-size="17" text-anchor="middle">rram-profiler: no data (no events with self time)</text>
</svg>
"##;
