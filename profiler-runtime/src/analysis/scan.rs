//! The one pass over the raw events that every per-event analysis shares.
//!
//! Linear passes: the first maps event ids to positions (parents start before their children,
//! and events are kept in start order) and sums each event's children's heap traffic into its
//! parent; the second reads each event's metric map once and feeds every per-operation
//! accumulator, and notes the few events later analyses need (sized events, solver steps);
//! a last backward pass adds up inclusive energy. Memory is O(events) in plain numbers (an id
//! map, parent positions, energies and one child-sum record per event), never a copy of an
//! event; each event's metric map (its own heap allocation, so a cache miss) is read once.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use crate::model::event::{EventKind, ProfileEvent};
use crate::model::hash::{IntHasher, IntMap};
use crate::model::profile::Profile;
use crate::model::stats::saturating_fadd;

use super::fit::LinearFit;

use crate::contract::{
    component_of, BYTES, CONVERGED, DEVICE_KEYS, DIVERGED, ENERGY_PJ, FLOPS, ITERATION, RESIDUAL,
    SIZE, TEMPERATURE_K, UTILIZATION,
};
use crate::model::event::{AllocSizes, AllocStats};

/// Number of most energetic spans kept.
pub const TOP_SPANS: usize = 10;
/// Number of bins of the cumulative-energy timeline.
pub const TIMELINE_BINS: usize = 100;

/// Whether a metric key is an outcome of a call (energy, residual, utilisation, work done)
/// rather than one of its arguments. Repeated-call detection compares arguments only, so a
/// span whose only numbers are outcomes (`bytes`, `flops`, `adc_conversions`, ...) is never
/// called a repeat.
///
/// Outcomes: keys starting with `energy`; keys ending in `_pj`, `_ns`, `_bytes`, `_count`,
/// `_conversions` or `_pulses`; and `residual`, `final_residual`, `bits_gained`,
/// `iterations`, `bytes`, `flops`, `utilization`, `error`, `converged`, `diverged`.
///
/// ```
/// use profiler_runtime::analysis::is_output_metric;
/// assert!(is_output_metric("energy.adc_pj") && is_output_metric("bytes"));
/// assert!(is_output_metric("adc_conversions") && is_output_metric("write_pulses"));
/// assert!(!is_output_metric("n") && !is_output_metric("k"));
/// ```
pub fn is_output_metric(key: &str) -> bool {
    const SUFFIXES: [&str; 6] = ["_pj", "_ns", "_bytes", "_count", "_conversions", "_pulses"];
    key.starts_with("energy")
        || SUFFIXES.iter().any(|s| key.ends_with(s))
        || matches!(
            key,
            "residual"
                | "final_residual"
                | "bits_gained"
                | "iterations"
                | BYTES
                | FLOPS
                | UTILIZATION
                | "error"
                | CONVERGED
                | DIVERGED
        )
}

/// The heap traffic the analyses use for an event: every thread's where the span counted it
/// (`process_alloc`), else its own thread's.
#[inline]
pub(crate) fn effective_alloc(e: &ProfileEvent) -> Option<AllocStats> {
    e.process_alloc.or(e.alloc)
}

/// Per-operation accumulators over the kept events.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpScan {
    /// Kept events.
    pub kept: u64,
    /// Kept events with allocation data.
    pub alloc_events: u64,
    /// Self (exclusive of child spans) bytes allocated.
    pub self_allocated: u64,
    /// Self allocations.
    pub self_allocations: u64,
    /// Self net growth, summed.
    pub self_net: i64,
    /// Calls whose self net growth was positive.
    pub growing_calls: u64,
    /// Cumulative self net growth against call index.
    pub growth: LinearFit,
    /// Cumulative self net growth at evenly spaced calls (at most [`GROWTH_MARKS`], every
    /// `mark_stride`-th call): how the growth went on late in the profile (a cache that fills
    /// and plateaus stops growing).
    pub growth_marks: Vec<(u64, i64)>,
    /// Calls between two growth marks (doubles whenever the marks fill up).
    pub mark_stride: u64,
    /// Self allocations by size class (kept events that counted them).
    pub sizes: AllocSizes,
    /// Kept events with size classes.
    pub size_events: u64,
    /// Kept events with every thread's allocations (`process_alloc`).
    pub process_events: u64,
    /// Bytes allocated inclusive of child spans (every thread's where counted), kept events.
    pub incl_allocated: u64,
    /// Wall time against `bytes`.
    pub transfer: LinearFit,
    /// Energy per call against temperature.
    pub temperature: LinearFit,
    pub t_min: f64,
    pub t_max: f64,
    /// Events whose parent also reports `energy_pj` (energy may be counted twice).
    pub nested_energy: u64,
}

/// Most growth marks kept per operation.
pub(crate) const GROWTH_MARKS: usize = 64;

impl OpScan {
    /// Marks the cumulative growth at this call if it falls on the stride; when the marks fill
    /// up, keeps every other one and doubles the stride (so they stay evenly spaced).
    #[inline]
    fn mark_growth(&mut self) {
        let stride = self.mark_stride.max(1);
        if self.alloc_events % stride != 0 {
            return;
        }
        self.growth_marks.push((self.alloc_events, self.self_net));
        if self.growth_marks.len() >= GROWTH_MARKS {
            let wider = stride.saturating_mul(2);
            self.growth_marks.retain(|(k, _)| k % wider == 0);
            self.mark_stride = wider;
        }
    }
}

/// Per device/tile accumulators.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeviceScan {
    pub events: u64,
    pub busy_ns: u64,
    pub energy_pj: f64,
    pub utilization_sum: f64,
    pub utilization_n: u64,
}

/// A group of calls of one operation with identical arguments (keyed by a hash of the
/// operation and its argument metrics).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RepeatGroup {
    /// The operation.
    pub op: u32,
    /// Position of the first call.
    pub first: u32,
    /// Calls.
    pub calls: u64,
    /// Wall time of the calls after the first, ns.
    pub repeat_ns: u64,
}

/// What the pass found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub ops: Vec<OpScan>,
    /// (metric key, id) -> accumulators.
    pub devices: BTreeMap<(&'static str, i64), DeviceScan>,
    pub repeats: IntMap<u64, RepeatGroup>,
    /// Sum of the wall times of kept `io_operation` events.
    pub io_sum_ns: u64,
    /// Union of their intervals.
    pub io_union_ns: u64,
    pub io_events: u64,
    pub io_threads: Vec<u64>,
    /// Energy (`energy_pj`) of the kept events by end time, binned.
    pub energy_bins: Vec<f64>,
    pub bin_ns: u64,
    /// The most energetic kept spans: (energy_pj, position), largest first, at most
    /// [`TOP_SPANS`].
    pub top_energy: Vec<(f64, u32)>,
    /// Energy by (kind, component), pJ, over the kept events (a short list: found by search).
    pub component_by_kind: Vec<(EventKind, String, f64)>,
    /// Position of each kept event's parent among the kept events (`u32::MAX`: none kept).
    /// Parents come before their children.
    pub parent_pos: Vec<u32>,
    /// Inclusive energy of each kept event, pJ: its own `energy_pj` plus its descendants'.
    pub incl_energy: Vec<f64>,
    /// Own `energy_pj` of each kept event (NaN where it reports none).
    pub own_energy: Vec<f64>,
    /// Events that report a problem size: (operation index, `n`, position).
    pub sized: Vec<(u32, f64, u32)>,
    /// `algorithm_step` events that report a `residual`.
    pub steps: Vec<StepRec>,
    /// Events that report a solver's verdict (`converged` or `diverged`): positions.
    pub verdicts: Vec<u32>,
}

/// An `algorithm_step` event with a `residual`, as the scan read it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepRec {
    /// Position among the kept events.
    pub pos: u32,
    pub residual: f64,
    /// `k`, if reported.
    pub k: Option<f64>,
    /// `bits_gained`, if reported.
    pub bits: Option<f64>,
}

/// The metrics of one event the analyses use, read in one walk over its metric map.
#[derive(Default)]
struct Known {
    energy: Option<f64>,
    bytes: Option<f64>,
    temperature: Option<f64>,
    utilization: Option<f64>,
    size: Option<f64>,
    residual: Option<f64>,
    k: Option<f64>,
    bits: Option<f64>,
    verdict: bool,
    /// (index into `DEVICE_KEYS`, value): the most preferred device key reported.
    device: Option<(usize, f64)>,
}

/// Finds operation indices by an event's name and kind: by the name's `Arc` pointer first
/// (names of one operation share one allocation), by string only on a miss.
struct OpLookup<'a> {
    index: HashMap<(&'a str, EventKind), usize>,
    by_ptr: IntMap<usize, usize>,
    profile: &'a Profile,
}

impl<'a> OpLookup<'a> {
    fn new(profile: &'a Profile) -> Self {
        OpLookup {
            index: op_index(profile),
            by_ptr: IntMap::default(),
            profile,
        }
    }

    fn get(&mut self, e: &ProfileEvent) -> Option<usize> {
        let key = e.name.as_ptr() as usize;
        if let Some(&op) = self.by_ptr.get(&key) {
            if self.profile.operations[op].kind == e.kind {
                return Some(op);
            }
        }
        let op = *self.index.get(&(&*e.name, e.kind))?;
        self.by_ptr.insert(key, op);
        Some(op)
    }
}

/// Positions of each event's parent among `events` (`u32::MAX` where the parent was not kept
/// or does not come earlier).
///
/// Spans nest per thread, so a stack of open ancestors per thread resolves almost every parent
/// without hashing; the parents it misses (cross-thread parents, interleaved async spans)
/// are found through an id map built only when there are any.
pub(crate) fn parent_positions(events: &[ProfileEvent]) -> Vec<u32> {
    let mut parent_pos: Vec<u32> = vec![u32::MAX; events.len()];
    // (thread id, stack of (event id, position)).
    let mut stacks: Vec<(u64, Vec<(u64, u32)>)> = Vec::new();
    let mut last_thread = usize::MAX;
    let mut unresolved: Vec<u32> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let t = if last_thread < stacks.len() && stacks[last_thread].0 == e.thread_id {
            last_thread
        } else {
            match stacks.iter().position(|(t, _)| *t == e.thread_id) {
                Some(t) => t,
                None => {
                    stacks.push((e.thread_id, Vec::new()));
                    stacks.len() - 1
                }
            }
        };
        last_thread = t;
        let stack = &mut stacks[t].1;
        match e.parent {
            None => stack.clear(),
            Some(parent) => match stack.iter().rposition(|(id, _)| *id == parent) {
                Some(j) => {
                    parent_pos[i] = stack[j].1;
                    stack.truncate(j + 1);
                }
                None => unresolved.push(i as u32),
            },
        }
        stack.push((e.id, i as u32));
    }
    if !unresolved.is_empty() {
        let mut pos: IntMap<u64, u32> = IntMap::default();
        pos.reserve(events.len());
        for (i, e) in events.iter().enumerate() {
            pos.entry(e.id).or_insert(i as u32);
        }
        for i in unresolved {
            let e = &events[i as usize];
            if let Some(&p) = e.parent.and_then(|p| pos.get(&p)) {
                if p < i {
                    parent_pos[i as usize] = p;
                }
            }
        }
    }
    parent_pos
}

/// Index of operations by (name, kind), into `profile.operations`.
pub(crate) fn op_index(profile: &Profile) -> HashMap<(&str, EventKind), usize> {
    profile
        .operations
        .iter()
        .enumerate()
        .map(|(i, o)| ((&*o.name, o.kind), i))
        .collect()
}

/// Heap traffic of an event's children.
#[derive(Clone, Copy, Default)]
struct ChildSums {
    net: i64,
    allocated: u64,
    allocations: u64,
}

/// How far ahead of the event being scanned the scan touches metric maps.
const LOOKAHEAD: usize = 8;

/// Runs the pass.
pub(crate) fn scan(profile: &Profile) -> Scan {
    let mut lookup = OpLookup::new(profile);
    let events = &profile.events;
    let parent_pos = parent_positions(events);
    // Heap traffic of each event's children, summed into the parent (size classes, rare, in
    // a map by parent position).
    let mut child: Vec<ChildSums> = Vec::new();
    let mut child_sizes: IntMap<u32, AllocSizes> = IntMap::default();
    if profile.alloc_tracking {
        child = vec![ChildSums::default(); events.len()];
        for (e, &p) in events.iter().zip(&parent_pos) {
            if let (Some(a), true) = (effective_alloc(e), p != u32::MAX) {
                let c = &mut child[p as usize];
                c.net = c.net.saturating_add(a.net_bytes());
                c.allocated = c.allocated.saturating_add(a.allocated_bytes);
                c.allocations = c.allocations.saturating_add(a.allocations);
                if let Some(sz) = &e.alloc_sizes {
                    child_sizes.entry(p).or_default().add(sz);
                }
            }
        }
    }
    let mut own_energy: Vec<f64> = vec![f64::NAN; events.len()];

    let duration = profile
        .duration_ns
        .max(events.iter().map(|e| e.end_ns).max().unwrap_or(0))
        .max(1);
    let bin_ns = duration.div_ceil(TIMELINE_BINS as u64).max(1);
    let mut s = Scan {
        ops: vec![OpScan::default(); profile.operations.len()],
        energy_bins: vec![0.0; TIMELINE_BINS],
        bin_ns,
        ..Scan::default()
    };
    let mut io_end = 0u64;
    for (i, e) in events.iter().enumerate() {
        // Touch the metric map of an event a little ahead, so that its cache misses overlap
        // with the work on this one.
        if let Some(ahead) = events.get(i + LOOKAHEAD) {
            std::hint::black_box(
                ahead
                    .metrics
                    .keys()
                    .next()
                    .map(|k| k.as_bytes().first().copied()),
            );
        }
        let Some(op) = lookup.get(e) else {
            continue;
        };
        let mut known = Known::default();
        let mut args = IntHasher::default();
        let mut has_args = false;
        for (k, &v) in &e.metrics {
            // NaN and infinities stay out of every sum (the aggregates count them); only a
            // residual keeps them, where they mean a solver diverged.
            if !v.is_finite() && k != RESIDUAL {
                continue;
            }
            match k.as_str() {
                ENERGY_PJ => known.energy = Some(v),
                BYTES => known.bytes = Some(v),
                TEMPERATURE_K => known.temperature = Some(v),
                UTILIZATION => known.utilization = Some(v),
                RESIDUAL => known.residual = Some(v),
                "bits_gained" => known.bits = Some(v),
                CONVERGED | DIVERGED => known.verdict = true,
                _ => {}
            }
            if k == SIZE {
                known.size = Some(v);
            } else if k == ITERATION {
                known.k = Some(v);
            }
            if let Some(d) = DEVICE_KEYS.iter().position(|d| d == k) {
                if v.is_finite() && known.device.is_none_or(|(best, _)| d < best) {
                    known.device = Some((d, v));
                }
            }
            if let Some(c) = component_of(k) {
                match s
                    .component_by_kind
                    .iter_mut()
                    .find(|x| x.0 == e.kind && x.1 == c)
                {
                    Some(x) => x.2 = saturating_fadd(x.2, v),
                    None => s.component_by_kind.push((e.kind, c.to_owned(), v)),
                }
            } else if !is_output_metric(k) {
                has_args = true;
                k.hash(&mut args);
                args.write_u64(v.to_bits());
            }
        }
        let o = &mut s.ops[op];
        let call = o.kept as f64;
        o.kept += 1;
        if let Some(a) = effective_alloc(e) {
            let c = child.get(i).copied().unwrap_or_default();
            let net = a.net_bytes().saturating_sub(c.net);
            o.alloc_events += 1;
            o.self_allocated = o
                .self_allocated
                .saturating_add(a.allocated_bytes.saturating_sub(c.allocated));
            o.self_allocations = o
                .self_allocations
                .saturating_add(a.allocations.saturating_sub(c.allocations));
            o.self_net = o.self_net.saturating_add(net);
            if net > 0 {
                o.growing_calls += 1;
            }
            o.growth.add(call, o.self_net as f64);
            o.mark_growth();
            if e.process_alloc.is_some() {
                o.process_events += 1;
            }
            o.incl_allocated = o.incl_allocated.saturating_add(a.allocated_bytes);
            if let Some(sz) = &e.alloc_sizes {
                let own = match child_sizes.get(&(i as u32)) {
                    Some(c) => sz.saturating_sub(c),
                    None => *sz,
                };
                o.sizes.add(&own);
                o.size_events += 1;
            }
        }
        let energy = known.energy;
        if let Some(b) = known.bytes {
            o.transfer.add(b, e.duration_ns() as f64);
        }
        if let (Some(t), Some(en)) = (known.temperature, energy) {
            if o.temperature.n == 0.0 {
                o.t_min = t;
                o.t_max = t;
            }
            o.t_min = o.t_min.min(t);
            o.t_max = o.t_max.max(t);
            o.temperature.add(t, en);
        }
        if let Some(en) = energy {
            own_energy[i] = en;
            let p = parent_pos[i];
            if p != u32::MAX && !own_energy[p as usize].is_nan() {
                o.nested_energy += 1;
            }
            if s.top_energy.len() < TOP_SPANS || s.top_energy.last().is_some_and(|l| en > l.0) {
                let at = s.top_energy.partition_point(|x| x.0 >= en);
                s.top_energy.insert(at, (en, i as u32));
                s.top_energy.truncate(TOP_SPANS);
            }
            let bin = ((e.end_ns / bin_ns) as usize).min(TIMELINE_BINS - 1);
            s.energy_bins[bin] = saturating_fadd(s.energy_bins[bin], en);
        }
        if let Some(n) = known.size.filter(|n| n.is_finite() && *n > 0.0) {
            s.sized.push((op as u32, n, i as u32));
        }
        if let (EventKind::AlgorithmStep, Some(r)) = (e.kind, known.residual) {
            s.steps.push(StepRec {
                pos: i as u32,
                residual: r,
                k: known.k,
                bits: known.bits,
            });
        }
        if known.verdict {
            s.verdicts.push(i as u32);
        }
        // Iterations repeat their index in every run with a different state: never repeats.
        // Only calls whose every argument is recorded can be told to repeat their arguments.
        if has_args && e.args_recorded && e.kind != EventKind::AlgorithmStep {
            args.write_u64(op as u64);
            s.repeats
                .entry(args.finish())
                .and_modify(|g| {
                    g.calls += 1;
                    g.repeat_ns = g.repeat_ns.saturating_add(e.duration_ns());
                })
                .or_insert(RepeatGroup {
                    op: op as u32,
                    first: i as u32,
                    calls: 1,
                    repeat_ns: 0,
                });
        }
        if let Some((d, v)) = known.device {
            let d = s.devices.entry((DEVICE_KEYS[d], v as i64)).or_default();
            d.events += 1;
            d.busy_ns = d.busy_ns.saturating_add(e.busy_ns);
            d.energy_pj = saturating_fadd(d.energy_pj, energy.unwrap_or(0.0));
            if let Some(u) = known.utilization {
                d.utilization_sum = saturating_fadd(d.utilization_sum, u);
                d.utilization_n += 1;
            }
        }
        if e.kind == EventKind::IoOperation {
            s.io_events += 1;
            s.io_sum_ns = s.io_sum_ns.saturating_add(e.duration_ns());
            // Events are in start order: extend the union by the part past the current end.
            let start = e.start_ns.max(io_end);
            if e.end_ns > start {
                s.io_union_ns = s.io_union_ns.saturating_add(e.end_ns - start);
            }
            io_end = io_end.max(e.end_ns);
            if !s.io_threads.contains(&e.thread_id) && s.io_threads.len() < 64 {
                s.io_threads.push(e.thread_id);
            }
        }
    }
    // Inclusive energy: children come after their parents, so one backward pass adds each
    // event's inclusive energy into its parent's.
    let mut incl: Vec<f64> = own_energy
        .iter()
        .map(|e| if e.is_nan() { 0.0 } else { *e })
        .collect();
    for i in (0..events.len()).rev() {
        let p = parent_pos[i];
        if p != u32::MAX {
            incl[p as usize] = saturating_fadd(incl[p as usize], incl[i]);
        }
    }
    s.incl_energy = incl;
    s.own_energy = own_energy;
    s.parent_pos = parent_pos;
    s
}
