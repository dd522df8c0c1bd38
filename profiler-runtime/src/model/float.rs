//! How floating-point values are stored in files: finite values as JSON numbers, NaN and the
//! infinities as the strings `"NaN"`, `"inf"` and `"-inf"` (JSON has no number for them, and
//! serde_json's default, `null`, cannot be read back as a number). Readers take either form.
//!
//! Used with `#[serde(with = "crate::model::float::f64_any")]` (or `f32_any`) on a field, and
//! through [`AnyF64`] where a value sits in a collection.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The string stored for a non-finite value.
pub fn non_finite_str(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("inf")
    } else if v == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

/// Reads the strings [`non_finite_str`] writes (and `Infinity`/`-Infinity`, `+inf`,
/// case-insensitively).
pub fn parse_non_finite(s: &str) -> Option<f64> {
    match s.trim().to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// An `f64` that serialises non-finite values as strings and reads both forms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnyF64(pub f64);

impl Serialize for AnyF64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match non_finite_str(self.0) {
            Some(text) => s.serialize_str(text),
            None => s.serialize_f64(self.0),
        }
    }
}

impl<'de> Deserialize<'de> for AnyF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyVisitor).map(AnyF64)
    }
}

struct AnyVisitor;

impl Visitor<'_> for AnyVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, or \"NaN\", \"inf\" or \"-inf\"")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        parse_non_finite(v).ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// `#[serde(with = "..")]` for an `f64` field.
pub mod f64_any {
    use super::*;

    /// Writes a number, or a string for NaN and the infinities.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        AnyF64(*v).serialize(s)
    }

    /// Reads a number or one of the strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        AnyF64::deserialize(d).map(|v| v.0)
    }
}

/// `#[serde(with = "..")]` for an `f32` field.
pub mod f32_any {
    use super::*;

    /// Writes a number, or a string for NaN and the infinities.
    pub fn serialize<S: Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
        AnyF64(f64::from(*v)).serialize(s)
    }

    /// Reads a number or one of the strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
        AnyF64::deserialize(d).map(|v| v.0 as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_values_round_trip_through_json() {
        for v in [
            1.5,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
        ] {
            let s = serde_json::to_string(&AnyF64(v)).unwrap();
            let back: AnyF64 = serde_json::from_str(&s).unwrap();
            assert!(back.0 == v || (v.is_nan() && back.0.is_nan()), "{v} -> {s}");
        }
        assert_eq!(serde_json::to_string(&AnyF64(f64::NAN)).unwrap(), "\"NaN\"");
        assert!(serde_json::from_str::<AnyF64>("\"lots\"").is_err());
    }
}
