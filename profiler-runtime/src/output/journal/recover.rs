//! Rebuilding a profile from a journal: every complete flush, in order; a damaged or cut-short
//! record ends the journal there (and is reported, never applied).

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::format::{
    get_event, Cursor, FlushMeta, StartRecord, HEADER, MAGIC, MAX_RECORD, TAG_CLOSE, TAG_FLUSH,
    TAG_START, VERSION,
};
use crate::error::ProfileError;
use crate::model::event::{EventKind, Name, ProfileEvent};
use crate::model::profile::{Profile, SessionRecord, FORMAT_VERSION};
use crate::model::sample::MonitorSample;
use crate::model::stats::OperationStats;
use crate::output::write::kind_of;

/// A profile rebuilt from a journal, and what the journal's end looked like.
#[derive(Debug, Clone)]
pub struct Recovered {
    /// Everything up to the last complete flush: aggregates exact as of that flush, the newest
    /// raw events within the profiler's raw capacity (older ones counted as dropped).
    pub profile: Profile,
    /// Complete flushes applied.
    pub flushes: u64,
    /// Whether the journal ends with the record of a normal stop (then nothing was lost).
    pub closed: bool,
    /// What was wrong at the end, if anything (a record cut short by the crash, a checksum
    /// that does not match): with the byte offset and how many bytes were ignored.
    pub tail: Option<String>,
    /// Bytes of the journal applied.
    pub bytes_applied: u64,
}

impl Recovered {
    /// One line on how the journal ended.
    pub fn summary(&self) -> String {
        let how = if self.closed {
            "the run stopped normally; nothing was lost".to_owned()
        } else {
            match &self.tail {
                Some(t) => format!("the run was cut short; {t}"),
                None => "the run was cut short after its last complete flush".to_owned(),
            }
        };
        format!(
            "{} flush(es), {} events ({} kept), up to {:.3} s into the run: {how}",
            self.flushes,
            self.profile.total_events(),
            self.profile.events.len(),
            self.profile.duration_ns as f64 / 1e9
        )
    }
}

fn bad(path: &Path, reason: impl Into<String>) -> ProfileError {
    ProfileError::BadFile {
        path: path.to_owned(),
        reason: format!("not a journal: {}", reason.into()),
    }
}

/// Reads the journal at `path` (see [`Profile::recover`]).
pub fn recover(path: impl AsRef<Path>) -> Result<Recovered, ProfileError> {
    let path = path.as_ref();
    let io = |source| ProfileError::Io {
        action: "reading the journal",
        path: path.to_owned(),
        source,
    };
    let m = std::fs::metadata(path).map_err(io)?;
    if !m.is_file() {
        return Err(ProfileError::Refused {
            path: path.to_owned(),
            reason: format!("it is {}, not a regular file", kind_of(&m)),
        });
    }
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut head = [0u8; 12];
    r.read_exact(&mut head)
        .map_err(|_| bad(path, "shorter than a journal's header"))?;
    if &head[..8] != MAGIC {
        return Err(bad(
            path,
            "it does not start with the journal's magic bytes",
        ));
    }
    let version = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
    if version != VERSION {
        return Err(bad(
            path,
            format!("journal version {version}; this build reads version {VERSION}"),
        ));
    }
    let mut state = Rebuild::new(path.to_owned());
    let mut at: u64 = head.len() as u64;
    let mut payload = Vec::new();
    let mut tail = None;
    let mut closed = false;
    loop {
        let mut h = [0u8; HEADER];
        match read_full(&mut r, &mut h) {
            Ok(0) => break,
            Ok(n) if n < HEADER => {
                tail = Some(format!(
                    "a record header cut short at byte {at} ({n} bytes ignored)"
                ));
                break;
            }
            Ok(_) => {}
            Err(e) => return Err(io(e)),
        }
        let size = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let crc = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        let rest = len.saturating_sub(at + HEADER as u64);
        if size > MAX_RECORD || u64::from(size) > rest {
            tail = Some(format!(
                "a record at byte {at} claims {size} bytes but {rest} follow: cut short by the \
                 crash ({} bytes ignored)",
                len - at
            ));
            break;
        }
        payload.clear();
        payload
            .try_reserve_exact(size as usize)
            .map_err(|_| ProfileError::OutOfMemory {
                path: path.to_owned(),
                reason: format!("cannot allocate {} MiB for one journal record", size >> 20),
            })?;
        payload.resize(size as usize, 0);
        r.read_exact(&mut payload).map_err(io)?;
        if crc32fast::hash(&payload) != crc {
            tail = Some(format!(
                "the record at byte {at} is damaged (checksum mismatch); it and the {} bytes \
                 after it were ignored",
                len - at
            ));
            break;
        }
        match state.apply(&payload) {
            Ok(Applied::Close) => closed = true,
            Ok(Applied::Data) => {}
            Err(why) => {
                tail = Some(format!(
                    "the record at byte {at} cannot be read ({why}); it and the {} bytes after \
                     it were ignored",
                    len - at
                ));
                break;
            }
        }
        at += HEADER as u64 + u64::from(size);
    }
    if !state.started {
        return Err(bad(path, "no complete start record"));
    }
    let flushes = state.flushes;
    Ok(Recovered {
        profile: state.finish(),
        flushes,
        closed: closed && tail.is_none(),
        tail,
        bytes_applied: at,
    })
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

enum Applied {
    Data,
    Close,
}

/// The profile being rebuilt.
struct Rebuild {
    _path: PathBuf,
    started: bool,
    start: Option<StartRecord>,
    flushes: u64,
    now_ns: u64,
    alloc_tracking: bool,
    ops: Vec<(Name, EventKind)>,
    keys: Vec<String>,
    threads: BTreeMap<u64, String>,
    samples: Vec<MonitorSample>,
    sessions: Vec<SessionRecord>,
    operations: BTreeMap<(String, EventKind), OperationStats>,
    events: VecDeque<ProfileEvent>,
    evicted: u64,
}

impl Rebuild {
    fn new(path: PathBuf) -> Self {
        Rebuild {
            _path: path,
            started: false,
            start: None,
            flushes: 0,
            now_ns: 0,
            alloc_tracking: false,
            ops: Vec::new(),
            keys: Vec::new(),
            threads: BTreeMap::new(),
            samples: Vec::new(),
            sessions: Vec::new(),
            operations: BTreeMap::new(),
            events: VecDeque::new(),
            evicted: 0,
        }
    }

    fn capacity(&self) -> usize {
        self.start.as_ref().map_or(0, |s| s.raw_capacity)
    }

    /// Applies one record whole: it is decoded completely before anything changes.
    fn apply(&mut self, payload: &[u8]) -> Result<Applied, String> {
        let mut c = Cursor::new(payload);
        match c.u8()? {
            TAG_START => {
                let s: StartRecord = serde_json::from_slice(c.rest())
                    .map_err(|e| format!("a start record that is not JSON: {e}"))?;
                self.start = Some(s);
                self.started = true;
                Ok(Applied::Data)
            }
            TAG_FLUSH if self.started => {
                let n = c.varint()?;
                let meta: FlushMeta = serde_json::from_slice(c.bytes(n)?)
                    .map_err(|e| format!("a flush whose summary is not valid: {e}"))?;
                let mut ops = self.ops.clone();
                for (i, name, kind) in &meta.new_ops {
                    let i = *i as usize;
                    if ops.len() <= i {
                        ops.resize(i + 1, (Name::from("<unknown>"), EventKind::FunctionCall));
                    }
                    ops[i] = (Name::from(name.as_str()), *kind);
                }
                let mut keys = self.keys.clone();
                for (i, k) in &meta.new_keys {
                    let i = *i as usize;
                    if keys.len() <= i {
                        keys.resize(i + 1, String::new());
                    }
                    keys[i] = k.clone();
                }
                let count = c.varint()?;
                let mut events = Vec::new();
                for _ in 0..count {
                    events.push(get_event(&mut c, &ops, &keys)?);
                }
                if !c.is_empty() {
                    return Err("bytes after the flush's events".into());
                }
                self.ops = ops;
                self.keys = keys;
                self.flushes += 1;
                self.now_ns = self.now_ns.max(meta.now_ns);
                self.alloc_tracking |= meta.alloc_tracking;
                for t in meta.threads {
                    self.threads.insert(t.id, t.name);
                }
                self.samples.extend(meta.samples);
                if let Some(s) = meta.sessions {
                    self.sessions = s;
                }
                for o in meta.operations {
                    self.operations.insert((o.name.to_string(), o.kind), o);
                }
                let cap = self.capacity();
                for e in events {
                    if self.events.len() == cap {
                        if self.events.pop_front().is_none() {
                            self.evicted += 1;
                            continue;
                        }
                        self.evicted += 1;
                    }
                    self.events.push_back(e);
                }
                Ok(Applied::Data)
            }
            TAG_CLOSE => Ok(Applied::Close),
            t => Err(format!("an unknown record type {t}")),
        }
    }

    fn finish(self) -> Profile {
        let start = self.start.unwrap_or(StartRecord {
            started_at_unix_ns: 0,
            raw_capacity: 0,
            system: Default::default(),
            pid: 0,
            process: None,
        });
        let operations: Vec<OperationStats> = self.operations.into_values().collect();
        let mut events: Vec<ProfileEvent> = self.events.into();
        events.sort_by_key(|e| (e.start_ns, e.id));
        let total: u64 = operations
            .iter()
            .fold(0u64, |a, o| a.saturating_add(o.count));
        let process = start.process.unwrap_or_else(|| {
            let mut p = crate::model::process::ProcessRecord::unknown(&Profile::empty());
            p.hostname.clone_from(&start.system.hostname);
            p.pid = start.pid;
            p.started_at_unix_ns = start.started_at_unix_ns;
            p
        });
        Profile {
            format_version: FORMAT_VERSION,
            started_at_unix_ns: start.started_at_unix_ns,
            duration_ns: self.now_ns,
            system: start.system,
            alloc_tracking: self.alloc_tracking,
            raw_capacity: start.raw_capacity,
            dropped_events: total.saturating_sub(events.len() as u64),
            processes: vec![process],
            otlp: None,
            threads: self
                .threads
                .into_iter()
                .map(|(id, name)| crate::model::profile::ThreadInfo { id, name })
                .collect(),
            sessions: self.sessions,
            operations,
            samples: self.samples,
            events,
            warnings: Vec::new(),
            // Neither is journaled: a recovered profile models CPU energy at the default power
            // (or the CLI's --cpu-watts) and makes no claim on the heap's growth.
            cpu_watts_per_core: None,
            heap_growth_bytes: None,
        }
    }
}

impl Profile {
    /// Rebuilds a profile from a journal written with
    /// [`ProfilerBuilder::journal`](crate::ProfilerBuilder::journal): everything up to the
    /// last complete flush, counts exact as of that flush. [`recover`] also says how the
    /// journal ended.
    ///
    /// ```
    /// use profiler_runtime::{EventKind, PerformanceProfiler, Profile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let journal = dir.path().join("run.journal");
    /// let profiler = PerformanceProfiler::builder().without_monitor().journal(&journal).build().unwrap();
    /// profiler.record_event("tick", EventKind::Computation, [("energy_pj", 3.0)]);
    /// profiler.flush_journal();
    /// let p = Profile::recover(&journal).unwrap();
    /// assert_eq!(p.total_events(), 1);
    /// ```
    pub fn recover(path: impl AsRef<Path>) -> Result<Profile, ProfileError> {
        recover(path).map(|r| r.profile)
    }
}
