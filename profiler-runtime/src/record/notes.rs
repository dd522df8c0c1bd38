//! What the profiler can tell about `#[profile]` spans it never saw: spans that a filter in the
//! subscriber disabled while a profiler was attached, and spans that ran with no profiler
//! attached at all. The expansion of `#[profile]` notes a disabled span through a
//! [`DisabledNote`] of its callsite; the profiler turns the notes into warnings on sessions and
//! reports, so a filter never empties a profile silently.
//!
//! Cost: nothing for an enabled span (one check that the span exists); for a disabled span, one
//! relaxed load until the callsite has been noted, and, while no profiler has ever been
//! attached in the process (a program that does not profile), one more relaxed load.

use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::record::layer::ProfilerLayer;

/// Disabled while a profiler layer was in the current dispatcher: a filter's doing.
const FILTERED: u8 = 1;
/// Disabled with no profiler layer in the current dispatcher.
const UNATTACHED: u8 = 2;

/// How many times a profiler layer has been attached to a subscriber in this process.
static ATTACHED: AtomicUsize = AtomicUsize::new(0);

/// Every callsite noted so far, with the collector that was attached when a filter disabled
/// it (`None`: disabled with no profiler attached).
static NOTED: Mutex<Vec<(&'static DisabledNote, Option<u64>)>> = Mutex::new(Vec::new());

/// Marks that a profiler layer has been attached to a subscriber (from the layer's `on_layer`).
pub(crate) fn profiler_attached() {
    ATTACHED.fetch_add(1, Ordering::Relaxed);
}

/// One `#[profile]` callsite's record of having been disabled. Emitted by the macro as a
/// `static` beside each span; not an API of its own.
#[derive(Debug)]
pub struct DisabledNote {
    name: &'static str,
    seen: AtomicU8,
    /// The collector this callsite was last noted as filtered under.
    last_collector: AtomicU64,
}

impl DisabledNote {
    /// The note of the callsite of the span named `name`.
    pub const fn new(name: &'static str) -> Self {
        DisabledNote {
            name,
            seen: AtomicU8::new(0),
            last_collector: AtomicU64::new(0),
        }
    }

    /// Notes that this callsite's span was disabled just now, on this thread.
    #[inline]
    pub fn note(&'static self) {
        // With no profiler ever attached there is nothing to warn about (a program that does
        // not profile); with one, a callsite noted as filtered has nothing more to tell.
        let attached = ATTACHED.load(Ordering::Relaxed);
        if attached == 0 || (attached == 1 && self.seen.load(Ordering::Relaxed) & FILTERED != 0) {
            return;
        }
        self.note_slow();
    }

    #[cold]
    #[inline(never)]
    fn note_slow(&'static self) {
        let collector =
            tracing::dispatcher::get_default(|d| d.downcast_ref::<ProfilerLayer>().map(|l| l.id));
        let (bit, key) = match collector {
            Some(id) => {
                if self.last_collector.swap(id, Ordering::Relaxed) == id {
                    return;
                }
                (FILTERED, Some(id))
            }
            None => {
                if self.seen.load(Ordering::Relaxed) & UNATTACHED != 0 {
                    return;
                }
                (UNATTACHED, None)
            }
        };
        self.seen.fetch_or(bit, Ordering::Relaxed);
        let mut noted = NOTED.lock().unwrap_or_else(|p| p.into_inner());
        if !noted
            .iter()
            .any(|(n, k)| std::ptr::eq(*n, self) && *k == key)
        {
            noted.push((self, key));
        }
    }
}

/// The names of `#[profile]` spans that a filter disabled while the profiler with collector
/// id `collector` was attached, and of those that ran where no profiler was attached (each
/// sorted, without repeats).
pub(crate) fn disabled_callsites(collector: u64) -> (Vec<&'static str>, Vec<&'static str>) {
    let noted = NOTED.lock().unwrap_or_else(|p| p.into_inner());
    let mut filtered = Vec::new();
    let mut unattached = Vec::new();
    for (n, key) in noted.iter() {
        match key {
            Some(id) if *id == collector => filtered.push(n.name),
            Some(_) => {}
            None => unattached.push(n.name),
        }
    }
    for v in [&mut filtered, &mut unattached] {
        v.sort_unstable();
        v.dedup();
    }
    (filtered, unattached)
}
