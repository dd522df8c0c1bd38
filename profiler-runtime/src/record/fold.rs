//! The fold worker: a thread per collector that folds flushed chunks into the exact aggregates,
//! so a profiled thread's share of an event is staging it and, once per chunk, handing the chunk
//! over.
//!
//! The worker starts at the first flush and sleeps until a few chunks wait (or a timeout
//! passes). Exactness never depends on it keeping up: readers fold what it has not reached
//! yet into their copy, and a flushing thread folds by itself when too many chunks have left the
//! raw buffer unfolded, or when no worker could be started. It stops when its collector is
//! dropped.

use std::sync::{OnceLock, Weak};
use std::thread::Thread;
use std::time::Duration;

use crate::record::collector::Collector;

/// Chunks waiting when a flush wakes the worker (4096 events): one wake-up per that many.
pub(crate) const WAKE_AT: usize = 8;

/// Chunks out of the raw buffer but still unfolded at which a flushing thread folds by itself.
pub(crate) const MAX_PENDING: usize = 32;

/// How long the worker sleeps without a wake-up before it folds what is there anyway.
const IDLE: Duration = Duration::from_millis(100);

/// The handle of a collector's fold worker.
pub(crate) struct FoldWorker {
    /// `None` inside: the thread could not be started (flushes fold by themselves).
    thread: OnceLock<Option<Thread>>,
}

impl FoldWorker {
    pub(crate) fn new() -> Self {
        FoldWorker {
            thread: OnceLock::new(),
        }
    }

    /// Wakes the worker, starting it on first use. Returns `false` when there is none (the
    /// caller folds by itself).
    pub(crate) fn wake(&self, collector: &Weak<Collector>) -> bool {
        match self.thread.get_or_init(|| spawn(collector.clone())) {
            Some(t) => {
                t.unpark();
                true
            }
            None => false,
        }
    }
}

impl Drop for FoldWorker {
    fn drop(&mut self) {
        // The collector is going: the worker's next upgrade fails and it returns.
        if let Some(Some(t)) = self.thread.get() {
            t.unpark();
        }
    }
}

fn spawn(collector: Weak<Collector>) -> Option<Thread> {
    std::thread::Builder::new()
        .name("rram-prof-fold".into())
        .spawn(move || run(&collector))
        .ok()
        .map(|h| h.thread().clone())
}

fn run(collector: &Weak<Collector>) {
    loop {
        std::thread::park_timeout(IDLE);
        let Some(c) = collector.upgrade() else {
            return;
        };
        c.fold();
    }
}
