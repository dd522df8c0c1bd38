//! Saving and loading a [`Profile`] as versioned JSON.
//!
//! # The file
//!
//! One JSON object, written compactly, with [`Profile`]'s fields as keys in declaration order.
//! Its first key is always `format_version` ([`FORMAT_VERSION`](crate::FORMAT_VERSION)); a reader checks it *before*
//! reading the rest, so a file from a newer (or older) build is refused as a version mismatch
//! ([`ProfileError::UnsupportedVersion`]) rather than as whatever field its new layout broke.
//! Writers of later versions must keep `format_version` the first key.
//!
//! Every field is in its serde form except `events`, which is a table, because a profile may hold
//! millions of events and repeating thirteen keys and the name in each would triple the file:
//!
//! ```text
//! "events": {
//!   "columns": ["id", "parent", "name", "kind", "thread_id", "start_ns", "end_ns", "busy_ns",
//!               "self_ns", "metrics", "alloc", "error", "panicked"],
//!   "names": ["hp_inv.solve", "crossbar.mvm"],
//!   "rows": [[1, null, 0, "computation", 1, 1000, 1001000, 1000000, 120000, {"n": 64.0},
//!             [3145728, 1048576, 40], null, false], ...]
//! }
//! ```
//!
//! A row holds the [`ProfileEvent`](crate::ProfileEvent) fields in `columns` order; `name` is an index into `names`
//! (each distinct name once) and `alloc` is `[allocated_bytes, freed_bytes, allocations]` or
//! `null`. The reader checks `columns` and needs `names` before `rows`.
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
//! - **Streaming**: no intermediate JSON tree (`serde_json::Value`) in either direction. Saving
//!   serialises straight into a 1 MiB buffered writer. [`Profile::load`] reads the file's bytes
//!   into one buffer and parses them in place (about 3x faster than from a reader: 1M events
//!   save and load in well under 3 s, see `benches/persist.rs`); [`Profile::read_json`] parses
//!   from any reader in bounded memory.
//! - **Errors, never panics**: a bad file gets [`ProfileError::BadFile`] whose reason starts with
//!   what is wrong: `empty file`, `not JSON`, `truncated`, `missing field`, `wrong type`,
//!   `invalid value`, `trailing data` ([`BadFileKind`], read back with
//!   [`ProfileError::bad_file_kind`]); or [`ProfileError::UnsupportedVersion`].
//!
//! The code: this file (save, load, atomic writes), `check.rs` (reading the version before the
//! rest, classifying errors), `table.rs` (the file's layout and the event table).

mod check;
mod table;

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub use check::BadFileKind;
use check::{check_head, check_version, classify};
use table::{FileIn, FileOut};

use crate::error::ProfileError;
use crate::model::profile::Profile;
use crate::profiler::PerformanceProfiler;

/// Buffer size of the file reader and writer.
const BUF_BYTES: usize = 1 << 20;

impl Profile {
    /// Saves the profile to `path` as versioned JSON, atomically (see the [module
    /// docs](crate::output::persist)).
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
    /// The file is read into one buffer and parsed in place, straight into the profile (no
    /// intermediate JSON tree): several times faster than parsing from a reader, at the cost
    /// of holding the file's bytes while parsing. [`read_json`](Self::read_json) parses from
    /// any reader in bounded memory.
    ///
    /// Errors: [`ProfileError::Io`] when the file cannot be read,
    /// [`ProfileError::UnsupportedVersion`] for another `format_version`, and
    /// [`ProfileError::BadFile`] saying what is wrong otherwise.
    pub fn load(path: impl AsRef<Path>) -> Result<Profile, ProfileError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| io_err("reading", path, source))?;
        Profile::from_json_slice(&bytes, path)
    }

    /// Parses a profile's JSON held in memory (see [`read_json`](Self::read_json) for the
    /// checks). `label` names the source in errors.
    pub fn from_json_slice(bytes: &[u8], label: impl AsRef<Path>) -> Result<Profile, ProfileError> {
        let label = label.as_ref();
        check_head(bytes, label)?;
        let file: FileIn = serde_json::from_slice(bytes).map_err(|e| classify(e, label))?;
        check_version(file.format_version, label)?;
        Ok(file.into_profile())
    }

    /// Writes the profile's JSON to `writer` (not atomic; [`save`](Self::save) is). `label`
    /// names the destination in errors.
    pub fn write_json<W: Write>(
        &self,
        writer: W,
        label: impl AsRef<Path>,
    ) -> Result<(), ProfileError> {
        let label = label.as_ref();
        check_finite(self, label)?;
        let mut w = BufWriter::with_capacity(BUF_BYTES, writer);
        serde_json::to_writer(&mut w, &FileOut::of(self)).map_err(|e| match e.io_error_kind() {
            Some(kind) => io_err("writing", label, kind.into()),
            None => ProfileError::InvalidInput(format!(
                "cannot serialise the profile to `{}`: {e}",
                label.display()
            )),
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
    pub fn read_json<R: BufRead>(
        mut reader: R,
        label: impl AsRef<Path>,
    ) -> Result<Profile, ProfileError> {
        let label = label.as_ref();
        let head = reader
            .fill_buf()
            .map_err(|source| io_err("reading", label, source))?;
        check_head(head, label)?;
        let file: FileIn = serde_json::from_reader(reader).map_err(|e| classify(e, label))?;
        check_version(file.format_version, label)?;
        Ok(file.into_profile())
    }
}

impl PerformanceProfiler {
    /// Saves a [`snapshot`](Self::snapshot) to `path` ([`Profile::save`]).
    pub fn save_profile_data(&self, path: impl AsRef<Path>) -> Result<(), ProfileError> {
        let _own = crate::record::alloc::OwnAllocations::begin();
        self.snapshot().save(path)
    }
}

pub(super) fn io_err(action: &'static str, path: &Path, source: std::io::Error) -> ProfileError {
    ProfileError::Io {
        action,
        path: path.to_owned(),
        source,
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
            return refuse(
                format!("the monitor sample at {} ns", s.t_ns),
                "cpu_percent",
                f64::from(s.cpu_percent),
            );
        }
    }
    Ok(())
}

/// A fresh temporary path beside `path` (same directory, so the rename is atomic).
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map_or_else(|| "profile".into(), |n| n.to_string_lossy().into_owned());
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
    file.sync_all()
        .map_err(|source| io_err("syncing", path, source))
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
