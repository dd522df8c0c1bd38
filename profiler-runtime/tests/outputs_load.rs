//! Loading checks what values mean together: overflowing sums are refused naming the field;
//! inconsistent events are refused naming the first offender, or repaired and counted.

mod outputs_fixture;

use profiler_runtime::output::persist::{BadFileKind, LoadOptions, Repairs};
use profiler_runtime::{EventKind, Profile, ProfileError, ProfileEvent};

fn ev(id: u64, parent: Option<u64>, start: u64, end: u64) -> ProfileEvent {
    let mut e = ProfileEvent::new(id, "op".into(), EventKind::Computation, 1, start, end);
    e.parent = parent;
    e
}

fn bytes_of(p: &Profile) -> Vec<u8> {
    let mut v = Vec::new();
    p.write_json(&mut v, "x.json").unwrap();
    v
}

fn with_events(events: Vec<ProfileEvent>) -> Vec<u8> {
    let mut p = Profile::empty();
    p.events = events;
    bytes_of(&p)
}

/// Strict: refused as inconsistent with `needle` in the reason. Lenient: loaded, `repairs`.
fn check(bytes: &[u8], needle: &str, repairs: Repairs) -> Profile {
    let e = LoadOptions::new()
        .parse_slice(bytes, "x.json".as_ref())
        .unwrap_err();
    assert_eq!(e.bad_file_kind(), Some(BadFileKind::Inconsistent), "{e}");
    assert!(e.to_string().contains(needle), "`{e}` lacks `{needle}`");
    assert!(e.to_string().contains("--lenient"), "{e}");
    // The streaming reader and the count-only mode find the same.
    let e2 = LoadOptions::new()
        .events(false)
        .parse_reader(&mut &bytes[..], "x.json".as_ref())
        .unwrap_err();
    assert_eq!(e2.to_string(), e.to_string());
    let loaded = LoadOptions::new()
        .lenient(true)
        .parse_slice(bytes, "x.json".as_ref())
        .unwrap();
    assert_eq!(loaded.repairs, repairs);
    // A repaired profile is consistent: it loads strictly after a save.
    let again = bytes_of(&loaded.profile);
    Profile::from_json_slice(&again, "again.json").unwrap();
    loaded.profile
}

#[test]
fn an_event_that_ends_before_it_starts() {
    let mut bad = ev(2, None, 500, 100);
    bad.busy_ns = 30;
    bad.self_ns = 30;
    let p = check(
        &with_events(vec![ev(1, None, 0, 10), bad]),
        "event #1 (id 2, `op`) ends at 100 ns, before it starts at 500 ns",
        Repairs {
            end_before_start: 1,
            ..Repairs::default()
        },
    );
    assert_eq!(p.events[1].end_ns, 530);
}

#[test]
fn self_time_above_busy_time() {
    let mut bad = ev(1, None, 0, 100);
    bad.self_ns = 150;
    let p = check(
        &with_events(vec![bad]),
        "self time 150 ns above its busy time 100 ns",
        Repairs {
            self_over_busy: 1,
            ..Repairs::default()
        },
    );
    assert_eq!(p.events[0].self_ns, 100);
}

#[test]
fn duplicate_ids() {
    let p = check(
        &with_events(vec![
            ev(7, None, 0, 10),
            ev(8, Some(7), 1, 2),
            ev(7, None, 20, 30),
        ]),
        "event #2 has id 7, like event #0 before it",
        Repairs {
            duplicate_ids: 1,
            ..Repairs::default()
        },
    );
    let ids: Vec<u64> = p.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, [7, 8, 9]);
}

#[test]
fn parents_that_point_nowhere() {
    check(
        &with_events(vec![ev(1, None, 0, 10), ev(2, Some(0), 1, 2)]),
        "parent 0, which points nowhere",
        Repairs {
            dangling_parents: 1,
            ..Repairs::default()
        },
    );
    check(
        &with_events(vec![ev(3, Some(3), 0, 10)]),
        "is its own parent",
        Repairs {
            dangling_parents: 1,
            ..Repairs::default()
        },
    );
}

#[test]
fn a_cycle_of_parents() {
    let p = check(
        &with_events(vec![
            ev(1, None, 0, 100),
            ev(2, Some(4), 1, 50),
            ev(3, Some(2), 2, 40),
            ev(4, Some(3), 3, 30),
        ]),
        "event #1 is in a cycle of 3 parent link(s)",
        Repairs {
            parent_cycles: 1,
            ..Repairs::default()
        },
    );
    assert_eq!(p.events.iter().filter(|e| e.parent.is_none()).count(), 2);
}

#[test]
fn a_parent_that_is_absent_is_no_inconsistency() {
    // Open at the snapshot, or dropped from the raw buffer: the child is a root.
    let bytes = with_events(vec![ev(5, Some(99), 0, 10)]);
    let p = Profile::from_json_slice(&bytes, "x.json").unwrap();
    assert_eq!(p.events[0].parent, Some(99));
    // The fixture (orphan included) is consistent.
    Profile::from_json_slice(&bytes_of(&outputs_fixture::profile()), "f.json").unwrap();
}

#[test]
fn sums_that_would_overflow_name_the_field() {
    let mut p = outputs_fixture::profile();
    p.operations[0].count = u64::MAX;
    let e = Profile::from_json_slice(&bytes_of(&p), "x.json").unwrap_err();
    assert_eq!(e.bad_file_kind(), Some(BadFileKind::InvalidValue), "{e}");
    assert!(e.to_string().contains(".count"), "{e}");
    let mut a = ev(1, None, 0, 10);
    a.busy_ns = u64::MAX - 5;
    a.self_ns = 0;
    let mut b = ev(2, None, 0, 10);
    b.busy_ns = 10;
    b.self_ns = 0;
    let e = Profile::from_json_slice(&with_events(vec![a, b]), "x.json").unwrap_err();
    assert_eq!(e.bad_file_kind(), Some(BadFileKind::InvalidValue), "{e}");
    assert!(e.to_string().contains("events[1].busy_ns"), "{e}");
    // Lenient does not make overflow acceptable.
    let mut p = outputs_fixture::profile();
    p.operations[1].sum_sq_ns = u128::MAX;
    p.operations[0].sum_sq_ns = 1;
    let e = LoadOptions::new()
        .lenient(true)
        .parse_slice(&bytes_of(&p), "x.json".as_ref())
        .unwrap_err();
    assert!(e.to_string().contains("sum_sq_ns"), "{e}");
}

#[test]
fn events_can_be_counted_without_being_kept() {
    let p = outputs_fixture::profile();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.json");
    p.save(&path).unwrap();
    let l = LoadOptions::new().events(false).load(&path).unwrap();
    assert!(l.profile.events.is_empty());
    assert_eq!(l.events_in_file, p.events.len() as u64);
    assert_eq!(l.profile.operations, p.operations);
}

#[test]
fn only_regular_files_are_read() {
    for path in ["/dev/zero", "/dev/null", "/"] {
        match Profile::load(path) {
            Err(e @ ProfileError::Refused { .. }) => {
                assert!(e.to_string().contains("not a regular file"), "{e}");
            }
            other => panic!("{path}: {other:?}"),
        }
    }
}
