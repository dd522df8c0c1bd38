//! What `tracing` offers keeps working while the profiler records, under its own subscriber
//! (`install()`, `in_scope`) and under its layer over a registry alike: `Span::current()`,
//! `#[instrument]` functions and other crates' spans, `record()`, `follows_from`, events with
//! the metrics target, span handles cloned and dropped inside a call, a future that moves
//! between threads, panics through nested spans, and level checks.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

use profiler_runtime::contract::METRICS_TARGET;
use profiler_runtime::{metrics, profile, PerformanceProfiler, Profile};
use tracing::{Level, Span};

#[profile]
fn leaf(x: u64) -> u64 {
    x + 1
}

/// Returns the name and id `Span::current()` sees inside the call.
#[profile(kind = "computation")]
fn names_itself() -> (Option<&'static str>, bool) {
    let s = Span::current();
    (s.metadata().map(|m| m.name()), s.id().is_some())
}

/// Drops a clone of its own span mid-call, then calls a child: the span must still be open.
#[profile]
fn drops_a_clone() -> u64 {
    drop(Span::current());
    let kept = Span::current();
    let r = leaf(1);
    drop(kept);
    r + leaf(2)
}

#[tracing::instrument]
fn instrumented(n: u64) -> u64 {
    leaf(n)
}

#[profile]
fn inner_panics() {
    panic!("boom");
}

#[profile]
fn outer_panics() {
    inner_panics();
}

#[profile]
async fn moves_between_threads() -> u64 {
    metrics!(energy_pj = 1.0);
    common::yield_once().await;
    metrics!(energy_pj = 2.0);
    leaf(5)
}

fn one_event<'a>(p: &'a Profile, name: &'a str) -> &'a profiler_runtime::ProfileEvent {
    let mut it = p.events_named(name);
    let e = it.next().unwrap_or_else(|| panic!("no `{name}` event"));
    assert!(it.next().is_none(), "one `{name}` event");
    e
}

struct NoopWaker;
impl Wake for NoopWaker {
    fn wake(self: std::sync::Arc<Self>) {}
}

common::both_paths! {
    #[test]
    fn span_current_inside_a_profiled_call_is_that_call_and_none_outside() {
        let p = common::profiler();
        let (inside, outside) = PATH.in_scope(&p, || {
            let inside = names_itself();
            (inside, Span::current().is_none())
        });
        assert_eq!(inside, (Some("names_itself"), true));
        assert!(outside, "no span is current after the call");
        assert_eq!(p.snapshot().events_named("names_itself").count(), 1);
    }

    #[test]
    fn a_clone_of_the_current_span_dropped_mid_call_does_not_close_the_call() {
        let p = common::profiler();
        PATH.in_scope(&p, drops_a_clone);
        let snap = p.snapshot();
        let call = one_event(&snap, "drops_a_clone");
        let leaves: Vec<_> = snap.events_named("leaf").collect();
        assert_eq!(leaves.len(), 2);
        for l in leaves {
            assert_eq!(l.parent, Some(call.id), "both children nest in the open call");
        }
    }

    #[test]
    fn instrument_functions_and_hand_written_spans_are_recorded_with_record_and_parents() {
        let p = common::profiler();
        PATH.in_scope(&p, || {
            instrumented(3);
            let span = tracing::info_span!("hand_written", bytes = tracing::field::Empty);
            span.in_scope(|| leaf(4));
            span.record("bytes", 64u64);
            let other = tracing::debug_span!(target: "some_other_crate", "trace_level_work");
            other.follows_from(&span);
            other.in_scope(|| leaf(6));
            drop((span, other));
            // An ordinary event is ignored; one with the metrics target adds to the span.
            let s = tracing::info_span!("with_event");
            s.in_scope(|| {
                tracing::info!(answer = 42, "not for the profiler");
                tracing::info!(target: METRICS_TARGET, flops = 8u64);
            });
        });
        let snap = p.snapshot();
        let inst = one_event(&snap, "instrumented");
        let hand = one_event(&snap, "hand_written");
        let other = one_event(&snap, "trace_level_work");
        assert_eq!(hand.metrics.get("bytes"), Some(&64.0), "record() reaches the span");
        assert_eq!(other.parent, None, "follows_from is not a parent");
        let leaves: Vec<_> = snap.events_named("leaf").collect();
        assert_eq!(leaves.len(), 3);
        for (l, parent) in leaves.iter().zip([inst.id, hand.id, other.id]) {
            assert_eq!(l.parent, Some(parent));
        }
        let ev = one_event(&snap, "with_event");
        assert_eq!(ev.metrics.get("flops"), Some(&8.0));
        assert!(!ev.metrics.contains_key("answer"));
    }

    #[test]
    fn a_future_polled_on_two_threads_is_one_event_with_its_metrics() {
        let p = common::profiler();
        let (dispatch, mut fut) = PATH.in_scope(&p, || {
            let dispatch = tracing::dispatcher::get_default(|d| d.clone());
            let mut fut: Pin<Box<dyn Future<Output = u64> + Send>> =
                Box::pin(moves_between_threads());
            let waker = Waker::from(std::sync::Arc::new(NoopWaker));
            let mut cx = Context::from_waker(&waker);
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            (dispatch, fut)
        });
        let out = std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                let waker = Waker::from(std::sync::Arc::new(NoopWaker));
                let mut cx = Context::from_waker(&waker);
                match fut.as_mut().poll(&mut cx) {
                    Poll::Ready(v) => v,
                    Poll::Pending => panic!("ready on its second poll"),
                }
            })
        })
        .join()
        .expect("second thread");
        assert_eq!(out, 6);
        let snap = p.snapshot();
        let ev = one_event(&snap, "moves_between_threads");
        assert_eq!(ev.metrics.get("energy_pj"), Some(&3.0), "metrics from both threads");
        assert!(ev.busy_ns <= ev.end_ns - ev.start_ns);
        let l = one_event(&snap, "leaf");
        assert_eq!(l.parent, Some(ev.id), "the child on the second thread nests in it");
    }

    #[test]
    fn a_panic_through_nested_spans_marks_both_and_leaves_no_span_open() {
        let p = common::profiler();
        PATH.in_scope(&p, || {
            let hook = std::panic::take_hook();
            std::panic::set_hook(Box::new(|_| {}));
            let r = std::panic::catch_unwind(outer_panics);
            std::panic::set_hook(hook);
            assert!(r.is_err());
            assert!(Span::current().is_none(), "no span stays current after the unwind");
            leaf(1);
        });
        let snap = p.snapshot();
        let outer = one_event(&snap, "outer_panics");
        let inner = one_event(&snap, "inner_panics");
        assert!(outer.panicked && inner.panicked);
        assert_eq!(inner.parent, Some(outer.id));
        assert_eq!(one_event(&snap, "leaf").parent, None, "the next call is a root");
    }

    #[test]
    fn every_level_is_enabled_and_the_profiler_counts_as_attached() {
        let p: PerformanceProfiler = common::profiler();
        let enabled = PATH.in_scope(&p, || {
            p.start_profiling("run");
            leaf(1);
            tracing::span_enabled!(Level::TRACE)
        });
        assert!(enabled, "spans at every level reach the profiler");
        let run = p.stop_profiling("run").expect("running session");
        assert_eq!(run.events_count, 1);
        assert!(run.warnings.is_empty(), "{:?}", run.warnings);
    }
}
