//! Spans whose handles outlive the call, threads that come and go, panics in user code the
//! profiler calls, and the profiler's own API used inside a profiled span: every call is still
//! counted once, nothing is charged to the wrong span, and the profiler keeps working.

mod common;

use std::sync::mpsc;

use profiler_runtime::{profile, CountingAllocator, EventKind, PerformanceProfiler};
use tracing::Span;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

#[profile]
fn leaf(x: u64) -> u64 {
    x + 1
}

/// Hands a handle of its own span to `out`: the span outlives the call.
#[profile]
fn escapes(out: &mpsc::Sender<Span>) {
    out.send(Span::current()).expect("receiver alive");
    leaf(1);
}

#[profile]
fn parent_of_escaper(out: &mpsc::Sender<Span>) {
    escapes(out);
    leaf(2);
}

common::both_paths! {
    #[test]
    fn a_span_handle_dropped_on_another_thread_after_the_call_loses_no_event() {
        let p = common::profiler();
        let (tx, rx) = mpsc::channel::<Span>();
        let keeper = std::thread::spawn(move || rx.into_iter().collect::<Vec<Span>>());
        PATH.in_scope(&p, || {
            for _ in 0..100 {
                parent_of_escaper(&tx);
            }
            // After 100 escaped handles, this thread's spans still nest as they should.
            leaf(3);
        });
        drop(tx);
        // The handles close on the keeper thread, long after their calls returned.
        let handles = keeper.join().expect("keeper thread");
        assert_eq!(handles.len(), 100);
        drop(handles);

        let snap = p.snapshot();
        let escaped: Vec<_> = snap.events_named("escapes").collect();
        assert_eq!(escaped.len(), 100, "every escaped span is recorded, once");
        assert_eq!(snap.operation("escapes").map(|o| o.count), Some(100));
        let parents: Vec<_> = snap.events_named("parent_of_escaper").collect();
        assert_eq!(parents.len(), 100);
        for e in &escaped {
            assert!(e.end_ns >= e.start_ns);
            let parent = e.parent.expect("nested in parent_of_escaper");
            assert!(parents.iter().any(|p| p.id == parent));
        }
        // leaf(1) inside `escapes`, leaf(2) inside the parent, and the last leaf at the root.
        let leaves: Vec<_> = snap.events_named("leaf").collect();
        assert_eq!(leaves.len(), 201);
        let root_leaves = leaves.iter().filter(|e| e.parent.is_none()).count();
        assert_eq!(root_leaves, 1, "no stale span is left open as a parent");
        for l in leaves.iter().filter(|e| e.parent.is_some()) {
            let parent = l.parent.expect("checked");
            assert!(
                escaped.iter().any(|e| e.id == parent) || parents.iter().any(|p| p.id == parent),
                "each nested leaf has its caller as parent"
            );
        }
    }

    #[test]
    fn a_span_handle_entered_again_after_the_call_adds_nothing_and_breaks_nothing() {
        let p = common::profiler();
        let (tx, rx) = mpsc::channel::<Span>();
        PATH.in_scope(&p, || {
            escapes(&tx);
            let handle = rx.recv().expect("sent");
            // Entering the handle again (the call is over) records no second event for it.
            handle.in_scope(|| leaf(7));
            drop(handle);
            leaf(8);
        });
        let snap = p.snapshot();
        assert_eq!(snap.events_named("escapes").count(), 1);
        assert_eq!(snap.events_named("leaf").count(), 3);
        let last = snap
            .events_named("leaf")
            .max_by_key(|e| e.start_ns)
            .expect("three leaves");
        assert_eq!(last.parent, None);
    }

    #[test]
    fn threads_that_come_and_go_are_all_counted() {
        let p = common::profiler();
        for round in 0..40u64 {
            let p = p.clone();
            std::thread::spawn(move || {
                PATH.in_scope(&p, || {
                    for i in 0..25 {
                        leaf(round * 100 + i);
                    }
                })
            })
            .join()
            .expect("worker");
        }
        let snap = p.snapshot();
        assert_eq!(snap.operation("leaf").map(|o| o.count), Some(1000));
        assert_eq!(snap.events_named("leaf").count(), 1000);
        let mut threads: Vec<u64> = snap.events_named("leaf").map(|e| e.thread_id).collect();
        threads.sort_unstable();
        threads.dedup();
        assert_eq!(threads.len(), 40);
    }

    #[test]
    fn a_panic_in_a_metrics_iterator_does_not_silence_the_profiler() {
        let p = common::profiler();
        PATH.in_scope(&p, || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                p.record_event(
                    "bad",
                    EventKind::Computation,
                    (0..3).map(|i| {
                        assert!(i < 1, "user code fails half-way");
                        ("x", i as f64)
                    }),
                )
            }));
            assert!(r.is_err());
            p.record_event("good", EventKind::Computation, [("x", 1.0)]);
            leaf(1);
        });
        let snap = p.snapshot();
        assert_eq!(snap.events_named("good").count(), 1);
        assert_eq!(snap.events_named("leaf").count(), 1);
    }

    #[profile]
    fn uses_the_api(p: &PerformanceProfiler) -> usize {
        p.start_profiling("inner");
        p.record_event("marker", EventKind::Computation, [("n", 1.0)]);
        let (_, _) = p.profile_function("wrapped", || ());
        let s = p.stop_profiling("inner").expect("started above");
        let n = p.snapshot().events.len();
        let report = p.get_performance_report();
        n + s.events.len() + report.total_events as usize
    }

    #[test]
    fn the_profilers_own_work_inside_a_span_is_not_charged_to_it() {
        let p = common::profiler();
        PATH.in_scope(&p, || {
            for i in 0..2_000 {
                leaf(i);
            }
            uses_the_api(&p);
        });
        let snap = p.snapshot();
        let e = snap.events_named("uses_the_api").next().expect("recorded");
        let alloc = e.alloc.expect("the counting allocator is installed");
        assert_eq!(
            alloc.allocated_bytes, 0,
            "sessions, snapshots and reports of 2,000 events allocate on the profiler's account"
        );
        assert_eq!(snap.events_named("marker").count(), 1);
        assert_eq!(snap.events_named("wrapped").count(), 1);
    }
}
