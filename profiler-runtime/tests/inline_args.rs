//! Numeric arguments of a `#[profile]` function: the first ones are read into inline slots
//! beside the event (the cheap path of issue 20), the others into the generic metric map. Every
//! one lands in the event's metrics and the operation's aggregates under the same key, with the
//! same value, as the generic path gives it: its own name, or `arg.<name>` for a reserved one.

mod common;

use profiler_runtime::{metrics, profile, Profile, ProfileEvent};

/// The one event named `name` in `p`.
fn only<'a>(p: &'a Profile, name: &'a str) -> &'a ProfileEvent {
    let evs: Vec<_> = p.events_named(name).collect();
    assert_eq!(evs.len(), 1, "events named {name}");
    evs[0]
}

#[profile]
fn unsigned(a: u8, b: u16) {
    std::hint::black_box((a, b));
}

#[profile]
fn unsigned_wide(c: u32, d: u64) {
    std::hint::black_box((c, d));
}

#[profile]
fn unsigned_huge(e: u128, f: usize) {
    std::hint::black_box((e, f));
}

#[profile]
fn signed(a: i8, b: i16) {
    std::hint::black_box((a, b));
}

#[profile]
fn signed_wide(c: i32, d: i64) {
    std::hint::black_box((c, d));
}

#[profile]
fn signed_huge(e: i128, f: isize) {
    std::hint::black_box((e, f));
}

#[profile]
fn floats(x: f32, y: f64) {
    std::hint::black_box((x, y));
}

#[profile]
fn flags(on: bool, by_ref: &u64) {
    std::hint::black_box((on, by_ref));
}

#[profile]
fn not_a_number(x: f64) {
    std::hint::black_box(x);
}

/// Reserved names (`n`, `tile`) in and beyond the inline slots, five arguments in all.
#[profile]
fn many(n: u32, a: u8, tile: u16, b: f32, c: bool) {
    std::hint::black_box((n, a, tile, b, c));
}

/// An argument recorded again later, and a `metrics!` value under another argument's key: each
/// adds up with the argument, as one key of one event.
#[profile]
fn repeated(x: u64, y: u64) {
    tracing::Span::current().record("x", 5u64);
    metrics!(y = 0.5);
}

/// A skipped argument and an unused one are not recorded; the one after them is.
#[profile(skip(a))]
fn skipping(a: u64, _b: u64, c: u64) {
    std::hint::black_box((a, c));
}

#[profile]
async fn later(k: u32, m: f64) -> f64 {
    common::yield_once().await;
    f64::from(k) + m
}

#[profile]
fn counted(i: u64) {
    std::hint::black_box(i);
}

#[profile]
fn counted_sparse(i: u64) {
    std::hint::black_box(i);
}

#[profile]
fn no_args() {}

/// Recursion: every call stages its argument between its span's creation and its enter, with
/// the caller's span entered around it.
#[profile]
fn countdown(depth: u32, scale: f64) -> u32 {
    if depth == 0 {
        return 0;
    }
    unsigned(depth as u8, 1);
    countdown(depth - 1, scale * 2.0) + 1
}

/// Inline arguments beside a `fields(..)` number (read from the span's fields) and a
/// non-numeric argument.
#[profile(fields(extra = 2.5))]
fn with_fields(name: &str, x: u16) {
    std::hint::black_box((name, x));
}

fn metrics_of<'a>(p: &'a Profile, name: &'a str) -> Vec<(String, f64)> {
    only(p, name)
        .metrics
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// A layer that keeps every `u64` field of every new span, as another layer beside the
/// profiler's sees them.
#[derive(Clone, Default)]
struct FieldsSeen(std::sync::Arc<std::sync::Mutex<Vec<(String, u64)>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for FieldsSeen {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct V<'a>(&'a mut Vec<(String, u64)>);
        impl tracing::field::Visit for V<'_> {
            fn record_u64(&mut self, f: &tracing::field::Field, v: u64) {
                self.0.push((f.name().to_string(), v));
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        attrs.record(&mut V(&mut self.0.lock().unwrap()));
    }
}

fn pairs(v: &[(&str, f64)]) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = v.iter().map(|(k, x)| (k.to_string(), *x)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

common::both_paths! {
    #[test]
    fn every_primitive_type_lands_in_the_metrics_under_its_name() {
        let p = common::profiler();
        PATH.in_scope(&p, || {
            unsigned(u8::MAX, 7);
            unsigned_wide(u32::MAX, u64::MAX);
            unsigned_huge(u128::MAX, 9);
            signed(i8::MIN, -7);
            signed_wide(i32::MIN, i64::MIN);
            signed_huge(i128::MIN, -9);
            floats(1.5, -2.25);
            flags(true, &11);
            flags(false, &12);
        });
        let s = p.snapshot();
        assert_eq!(metrics_of(&s, "unsigned"), pairs(&[("a", 255.0), ("b", 7.0)]));
        assert_eq!(
            metrics_of(&s, "unsigned_wide"),
            pairs(&[("c", f64::from(u32::MAX)), ("d", u64::MAX as f64)])
        );
        assert_eq!(
            metrics_of(&s, "unsigned_huge"),
            pairs(&[("e", u128::MAX as f64), ("f", 9.0)])
        );
        assert_eq!(metrics_of(&s, "signed"), pairs(&[("a", -128.0), ("b", -7.0)]));
        assert_eq!(
            metrics_of(&s, "signed_wide"),
            pairs(&[("c", f64::from(i32::MIN)), ("d", i64::MIN as f64)])
        );
        assert_eq!(
            metrics_of(&s, "signed_huge"),
            pairs(&[("e", i128::MIN as f64), ("f", -9.0)])
        );
        assert_eq!(metrics_of(&s, "floats"), pairs(&[("x", 1.5), ("y", -2.25)]));
        let flag_events: Vec<_> = s.events_named("flags").collect();
        assert_eq!(flag_events.len(), 2);
        assert_eq!(flag_events[0].metric("on"), Some(1.0));
        assert_eq!(flag_events[0].metric("by_ref"), Some(11.0));
        assert_eq!(flag_events[1].metric("on"), Some(0.0));
        // The aggregates see the same values.
        let op = s.operation("unsigned_huge").expect("aggregated");
        assert_eq!(op.metrics.get("e").map(|m| (m.sum, m.count)), Some((u128::MAX as f64, 1)));
        let op = s.operation("flags").expect("aggregated");
        assert_eq!(op.metrics.get("on").map(|m| (m.sum, m.count)), Some((1.0, 2)));
        assert_eq!(op.metrics.get("by_ref").map(|m| m.sum), Some(23.0));
    }

    #[test]
    fn a_nan_argument_is_kept_as_nan_and_counted_as_non_finite() {
        let p = common::profiler();
        PATH.in_scope(&p, || not_a_number(f64::NAN));
        let s = p.snapshot();
        assert!(only(&s, "not_a_number").metric("x").is_some_and(f64::is_nan));
        let op = s.operation("not_a_number").expect("aggregated");
        let m = op.metrics.get("x").expect("the metric");
        assert_eq!((m.count, m.non_finite), (0, 1));
    }

    #[test]
    fn more_arguments_than_inline_slots_are_all_recorded_reserved_names_as_arg_keys() {
        let p = common::profiler();
        PATH.in_scope(&p, || many(3, 4, 5, 0.5, true));
        let s = p.snapshot();
        assert_eq!(
            metrics_of(&s, "many"),
            pairs(&[("arg.n", 3.0), ("a", 4.0), ("arg.tile", 5.0), ("b", 0.5), ("c", 1.0)])
        );
        let e = only(&s, "many");
        assert_eq!(e.metric("n"), None, "a reserved name is not reported as itself");
        assert!(e.args_recorded);
        let op = s.operation("many").expect("aggregated");
        for key in ["arg.n", "a", "arg.tile", "b", "c"] {
            assert_eq!(op.metrics.get(key).map(|m| m.count), Some(1), "{key}");
        }
    }

    #[test]
    fn an_argument_given_again_adds_up_as_one_key() {
        let p = common::profiler();
        PATH.in_scope(&p, || repeated(2, 3));
        let s = p.snapshot();
        assert_eq!(metrics_of(&s, "repeated"), pairs(&[("x", 7.0), ("y", 3.5)]));
        let op = s.operation("repeated").expect("aggregated");
        let x = op.metrics.get("x").expect("x");
        assert_eq!((x.sum, x.count), (7.0, 1), "one event, one observation");
    }

    #[test]
    fn skipped_and_unused_arguments_are_left_out() {
        let p = common::profiler();
        PATH.in_scope(&p, || skipping(1, 2, 3));
        let s = p.snapshot();
        assert_eq!(metrics_of(&s, "skipping"), pairs(&[("c", 3.0)]));
        assert!(!only(&s, "skipping").args_recorded);
    }

    #[test]
    fn an_async_function_records_its_arguments() {
        let p = common::profiler();
        let r = PATH.in_scope(&p, || common::block_on(later(2, 0.5)));
        assert_eq!(r, 2.5);
        let s = p.snapshot();
        assert_eq!(metrics_of(&s, "later"), pairs(&[("arg.k", 2.0), ("m", 0.5)]));
    }

    #[test]
    fn many_calls_keep_every_argument_in_events_and_aggregates() {
        // Enough calls for several flushes of a thread's stage, with many argument records per
        // stage (they move whole) and with few (they are copied out), and a snapshot taken while
        // some are still staged.
        let p = common::profiler();
        let n = 5_000u64;
        PATH.in_scope(&p, || {
            for i in 0..n {
                counted(i);
                if i % 100 == 0 {
                    counted_sparse(i);
                }
                no_args();
            }
        });
        let s = p.snapshot();
        let op = s.operation("counted").expect("aggregated");
        let m = op.metrics.get("i").expect("the argument");
        assert_eq!((m.count, m.sum), (n, (n * (n - 1) / 2) as f64));
        let sparse = s.operation("counted_sparse").expect("aggregated");
        let m = sparse.metrics.get("i").expect("the argument");
        assert_eq!(m.count, n / 100);
        assert_eq!(m.sum, (0..n).step_by(100).sum::<u64>() as f64);
        assert!(s.operation("no_args").expect("aggregated").metrics.is_empty());
        let mut seen: Vec<u64> = s
            .events_named("counted")
            .map(|e| e.metric("i").expect("every event has its argument") as u64)
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        for e in s.events_named("no_args") {
            assert!(e.metrics.is_empty());
        }
    }

    #[test]
    fn recursive_and_nested_calls_keep_their_own_arguments() {
        let p = common::profiler();
        PATH.in_scope(&p, || countdown(4, 1.0));
        let s = p.snapshot();
        let mut by_depth: Vec<(f64, f64)> = s
            .events_named("countdown")
            .map(|e| (e.metric("depth").unwrap(), e.metric("scale").unwrap()))
            .collect();
        by_depth.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(
            by_depth,
            vec![(0.0, 16.0), (1.0, 8.0), (2.0, 4.0), (3.0, 2.0), (4.0, 1.0)]
        );
        let mut inner: Vec<f64> = s.events_named("unsigned").map(|e| e.metric("a").unwrap()).collect();
        inner.sort_by(f64::total_cmp);
        assert_eq!(inner, vec![1.0, 2.0, 3.0, 4.0]);
        for e in s.events_named("unsigned") {
            assert_eq!(e.metric("b"), Some(1.0));
        }
    }

    #[test]
    fn inline_arguments_sit_beside_fields_read_from_the_span() {
        let p = common::profiler();
        PATH.in_scope(&p, || with_fields("n/a", 9));
        let s = p.snapshot();
        assert_eq!(metrics_of(&s, "with_fields"), pairs(&[("extra", 2.5), ("x", 9.0)]));
    }

    #[test]
    fn values_staged_under_another_subscriber_never_reach_a_profile() {
        // The same functions first run under a subscriber that is not the profiler (its span
        // ids start at 1, as a fresh registry's under the profiler's layer do), then profiled:
        // each event has exactly its own call's arguments.
        let other = tracing_subscriber::registry().with(FieldsSeen::default());
        tracing::subscriber::with_default(other, || {
            counted(1_000);
            unsigned(200, 300);
        });
        let p = common::profiler();
        PATH.in_scope(&p, || {
            no_args();
            counted(5);
            unsigned(6, 7);
        });
        let s = p.snapshot();
        assert_eq!(metrics_of(&s, "counted"), pairs(&[("i", 5.0)]));
        assert_eq!(metrics_of(&s, "unsigned"), pairs(&[("a", 6.0), ("b", 7.0)]));
        assert!(metrics_of(&s, "no_args").is_empty());
    }
}

use tracing_subscriber::layer::SubscriberExt as _;

#[test]
fn other_layers_still_see_the_arguments_as_fields() {
    let p = common::profiler();
    let seen = FieldsSeen::default();
    let q = common::profiler();
    let sub = tracing_subscriber::registry()
        .with(p.layer())
        .with(seen.clone())
        .with(q.layer());
    tracing::subscriber::with_default(sub, || {
        unsigned_wide(3, 4);
        with_fields("x", 11);
    });
    let fields = seen.0.lock().unwrap().clone();
    assert!(fields.contains(&("c".to_string(), 3)), "{fields:?}");
    assert!(fields.contains(&("d".to_string(), 4)), "{fields:?}");
    assert!(fields.contains(&("x".to_string(), 11)), "{fields:?}");
    // Two profilers in one registry: both take the staged values.
    for prof in [&p, &q] {
        let s = prof.snapshot();
        assert_eq!(
            metrics_of(&s, "unsigned_wide"),
            pairs(&[("c", 3.0), ("d", 4.0)])
        );
        assert_eq!(
            metrics_of(&s, "with_fields"),
            pairs(&[("extra", 2.5), ("x", 11.0)])
        );
    }
}
