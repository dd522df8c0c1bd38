//! The crash-safe journal: what a profiler records, appended to disk as it runs, so that a
//! process killed at any moment loses at most one interval.
//!
//! [`ProfilerBuilder::journal`](crate::ProfilerBuilder::journal) starts a background thread
//! that every [`journal_interval`](crate::ProfilerBuilder::journal_interval) (default 1 s)
//! appends, as one length-prefixed, CRC-32-checked record, everything recorded since its last
//! flush:
//!
//! - the closed events, within the raw buffer's policy: those still in the buffer or still
//!   staged by their thread (an event that left the bounded buffer before a flush saw it is
//!   counted in the aggregates and dropped from the journal, as from a snapshot);
//! - the operations whose aggregates changed, each whole (so the last flush holds every
//!   operation's exact aggregates as of its cut);
//! - new monitor samples and threads, and the sessions when they changed.
//!
//! A flush is therefore bounded by the raw buffer's capacity (plus one staging chunk per
//! thread) and the aggregates. Profiled threads do none of this work: the journal's thread
//! takes a consistent cut of the collector, as a snapshot does, and encodes it off the locks.
//! Each record is synced (`fdatasync`) after it is written. A normal stop
//! ([`PerformanceProfiler::close_journal`](crate::PerformanceProfiler::close_journal), or the
//! last handle dropped) flushes everything and writes a closing record.
//!
//! [`Profile::recover`](crate::Profile::recover) (and `rram-prof recover JOURNAL -o OUT`)
//! rebuilds a profile from the complete records; a record cut short by the crash or damaged is
//! detected by its length or checksum and ignored, with everything after it, and [`recover`]
//! says so. A journal of a long run can be compacted by recovering it and saving the profile.
//!
//! The journal never overwrites: its path must not exist when the profiler is built.

mod format;
mod recover;
mod writer;

pub use recover::{recover, Recovered};
pub(crate) use writer::JournalHandle;

/// The default interval between two flushes.
pub const DEFAULT_JOURNAL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl crate::PerformanceProfiler {
    /// Flushes the journal now and waits for the write (nothing without a journal).
    pub fn flush_journal(&self) {
        if let Some(j) = self.journal_handle() {
            j.flush();
        }
    }

    /// Stops the journal after writing everything recorded so far and a closing record, and
    /// returns its path (`None` without a journal). Events recorded afterwards are not
    /// journaled. An error says the journal could not be written completely.
    pub fn close_journal(&self) -> Result<Option<std::path::PathBuf>, crate::ProfileError> {
        match self.journal_handle() {
            Some(j) => j.close().map(|()| Some(j.path().to_owned())),
            None => Ok(None),
        }
    }

    /// The first error writing the journal, if any (the journal keeps trying at each
    /// interval; a failed flush is cut from the file, so the journal stays readable).
    pub fn journal_error(&self) -> Option<String> {
        self.journal_handle().and_then(|j| j.error())
    }
}
