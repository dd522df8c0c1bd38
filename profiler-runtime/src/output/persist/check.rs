//! Checks of a file before and after parsing: the version first, then errors classified by
//! what is wrong ([`BadFileKind`]).

use std::fmt;
use std::path::Path;

use serde_json::error::Category;

use super::io_err;
use crate::error::ProfileError;
use crate::model::profile::FORMAT_VERSION;

/// What is wrong with a file refused with [`ProfileError::BadFile`]: the error's `reason` starts
/// with [`as_str`](Self::as_str) followed by `: ` and the details.
///
/// ```
/// use profiler_runtime::{output::persist::BadFileKind, Profile};
/// let err = Profile::from_json_slice(br#"{"format_version": 1, "started_at"#, "x.json").unwrap_err();
/// assert_eq!(err.bad_file_kind(), Some(BadFileKind::Truncated));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BadFileKind {
    /// Nothing in the file.
    Empty,
    /// Not JSON at all (a syntax error).
    NotJson,
    /// JSON that ends before the profile does.
    Truncated,
    /// A field the profile needs is absent.
    MissingField,
    /// A value of the wrong JSON type (a string for a number, an array for the profile, ...).
    WrongType,
    /// A value of the right type but not allowed (a bad kind name, a row of the wrong length, ...).
    InvalidValue,
    /// More data after the profile object.
    TrailingData,
    /// The reader failed in a way that is not an I/O error.
    Unreadable,
    /// Values that parse but make no sense together: an event that ends before it starts, self
    /// time above busy time, two events with one id, a parent that points nowhere, a cycle of
    /// parents. The reason names the first offending event.
    Inconsistent,
}

impl BadFileKind {
    /// Every kind.
    pub const ALL: [BadFileKind; 9] = [
        BadFileKind::Empty,
        BadFileKind::NotJson,
        BadFileKind::Truncated,
        BadFileKind::MissingField,
        BadFileKind::WrongType,
        BadFileKind::InvalidValue,
        BadFileKind::TrailingData,
        BadFileKind::Unreadable,
        BadFileKind::Inconsistent,
    ];

    /// The words a [`ProfileError::BadFile`] reason of this kind starts with.
    pub const fn as_str(self) -> &'static str {
        match self {
            BadFileKind::Empty => "empty file",
            BadFileKind::NotJson => "not JSON",
            BadFileKind::Truncated => "truncated",
            BadFileKind::MissingField => "missing field",
            BadFileKind::WrongType => "wrong type",
            BadFileKind::InvalidValue => "invalid value",
            BadFileKind::TrailingData => "trailing data",
            BadFileKind::Unreadable => "unreadable",
            BadFileKind::Inconsistent => "inconsistent",
        }
    }
}

impl ProfileError {
    /// For a [`BadFile`](ProfileError::BadFile) error, what is wrong with the file; `None` for
    /// every other error.
    pub fn bad_file_kind(&self) -> Option<BadFileKind> {
        match self {
            ProfileError::BadFile { reason, .. } => BadFileKind::ALL
                .into_iter()
                .find(|k| reason.starts_with(k.as_str())),
            _ => None,
        }
    }
}

pub(super) fn bad(path: &Path, kind: BadFileKind, detail: impl fmt::Display) -> ProfileError {
    ProfileError::BadFile {
        path: path.to_owned(),
        reason: format!("{}: {detail}", kind.as_str()),
    }
}

/// Checks the start of a file: not empty, an object, and (where it is the first key, as written)
/// a `format_version` this build reads.
pub(super) fn check_head(head: &[u8], label: &Path) -> Result<(), ProfileError> {
    if head.is_empty() {
        return Err(bad(
            label,
            BadFileKind::Empty,
            "expected a JSON profile object",
        ));
    }
    if first_token(head) == Some(b'[') {
        // serde would read a struct from an array of its fields in order; a profile file is
        // always an object, so an array is the wrong kind of JSON value, not a profile.
        return Err(bad(
            label,
            BadFileKind::WrongType,
            "expected a JSON object (a profile), found an array",
        ));
    }
    match peek_version(head) {
        Peek::Version(v) => check_version(v, label),
        Peek::NotANumber(tok) => Err(bad(
            label,
            BadFileKind::WrongType,
            format!("format_version must be a non-negative integer, found `{tok}`"),
        )),
        Peek::Unknown => Ok(()),
    }
}

pub(super) fn check_version(found: u64, path: &Path) -> Result<(), ProfileError> {
    if found == FORMAT_VERSION {
        Ok(())
    } else {
        Err(ProfileError::UnsupportedVersion {
            path: path.to_owned(),
            found,
            supported: FORMAT_VERSION,
        })
    }
}

/// What the start of a file says about its version.
#[derive(Debug, PartialEq)]
enum Peek {
    /// `{"format_version": N` with an integer N.
    Version(u64),
    /// `{"format_version": X` with X not a non-negative integer.
    NotANumber(String),
    /// The file does not start with the key (hand-written or not a profile): the full parse
    /// decides.
    Unknown,
}

/// The first non-whitespace byte of `head`.
fn first_token(head: &[u8]) -> Option<u8> {
    head.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// Reads `{ "format_version" : <token>` at the start of `head`, without parsing the rest.
fn peek_version(head: &[u8]) -> Peek {
    const KEY: &[u8] = b"\"format_version\"";
    let skip_ws = |i: usize| {
        i + head[i.min(head.len())..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count()
    };
    let mut i = skip_ws(0);
    if head.get(i) != Some(&b'{') {
        return Peek::Unknown;
    }
    i = skip_ws(i + 1);
    if !head.get(i..).is_some_and(|s| s.starts_with(KEY)) {
        return Peek::Unknown;
    }
    i = skip_ws(i + KEY.len());
    if head.get(i) != Some(&b':') {
        return Peek::Unknown;
    }
    i = skip_ws(i + 1);
    let rest = head.get(i..).unwrap_or_default();
    let end = rest
        .iter()
        .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
        .unwrap_or(rest.len());
    if end == rest.len() || end == 0 {
        // The token may continue past what is buffered (or is missing): let the parser decide.
        return Peek::Unknown;
    }
    let tok = String::from_utf8_lossy(&rest[..end]).into_owned();
    match tok.parse::<u64>() {
        Ok(v) => Peek::Version(v),
        Err(_) => Peek::NotANumber(tok.chars().take(40).collect()),
    }
}

/// Turns a serde_json error into a typed, explained error.
pub(super) fn classify(e: serde_json::Error, path: &Path) -> ProfileError {
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Io => match e.io_error_kind() {
            Some(kind) => io_err("reading", path, std::io::Error::new(kind, e.to_string())),
            None => bad(path, BadFileKind::Unreadable, e),
        },
        Category::Eof => bad(
            path,
            BadFileKind::Truncated,
            format!("the file ends before the profile is complete ({at})"),
        ),
        Category::Syntax => {
            let msg = e.to_string();
            if msg.starts_with("trailing characters") {
                bad(
                    path,
                    BadFileKind::TrailingData,
                    format!("more after the profile object ({at})"),
                )
            } else {
                bad(path, BadFileKind::NotJson, msg)
            }
        }
        Category::Data => {
            let msg = e.to_string();
            let kind = if msg.starts_with("missing field") {
                BadFileKind::MissingField
            } else if msg.starts_with("invalid type") {
                BadFileKind::WrongType
            } else {
                BadFileKind::InvalidValue
            };
            let detail = msg
                .strip_prefix("missing field ")
                .or_else(|| msg.strip_prefix("invalid value: "))
                .unwrap_or(&msg);
            bad(path, kind, detail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peeks_the_version() {
        assert_eq!(
            peek_version(br#"  { "format_version" : 7 , "x": 1}"#),
            Peek::Version(7)
        );
        assert_eq!(peek_version(br#"{"format_version":1}"#), Peek::Version(1));
        assert_eq!(
            peek_version(br#"{"format_version":"1"}"#),
            Peek::NotANumber("\"1\"".into())
        );
        assert_eq!(peek_version(br#"{"format_version":12"#), Peek::Unknown);
        assert_eq!(peek_version(br#"{"events":[]}"#), Peek::Unknown);
        assert_eq!(peek_version(b""), Peek::Unknown);
        assert_eq!(peek_version(b"{"), Peek::Unknown);
    }
}
