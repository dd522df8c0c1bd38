//! Save and load: lossless round trip, atomic writes, typed errors for bad files, no panics.

mod outputs_fixture;

use profiler_runtime::model::stats::{MetricAggregate, OperationStats};
use profiler_runtime::output::persist::BadFileKind;
use profiler_runtime::{
    EventKind, PerformanceProfiler, Profile, ProfileError, ProfileEvent, FORMAT_VERSION,
};
use proptest::prelude::*;

fn saved(p: &Profile) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.json");
    p.save(&path).unwrap();
    (dir, path)
}

/// Loads through both parsers (from a reader, and in place from a slice) and checks that they
/// agree, error for error.
fn load_bytes(bytes: &[u8]) -> Result<Profile, ProfileError> {
    let streamed = Profile::read_json(bytes, "mem.json");
    let in_place = Profile::from_json_slice(bytes, "mem.json");
    // Positions in messages may differ by a column; the outcome and the kind may not.
    let outcome = |r: &Result<Profile, ProfileError>| match r {
        Ok(p) => format!("{p:?}"),
        Err(e @ ProfileError::BadFile { .. }) => format!("bad file: {:?}", e.bad_file_kind()),
        Err(e) => format!("{e:?}"),
    };
    assert_eq!(
        outcome(&streamed),
        outcome(&in_place),
        "the two parsers disagree"
    );
    streamed
}

fn reason(e: &ProfileError) -> String {
    match e {
        ProfileError::BadFile { reason, .. } => reason.clone(),
        other => panic!("expected BadFile, got {other:?}"),
    }
}

#[test]
fn fixture_round_trips_and_leaves_no_temp_files() {
    let p = outputs_fixture::profile();
    let (dir, path) = saved(&p);
    assert_eq!(Profile::load(&path).unwrap(), p);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(&format!("{{\"format_version\":{FORMAT_VERSION},")),
        "{}",
        &text[..40]
    );
    // Overwrite in place: still one file, the new content.
    let one = outputs_fixture::one_event();
    one.save(&path).unwrap();
    assert_eq!(Profile::load(&path).unwrap(), one);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("profile.json")]);
}

#[test]
fn empty_profile_round_trips() {
    let p = Profile::empty();
    let (_dir, path) = saved(&p);
    assert_eq!(Profile::load(&path).unwrap(), p);
}

#[test]
fn non_finite_values_save_and_load_back() {
    // One NaN used to make `save` refuse the whole profile, good solves included.
    let mut p = outputs_fixture::profile();
    p.events[3].metrics.insert("residual".into(), f64::NAN);
    p.events[2].metrics.insert("gain".into(), f64::INFINITY);
    p.events[1].metrics.insert("loss".into(), f64::NEG_INFINITY);
    if let Some(m) = p.operations[0].metrics.values_mut().next() {
        m.sum = f64::NAN;
        m.max = f64::INFINITY;
    }
    if let Some(s) = p.samples.first_mut() {
        s.cpu_percent = f32::NAN;
    }
    let (_dir, path) = saved(&p);
    let back = Profile::load(&path).unwrap();
    assert!(back.events[3].metric("residual").unwrap().is_nan());
    assert_eq!(back.events[2].metric("gain"), Some(f64::INFINITY));
    assert_eq!(back.events[1].metric("loss"), Some(f64::NEG_INFINITY));
    let m = back.operations[0].metrics.values().next().unwrap();
    assert!(m.sum.is_nan() && m.max == f64::INFINITY);
    if !p.samples.is_empty() {
        assert!(back.samples[0].cpu_percent.is_nan());
    }
    // Everything else is exactly as it was.
    let mut a = p.clone();
    let mut b = back.clone();
    for q in [&mut a, &mut b] {
        q.events[3].metrics.remove("residual");
        if let Some(m) = q.operations[0].metrics.values_mut().next() {
            m.sum = 0.0;
        }
        for s in &mut q.samples {
            s.cpu_percent = 0.0;
        }
    }
    assert_eq!(a, b);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("\"residual\":\"NaN\"") && text.contains("\"inf\""),
        "{text}"
    );
}

#[test]
fn save_into_a_missing_directory_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Profile::empty()
        .save(dir.path().join("no/such/dir/p.json"))
        .unwrap_err();
    assert!(matches!(err, ProfileError::Io { .. }), "{err:?}");
    assert!(matches!(
        Profile::load(dir.path().join("absent.json")),
        Err(ProfileError::Io { .. })
    ));
}

#[test]
fn bad_files_get_typed_errors() {
    let good = {
        let mut v = Vec::new();
        outputs_fixture::profile().write_json(&mut v, "x").unwrap();
        String::from_utf8(v).unwrap()
    };
    // Not JSON.
    let r = reason(&load_bytes(b"hello, I am a CSV file\n1,2,3").unwrap_err());
    assert!(r.starts_with("not JSON"), "{r}");
    // Empty.
    assert!(reason(&load_bytes(b"").unwrap_err()).starts_with("empty file"));
    // Truncated.
    let r = reason(&load_bytes(&good.as_bytes()[..good.len() / 2]).unwrap_err());
    assert!(r.starts_with("truncated"), "{r}");
    // Newer version, checked before the layout: an unknown layout still says "version".
    let newer = r#"{"format_version": 999, "events": "zstd:AAAA", "layout": [1, 2]}"#;
    match load_bytes(newer.as_bytes()).unwrap_err() {
        ProfileError::UnsupportedVersion {
            found: 999,
            supported,
            ..
        } => assert_eq!(supported, FORMAT_VERSION),
        other => panic!("{other:?}"),
    }
    let bumped = good.replacen(
        &format!("\"format_version\":{FORMAT_VERSION}"),
        "\"format_version\":999",
        1,
    );
    let err = load_bytes(bumped.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("format_version 999"), "{err}");
    // Older version.
    let older = good.replacen(
        &format!("\"format_version\":{FORMAT_VERSION}"),
        "\"format_version\":0",
        1,
    );
    assert!(matches!(
        load_bytes(older.as_bytes()),
        Err(ProfileError::UnsupportedVersion { found: 0, .. })
    ));
    // Version of the wrong type.
    let r = reason(&load_bytes(br#"{"format_version": "one"}"#).unwrap_err());
    assert!(r.starts_with("wrong type"), "{r}");
    // Missing field.
    let missing = good.replacen("\"dropped_events\":3,", "", 1);
    assert_ne!(missing, good);
    let r = reason(&load_bytes(missing.as_bytes()).unwrap_err());
    assert!(
        r.starts_with("missing field") && r.contains("dropped_events"),
        "{r}"
    );
    // Wrong type.
    let wrong = good.replacen("\"dropped_events\":3", "\"dropped_events\":\"three\"", 1);
    let r = reason(&load_bytes(wrong.as_bytes()).unwrap_err());
    assert!(r.starts_with("wrong type"), "{r}");
    // Not a profile object at all.
    let r = reason(&load_bytes(b"[1, 2, 3]").unwrap_err());
    assert!(r.starts_with("wrong type"), "{r}");
    // Trailing garbage.
    let r = reason(&load_bytes(format!("{good} {{}}").as_bytes()).unwrap_err());
    assert!(r.starts_with("trailing data"), "{r}");
}

#[test]
fn event_table_errors_say_what_is_wrong() {
    let good = String::from_utf8(to_bytes(&outputs_fixture::one_event())).unwrap();
    let kind = |text: &str| {
        let e = load_bytes(text.as_bytes()).unwrap_err();
        (e.bad_file_kind(), e.to_string())
    };
    // The layout as documented.
    assert!(good.contains(r#""events":{"columns":["id","parent","name","kind","thread_id","start_ns","end_ns","busy_ns","self_ns","metrics","alloc","error","panicked"],"names":["only"],"rows":[[1,null,0,"computation",1,10,1010,1000,1000,{"energy_pj":3.5},null,null,false]]}"#), "{good}");
    // A name index past the table.
    let (k, msg) = kind(&good.replacen("[[1,null,0,", "[[1,null,7,", 1));
    assert_eq!(k, Some(BadFileKind::InvalidValue), "{msg}");
    assert!(msg.contains("name index"), "{msg}");
    // A short row, a long row.
    let (k, msg) = kind(&good.replacen(",null,false]]", "]]", 1));
    assert_eq!(k, Some(BadFileKind::InvalidValue), "{msg}");
    assert!(msg.contains("event row of 13 values"), "{msg}");
    let (k, _) = kind(&good.replacen(",null,false]]", ",null,false,1]]", 1));
    assert_eq!(k, Some(BadFileKind::InvalidValue));
    // Another row layout.
    let (k, msg) = kind(&good.replacen(r#"["id","parent""#, r#"["parent","id""#, 1));
    assert_eq!(k, Some(BadFileKind::InvalidValue), "{msg}");
    assert!(msg.contains("events.columns"), "{msg}");
    // Rows before names.
    let swapped = good
        .replacen(r#""names":["only"],"rows":"#, r#""rows":"#, 1)
        .replacen("]]}", r#"]],"names":["only"]}"#, 1);
    let (k, msg) = kind(&swapped);
    assert_eq!(k, Some(BadFileKind::InvalidValue), "{msg}");
    assert!(msg.contains("names must come before"), "{msg}");
    // An unknown kind, a string where a number goes.
    let (k, msg) = kind(&good.replacen(r#""computation""#, r#""teleport""#, 1));
    assert_eq!(k, Some(BadFileKind::InvalidValue), "{msg}");
    assert!(msg.contains("teleport"), "{msg}");
    let (k, _) = kind(&good.replacen("[[1,null,0,", r#"[["1",null,0,"#, 1));
    assert_eq!(k, Some(BadFileKind::WrongType));
    // No rows at all.
    let (k, msg) = kind(&good.replacen(r#","rows":[[1,null,0,"computation",1,10,1010,1000,1000,{"energy_pj":3.5},null,null,false]]"#, "", 1));
    assert_eq!(k, Some(BadFileKind::MissingField), "{msg}");
}

#[test]
fn file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\"format_version\": 1, \"started_at").unwrap();
    let err = Profile::load(&path).unwrap_err();
    assert!(
        err.to_string().contains("broken.json") && err.to_string().contains("truncated"),
        "{err}"
    );
}

#[test]
fn profiler_saves_and_loads_into_a_live_profiler() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    let a = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    a.record_event(
        "program_tile",
        EventKind::HardwareAccess,
        [("energy_pj", 12.5)],
    );
    a.save_profile_data(&path).unwrap();
    let b = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    b.load_profile_data(&path).unwrap();
    b.record_event("read_tile", EventKind::HardwareAccess, [("energy_pj", 1.5)]);
    let snap = b.snapshot();
    assert_eq!(snap.total_events(), 2);
    assert_eq!(snap.metric_total("energy_pj"), 14.0);
    assert!(matches!(
        b.load_profile_data(dir.path().join("nope.json")),
        Err(ProfileError::Io { .. })
    ));
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_.]{1,12}",
        any::<String>(),
        Just("with \"quotes\"; semicolons\nand newlines".to_owned()),
    ]
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        Just(0.1 + 0.2),
        Just(-0.0),
        Just(f64::MIN_POSITIVE / 3.0),
        Just(f64::MAX),
        (-1e6..1e6f64),
    ]
}

fn event() -> impl Strategy<Value = ProfileEvent> {
    (
        (
            1..u64::MAX,
            proptest::option::of(any::<u64>()),
            name(),
            0..6usize,
            any::<u64>(),
        ),
        (any::<u64>(), any::<u64>(), any::<u64>()),
        proptest::collection::btree_map(name(), finite(), 0..4),
        proptest::option::of((any::<u64>(), any::<u64>(), any::<u64>())),
        proptest::option::of(name()),
        any::<bool>(),
    )
        .prop_map(
            |(
                (id, parent, name, kind, thread_id),
                (start, dur, busy),
                metrics,
                alloc,
                error,
                panicked,
            )| {
                let start = start / 2;
                ProfileEvent {
                    id,
                    parent,
                    name: name.into(),
                    kind: EventKind::ALL[kind],
                    thread_id,
                    start_ns: start,
                    end_ns: start.saturating_add(dur / 2),
                    busy_ns: busy,
                    self_ns: busy / 2,
                    metrics,
                    alloc: alloc.map(|(a, f, n)| profiler_runtime::AllocStats {
                        allocated_bytes: a,
                        freed_bytes: f,
                        allocations: n,
                    }),
                    error,
                    panicked,
                    process_alloc: None,
                    alloc_sizes: None,
                    backtrace: None,
                    args_recorded: false,
                }
            },
        )
}

fn arb_profile() -> impl Strategy<Value = Profile> {
    (
        proptest::collection::vec(event(), 0..12),
        any::<u64>(),
        proptest::collection::vec((any::<u64>(), any::<u64>(), 0.0f32..800.0), 0..5),
        proptest::collection::vec(operation(), 0..4),
    )
        .prop_map(|(events, started, samples, operations)| {
            let mut p = Profile::empty();
            p.operations = operations;
            p.started_at_unix_ns = started;
            // A consistent profile (the loader checks): unique ids, parents earlier in the
            // file or absent from it (never 0, never a cycle), sums that fit in u64.
            let n = events.len() as u64;
            p.events = events
                .into_iter()
                .enumerate()
                .map(|(i, mut e)| {
                    e.id = i as u64 + 1;
                    e.parent = e.parent.filter(|&q| q < e.id && q > 0 || q > n);
                    e.end_ns = e.start_ns.saturating_add((e.end_ns - e.start_ns) / 16);
                    e.busy_ns /= 16;
                    e.self_ns = e.busy_ns / 2;
                    if let Some(a) = &mut e.alloc {
                        a.allocated_bytes /= 16;
                        a.freed_bytes /= 16;
                        a.allocations /= 16;
                    }
                    e
                })
                .collect();
            p.samples = samples
                .into_iter()
                .map(|(t, rss, cpu)| profiler_runtime::MonitorSample {
                    t_ns: t,
                    rss_bytes: rss,
                    cpu_percent: cpu,
                    ..Default::default()
                })
                .collect();
            p.threads = vec![profiler_runtime::ThreadInfo {
                id: 1,
                name: "main".into(),
            }];
            p
        })
}

fn operation() -> impl Strategy<Value = OperationStats> {
    (
        name(),
        0..6usize,
        proptest::collection::vec(0..u64::MAX / 4, 1..6),
        proptest::collection::btree_map(name(), (finite(), finite(), finite(), any::<u64>()), 0..3),
        any::<u128>(),
    )
        .prop_map(|(name, kind, walls, metrics, sum_sq)| {
            let mut o = OperationStats::new(name.into(), EventKind::ALL[kind]);
            o.count = walls.len() as u64;
            o.min_ns = walls.iter().copied().min().unwrap_or(0);
            o.max_ns = walls.iter().copied().max().unwrap_or(0);
            o.total_ns = walls.iter().map(|w| w / 8).sum();
            o.sum_sq_ns = sum_sq / 8;
            for w in walls {
                o.histogram.record(w);
            }
            o.metrics = metrics
                .into_iter()
                .map(|(k, (sum, min, max, count))| {
                    (
                        k,
                        MetricAggregate {
                            sum,
                            count,
                            min,
                            max,
                            non_finite: 0,
                        },
                    )
                })
                .collect();
            o
        })
}

fn to_bytes(p: &Profile) -> Vec<u8> {
    let mut v = Vec::new();
    p.write_json(&mut v, "mem.json").unwrap();
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_is_lossless(p in arb_profile()) {
        let back = load_bytes(&to_bytes(&p)).unwrap();
        prop_assert_eq!(back, p);
    }

    #[test]
    fn mutated_files_never_panic(
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        insert in proptest::option::of((any::<prop::sample::Index>(), "[\\[\\]{}\",:0-9a-z-]{1,6}")),
        truncate in any::<bool>(),
    ) {
        let mut bytes = to_bytes(&outputs_fixture::one_event());
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Some((at, s)) = insert {
            let i = at.index(bytes.len());
            bytes.splice(i..i, s.bytes());
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        // Ok or a typed error; a panic fails the test.
        match load_bytes(&bytes) {
            Err(e @ ProfileError::BadFile { .. }) => {
                prop_assert!(e.bad_file_kind().is_some(), "a reason without a kind: {e}");
            }
            Ok(_) | Err(ProfileError::UnsupportedVersion { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error kind {other:?}"),
        }
    }
}

#[test]
fn every_truncation_of_a_small_file_is_an_error_not_a_panic() {
    let bytes = to_bytes(&outputs_fixture::one_event());
    for n in 0..bytes.len() {
        let r = load_bytes(&bytes[..n]);
        assert!(
            matches!(r, Err(ProfileError::BadFile { .. })),
            "cut at {n}: {r:?}"
        );
    }
}
