//! The journal in one process: what it holds after flushes and after a normal stop, and what
//! recovery makes of a tail cut short or damaged.

use std::path::{Path, PathBuf};
use std::time::Duration;

use profiler_runtime::output::journal::recover;
use profiler_runtime::{metrics, profile, EventKind, PerformanceProfiler, Profile, ProfileError};

#[profile(kind = "computation")]
fn step(i: u64) {
    metrics!(i = i, energy_pj = 2.5);
}

#[profile]
fn outer(n: u64) {
    for i in 0..n {
        step(i);
    }
}

fn journaled(dir: &Path, capacity: usize) -> (PerformanceProfiler, PathBuf) {
    let path = dir.join("run.journal");
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .raw_capacity(capacity)
        .journal(&path)
        .journal_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    (p, path)
}

/// Total events, (operation, count, total ns), (event id, parent, wall ns).
type Essentials = (u64, Vec<(String, u64, u64)>, Vec<(u64, Option<u64>, u64)>);

/// Everything a snapshot says that a journal carries, for comparison.
fn essentials(p: &Profile) -> Essentials {
    let mut ops: Vec<(String, u64, u64)> = p
        .operations
        .iter()
        .map(|o| (o.name.to_string(), o.count, o.total_ns))
        .collect();
    ops.sort();
    let events = p
        .events
        .iter()
        .map(|e| (e.id, e.parent, e.end_ns - e.start_ns))
        .collect();
    (p.total_events(), ops, events)
}

#[test]
fn recovery_after_flushes_equals_the_snapshot_at_the_flush() {
    let dir = tempfile::tempdir().unwrap();
    let (p, path) = journaled(dir.path(), 1000);
    p.in_scope(|| {
        p.start_profiling("s");
        outer(300); // more than one staging chunk
        p.flush_journal();
        let snap = p.snapshot();
        let r = recover(&path).unwrap();
        assert_eq!(essentials(&r.profile), essentials(&snap));
        assert_eq!(r.profile.sessions, snap.sessions);
        assert!(!r.closed);
        // Staged events journaled once, also after they reach the ring.
        outer(700);
        p.record_event("tick", EventKind::HardwareAccess, [("energy_pj", f64::NAN)]);
        p.stop_profiling("s").unwrap();
        p.flush_journal();
        let snap = p.snapshot();
        let r = recover(&path).unwrap();
        assert_eq!(essentials(&r.profile), essentials(&snap));
        assert_eq!(r.profile.dropped_events, snap.dropped_events);
        assert_eq!(r.profile.sessions, snap.sessions);
        let tick = r
            .profile
            .events
            .iter()
            .find(|e| &*e.name == "tick")
            .unwrap();
        assert!(tick.metric("energy_pj").unwrap().is_nan());
    });
}

#[test]
fn a_normal_stop_flushes_everything_and_the_profile_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (p, path) = journaled(dir.path(), 100_000);
    p.in_scope(|| outer(1234));
    let snap = p.snapshot();
    assert_eq!(p.close_journal().unwrap(), Some(path.clone()));
    let r = recover(&path).unwrap();
    assert!(r.closed && r.tail.is_none(), "{}", r.summary());
    assert_eq!(essentials(&r.profile), essentials(&snap));
    let out = dir.path().join("recovered.json");
    r.profile.save(&out).unwrap();
    assert_eq!(Profile::load(&out).unwrap().total_events(), 1235);
    // Dropping the last handle closes too.
    let (p2, path2) = {
        let d = dir.path().join("b");
        std::fs::create_dir(&d).unwrap();
        journaled(&d, 10)
    };
    p2.in_scope(|| outer(5));
    drop(p2);
    assert!(recover(&path2).unwrap().closed);
}

#[test]
fn a_journal_never_overwrites_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    std::fs::write(&path, "a previous run's data").unwrap();
    let e = PerformanceProfiler::builder()
        .without_monitor()
        .journal(&path)
        .build()
        .unwrap_err();
    assert!(matches!(e, ProfileError::Refused { .. }), "{e:?}");
    assert!(
        e.to_string().contains("run.journal") && e.to_string().contains("recover"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "a previous run's data"
    );
}

/// A journal with two complete flushes; returns its bytes, where the second flush begins and
/// ends, and the events of the first.
fn two_flushes(dir: &Path) -> (Vec<u8>, usize, usize, u64) {
    let (p, path) = journaled(dir, 100_000);
    p.in_scope(|| outer(10));
    p.flush_journal();
    let first_len = std::fs::metadata(&path).unwrap().len() as usize;
    let first_count = recover(&path).unwrap().profile.total_events();
    p.in_scope(|| outer(20));
    p.flush_journal();
    let second_len = std::fs::metadata(&path).unwrap().len() as usize;
    drop(p);
    (
        std::fs::read(&path).unwrap(),
        first_len,
        second_len,
        first_count,
    )
}

#[test]
fn a_torn_tail_is_detected_and_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, first_len, second_len, first_count) = two_flushes(dir.path());
    let cut_path = dir.path().join("cut.journal");
    // Every cut inside the second flush's record leaves exactly the first flush.
    for cut in (first_len + 1)..second_len {
        std::fs::write(&cut_path, &bytes[..cut]).unwrap();
        let r = recover(&cut_path).unwrap();
        assert_eq!(r.profile.total_events(), first_count, "cut at {cut}");
        assert!(!r.closed);
        let tail = r.tail.expect("a torn tail is reported");
        assert!(tail.contains("cut short"), "{tail}");
    }
}

#[test]
fn a_damaged_record_is_detected_by_its_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let (mut bytes, first_len, _, first_count) = two_flushes(dir.path());
    // Flip one byte inside the second flush's payload (past its 8-byte header).
    bytes[first_len + 20] ^= 0x40;
    let path = dir.path().join("bad.journal");
    std::fs::write(&path, &bytes).unwrap();
    let r = recover(&path).unwrap();
    assert_eq!(r.profile.total_events(), first_count);
    assert!(r.tail.unwrap().contains("checksum"));
    // Not a journal at all: a typed error.
    std::fs::write(&path, b"{\"format_version\":1}").unwrap();
    assert!(matches!(recover(&path), Err(ProfileError::BadFile { .. })));
}

#[test]
fn a_flush_is_bounded_by_the_raw_capacity_plus_the_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let (p, path) = journaled(dir.path(), 1000);
    p.in_scope(|| outer(50_000));
    p.flush_journal();
    let r = recover(&path).unwrap();
    assert_eq!(r.profile.total_events(), 50_001);
    assert_eq!(r.profile.events.len(), 1000);
    // 50,001 events would take megabytes; the flush holds at most the raw buffer's capacity
    // (plus one staging chunk of 512) of them, and two operations' aggregates.
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 150_000, "{size} bytes for one flush");
}
