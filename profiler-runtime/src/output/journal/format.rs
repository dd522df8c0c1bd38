//! The journal's bytes.
//!
//! ```text
//! file    := magic "RRAMJNL\0" | version u32 LE | record*
//! record  := length u32 LE | crc32 u32 LE (of payload) | payload (length bytes)
//! payload := tag u8 | body
//!   tag 1 Start: JSON [`StartRecord`]                      (the first record)
//!   tag 2 Flush: varint n | n bytes of JSON [`FlushMeta`] | events (binary, below)
//!   tag 3 Close: empty                                     (a normal stop wrote everything)
//! events  := varint count | event*
//! event   := id, parent (0: none), op, thread, start_ns, end_ns, busy_ns, self_ns (varints)
//!            | flags u8 (1 panicked, 2 alloc known, 4 error)
//!            | [allocated_bytes, freed_bytes, allocations (varints), if flag 2]
//!            | varint metrics | (key varint, f64 LE bits)* | [error: varint len | UTF-8, if flag 4]
//! ```
//!
//! One flush is one record, so a flush is applied whole or not at all: a record cut short by
//! a crash (its length runs past the end of the file) or damaged (its checksum does not match)
//! ends the journal there, and everything before it is intact. Operations and metric keys are
//! numbered in order of first appearance; a flush names the new ones before its events use
//! them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::event::{AllocSizes, AllocStats, EventKind, Name, ProfileEvent};
use crate::model::profile::{SessionRecord, ThreadInfo};
use crate::model::sample::MonitorSample;
use crate::model::stats::OperationStats;
use crate::model::system::SystemInfo;

/// The file's first bytes.
pub(crate) const MAGIC: &[u8; 8] = b"RRAMJNL\0";
/// The version of the layout above.
pub(crate) const VERSION: u32 = 1;
/// Bytes of a record's header.
pub(crate) const HEADER: usize = 8;
/// The largest record a reader accepts (a flush holds at most the raw buffer's capacity of
/// events plus the aggregates; a length beyond this is damage, not data).
pub(crate) const MAX_RECORD: u32 = 1 << 31;

pub(crate) const TAG_START: u8 = 1;
pub(crate) const TAG_FLUSH: u8 = 2;
pub(crate) const TAG_CLOSE: u8 = 3;

/// What a journal says about its run once, at the start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StartRecord {
    pub started_at_unix_ns: u64,
    pub raw_capacity: usize,
    pub system: SystemInfo,
    pub pid: u32,
    /// The process (journals written before it was recorded have none).
    #[serde(default)]
    pub process: Option<crate::model::process::ProcessRecord>,
}

/// Everything of a flush but its events.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct FlushMeta {
    /// The flush's number, from 1.
    pub seq: u64,
    /// When its cut was taken, ns since the profiler started.
    pub now_ns: u64,
    pub alloc_tracking: bool,
    /// Operations first seen: (number, name, kind).
    pub new_ops: Vec<(u32, String, EventKind)>,
    /// Metric keys first used (or not yet written by a flush that succeeded): (number, key).
    pub new_keys: Vec<(u32, String)>,
    pub threads: Vec<ThreadInfo>,
    pub samples: Vec<MonitorSample>,
    /// Every session so far, when they changed.
    pub sessions: Option<Vec<SessionRecord>>,
    /// The operations that changed, each whole.
    pub operations: Vec<OperationStats>,
}

/// Frames `payload` as a record.
pub(crate) fn frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// One event as the writer encodes it: operation and metric keys by number.
pub(crate) struct EventOut<'a> {
    pub id: u64,
    pub parent: u64,
    pub op: u32,
    pub thread: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub busy_ns: u64,
    pub self_ns: u64,
    pub panicked: bool,
    pub alloc: Option<AllocStats>,
    pub metrics: &'a [(u32, f64)],
    pub error: Option<&'a str>,
    /// Every argument of the function was recorded (see `ProfileEvent::args_recorded`).
    pub args_recorded: bool,
    /// Every thread's allocations over the span, and their size classes
    /// (`#[profile(alloc = "process")]`).
    pub process: Option<(AllocStats, AllocSizes)>,
    /// The backtrace of a slow event.
    pub backtrace: Option<&'a str>,
}

pub(crate) fn put_event(out: &mut Vec<u8>, e: &EventOut<'_>) {
    for v in [
        e.id,
        e.parent,
        u64::from(e.op),
        e.thread,
        e.start_ns,
        e.end_ns,
        e.busy_ns,
        e.self_ns,
    ] {
        put_varint(out, v);
    }
    let flags = u8::from(e.panicked)
        | (u8::from(e.alloc.is_some()) << 1)
        | (u8::from(e.error.is_some()) << 2)
        | (u8::from(e.args_recorded) << 3)
        | (u8::from(e.process.is_some()) << 4)
        | (u8::from(e.backtrace.is_some()) << 5);
    out.push(flags);
    if let Some(a) = e.alloc {
        put_varint(out, a.allocated_bytes);
        put_varint(out, a.freed_bytes);
        put_varint(out, a.allocations);
    }
    put_varint(out, e.metrics.len() as u64);
    for &(k, v) in e.metrics {
        put_varint(out, u64::from(k));
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    if let Some(err) = e.error {
        put_str(out, err);
    }
    if let Some((a, sizes)) = &e.process {
        put_varint(out, a.allocated_bytes);
        put_varint(out, a.freed_bytes);
        put_varint(out, a.allocations);
        for &n in &sizes.counts {
            put_varint(out, n);
        }
    }
    if let Some(b) = e.backtrace {
        put_str(out, b);
    }
}

/// A bounds-checked reader of a record's body.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, at: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.at >= self.bytes.len()
    }

    pub(crate) fn u8(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.at).ok_or("a record ends early")?;
        self.at += 1;
        Ok(b)
    }

    pub(crate) fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number longer than 64 bits".into())
    }

    pub(crate) fn bytes(&mut self, n: u64) -> Result<&'a [u8], String> {
        let n = usize::try_from(n).map_err(|_| "a length beyond memory")?;
        let end = self.at.checked_add(n).ok_or("a length beyond memory")?;
        let s = self.bytes.get(self.at..end).ok_or("a record ends early")?;
        self.at = end;
        Ok(s)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, String> {
        let n = self.varint()?;
        std::str::from_utf8(self.bytes(n)?).map_err(|_| "a string that is not UTF-8".into())
    }

    pub(crate) fn f64(&mut self) -> Result<f64, String> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_bits(u64::from_le_bytes(a)))
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }
}

/// Reads one event, resolving operation and metric-key numbers.
pub(crate) fn get_event(
    c: &mut Cursor<'_>,
    ops: &[(Name, EventKind)],
    keys: &[String],
) -> Result<ProfileEvent, String> {
    let mut v = [0u64; 8];
    for x in &mut v {
        *x = c.varint()?;
    }
    let [id, parent, op, thread, start_ns, end_ns, busy_ns, self_ns] = v;
    let (name, kind) = usize::try_from(op)
        .ok()
        .and_then(|i| ops.get(i))
        .cloned()
        .ok_or_else(|| format!("an event of operation {op}, which no flush named"))?;
    let flags = c.u8()?;
    let mut e = ProfileEvent::new(id, name, kind, thread, start_ns, end_ns);
    e.parent = (parent != 0).then_some(parent);
    e.busy_ns = busy_ns;
    e.self_ns = self_ns;
    e.panicked = flags & 1 != 0;
    if flags & 2 != 0 {
        e.alloc = Some(AllocStats {
            allocated_bytes: c.varint()?,
            freed_bytes: c.varint()?,
            allocations: c.varint()?,
        });
    }
    let n = c.varint()?;
    let mut metrics = BTreeMap::new();
    for _ in 0..n {
        let k = c.varint()?;
        let key = usize::try_from(k)
            .ok()
            .and_then(|i| keys.get(i))
            .ok_or_else(|| format!("a metric key {k} that no flush named"))?;
        let v = c.f64()?;
        metrics.insert(key.clone(), v);
    }
    e.metrics = metrics;
    if flags & 4 != 0 {
        e.error = Some(c.str()?.to_owned());
    }
    e.args_recorded = flags & 8 != 0;
    if flags & 16 != 0 {
        e.process_alloc = Some(AllocStats {
            allocated_bytes: c.varint()?,
            freed_bytes: c.varint()?,
            allocations: c.varint()?,
        });
        let mut sizes = AllocSizes::default();
        for n in &mut sizes.counts {
            *n = c.varint()?;
        }
        e.alloc_sizes = Some(sizes);
    }
    if flags & 32 != 0 {
        e.backtrace = Some(c.str()?.to_owned());
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_round_trips_through_its_bytes() {
        let ops = vec![(Name::from("mvm"), EventKind::HardwareAccess)];
        let keys = vec!["energy_pj".to_owned(), "n".to_owned()];
        let metrics = [(0, 2.5), (1, f64::NAN)];
        let mut out = Vec::new();
        put_event(
            &mut out,
            &EventOut {
                id: u64::MAX,
                parent: 7,
                op: 0,
                thread: 3,
                start_ns: 10,
                end_ns: 1 << 40,
                busy_ns: 5,
                self_ns: 4,
                panicked: true,
                alloc: Some(AllocStats {
                    allocated_bytes: 1,
                    freed_bytes: 2,
                    allocations: 3,
                }),
                metrics: &metrics,
                error: Some("bad ✓"),
                args_recorded: true,
                process: Some((
                    AllocStats {
                        allocated_bytes: 9,
                        freed_bytes: 8,
                        allocations: 2,
                    },
                    AllocSizes {
                        counts: [1; crate::model::event::ALLOC_SIZE_CLASSES],
                    },
                )),
                backtrace: Some("0: solve"),
            },
        );
        let e = get_event(&mut Cursor::new(&out), &ops, &keys).unwrap();
        assert_eq!(
            (e.id, e.parent, e.end_ns, e.self_ns),
            (u64::MAX, Some(7), 1 << 40, 4)
        );
        assert!(e.panicked && e.metric("n").unwrap().is_nan());
        assert_eq!(e.error.as_deref(), Some("bad ✓"));
        assert!(e.args_recorded);
        assert_eq!(e.process_alloc.map(|a| a.allocated_bytes), Some(9));
        assert_eq!(e.alloc_sizes.map(|s| s.counts[15]), Some(1));
        assert_eq!(e.backtrace.as_deref(), Some("0: solve"));
        // Every prefix is an error, never a panic.
        for cut in 0..out.len() {
            assert!(get_event(&mut Cursor::new(&out[..cut]), &ops, &keys).is_err());
        }
    }
}
