//! The file's layout: [`Profile`]'s fields in order, with the events as a table (see the
//! [module docs](super)).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::ser::{SerializeSeq, SerializeStruct, SerializeTuple};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::budget;
use super::consistency::Tally;
use super::context::{fail, settings, CONTEXT};
use crate::error::ProfileError;
use crate::model::event::{
    AllocSizes, AllocStats, EventKind, Name, ProfileEvent, ALLOC_SIZE_CLASSES,
};
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
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    cpu_watts_per_core: Option<f64>,
    heap_growth_bytes: Option<i64>,
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
            warnings,
            cpu_watts_per_core,
            heap_growth_bytes,
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
            warnings,
            cpu_watts_per_core: *cpu_watts_per_core,
            heap_growth_bytes: *heap_growth_bytes,
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
    #[serde(default)]
    warnings: Vec<String>,
    cpu_watts_per_core: Option<f64>,
    #[serde(default)]
    heap_growth_bytes: Option<i64>,
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
            warnings,
            cpu_watts_per_core,
            heap_growth_bytes,
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
            warnings,
            cpu_watts_per_core,
            heap_growth_bytes,
        }
    }
}

/// The row layout of `events.rows`, written to the file as `events.columns` and checked on load.
const COLUMNS: [&str; 17] = [
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
    "process_alloc",
    "alloc_sizes",
    "backtrace",
    "args_recorded",
];
/// The first 13 columns: the whole layout of files written before the last four existed, and
/// of files whose events have none of them (read with those four at their defaults).
const LEGACY_COLUMNS: usize = 13;

/// What a row is, for errors: `an event row of N values`.
struct RowLen(usize);

impl de::Expected for RowLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an event row of {} values (see events.columns)", self.0)
    }
}

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
        // The last four columns only where some event has one of them set.
        let extended = self.0.iter().any(|e| {
            e.process_alloc.is_some()
                || e.alloc_sizes.is_some()
                || e.backtrace.is_some()
                || e.args_recorded
        });
        let columns = if extended {
            COLUMNS.len()
        } else {
            LEGACY_COLUMNS
        };
        m.serialize_field("columns", &COLUMNS[..columns])?;
        m.serialize_field("names", &names)?;
        m.serialize_field("rows", &Rows(self.0, &rows, extended))?;
        m.end()
    }
}

/// The rows, with each event's name index.
struct Rows<'a>(&'a [ProfileEvent], &'a [usize], bool);

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
                process_alloc,
                alloc_sizes,
                backtrace,
                args_recorded,
            } = e;
            let alloc = alloc.map(|a| [a.allocated_bytes, a.freed_bytes, a.allocations]);
            let metrics = MetricsOut(metrics);
            let process_alloc =
                process_alloc.map(|a| [a.allocated_bytes, a.freed_bytes, a.allocations]);
            let alloc_sizes = alloc_sizes.map(|s| s.counts);
            seq.serialize_element(&Row(
                self.2,
                (
                    id, parent, name, kind, thread_id, start_ns, end_ns, busy_ns, self_ns, metrics,
                    alloc, error, panicked,
                ),
                (process_alloc, alloc_sizes, backtrace, args_recorded),
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

/// Rows between two checks of the memory available.
const BUDGET_EVERY: u64 = 16_384;

/// One row: the 13 original columns and the 4 added after, written as one flat array.
/// With `extended` false, only the 13 original columns.
struct Row<A, B>(bool, A, B);

impl<A: SerializeFlat, B: SerializeFlat> Serialize for Row<A, B> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = if self.0 { A::LEN + B::LEN } else { A::LEN };
        let mut t = s.serialize_tuple(len)?;
        self.1.write(&mut t)?;
        if self.0 {
            self.2.write(&mut t)?;
        }
        t.end()
    }
}

/// A tuple whose elements are written one by one into an enclosing tuple.
trait SerializeFlat {
    const LEN: usize;
    fn write<T: SerializeTuple>(&self, t: &mut T) -> Result<(), T::Error>;
}

macro_rules! flat {
    ($n:literal; $($t:ident $i:tt),*) => {
        impl<$($t: Serialize),*> SerializeFlat for ($($t,)*) {
            const LEN: usize = $n;
            fn write<T: SerializeTuple>(&self, t: &mut T) -> Result<(), T::Error> {
                $(t.serialize_element(&self.$i)?;)*
                Ok(())
            }
        }
    };
}
flat!(13; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
flat!(4; A 0, B 1, C 2, D 3);

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
        let mut columns: Option<usize> = None;
        let mut names: Option<Vec<Name>> = None;
        let mut rows = None;
        while let Some(key) = map.next_key::<String>()? {
            match &*key {
                "columns" => {
                    let cols: Vec<String> = map.next_value()?;
                    let known = cols.len() == COLUMNS.len() || cols.len() == LEGACY_COLUMNS;
                    if !known || cols.iter().zip(COLUMNS).any(|(a, b)| a != b) {
                        return Err(de::Error::invalid_value(
                            Unexpected::Other(&format!("events.columns {cols:?}")),
                            &format!("{COLUMNS:?}").as_str(),
                        ));
                    }
                    columns = Some(cols.len());
                }
                "names" => names = Some(map.next_value::<Vec<Name>>()?),
                "rows" => {
                    let Some(names) = names.as_deref() else {
                        return Err(de::Error::custom(
                            "events.names must come before events.rows",
                        ));
                    };
                    let Some(columns) = columns else {
                        return Err(de::Error::custom(
                            "events.columns must come before events.rows",
                        ));
                    };
                    rows = Some(map.next_value_seed(RowsSeed(names, columns))?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if columns.is_none() {
            return Err(de::Error::missing_field("events.columns"));
        }
        rows.map(Events)
            .ok_or_else(|| de::Error::missing_field("events.rows"))
    }
}

/// The names, and how many columns a row has.
struct RowsSeed<'n>(&'n [Name], usize);

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
        while let Some(mut e) = seq.next_element_seed(RowSeed(self.0, self.1))? {
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

struct RowSeed<'n>(&'n [Name], usize);

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = ProfileEvent;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = ProfileEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        de::Expected::fmt(&RowLen(self.1), f)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ProfileEvent, A::Error> {
        macro_rules! col {
            ($at:literal, $t:ty) => {
                seq.next_element::<$t>()?
                    .ok_or_else(|| de::Error::invalid_length($at, &RowLen(self.1)))?
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
        let stats = |[allocated_bytes, freed_bytes, allocations]: [u64; 3]| AllocStats {
            allocated_bytes,
            freed_bytes,
            allocations,
        };
        let (mut process_alloc, mut alloc_sizes, mut backtrace, mut args_recorded) =
            (None, None, None, false);
        if self.1 == COLUMNS.len() {
            process_alloc = col!(13, Option<[u64; 3]>).map(stats);
            alloc_sizes =
                col!(14, Option<[u64; ALLOC_SIZE_CLASSES]>).map(|counts| AllocSizes { counts });
            backtrace = col!(15, Option<String>);
            args_recorded = col!(16, bool);
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(self.1 + 1, &RowLen(self.1)));
        }
        let mut e = ProfileEvent::new(id, name, kind, thread_id, start_ns, end_ns);
        e.parent = parent;
        e.busy_ns = busy_ns;
        e.self_ns = self_ns;
        e.metrics = metrics;
        e.alloc = alloc;
        e.error = error;
        e.panicked = panicked;
        e.process_alloc = process_alloc;
        e.alloc_sizes = alloc_sizes;
        e.backtrace = backtrace;
        e.args_recorded = args_recorded;
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
