//! The file's layout: [`Profile`]'s fields in order, with the events as a table (see the
//! [module docs](super)).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::budget;
use super::consistency::Tally;
use crate::error::ProfileError;
use crate::model::event::{AllocStats, EventKind, Name, ProfileEvent};
use crate::model::float::AnyF64;
use crate::model::otlp_status::OtlpStatus;
use crate::model::process::ProcessRecord;
use crate::model::profile::{Profile, SessionRecord, ThreadInfo};
use crate::model::sample::MonitorSample;
use crate::model::stats::OperationStats;
use crate::model::system::SystemInfo;

/// The file's top level: [`Profile`]'s fields in declaration order, with `events` as an
/// [`EventTable`]. Built by exhaustive destructuring, so a field added to `Profile` fails to
/// compile here until the file format carries it.
#[derive(Serialize)]
pub(super) struct FileOut<'a> {
    format_version: u64,
    started_at_unix_ns: u64,
    duration_ns: u64,
    system: &'a SystemInfo,
    alloc_tracking: bool,
    raw_capacity: usize,
    dropped_events: u64,
    processes: &'a [ProcessRecord],
    otlp: &'a Option<OtlpStatus>,
    threads: &'a [ThreadInfo],
    sessions: &'a [SessionRecord],
    operations: &'a [OperationStats],
    samples: &'a [MonitorSample],
    events: EventTable<'a>,
}

impl<'a> FileOut<'a> {
    pub(super) fn of(p: &'a Profile) -> Self {
        let Profile {
            format_version,
            started_at_unix_ns,
            duration_ns,
            system,
            alloc_tracking,
            raw_capacity,
            dropped_events,
            processes,
            otlp,
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
            processes,
            otlp,
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
pub(super) struct FileIn {
    pub(super) format_version: u64,
    started_at_unix_ns: u64,
    duration_ns: u64,
    system: SystemInfo,
    alloc_tracking: bool,
    raw_capacity: usize,
    dropped_events: u64,
    #[serde(default)]
    processes: Vec<ProcessRecord>,
    #[serde(default)]
    otlp: Option<OtlpStatus>,
    threads: Vec<ThreadInfo>,
    sessions: Vec<SessionRecord>,
    operations: Vec<OperationStats>,
    samples: Vec<MonitorSample>,
    events: Events,
}

impl FileIn {
    /// The operations read (for checks before the profile is built).
    pub(super) fn operations(&self) -> &[OperationStats] {
        &self.operations
    }

    pub(super) fn into_profile(self) -> Profile {
        let FileIn {
            format_version,
            started_at_unix_ns,
            duration_ns,
            system,
            alloc_tracking,
            raw_capacity,
            dropped_events,
            processes,
            otlp,
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
            processes,
            otlp,
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
    "id",
    "parent",
    "name",
    "kind",
    "thread_id",
    "start_ns",
    "end_ns",
    "busy_ns",
    "self_ns",
    "metrics",
    "alloc",
    "error",
    "panicked",
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
            let metrics = MetricsOut(metrics);
            seq.serialize_element(&(
                id, parent, name, kind, thread_id, start_ns, end_ns, busy_ns, self_ns, metrics,
                alloc, error, panicked,
            ))?;
        }
        seq.end()
    }
}

/// An event's metrics, non-finite values as strings (see [`crate::model::float`]).
struct MetricsOut<'a>(&'a BTreeMap<String, f64>);

impl Serialize for MetricsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, AnyF64(*v))))
    }
}

/// An event's metrics read back: numbers, or the strings of non-finite values.
struct MetricsIn(BTreeMap<String, f64>);

impl<'de> Deserialize<'de> for MetricsIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MetricsIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of metric names to numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MetricsIn, A::Error> {
                let mut m = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, AnyF64>()? {
                    m.insert(k, v.0);
                }
                Ok(MetricsIn(m))
            }
        }
        d.deserialize_map(V)
    }
}

/// How the loader that runs a parse on this thread wants the events read, and what it gets
/// back besides the profile. Set for the duration of one parse (the serde entry points take no
/// arguments): see [`with_context`].
pub(super) struct ParseContext {
    /// Keep the events (else count and check them only).
    pub keep_events: bool,
    /// Repair inconsistencies instead of refusing them.
    pub lenient: bool,
    /// The file, for errors.
    pub path: PathBuf,
    /// A typed error raised inside the parse (memory), which wins over serde's.
    pub failure: Option<ProfileError>,
    /// The checks of the events, once read.
    pub tally: Option<Tally>,
}

thread_local! {
    static CONTEXT: RefCell<Option<ParseContext>> = const { RefCell::new(None) };
}

/// Runs `parse` with `ctx` as this thread's parse context, and returns the context after.
pub(super) fn with_context<R>(ctx: ParseContext, parse: impl FnOnce() -> R) -> (R, ParseContext) {
    let prev = CONTEXT.with(|c| c.borrow_mut().replace(ctx));
    let r = parse();
    let ctx = CONTEXT
        .with(|c| std::mem::replace(&mut *c.borrow_mut(), prev))
        .unwrap_or_else(|| ParseContext {
            keep_events: true,
            lenient: false,
            path: PathBuf::new(),
            failure: None,
            tally: None,
        });
    (r, ctx)
}

/// The settings of the current parse: (keep events, lenient, path).
fn settings() -> (bool, bool, PathBuf) {
    CONTEXT.with(|c| match &*c.borrow() {
        Some(ctx) => (ctx.keep_events, ctx.lenient, ctx.path.clone()),
        None => (true, false, PathBuf::new()),
    })
}

fn fail<E: de::Error>(e: ProfileError) -> E {
    let msg = e.to_string();
    CONTEXT.with(|c| {
        if let Some(ctx) = &mut *c.borrow_mut() {
            ctx.failure.get_or_insert(e);
        }
    });
    E::custom(msg)
}

/// Rows between two checks of the memory available.
const BUDGET_EVERY: u64 = 16_384;

/// The events read back from an [`EventTable`] (none when the context keeps none).
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
                    if cols.len() != COLUMNS.len() || cols.iter().zip(COLUMNS).any(|(a, b)| a != b)
                    {
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
                        return Err(de::Error::custom(
                            "events.names must come before events.rows",
                        ));
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
        rows.map(Events)
            .ok_or_else(|| de::Error::missing_field("events.rows"))
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
        let (keep, lenient, path) = settings();
        let mut tally = Tally::new(lenient);
        // The hint comes from the file: cap it so a lying length cannot reserve gigabytes.
        let mut out = Vec::new();
        if keep {
            out.try_reserve(seq.size_hint().unwrap_or(0).min(1 << 16))
                .map_err(|_| fail(oom(&path, 1 << 16)))?;
        }
        while let Some(mut e) = seq.next_element_seed(RowSeed(self.0))? {
            tally.row(&mut e).map_err(|what| {
                if what.starts_with("out of memory") {
                    fail(oom(&path, tally.seen()))
                } else {
                    fail(super::consistency::overflow_error(&path, what))
                }
            })?;
            if tally.seen() % BUDGET_EVERY == 0 {
                budget::ensure(0, &path, "reading the events").map_err(fail)?;
            }
            if keep {
                if out.len() == out.capacity() {
                    // Grow by half, checked: a failed allocation is an error, not an abort.
                    let more = (out.len() / 2).max(1024);
                    let bytes = (more * std::mem::size_of::<ProfileEvent>()) as u64;
                    budget::ensure(bytes, &path, "growing the events").map_err(fail)?;
                    out.try_reserve_exact(more)
                        .map_err(|_| fail(oom(&path, tally.seen())))?;
                }
                out.push(e);
            }
        }
        CONTEXT.with(|c| {
            if let Some(ctx) = &mut *c.borrow_mut() {
                ctx.tally = Some(tally);
            }
        });
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
                seq.next_element::<$t>()?
                    .ok_or_else(|| de::Error::invalid_length($at, &ROW))?
            };
        }
        let id = col!(0, u64);
        let parent = col!(1, Option<u64>);
        let name_at = col!(2, usize);
        let name = self.0.get(name_at).cloned().ok_or_else(|| {
            de::Error::invalid_value(
                Unexpected::Unsigned(name_at as u64),
                &format!(
                    "a name index below {} (the length of events.names)",
                    self.0.len()
                )
                .as_str(),
            )
        })?;
        let kind = col!(3, EventKind);
        let thread_id = col!(4, u64);
        let start_ns = col!(5, u64);
        let end_ns = col!(6, u64);
        let busy_ns = col!(7, u64);
        let self_ns = col!(8, u64);
        let metrics = col!(9, MetricsIn).0;
        let alloc = col!(10, Option<[u64; 3]>).map(|[allocated_bytes, freed_bytes, allocations]| {
            AllocStats {
                allocated_bytes,
                freed_bytes,
                allocations,
            }
        });
        let error = col!(11, Option<String>);
        let panicked = col!(12, bool);
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(COLUMNS.len() + 1, &ROW));
        }
        let mut e = ProfileEvent::new(id, name, kind, thread_id, start_ns, end_ns);
        e.parent = parent;
        e.busy_ns = busy_ns;
        e.self_ns = self_ns;
        e.metrics = metrics;
        e.alloc = alloc;
        e.error = error;
        e.panicked = panicked;
        Ok(e)
    }
}

fn oom(path: &std::path::Path, events: u64) -> ProfileError {
    ProfileError::OutOfMemory {
        path: path.to_owned(),
        reason: format!(
            "out of memory after {events} events (the address-space limit or free memory); \
             raise `ulimit -v`, or read less of the file (`report` and `diff` keep no events)"
        ),
    }
}
