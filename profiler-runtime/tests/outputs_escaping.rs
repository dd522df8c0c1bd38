//! Every output format writes every name safely, whatever it holds: SVG charts and flame
//! graphs stay valid XML, terminal text and Markdown carry no raw control characters or table
//! breaks, the Chrome trace stays one JSON document, and its tracks never collide.

mod outputs_fixture;

use std::collections::{BTreeMap, HashSet};

use outputs_fixture::{ev, finish};
use profiler_runtime::output::plot::PlotType;
use profiler_runtime::{EventKind, PerformanceReport, Profile};
use serde_json::Value;

/// What a hostile name adds: a bell, markup, an ANSI escape, a newline, a pipe, quotes, a NUL.
const HOSTILE: &str = "\u{7}<b>&amp;\u{1b}[31m\n| \"x\" \u{0}";

/// The fixture with every name made hostile.
fn hostile_profile() -> Profile {
    let mut p = outputs_fixture::profile();
    for e in &mut p.events {
        e.name = format!("{}{HOSTILE}", e.name).into();
    }
    for t in &mut p.threads {
        t.name = format!("{}{HOSTILE}", t.name);
    }
    finish(p)
}

/// Whether `c` is a character XML 1.0 allows in a document.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
        || ('\u{20}'..='\u{D7FF}').contains(&c)
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || c >= '\u{10000}'
}

fn assert_valid_xml_text(what: &str, svg: &str) {
    if let Some(bad) = svg.chars().find(|&c| !xml_char(c)) {
        panic!("{what}: {bad:?} is not allowed in XML");
    }
    assert!(
        !svg.contains("<b>"),
        "{what}: a name's markup reached the SVG as markup"
    );
}

#[test]
fn every_svg_chart_and_the_flame_graph_are_valid_xml_whatever_the_names() {
    let p = hostile_profile();
    let dir = tempfile::tempdir().unwrap();
    for plot in PlotType::ALL {
        let path = dir.path().join(format!("{plot}.svg"));
        p.plot(plot, &path)
            .unwrap_or_else(|e| panic!("{plot}: {e}"));
        let svg = std::fs::read_to_string(&path).unwrap();
        assert_valid_xml_text(&format!("the {plot} chart"), &svg);
    }
    let mut flame = Vec::new();
    p.to_flamegraph_svg(&mut flame).unwrap();
    let flame = String::from_utf8(flame).unwrap();
    assert_valid_xml_text("the flame graph", &flame);
    assert!(flame.contains("hp_inv.solve"), "the frames are still named");
}

#[test]
fn folded_stacks_keep_one_line_per_stack_whatever_the_names() {
    let p = hostile_profile();
    let mut out = Vec::new();
    p.to_folded_stacks(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    for line in text.lines() {
        let (_, ns) = line.rsplit_once(' ').expect("`stack ns`");
        assert!(ns.parse::<u64>().is_ok(), "line {line:?}");
        assert!(!line.chars().any(char::is_control), "line {line:?}");
    }
}

#[test]
fn report_text_and_markdown_carry_no_raw_control_characters() {
    let p = hostile_profile();
    let r = PerformanceReport::from_profile(&p);
    for (what, out) in [
        ("display", r.to_string()),
        ("text", r.to_text()),
        ("markdown", r.to_markdown()),
    ] {
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "{what}: raw control characters"
        );
        assert!(
            out.contains("\\u{1b}"),
            "{what}: the escape is shown, not obeyed"
        );
    }
    // Every Markdown table row has as many cells as its header.
    let md = r.to_markdown();
    let mut cells = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            cells = None;
            continue;
        }
        let n = line.replace("\\|", "").matches('|').count();
        match cells {
            None => cells = Some(n),
            Some(m) => assert_eq!(n, m, "row {line:?}"),
        }
    }
}

#[test]
fn chrome_trace_tracks_never_collide_whatever_the_thread_ids() {
    let mut p = Profile::empty();
    let threads = [0, 1, 2, u64::MAX - 1, u64::MAX];
    for (i, &t) in threads.iter().enumerate() {
        let id = i as u64 + 1;
        p.events.push(ev(
            id,
            None,
            &format!("op{HOSTILE}"),
            EventKind::Computation,
            t,
            10,
            20,
        ));
        p.events[i].metrics.insert("energy_pj".into(), 1.0);
    }
    let p = finish(p);
    let mut out = Vec::new();
    p.to_chrome_trace(&mut out).unwrap();
    let v: Value = serde_json::from_slice(&out).expect("one JSON document");
    let events = v["traceEvents"].as_array().unwrap();
    // Counters and the process name live on tid 0; no thread's events may land there.
    let counter_tids: HashSet<u64> = events
        .iter()
        .filter(|e| e["ph"] == "C" || e["name"] == "process_name")
        .map(|e| e["tid"].as_u64().unwrap())
        .collect();
    let mut tid_of_thread: BTreeMap<u64, u64> = BTreeMap::new();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let tid = e["tid"].as_u64().expect("a tid");
        assert!(
            !counter_tids.contains(&tid),
            "an event on the counters' track"
        );
        assert_eq!(e["name"], format!("op{HOSTILE}"), "the name round-trips");
        let id = e["args"]["event_id"].as_u64().unwrap();
        let thread = threads[id as usize - 1];
        assert!(tid_of_thread.insert(thread, tid).is_none());
    }
    let distinct: HashSet<u64> = tid_of_thread.values().copied().collect();
    assert_eq!(
        distinct.len(),
        threads.len(),
        "one track per thread: {tid_of_thread:?}"
    );
    // Each thread's name record carries its own id.
    for (&thread, &tid) in &tid_of_thread {
        let meta = events
            .iter()
            .find(|e| e["name"] == "thread_name" && e["tid"] == tid)
            .expect("a name for every track");
        assert_eq!(meta["args"]["thread_id"].as_u64(), Some(thread));
    }
}
