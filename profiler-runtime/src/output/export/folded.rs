//! Folded stacks (`root;child;leaf 123`), the input format of flame-graph tools.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use crate::model::event::ProfileEvent;
use crate::model::profile::Profile;

/// Frames kept per stack by default: deeper frames fold into one [`DEEPER_FRAME`].
pub const DEFAULT_MAX_STACK_DEPTH: usize = 512;

/// The frame that stands for every frame below the depth cap of a folded stack.
pub const DEEPER_FRAME: &str = "[deeper]";

/// Self time in ns by stack, over the kept events, with at most
/// [`DEFAULT_MAX_STACK_DEPTH`] frames per stack (see [`folded_stacks_with_depth`]).
///
/// ```
/// use profiler_runtime::{output::export::folded_stacks, Profile};
/// assert!(folded_stacks(&Profile::empty()).is_empty());
/// ```
pub fn folded_stacks(profile: &Profile) -> BTreeMap<String, u64> {
    folded_stacks_with_depth(profile, DEFAULT_MAX_STACK_DEPTH)
}

/// Self time in ns by stack, over the kept events.
///
/// A stack is the chain of names from the outermost ancestor down to the event, joined by `;`,
/// built from `parent` links. An event whose parent is not among the kept events (dropped from
/// the raw buffer, or never recorded) starts a root; a cycle of parent links (only possible in a
/// hand-edited file) is cut where it repeats. A stack keeps its outermost `max_depth` frames
/// (at least 1); everything deeper is one [`DEEPER_FRAME`] frame that holds the self time of
/// all of it, so time and memory grow with the number of events, never with their depth
/// squared. In names, `;` becomes `:`, line breaks become spaces and other control characters
/// visible escapes (`\u{1b}`), so every stack parses back and every flame graph is valid XML.
/// Stacks whose self time is 0 are left out.
///
/// ```
/// use profiler_runtime::{output::export::folded_stacks_with_depth, PerformanceProfiler};
/// let p = PerformanceProfiler::builder().without_monitor().build().unwrap();
/// fn nest(p: &PerformanceProfiler, depth: u32) {
///     if depth > 0 {
///         p.profile_function("f", || nest(p, depth - 1));
///     }
/// }
/// p.in_scope(|| nest(&p, 10));
/// let stacks = folded_stacks_with_depth(&p.snapshot(), 3);
/// assert!(stacks.keys().all(|s| s.split(';').count() <= 4));
/// assert!(stacks.contains_key("f;f;f;[deeper]"));
/// ```
pub fn folded_stacks_with_depth(profile: &Profile, max_depth: usize) -> BTreeMap<String, u64> {
    let max_depth = max_depth.max(1);
    let events = &profile.events;
    let index: HashMap<u64, usize> = events.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let mut trie = Trie::default();
    // Each event's node in the trie of stacks (NONE: not resolved yet).
    let mut node_of: Vec<u32> = vec![NONE; events.len()];
    let mut chain: Vec<usize> = Vec::new();
    let mut seen: HashSet<usize> = HashSet::new();
    for start in 0..events.len() {
        if node_of[start] == NONE {
            // Walk up to a resolved event, a root or a repeat; then resolve on the way down.
            chain.clear();
            seen.clear();
            let mut cur = Some(start);
            while let Some(i) = cur {
                if node_of[i] != NONE || !seen.insert(i) {
                    break;
                }
                chain.push(i);
                cur = events[i].parent.and_then(|p| index.get(&p).copied());
            }
            let mut parent = cur.map_or(ROOT, |i| {
                // A repeat (a cycle) has no node yet: the chain restarts at a root.
                if node_of[i] == NONE {
                    ROOT
                } else {
                    node_of[i]
                }
            });
            for &i in chain.iter().rev() {
                parent = trie.child(parent, &events[i], max_depth);
                node_of[i] = parent;
            }
        }
        let e = &events[start];
        if e.self_ns > 0 {
            let n = &mut trie.nodes[node_of[start] as usize];
            n.self_ns = n.self_ns.saturating_add(e.self_ns);
        }
    }
    trie.stacks()
}

/// No node.
const NONE: u32 = u32::MAX;
/// The root (the empty stack).
const ROOT: u32 = 0;

/// One frame of the trie of stacks.
struct Node {
    parent: u32,
    name: String,
    /// Frames from the root (the root is 0).
    depth: usize,
    /// Whether this is the [`DEEPER_FRAME`] of its parent.
    deeper: bool,
    self_ns: u64,
}

/// The stacks of a profile as a trie: each distinct stack is one node, so a stack's text is
/// built once, at the end, and only for stacks with self time.
struct Trie {
    nodes: Vec<Node>,
    children: HashMap<(u32, String), u32>,
}

impl Default for Trie {
    fn default() -> Self {
        Trie {
            nodes: vec![Node {
                parent: NONE,
                name: String::new(),
                depth: 0,
                deeper: false,
                self_ns: 0,
            }],
            children: HashMap::new(),
        }
    }
}

impl Trie {
    /// The node of `e` under `parent`: its own frame within `max_depth`, else the parent's
    /// [`DEEPER_FRAME`] (which is its own deeper frame's node).
    fn child(&mut self, parent: u32, e: &ProfileEvent, max_depth: usize) -> u32 {
        let p = &self.nodes[parent as usize];
        if p.deeper {
            return parent;
        }
        let (name, deeper) = if p.depth >= max_depth {
            (Cow::Borrowed(DEEPER_FRAME), true)
        } else {
            (frame(e), false)
        };
        if let Some(&n) = self.children.get(&(parent, name.to_string())) {
            return n;
        }
        let n = self.nodes.len() as u32;
        let depth = p.depth + 1;
        self.nodes.push(Node {
            parent,
            name: name.to_string(),
            depth,
            deeper,
            self_ns: 0,
        });
        self.children.insert((parent, name.into_owned()), n);
        n
    }

    /// Every stack with self time, as text.
    fn stacks(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        let mut names: Vec<&str> = Vec::new();
        for n in self.nodes.iter().filter(|n| n.self_ns > 0) {
            names.clear();
            let mut cur = n;
            while cur.depth > 0 {
                names.push(&cur.name);
                cur = &self.nodes[cur.parent as usize];
            }
            names.reverse();
            out.insert(names.join(";"), n.self_ns);
        }
        out
    }
}

/// An event's frame in a folded stack: its name with `;` as `:`, line breaks as spaces and
/// other control characters escaped.
fn frame(e: &ProfileEvent) -> Cow<'_, str> {
    let name: &str = &e.name;
    if name.is_empty() {
        return Cow::Borrowed("<unnamed>");
    }
    if name.chars().any(|c| c == ';' || !xml_char(c)) {
        let mut out = String::with_capacity(name.len() + 8);
        for c in name.chars() {
            match c {
                ';' => out.push(':'),
                '\n' | '\r' => out.push(' '),
                c if !xml_char(c) => out.extend(c.escape_default()),
                c => out.push(c),
            }
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(name)
    }
}

/// Whether `c` may appear as itself in a name we write into a line-based format or an XML
/// document: no control character (line breaks and tabs included) and none of XML's
/// non-characters.
pub(crate) fn xml_char(c: char) -> bool {
    !c.is_control() && !matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

impl Profile {
    /// Writes [`folded_stacks`]: one `stack self_ns` line per distinct stack, sorted by stack
    /// (at most [`DEFAULT_MAX_STACK_DEPTH`] frames each).
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
    pub fn to_folded_stacks<W: Write>(&self, writer: W) -> io::Result<()> {
        self.to_folded_stacks_with_depth(writer, DEFAULT_MAX_STACK_DEPTH)
    }

    /// Writes [`folded_stacks_with_depth`]: stacks of at most `max_depth` frames, deeper ones
    /// folded into a [`DEEPER_FRAME`].
    pub fn to_folded_stacks_with_depth<W: Write>(
        &self,
        mut writer: W,
        max_depth: usize,
    ) -> io::Result<()> {
        for (stack, ns) in folded_stacks_with_depth(self, max_depth) {
            writeln!(writer, "{stack} {ns}")?;
        }
        writer.flush()
    }
}
