//! The file's layout: [`Profile`]'s fields in order, with the events as a table (see the
//! [module docs](super)).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::event::{AllocStats, EventKind, Name, ProfileEvent};
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
pub(super) struct FileIn {
    pub(super) format_version: u64,
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
    pub(super) fn into_profile(self) -> Profile {
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
            seq.serialize_element(&(
                id, parent, name, kind, thread_id, start_ns, end_ns, busy_ns, self_ns, metrics,
                alloc, error, panicked,
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
        let metrics = col!(9, BTreeMap<String, f64>);
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
