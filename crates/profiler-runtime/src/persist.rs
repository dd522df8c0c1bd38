//! Saving and loading a [`Profile`] as versioned JSON.
//!
//! # The file
//!
//! One JSON object, the serde form of [`Profile`], written compactly. Its first key is always
//! `format_version` ([`FORMAT_VERSION`]); a reader checks it *before* reading the rest, so a file
//! from a newer (or older) build is refused as a version mismatch
//! ([`ProfileError::UnsupportedVersion`]) rather than as whatever field its new layout broke.
//! Writers of later versions must keep `format_version` the first key.
//!
//! # Guarantees
//!
//! - **Lossless**: `Profile::load(p.save(..)) == p` for every profile whose floating-point values
//!   are finite (f64 values are written shortest-round-trip and parsed exactly).
//! - **Non-finite values are refused at save** with [`ProfileError::InvalidInput`] naming the
//!   event (or operation, or sample) and the key: JSON has no NaN or infinity, and writing them
//!   as `null` (serde_json's default) would make the file unreadable. Replace or drop such
//!   metrics before saving.
//! - **Atomic**: the file is written to a temporary file in the same directory, flushed,
//!   `fsync`ed and renamed over the target; a crash leaves the old file or the new one, never
//!   half of one.
//! - **Streaming**: both directions go through 1 MiB buffers; no whole-file `String` is built.
//! - **Errors, never panics**: a bad file gets [`ProfileError::BadFile`] whose reason starts with
//!   what is wrong: `empty file`, `not JSON`, `truncated`, `missing field`, `wrong type`,
//!   `invalid value`, `trailing data`; or [`ProfileError::UnsupportedVersion`].

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::error::Category;

use crate::error::ProfileError;
use crate::profile::{Profile, FORMAT_VERSION};
use crate::profiler::PerformanceProfiler;

/// Buffer size of the file reader and writer.
const BUF_BYTES: usize = 1 << 20;

impl Profile {
    /// Saves the profile to `path` as versioned JSON, atomically (see the [module
    /// docs](crate::persist)).
    ///
    /// ```
    /// use profiler_runtime::Profile;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("run.json");
    /// let p = Profile::empty();
    /// p.save(&path).unwrap();
    /// assert_eq!(Profile::load(&path).unwrap(), p);
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ProfileError> {
        let path = path.as_ref();
        check_finite(self, path)?;
        let tmp = temp_path(path);
        let result = write_and_sync(self, path, &tmp);
        match result {
            Ok(()) => fs::rename(&tmp, path).map_err(|source| {
                let _ = fs::remove_file(&tmp);
                io_err("renaming the temporary file onto", path, source)
            })?,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        }
        sync_dir(path);
        Ok(())
    }

    /// Loads a profile saved by [`save`](Self::save).
    ///
    /// Errors: [`ProfileError::Io`] when the file cannot be read,
    /// [`ProfileError::UnsupportedVersion`] for another `format_version`, and
    /// [`ProfileError::BadFile`] saying what is wrong otherwise.
    pub fn load(path: impl AsRef<Path>) -> Result<Profile, ProfileError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| io_err("opening", path, source))?;
        Profile::read_json(BufReader::with_capacity(BUF_BYTES, file), path)
    }

    /// Writes the profile's JSON to `writer` (not atomic; [`save`](Self::save) is). `label`
    /// names the destination in errors.
    pub fn write_json<W: Write>(&self, writer: W, label: impl AsRef<Path>) -> Result<(), ProfileError> {
        let label = label.as_ref();
        check_finite(self, label)?;
        let mut w = BufWriter::with_capacity(BUF_BYTES, writer);
        serde_json::to_writer(&mut w, self).map_err(|e| match e.io_error_kind() {
            Some(kind) => io_err("writing", label, kind.into()),
            None => ProfileError::InvalidInput(format!("cannot serialise the profile to `{}`: {e}", label.display())),
        })?;
        w.flush().map_err(|source| io_err("writing", label, source))
    }

    /// Reads a profile's JSON from a buffered reader, checking `format_version` first. `label`
    /// names the source in errors.
    ///
    /// ```
    /// use profiler_runtime::{Profile, ProfileError};
    /// let err = Profile::read_json(&br#"{"format_version": 999, "events": 3}"#[..], "x.json").unwrap_err();
    /// assert!(matches!(err, ProfileError::UnsupportedVersion { found: 999, .. }));
    /// ```
    pub fn read_json<R: BufRead>(mut reader: R, label: impl AsRef<Path>) -> Result<Profile, ProfileError> {
        let label = label.as_ref();
        let head = reader.fill_buf().map_err(|source| io_err("reading", label, source))?;
        if head.is_empty() {
            return Err(bad(label, "empty file: expected a JSON profile object".to_owned()));
        }
        match peek_version(head) {
            Peek::Version(v) => check_version(v, label)?,
            Peek::NotANumber(tok) => {
                return Err(bad(
                    label,
                    format!("wrong type: format_version must be a non-negative integer, found `{tok}`"),
                ))
            }
            Peek::Unknown => {}
        }
        let profile: Profile = serde_json::from_reader(reader).map_err(|e| classify(e, label))?;
        check_version(profile.format_version, label)?;
        Ok(profile)
    }
}

impl PerformanceProfiler {
    /// Saves a [`snapshot`](Self::snapshot) to `path` ([`Profile::save`]).
    pub fn save_profile_data(&self, path: impl AsRef<Path>) -> Result<(), ProfileError> {
        self.snapshot().save(path)
    }

    /// Loads a saved profile into this profiler: from now on [`snapshot`](Self::snapshot) (and
    /// every report) shows the loaded data followed by what is recorded live. Replaces any
    /// previously loaded profile.
    pub fn load_profile_data(&self, path: impl AsRef<Path>) -> Result<(), ProfileError> {
        let p = Profile::load(path)?;
        self.set_loaded(p);
        Ok(())
    }
}

fn io_err(action: &'static str, path: &Path, source: std::io::Error) -> ProfileError {
    ProfileError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

fn bad(path: &Path, reason: String) -> ProfileError {
    ProfileError::BadFile {
        path: path.to_owned(),
        reason,
    }
}

fn check_version(found: u64, path: &Path) -> Result<(), ProfileError> {
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

/// Reads `{ "format_version" : <token>` at the start of `head`, without parsing the rest.
fn peek_version(head: &[u8]) -> Peek {
    const KEY: &[u8] = b"\"format_version\"";
    let skip_ws = |i: usize| i + head[i.min(head.len())..].iter().take_while(|b| b.is_ascii_whitespace()).count();
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
fn classify(e: serde_json::Error, path: &Path) -> ProfileError {
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Io => match e.io_error_kind() {
            Some(kind) => io_err("reading", path, std::io::Error::new(kind, e.to_string())),
            None => bad(path, format!("unreadable: {e}")),
        },
        Category::Eof => bad(path, format!("truncated: the file ends before the profile is complete ({at})")),
        Category::Syntax => {
            let msg = e.to_string();
            if msg.starts_with("trailing characters") {
                bad(path, format!("trailing data after the profile object ({at})"))
            } else {
                bad(path, format!("not JSON: {msg}"))
            }
        }
        Category::Data => {
            let msg = e.to_string();
            let what = if msg.starts_with("missing field") {
                "missing field"
            } else if msg.starts_with("invalid type") {
                "wrong type"
            } else {
                "invalid value"
            };
            bad(path, format!("{what}: {msg}"))
        }
    }
}

/// Refuses NaN and infinities, which JSON cannot hold.
fn check_finite(p: &Profile, path: &Path) -> Result<(), ProfileError> {
    let refuse = |what: String, key: &str, v: f64| {
        Err(ProfileError::InvalidInput(format!(
            "cannot save `{}`: {what} has `{key}` = {v}; JSON has no NaN or infinity, so replace \
             or remove non-finite values before saving",
            path.display()
        )))
    };
    for e in &p.events {
        if let Some((k, v)) = e.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return refuse(format!("event {} (`{}`)", e.id, e.name), k, *v);
        }
    }
    for o in &p.operations {
        for (k, m) in &o.metrics {
            for v in [m.sum, m.min, m.max] {
                if !v.is_finite() {
                    return refuse(format!("the aggregate of operation `{}`", o.name), k, v);
                }
            }
        }
    }
    for s in &p.samples {
        if !s.cpu_percent.is_finite() {
            return refuse(format!("the monitor sample at {} ns", s.t_ns), "cpu_percent", f64::from(s.cpu_percent));
        }
    }
    Ok(())
}

/// A fresh temporary path beside `path` (same directory, so the rename is atomic).
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().map_or_else(|| "profile".into(), |n| n.to_string_lossy().into_owned());
    let tmp = format!(".{name}.{}.{n}.tmp", std::process::id());
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(tmp),
        _ => PathBuf::from(tmp),
    }
}

fn write_and_sync(p: &Profile, path: &Path, tmp: &Path) -> Result<(), ProfileError> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(|source| io_err("creating a temporary file beside", path, source))?;
    let mut w = BufWriter::with_capacity(BUF_BYTES, file);
    p.write_json(&mut w, path)?;
    let file = w
        .into_inner()
        .map_err(|e| io_err("writing", path, e.into_error()))?;
    file.sync_all().map_err(|source| io_err("syncing", path, source))
}

/// Makes the rename durable (best effort: some file systems refuse to sync a directory).
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peeks_the_version() {
        assert_eq!(peek_version(br#"  { "format_version" : 7 , "x": 1}"#), Peek::Version(7));
        assert_eq!(peek_version(br#"{"format_version":1}"#), Peek::Version(1));
        assert_eq!(peek_version(br#"{"format_version":"1"}"#), Peek::NotANumber("\"1\"".into()));
        assert_eq!(peek_version(br#"{"format_version":12"#), Peek::Unknown);
        assert_eq!(peek_version(br#"{"events":[]}"#), Peek::Unknown);
        assert_eq!(peek_version(b""), Peek::Unknown);
        assert_eq!(peek_version(b"{"), Peek::Unknown);
    }
}
