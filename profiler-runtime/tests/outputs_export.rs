//! Exports: the Chrome trace (fields, metadata, counters, nesting, one event per line), folded
//! stacks parsed back, and the flame-graph SVG.

mod outputs_fixture;

use std::collections::{BTreeMap, HashMap};

use outputs_fixture::{ev, finish};
use profiler_runtime::{EventKind, Profile, ProfileEvent};
use proptest::prelude::*;
use serde_json::Value;

fn trace(p: &Profile) -> (String, Vec<Value>) {
    let mut out = Vec::new();
    p.to_chrome_trace(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let v: Value = serde_json::from_str(&text).expect("the trace is one JSON document");
    let events = v["traceEvents"]
        .as_array()
        .expect("traceEvents array")
        .clone();
    (text, events)
}

/// µs as written, back to ns the way Perfetto converts (truncating).
fn ns(v: &Value) -> u64 {
    (v.as_f64().expect("a number") * 1000.0) as u64
}

/// Every complete event's (tid, start, end, event_id), and checks that the events of each tid nest.
fn check_nesting(events: &[Value]) -> Vec<(u64, u64, u64, u64)> {
    let mut xs: Vec<(u64, u64, u64, u64)> = events
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| {
            let (ts, dur) = (ns(&e["ts"]), ns(&e["dur"]));
            (
                e["tid"].as_u64().unwrap(),
                ts,
                ts + dur,
                e["args"]["event_id"].as_u64().unwrap(),
            )
        })
        .collect();
    xs.sort_by_key(|&(tid, s, e, id)| (tid, s, std::cmp::Reverse(e), id));
    let mut stack: Vec<(u64, u64, u64)> = Vec::new(); // (tid, end, id)
    for &(tid, s, e, id) in &xs {
        while stack
            .last()
            .is_some_and(|&(t, end, _)| t != tid || end <= s)
        {
            stack.pop();
        }
        if let Some(&(_, end, parent)) = stack.last() {
            assert!(
                e <= end,
                "event {id} [{s}, {e}] on tid {tid} overlaps event {parent} ending at {end}"
            );
        }
        stack.push((tid, e, id));
    }
    xs
}

#[test]
fn trace_has_the_fields_metadata_and_counters() {
    let p = outputs_fixture::profile();
    let (text, events) = trace(&p);
    // One event per line: every line between the brackets is a JSON object on its own.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"{\"traceEvents\":["));
    assert_eq!(lines.last(), Some(&"]}"));
    let body = &lines[1..lines.len() - 1];
    assert!(
        body.len() >= events.len(),
        "{} lines for {} events",
        body.len(),
        events.len()
    );
    for l in body {
        // A thread's name and sort-index metadata share a line (`{..},{..}`): parse it as a list.
        let obj = l.strip_suffix(',').unwrap_or(l);
        let items: Vec<Value> = serde_json::from_str(&format!("[{obj}]"))
            .unwrap_or_else(|e| panic!("line is not JSON ({e}): {l}"));
        assert!(
            !items.is_empty() && items.iter().all(Value::is_object),
            "{l}"
        );
    }

    let by_id: HashMap<u64, &ProfileEvent> = p.events.iter().map(|e| (e.id, e)).collect();
    let xs: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(xs.len(), p.events.len());
    for x in &xs {
        let id = x["args"]["event_id"].as_u64().unwrap();
        let e = by_id[&id];
        assert_eq!(x["name"], &*e.name);
        assert_eq!(x["cat"], e.kind.as_str());
        assert_eq!(x["pid"], 1);
        assert!(x["tid"].is_u64());
        assert_eq!(
            ns(&x["ts"]),
            e.start_ns,
            "ts of {id} is µs and converts back exactly"
        );
        assert_eq!(ns(&x["dur"]), e.duration_ns(), "dur of {id}");
        for (k, v) in &e.metrics {
            assert_eq!(x["args"][k].as_f64(), Some(*v), "metric {k} of {id}");
        }
    }
    let errored = xs.iter().find(|x| x["args"]["event_id"] == 50).unwrap();
    assert_eq!(errored["args"]["error"], "write verify failed at (3, 4)");
    assert_eq!(
        xs.iter().find(|x| x["args"]["event_id"] == 51).unwrap()["args"]["panicked"],
        true
    );

    // Thread names for every tid that has events.
    let names: BTreeMap<u64, &str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names.get(&1), Some(&"main"));
    assert_eq!(names.get(&2), Some(&"worker-1"));
    for x in &xs {
        assert!(
            names.contains_key(&x["tid"].as_u64().unwrap()),
            "no thread_name for {x}"
        );
    }

    // Counters: RSS per sample, cumulative energy rising to the total.
    let rss: Vec<&Value> = events
        .iter()
        .filter(|e| e["ph"] == "C" && e["name"] == "memory")
        .collect();
    assert_eq!(rss.len(), p.samples.len());
    assert!((rss[0]["args"]["rss_mib"].as_f64().unwrap() - 40.0).abs() < 1e-9);
    let energy: Vec<f64> = events
        .iter()
        .filter(|e| e["ph"] == "C" && e["name"] == "energy")
        .map(|e| e["args"]["cumulative_pj"].as_f64().unwrap())
        .collect();
    assert!(
        energy.windows(2).all(|w| w[0] <= w[1]),
        "cumulative energy never falls"
    );
    let total: f64 = p.events.iter().filter_map(|e| e.metric("energy_pj")).sum();
    assert!((energy.last().unwrap() - total).abs() < 1e-6 * total);
}

#[test]
fn trace_nests_per_thread_and_splits_overlapping_async_spans() {
    let p = outputs_fixture::profile();
    let (_, events) = trace(&p);
    let xs = check_nesting(&events);
    let tid_of: HashMap<u64, u64> = xs.iter().map(|&(tid, _, _, id)| (id, tid)).collect();
    // Synchronous children stay on their parent's track, inside it.
    for e in &p.events {
        if let Some(parent) = e.parent.and_then(|id| p.events.iter().find(|q| q.id == id)) {
            if e.thread_id == parent.thread_id
                && e.start_ns >= parent.start_ns
                && e.end_ns <= parent.end_ns
            {
                assert_eq!(
                    tid_of[&e.id], tid_of[&parent.id],
                    "event {} left its parent's track",
                    e.id
                );
            }
        }
    }
    // The two interleaved async spans of thread 3 are on different tracks, the second one's
    // child on the second one's track; the extra track is named after the thread.
    assert_ne!(tid_of[&200], tid_of[&201]);
    assert_eq!(tid_of[&202], tid_of[&201]);
    let lane_name = events
        .iter()
        .find(|e| e["ph"] == "M" && e["name"] == "thread_name" && e["tid"] == tid_of[&201])
        .unwrap();
    assert!(lane_name["args"]["name"]
        .as_str()
        .unwrap()
        .starts_with("async-rt"));
}

#[test]
fn empty_profile_gives_a_valid_trace() {
    let (_, events) = trace(&Profile::empty());
    assert!(events.iter().all(|e| e["ph"] == "M"));
}

fn parse_folded(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .map(|l| {
            let (stack, n) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no count: {l:?}"));
            assert!(!stack.is_empty() && !stack.contains('\n'));
            (
                stack.to_owned(),
                n.parse::<u64>()
                    .unwrap_or_else(|e| panic!("count in {l:?}: {e}")),
            )
        })
        .collect()
}

#[test]
fn folded_stacks_parse_back_to_self_time() {
    let mut p = outputs_fixture::profile();
    p.events.push(ev(
        300,
        None,
        "odd;name\nhere",
        EventKind::FunctionCall,
        1,
        2_000_000,
        2_000_100,
    ));
    let p = finish(p);
    let mut out = Vec::new();
    p.to_folded_stacks(&mut out).unwrap();
    let stacks = parse_folded(&String::from_utf8(out).unwrap());
    let self_total: u64 = p.events.iter().map(|e| e.self_ns).sum();
    assert_eq!(
        stacks.values().sum::<u64>(),
        self_total,
        "folded counts are the self time"
    );
    let mvm_self: u64 = p
        .events
        .iter()
        .filter(|e| &*e.name == "crossbar.mvm")
        .map(|e| e.self_ns)
        .sum();
    assert_eq!(
        stacks["hp_inv.solve;hp_inv.iteration;crossbar.mvm"],
        mvm_self
    );
    assert!(stacks.contains_key("hp_inv.solve;hp_inv.iteration"));
    assert!(stacks.contains_key("hp_inv.solve"));
    // The orphan (parent dropped) is a root; async children stack under their parent.
    assert!(stacks.contains_key("crossbar.write"));
    assert!(stacks.contains_key("fetch_tile;decode"));
    assert_eq!(stacks["odd:name here"], 100);
    // Same as the function form.
    assert_eq!(stacks, profiler_runtime::output::export::folded_stacks(&p));
}

#[test]
fn flamegraph_svg_through_inferno() {
    let p = outputs_fixture::profile();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flame.svg");
    p.write_flamegraph(&path).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"));
    for name in ["hp_inv.solve", "hp_inv.iteration", "crossbar.mvm", "matmul"] {
        assert!(svg.contains(name), "no `{name}` frame");
    }
    let mut empty = Vec::new();
    Profile::empty().to_flamegraph_svg(&mut empty).unwrap();
    assert!(String::from_utf8(empty).unwrap().contains("no data"));
    assert!(Profile::empty()
        .write_flamegraph(dir.path().join("no/such/dir/f.svg"))
        .is_err());
}

fn arb_thread_events() -> impl Strategy<Value = Profile> {
    proptest::collection::vec((1..4u64, 0..1_000u64, 0..400u64, any::<bool>()), 1..40).prop_map(
        |spans| {
            let mut p = Profile::empty();
            for (i, (thread, start, len, child)) in spans.into_iter().enumerate() {
                let id = i as u64 + 1;
                let parent = (child && id > 1).then_some(id - 1);
                p.events.push(ev(
                    id,
                    parent,
                    "op",
                    EventKind::FunctionCall,
                    thread,
                    start,
                    start + len,
                ));
            }
            finish(p)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Arbitrary (overlapping, unnested) intervals still come out properly nested per track,
    /// with every event present and its times exact.
    #[test]
    fn any_intervals_come_out_nested(p in arb_thread_events()) {
        let (_, events) = trace(&p);
        let xs = check_nesting(&events);
        prop_assert_eq!(xs.len(), p.events.len());
        for (_, s, e, id) in xs {
            let ev = p.events.iter().find(|q| q.id == id).unwrap();
            prop_assert_eq!((s, e), (ev.start_ns, ev.end_ns));
        }
        let mut out = Vec::new();
        p.to_folded_stacks(&mut out).unwrap();
        let stacks = parse_folded(&String::from_utf8(out).unwrap());
        prop_assert_eq!(stacks.values().sum::<u64>(), p.events.iter().map(|e| e.self_ns).sum::<u64>());
    }
}
