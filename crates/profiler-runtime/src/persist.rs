//! Saving and loading a [`Profile`] as versioned JSON.
//!
//! # The file
//!
//! One JSON object, written compactly, with [`Profile`]'s fields as keys in declaration order.
//! Its first key is always `format_version` ([`FORMAT_VERSION`]); a reader checks it *before*
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
//! A row holds the [`ProfileEvent`] fields in `columns` order; `name` is an index into `names`
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
//! - **Streaming**: both directions go through 1 MiB buffers; no whole-file `String` is built.
//! - **Errors, never panics**: a bad file gets [`ProfileError::BadFile`] whose reason starts with
//!   what is wrong: `empty file`, `not JSON`, `truncated`, `missing field`, `wrong type`,
//!   `invalid value`, `trailing data`; or [`ProfileError::UnsupportedVersion`].

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::error::Category;

use crate::error::ProfileError;
use crate::event::{AllocStats, EventKind, Name, ProfileEvent};
use crate::monitor::MonitorSample;
use crate::profile::{Profile, SessionRecord, ThreadInfo, FORMAT_VERSION};
use crate::profiler::PerformanceProfiler;
use crate::stats::OperationStats;
use crate::system::SystemInfo;

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
        if head.is_empty() {
            return Err(bad(
                label,
                "empty file: expected a JSON profile object".to_owned(),
            ));
        }
        if first_token(head) == Some(b'[') {
            // serde would read a struct from an array of its fields in order; a profile file is
            // always an object, so an array is the wrong kind of JSON value, not a profile.
            return Err(bad(
                label,
                "wrong type: expected a JSON object (a profile), found an array".to_owned(),
            ));
        }
        match peek_version(head) {
            Peek::Version(v) => check_version(v, label)?,
            Peek::NotANumber(tok) => {
                return Err(bad(
                    label,
                    format!(
                        "wrong type: format_version must be a non-negative integer, found `{tok}`"
                    ),
                ))
            }
            Peek::Unknown => {}
        }
        let file: FileIn = serde_json::from_reader(reader).map_err(|e| classify(e, label))?;
        check_version(file.format_version, label)?;
        Ok(file.into_profile())
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
fn classify(e: serde_json::Error, path: &Path) -> ProfileError {
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Io => match e.io_error_kind() {
            Some(kind) => io_err("reading", path, std::io::Error::new(kind, e.to_string())),
            None => bad(path, format!("unreadable: {e}")),
        },
        Category::Eof => bad(
            path,
            format!("truncated: the file ends before the profile is complete ({at})"),
        ),
        Category::Syntax => {
            let msg = e.to_string();
            if msg.starts_with("trailing characters") {
                bad(
                    path,
                    format!("trailing data after the profile object ({at})"),
                )
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

/// The file's top level: [`Profile`]'s fields in declaration order, with `events` as an
/// [`EventTable`]. Built by exhaustive destructuring, so a field added to `Profile` fails to
/// compile here until the file format carries it.
#[derive(Serialize)]
struct FileOut<'a> {
    format_version: u64,
    started_at_unix_ns: u64,
    duration_ns: u64,
    system: &'a SystemInfo,
    alloc_tracking: bool,
    raw_capacity: usize,
    dropped_events: u64,
    threads: &'a [ThreadInfo],
    sessions: &'a [SessionRecord],
    operations: &'a [OperationStats],
    samples: &'a [MonitorSample],
    events: EventTable<'a>,
}

impl<'a> FileOut<'a> {
    fn of(p: &'a Profile) -> Self {
        let Profile {
            format_version,
            started_at_unix_ns,
            duration_ns,
            system,
            alloc_tracking,
            raw_capacity,
            dropped_events,
            threads,
            sessions,
            operations,
            samples,
            events,
        } = p;
        FileOut {
            format_version: *format_version,
            started_at_unix_ns: *started_at_unix_ns,
            duration_ns: *duration_ns,
            system,
            alloc_tracking: *alloc_tracking,
            raw_capacity: *raw_capacity,
            dropped_events: *dropped_events,
            threads,
            sessions,
            operations,
            samples,
            events: EventTable(events),
        }
    }
}

/// What [`FileOut`] writes, read back.
#[derive(Deserialize)]
struct FileIn {
    format_version: u64,
    started_at_unix_ns: u64,
    duration_ns: u64,
    system: SystemInfo,
    alloc_tracking: bool,
    raw_capacity: usize,
    dropped_events: u64,
    threads: Vec<ThreadInfo>,
    sessions: Vec<SessionRecord>,
    operations: Vec<OperationStats>,
    samples: Vec<MonitorSample>,
    events: Events,
}

impl FileIn {
    fn into_profile(self) -> Profile {
        let FileIn {
            format_version,
            started_at_unix_ns,
            duration_ns,
            system,
            alloc_tracking,
            raw_capacity,
            dropped_events,
            threads,
            sessions,
            operations,
            samples,
            events,
        } = self;
        Profile {
            format_version,
            started_at_unix_ns,
            duration_ns,
            system,
            alloc_tracking,
            raw_capacity,
            dropped_events,
            threads,
            sessions,
            operations,
            samples,
            events: events.0,
        }
    }
}

/// The row layout of `events.rows`, written to the file as `events.columns` and checked on load.
const COLUMNS: [&str; 13] = [
    "id", "parent", "name", "kind", "thread_id", "start_ns", "end_ns", "busy_ns", "self_ns", "metrics", "alloc",
    "error", "panicked",
];
/// What a row is, for errors.
const ROW: &str = "an event row of 13 values (see events.columns)";

/// The events as `{"columns": [..], "names": [..], "rows": [[..], ..]}`: each distinct name
/// once, each event one array of [`COLUMNS`] with `name` an index into `names` and `alloc` as
/// `[allocated_bytes, freed_bytes, allocations]` or `null`.
struct EventTable<'a>(&'a [ProfileEvent]);

impl Serialize for EventTable<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut names: Vec<&str> = Vec::new();
        let rows: Vec<usize> = self
            .0
            .iter()
            .map(|e| {
                *index.entry(&e.name).or_insert_with(|| {
                    names.push(&e.name);
                    names.len() - 1
                })
            })
            .collect();
        let mut m = s.serialize_struct("Events", 3)?;
        m.serialize_field("columns", &COLUMNS)?;
        m.serialize_field("names", &names)?;
        m.serialize_field("rows", &Rows(self.0, &rows))?;
        m.end()
    }
}

/// The rows, with each event's name index.
struct Rows<'a>(&'a [ProfileEvent], &'a [usize]);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (e, &name) in self.0.iter().zip(self.1) {
            let ProfileEvent {
                id,
                parent,
                name: _,
                kind,
                thread_id,
                start_ns,
                end_ns,
                busy_ns,
                self_ns,
                metrics,
                alloc,
                error,
                panicked,
            } = e;
            let alloc = alloc.map(|a| [a.allocated_bytes, a.freed_bytes, a.allocations]);
            seq.serialize_element(&(
                id, parent, name, kind, thread_id, start_ns, end_ns, busy_ns, self_ns, metrics, alloc, error, panicked,
            ))?;
        }
        seq.end()
    }
}

/// The events read back from an [`EventTable`].
struct Events(Vec<ProfileEvent>);

impl<'de> Deserialize<'de> for Events {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EventsVisitor)
    }
}

struct EventsVisitor;

impl<'de> Visitor<'de> for EventsVisitor {
    type Value = Events;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event table {\"columns\", \"names\", \"rows\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Events, A::Error> {
        let mut columns_seen = false;
        let mut names: Option<Vec<Name>> = None;
        let mut rows = None;
        while let Some(key) = map.next_key::<String>()? {
            match &*key {
                "columns" => {
                    let cols: Vec<String> = map.next_value()?;
                    if cols.len() != COLUMNS.len() || cols.iter().zip(COLUMNS).any(|(a, b)| a != b) {
                        return Err(de::Error::invalid_value(
                            Unexpected::Other(&format!("events.columns {cols:?}")),
                            &format!("{COLUMNS:?}").as_str(),
                        ));
                    }
                    columns_seen = true;
                }
                "names" => names = Some(map.next_value::<Vec<Name>>()?),
                "rows" => {
                    let Some(names) = names.as_deref() else {
                        return Err(de::Error::custom("invalid value: events.names must come before events.rows"));
                    };
                    rows = Some(map.next_value_seed(RowsSeed(names))?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !columns_seen {
            return Err(de::Error::missing_field("events.columns"));
        }
        rows.map(Events).ok_or_else(|| de::Error::missing_field("events.rows"))
    }
}

struct RowsSeed<'n>(&'n [Name]);

impl<'de> DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = Vec<ProfileEvent>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = Vec<ProfileEvent>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of event rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // The hint comes from the file: cap it so a lying length cannot reserve gigabytes.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(e) = seq.next_element_seed(RowSeed(self.0))? {
            out.push(e);
        }
        Ok(out)
    }
}

struct RowSeed<'n>(&'n [Name]);

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = ProfileEvent;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = ProfileEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ROW)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ProfileEvent, A::Error> {
        macro_rules! col {
            ($at:literal, $t:ty) => {
                seq.next_element::<$t>()?.ok_or_else(|| de::Error::invalid_length($at, &ROW))?
            };
        }
        let id = col!(0, u64);
        let parent = col!(1, Option<u64>);
        let name_at = col!(2, usize);
        let name = self.0.get(name_at).cloned().ok_or_else(|| {
            de::Error::invalid_value(
                Unexpected::Unsigned(name_at as u64),
                &format!("a name index below {} (the length of events.names)", self.0.len()).as_str(),
            )
        })?;
        let kind = col!(3, EventKind);
        let thread_id = col!(4, u64);
        let start_ns = col!(5, u64);
        let end_ns = col!(6, u64);
        let busy_ns = col!(7, u64);
        let self_ns = col!(8, u64);
        let metrics = col!(9, BTreeMap<String, f64>);
        let alloc = col!(10, Option<[u64; 3]>).map(|[allocated_bytes, freed_bytes, allocations]| AllocStats {
            allocated_bytes,
            freed_bytes,
            allocations,
        });
        let error = col!(11, Option<String>);
        let panicked = col!(12, bool);
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(COLUMNS.len() + 1, &ROW));
        }
        Ok(ProfileEvent {
            id,
            parent,
            name,
            kind,
            thread_id,
            start_ns,
            end_ns,
            busy_ns,
            self_ns,
            metrics,
            alloc,
            error,
            panicked,
        })
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
