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
//! - **Lossless**: `Profile::load(p.save(..)) == p` for every profile (NaN and the infinities
//!   included: f64 values are written shortest-round-trip and parsed exactly, and the values
//!   JSON has no number for are written as the strings `"NaN"`, `"inf"`, `"-inf"`, see
//!   [`model::float`](crate::model::float)).
//! - **Safe**: [`Profile::save`] goes through the one [`SafeWriter`]: a temporary file in the
//!   same directory, synced and renamed over the target; a crash leaves the old file or the new
//!   one, never half of one; devices, FIFOs and directories are refused, never replaced.
//! - **Bounded reads**: a path is read only if it is a regular file (a FIFO or a device is
//!   refused before it is opened for long; standard input is read up to a limit), and memory
//!   is checked against the address-space limit and the memory available before the file is
//!   read and while it is parsed: a file that cannot fit gets [`ProfileError::OutOfMemory`],
//!   never an abort. [`LoadOptions::events`]`(false)` reads a profile's aggregates and counts
//!   and checks its events without keeping them (what `report` and `diff` need).
//! - **Checked**: values whose sums would overflow are [`BadFileKind::InvalidValue`] naming
//!   the field; events that make no sense (end before start, self time above busy time,
//!   duplicate ids, a parent that points nowhere or a cycle of parents) are
//!   [`BadFileKind::Inconsistent`] naming the first offending event, or are repaired and
//!   counted with [`LoadOptions::lenient`] (see `consistency.rs`).
//! - **Streaming**: no intermediate JSON tree (`serde_json::Value`) in either direction. Saving
//!   serialises straight into a 1 MiB buffered writer. [`Profile::load`] reads the file's bytes
//!   into one buffer and parses them in place (about 3x faster than from a reader: 1M events
//!   save and load in well under 3 s, see `benches/persist.rs`); [`Profile::read_json`] parses
//!   from any reader in bounded memory.
//! - **Errors, never panics**: a bad file gets [`ProfileError::BadFile`] whose reason starts with
//!   what is wrong: `empty file`, `not JSON`, `truncated`, `missing field`, `wrong type`,
//!   `invalid value`, `trailing data`, `inconsistent` ([`BadFileKind`], read back with
//!   [`ProfileError::bad_file_kind`]); or [`ProfileError::UnsupportedVersion`].
//!
//! The code: this file (save and the entry points), `load.rs` (what may be read, and how much),
//! `budget.rs` (memory available), `check.rs` (reading the version before the rest, classifying
//! errors), `table.rs` (the file's layout and the event table), `consistency.rs` (checks and
//! repairs of what was read).

pub(crate) mod budget;
mod check;
mod consistency;
mod context;
mod load;
mod table;

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

pub use check::BadFileKind;
pub use consistency::Repairs;
pub use load::{Input, LoadOptions, Loaded};
use table::FileOut;

use crate::error::ProfileError;
use crate::model::profile::Profile;
use crate::output::write::SafeWriter;
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
        SafeWriter::new(path).write(|w| self.write_json(w, path))
    }

    /// Loads a profile saved by [`save`](Self::save).
    ///
    /// The file is read into one buffer and parsed in place, straight into the profile (no
    /// intermediate JSON tree): several times faster than parsing from a reader, at the cost
    /// of holding the file's bytes while parsing. [`read_json`](Self::read_json) parses from
    /// any reader in bounded memory.
    ///
    /// Errors: [`ProfileError::Refused`] for anything but a regular file,
    /// [`ProfileError::OutOfMemory`] for a file that cannot fit in the memory available,
    /// [`ProfileError::Io`] when the file cannot be read, [`ProfileError::UnsupportedVersion`]
    /// for another `format_version`, and [`ProfileError::BadFile`] saying what is wrong
    /// otherwise (see [`LoadOptions`] to repair inconsistent events instead).
    pub fn load(path: impl AsRef<Path>) -> Result<Profile, ProfileError> {
        LoadOptions::new().load(path).map(|l| l.profile)
    }

    /// Parses a profile's JSON held in memory (see [`read_json`](Self::read_json) for the
    /// checks). `label` names the source in errors.
    pub fn from_json_slice(bytes: &[u8], label: impl AsRef<Path>) -> Result<Profile, ProfileError> {
        LoadOptions::new()
            .parse_slice(bytes, label.as_ref())
            .map(|l| l.profile)
    }

    /// Writes the profile's JSON to `writer` (not atomic; [`save`](Self::save) is). `label`
    /// names the destination in errors.
    pub fn write_json<W: Write>(
        &self,
        writer: W,
        label: impl AsRef<Path>,
    ) -> Result<(), ProfileError> {
        let label = label.as_ref();
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
        LoadOptions::new()
            .parse_reader(&mut reader, label.as_ref())
            .map(|l| l.profile)
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
