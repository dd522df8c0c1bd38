//! Folded stacks (`root;child;leaf 123`), the input format of flame-graph tools.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use crate::model::event::ProfileEvent;
use crate::model::profile::Profile;

/// Self time in ns by stack, over the kept events.
///
/// A stack is the chain of names from the outermost ancestor down to the event, joined by `;`,
/// built from `parent` links. An event whose parent is not among the kept events (dropped from
/// the raw buffer, or never recorded) starts a root; a cycle of parent links (only possible in a
/// hand-edited file) is cut where it repeats. In names, `;` becomes `:` and line breaks become
/// spaces, so every stack parses back. Stacks whose self time is 0 are left out.
///
/// ```
/// use profiler_runtime::{output::export::folded_stacks, Profile};
/// assert!(folded_stacks(&Profile::empty()).is_empty());
/// ```
pub fn folded_stacks(profile: &Profile) -> BTreeMap<String, u64> {
    let events = &profile.events;
    let index: HashMap<u64, usize> = events.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let mut paths: Vec<Option<String>> = vec![None; events.len()];
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    let mut chain: Vec<usize> = Vec::new();
    let mut seen: HashSet<usize> = HashSet::new();
    for start in 0..events.len() {
        if paths[start].is_none() {
            // Walk up to a known path, a root or a repeat; then build paths on the way down.
            chain.clear();
            seen.clear();
            let mut cur = Some(start);
            while let Some(i) = cur {
                if paths[i].is_some() || !seen.insert(i) {
                    break;
                }
                chain.push(i);
                cur = events[i].parent.and_then(|p| index.get(&p).copied());
            }
            let mut prefix: Option<String> = cur.and_then(|i| paths[i].clone());
            for &i in chain.iter().rev() {
                let name = frame(&events[i]);
                let path = match prefix {
                    Some(p) => format!("{p};{name}"),
                    None => name.into_owned(),
                };
                paths[i] = Some(path.clone());
                prefix = Some(path);
            }
        }
        let e = &events[start];
        if e.self_ns > 0 {
            if let Some(path) = &paths[start] {
                let slot = out.entry(path.clone()).or_insert(0);
                *slot = slot.saturating_add(e.self_ns);
            }
        }
    }
    out
}

fn frame(e: &ProfileEvent) -> Cow<'_, str> {
    let name: &str = &e.name;
    if name.is_empty() {
        return Cow::Borrowed("<unnamed>");
    }
    if name.contains([';', '\n', '\r']) {
        Cow::Owned(name.replace(';', ":").replace(['\n', '\r'], " "))
    } else {
        Cow::Borrowed(name)
    }
}

impl Profile {
    /// Writes [`folded_stacks`]: one `stack self_ns` line per distinct stack, sorted by stack.
    ///
    /// ```
    /// use profiler_runtime::{EventKind, PerformanceProfiler};
    /// let profiler = PerformanceProfiler::builder().without_monitor().build().unwrap();
    /// profiler.in_scope(|| {
    ///     profiler.profile_function("outer", || profiler.profile_function("inner", || std::hint::black_box(1)));
    /// });
    /// let mut out = Vec::new();
    /// profiler.snapshot().to_folded_stacks(&mut out).unwrap();
    /// let text = String::from_utf8(out).unwrap();
    /// assert!(text.lines().any(|l| l.starts_with("outer;inner ")));
    /// ```
    pub fn to_folded_stacks<W: Write>(&self, mut writer: W) -> io::Result<()> {
        for (stack, ns) in folded_stacks(self) {
            writeln!(writer, "{stack} {ns}")?;
        }
        writer.flush()
    }
}
