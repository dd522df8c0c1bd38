//! The journal's thread: every interval it cuts what is new from the collector
//! ([`Collector::journal_cut`]), encodes it as one flush record and appends it to the file.
//! Profiled threads never do any of this; they only meet its locks as they meet a snapshot's.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::format::{
    frame, put_event, put_varint, EventOut, FlushMeta, StartRecord, MAGIC, TAG_CLOSE, TAG_FLUSH,
    TAG_START, VERSION,
};
use crate::error::ProfileError;
use crate::model::profile::SessionRecord;
use crate::output::write::create_exclusive;
use crate::record::collector::{lock, Collector, JournalCursor};
use crate::record::raw::RawEvent;

/// Reads the profiler's sessions (they live in the profiler handle, not the collector).
pub(crate) type SessionsFn = Box<dyn Fn() -> Vec<SessionRecord> + Send>;

#[derive(Default)]
struct State {
    stop: bool,
    /// Flushes asked for and done (for [`JournalHandle::flush`]).
    asked: u64,
    done: u64,
    /// The first write error, if any (the journal then retries at each interval).
    error: Option<String>,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    cv: Condvar,
}

/// A running journal; [`close`](JournalHandle::close) (or drop) flushes everything and stops
/// it.
pub(crate) struct JournalHandle {
    path: PathBuf,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl JournalHandle {
    /// Creates the journal at `path` (which must not exist) and starts its thread.
    pub(crate) fn start(
        path: &Path,
        interval: Duration,
        collector: Arc<Collector>,
        sessions: SessionsFn,
        raw_capacity: usize,
    ) -> Result<Self, ProfileError> {
        let mut file = create_exclusive(path)?;
        let mut head = MAGIC.to_vec();
        head.extend_from_slice(&VERSION.to_le_bytes());
        file.write_all(&head).map_err(|source| ProfileError::Io {
            action: "writing the journal",
            path: path.to_owned(),
            source,
        })?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
        });
        let mut w = Writer {
            file,
            good_len: head.len() as u64,
            collector,
            sessions,
            raw_capacity,
            cursor: JournalCursor::default(),
            written: HashMap::new(),
            keys: HashMap::new(),
            declared: 0,
            last_sessions: None,
            seq: 0,
            buf: Vec::new(),
        };
        let s2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name("rram-prof-journal".into())
            .spawn(move || w.run(&s2, interval))
            .map_err(|e| {
                let _ = std::fs::remove_file(path);
                ProfileError::InvalidConfig(format!("cannot start the journal thread: {e}"))
            })?;
        Ok(JournalHandle {
            path: path.to_owned(),
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The journal's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes now and waits for it (a no-op once closed).
    pub(crate) fn flush(&self) {
        let mut st = lock(&self.shared.state);
        if st.closed {
            return;
        }
        st.asked += 1;
        let want = st.asked;
        self.shared.cv.notify_all();
        while st.done < want && !st.closed {
            st = self
                .shared
                .cv
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// The first error writing the journal, if any.
    pub(crate) fn error(&self) -> Option<String> {
        lock(&self.shared.state).error.clone()
    }

    /// Writes everything recorded so far and a closing record, and stops the thread.
    pub(crate) fn close(&self) -> Result<(), ProfileError> {
        {
            let mut st = lock(&self.shared.state);
            st.stop = true;
            self.shared.cv.notify_all();
        }
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
        match self.error() {
            None => Ok(()),
            Some(e) => Err(ProfileError::Io {
                action: "writing the journal",
                path: self.path.clone(),
                source: std::io::Error::other(e),
            }),
        }
    }
}

impl Drop for JournalHandle {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

struct Writer {
    file: File,
    /// Bytes of complete records: a failed append is cut back to this.
    good_len: u64,
    collector: Arc<Collector>,
    sessions: SessionsFn,
    raw_capacity: usize,
    cursor: JournalCursor,
    /// Per thread, the events already written (by the thread's sequence number).
    written: HashMap<u64, u64>,
    /// Metric keys by number; the first `declared` were written in a flush that succeeded.
    keys: HashMap<String, u32>,
    declared: usize,
    last_sessions: Option<Vec<SessionRecord>>,
    seq: u64,
    buf: Vec<u8>,
}

impl Writer {
    fn run(&mut self, shared: &Shared, interval: Duration) {
        /// Marks the journal closed however the thread ends (a panic included), so nobody
        /// waits for it forever.
        struct Closed<'a>(&'a Shared);
        impl Drop for Closed<'_> {
            fn drop(&mut self) {
                let mut st = lock(&self.0.state);
                st.closed = true;
                self.0.cv.notify_all();
            }
        }
        let _closed = Closed(shared);
        let system = crate::model::system::SystemInfo::collect();
        let epoch = self.collector.clock.epoch_unix_ns();
        let process =
            crate::sys::this_process(&system.hostname, epoch, self.collector.clock.source());
        let start = StartRecord {
            started_at_unix_ns: epoch,
            raw_capacity: self.raw_capacity,
            system,
            pid: std::process::id(),
            process: Some(process),
        };
        let mut payload = vec![TAG_START];
        if serde_json::to_writer(&mut payload, &start).is_ok() {
            self.append(&payload, shared);
        }
        let mut st = lock(&shared.state);
        loop {
            let asked = st.asked;
            if !st.stop && st.done >= asked {
                st = match shared.cv.wait_timeout(st, interval) {
                    Ok((g, _)) => g,
                    Err(p) => p.into_inner().0,
                };
            }
            let (stop, asked) = (st.stop, st.asked);
            drop(st);
            self.flush(shared);
            if stop {
                self.append(&[TAG_CLOSE], shared);
                let mut st = lock(&shared.state);
                st.closed = true;
                st.done = st.asked;
                shared.cv.notify_all();
                return;
            }
            st = lock(&shared.state);
            st.done = st.done.max(asked);
            shared.cv.notify_all();
        }
    }

    /// Cuts, encodes and appends one flush.
    fn flush(&mut self, shared: &Shared) {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let cut = self.collector.journal_cut(&mut self.cursor);
        self.seq += 1;
        let sessions = (self.sessions)();
        let sessions_changed = self.last_sessions.as_ref() != Some(&sessions);
        let mut events = Vec::new();
        let mut count: u64 = 0;
        let mut metrics: Vec<(u32, f64)> = Vec::new();
        let new_keys_from = self.keys.len();
        let mut new_keys: Vec<(u32, String)> = Vec::new();
        let clock = &self.collector.clock;
        for (ev, thread, seq) in cut.events() {
            let written = self.written.entry(thread).or_insert(0);
            if seq < *written {
                continue;
            }
            *written = seq + 1;
            metrics.clear();
            ev.for_each_metric(|key, v| {
                let next = self.keys.len() as u32;
                let i = *self.keys.entry(key.to_owned()).or_insert_with(|| {
                    new_keys.push((next, key.to_owned()));
                    next
                });
                match metrics.iter_mut().find(|(j, _)| *j == i) {
                    Some((_, x)) => *x += v,
                    None => metrics.push((i, v)),
                }
            });
            let r = ev.ev;
            let backtrace = ev.backtrace();
            let start_ns = clock.to_ns(r.start_raw);
            let (wall, busy, self_ns) = r.durations_ns(clock);
            put_event(
                &mut events,
                &EventOut {
                    id: r.id,
                    parent: r.parent().unwrap_or(0),
                    op: r.op,
                    thread: r.thread_id(),
                    start_ns,
                    end_ns: start_ns.saturating_add(wall),
                    busy_ns: busy,
                    self_ns,
                    panicked: r.flags & RawEvent::PANICKED != 0,
                    alloc: ev.alloc(),
                    metrics: &metrics,
                    error: ev.error(),
                    args_recorded: r.flags & RawEvent::ARGS_RECORDED != 0,
                    process: ev.process().map(|p| (p.stats, p.sizes)),
                    backtrace: backtrace.as_deref(),
                },
            );
            count += 1;
        }
        // Keys declared in a flush that failed are declared again.
        let mut declare: Vec<(u32, String)> = self
            .keys
            .iter()
            .filter(|(_, &i)| (i as usize) < new_keys_from && (i as usize) >= self.declared)
            .map(|(k, &i)| (i, k.clone()))
            .collect();
        declare.extend(new_keys);
        declare.sort_unstable_by_key(|(i, _)| *i);
        let meta = FlushMeta {
            seq: self.seq,
            now_ns: cut.now_ns,
            alloc_tracking: crate::record::alloc::is_active(),
            new_ops: cut
                .new_ops
                .iter()
                .map(|(i, n, k)| (*i, n.to_string(), *k))
                .collect(),
            new_keys: declare,
            threads: cut.threads,
            samples: cut.samples,
            sessions: sessions_changed.then(|| sessions.clone()),
            operations: cut.changed,
        };
        let nothing_new = count == 0
            && meta.new_ops.is_empty()
            && meta.new_keys.is_empty()
            && meta.threads.is_empty()
            && meta.samples.is_empty()
            && meta.sessions.is_none()
            && meta.operations.is_empty();
        if nothing_new {
            // An idle profiler writes nothing.
            self.seq -= 1;
            return;
        }
        let Ok(json) = serde_json::to_vec(&meta) else {
            return;
        };
        let mut payload = Vec::with_capacity(json.len() + events.len() + 16);
        payload.push(TAG_FLUSH);
        put_varint(&mut payload, json.len() as u64);
        payload.extend_from_slice(&json);
        put_varint(&mut payload, count);
        payload.extend_from_slice(&events);
        if self.append(&payload, shared) {
            self.declared = self.keys.len();
            self.last_sessions = Some(sessions);
        } else {
            // Everything but the events goes again in the next flush.
            self.cursor.counts.clear();
            self.cursor.ops = 0;
            self.cursor.threads = 0;
        }
    }

    /// Appends one record and syncs it; on failure cuts the file back to its last complete
    /// record and keeps the error. Returns whether it was written.
    fn append(&mut self, payload: &[u8], shared: &Shared) -> bool {
        self.buf.clear();
        frame(payload, &mut self.buf);
        let r = self
            .file
            .write_all(&self.buf)
            .and_then(|()| self.file.sync_data());
        match r {
            Ok(()) => {
                self.good_len += self.buf.len() as u64;
                true
            }
            Err(e) => {
                let _ = self.file.set_len(self.good_len);
                let mut st = lock(&shared.state);
                st.error.get_or_insert_with(|| e.to_string());
                false
            }
        }
    }
}
