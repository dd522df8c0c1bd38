//! The bundled font. Charts never depend on the system's fonts (no fontconfig, no freetype):
//! DejaVu Sans, shipped inside the `dejavu` crate, is registered with plotters' `ab_glyph`
//! text renderer once, under the family name [`FAMILY`].
//!
//! DejaVu's licence (the Bitstream Vera licence with DejaVu's public-domain changes) allows
//! embedding and redistribution.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::error::ProfileError;

/// The font family every chart uses.
pub(crate) const FAMILY: &str = "sans-serif";

static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers DejaVu Sans (regular and bold) as [`FAMILY`], once per process.
pub(crate) fn ensure_registered() -> Result<(), ProfileError> {
    REGISTERED
        .get_or_init(|| {
            for (style, bytes) in [
                (FontStyle::Normal, dejavu::sans::regular()),
                (FontStyle::Bold, dejavu::sans::bold()),
                (FontStyle::Italic, dejavu::sans::oblique()),
                (FontStyle::Oblique, dejavu::sans::oblique()),
            ] {
                plotters::style::register_font(FAMILY, style, bytes).map_err(|_| {
                    format!(
                        "the bundled DejaVu Sans ({}) is not a valid font",
                        style.as_str()
                    )
                })?;
            }
            Ok(())
        })
        .clone()
        .map_err(|reason| ProfileError::Render {
            what: "chart fonts".to_owned(),
            reason,
        })
}
