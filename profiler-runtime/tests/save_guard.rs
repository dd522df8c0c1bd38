//! `save_on_drop`: the profile is written when the guard goes, however the scope ends.

use profiler_runtime::{profile, Profile};

mod common;

#[profile]
fn before_the_panic(k: u64) -> u64 {
    k + 1
}

#[test]
fn save_on_drop_writes_the_profile_while_a_panic_unwinds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crashed.json");
    let p = common::profiler();
    let (p2, path2) = (p.clone(), path.clone());
    let outcome = std::thread::spawn(move || {
        let _guard = p2.save_on_drop(&path2);
        p2.in_scope(|| {
            before_the_panic(1);
            before_the_panic(2);
        });
        panic!("the profiled program fails");
    })
    .join();
    assert!(outcome.is_err(), "the thread panicked");
    let saved = Profile::load(&path).unwrap();
    assert_eq!(saved.operation("before_the_panic").unwrap().count, 2);
    // A guard saved by hand is disarmed, and a failure comes back as a value.
    let g = p.save_on_drop(dir.path());
    assert!(
        g.save_now().is_err(),
        "a directory is not a file to write over"
    );
}
