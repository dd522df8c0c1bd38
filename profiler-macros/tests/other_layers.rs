//! `#[profile]` beside other layers and filters: `fmt` prints arguments with their own types
//! (as it does for `#[instrument]`), the `ret`/`err` log events carry the function's own target,
//! and a filter that drops those log events drops nothing from the profile.
//!
//! A test binary of its own: `tracing` caches each callsite's interest process-wide, so the
//! filtered subscribers here are kept away from other test files' callsites. Every test runs
//! its profiled code under its own subscriber, and no two tests share a profiled function.

use std::io::Write;
use std::sync::{Arc, Mutex};

use profiler_runtime::{profile, PerformanceProfiler, Profile, ProfileEvent};
use tracing_subscriber::fmt::format::{DefaultFields, Format, Full};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{filter, fmt, EnvFilter, Layer as _};

fn profiler() -> PerformanceProfiler {
    PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .expect("a valid configuration")
}

/// The one event named `name` (fails, listing what there is, otherwise).
fn only<'a>(p: &'a Profile, name: &'a str) -> &'a ProfileEvent {
    let evs: Vec<_> = p.events_named(name).collect();
    let all: Vec<_> = p.events.iter().map(|e| &*e.name).collect();
    assert_eq!(evs.len(), 1, "events named {name}; have {all:?}");
    evs[0]
}

/// `fmt`'s output, captured.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A plain `fmt` layer (no time, no colours) writing into `out`.
fn fmt_into<S>(out: &Captured) -> fmt::Layer<S, DefaultFields, Format<Full, ()>, Captured>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fmt::layer()
        .with_writer(out.clone())
        .with_ansi(false)
        .without_time()
}

#[derive(Debug)]
struct TileError(u32);

impl std::fmt::Display for TileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tile {} failed", self.0)
    }
}

// ---- fmt sees arguments as their own types --------------------------------------------------

#[profile(ret)]
fn mvm(n: usize) -> usize {
    n * 2
}

#[profile(ret)]
fn check(ok: bool) -> bool {
    !ok
}

#[profile(ret(Display))]
fn wide(big: u128, neg: i128, x: f32, r: &mut u64, k: &i8) -> i64 {
    *r += 1;
    i64::from(*k) - 1
}

#[test]
fn fmt_prints_integers_and_bools_as_instrument_does() {
    let out = Captured::default();
    let p = profiler();
    let subscriber = tracing_subscriber::registry()
        .with(p.layer())
        .with(fmt_into(&out));
    let mut r = 3_u64;
    tracing::subscriber::with_default(subscriber, || {
        assert_eq!(mvm(8), 16);
        assert!(check(false));
        assert_eq!(wide(u128::MAX, -5, 1.5, &mut r, &2), 1);
    });
    let text = out.text();
    // The ret events: the function's own target, the span's fields as written.
    assert!(text.contains("mvm{n=8}: other_layers: return=16"), "{text}");
    assert!(
        text.contains("check{ok=false}: other_layers: return=true"),
        "{text}"
    );
    let wide_span = format!("wide{{big={} neg=-5 x=1.5 r=3 k=2}}", u128::MAX);
    assert!(text.contains(&wide_span), "{text}");
    assert!(text.contains("return=1"), "{text}");
    assert!(
        !text.contains("profile"),
        "no marker field or reserved target: {text}"
    );
    // The profiler still sees every number and bool as a metric (an argument named like a
    // reserved key, here `n`, as `arg.n`: it is not a problem size unless reported as one).
    let snap = p.snapshot();
    let e = only(&snap, "mvm");
    assert_eq!(
        (e.metric("arg.n"), e.metric("n"), e.metric("return")),
        (Some(8.0), None, Some(16.0))
    );
    let e = only(&snap, "check");
    assert_eq!((e.metric("ok"), e.metric("return")), (Some(0.0), Some(1.0)));
    let e = only(&snap, "wide");
    assert_eq!(e.metric("neg"), Some(-5.0));
    assert_eq!(e.metric("x"), Some(1.5));
    assert_eq!(e.metric("r"), Some(3.0));
    assert_eq!(e.metric("return"), Some(1.0));
}

// ---- filters that drop the log events drop nothing from the profile -----------------------

#[profile(err)]
fn fallible_under_fmt_filter(code: u32) -> Result<u32, TileError> {
    if code > 0 {
        return Err(TileError(code));
    }
    Ok(code)
}

#[test]
fn err_is_recorded_when_a_per_layer_filter_disables_the_error_event() {
    let out = Captured::default();
    let p = profiler();
    // `fmt` only logs a crate called `mycrate`: this function's error event is disabled there,
    // and nothing else wants it.
    let subscriber = tracing_subscriber::registry()
        .with(p.layer())
        .with(fmt_into(&out).with_filter(EnvFilter::new("mycrate=debug")));
    tracing::subscriber::with_default(subscriber, || {
        assert!(fallible_under_fmt_filter(0).is_ok());
        assert_eq!(fallible_under_fmt_filter(4).unwrap_err().0, 4);
    });
    assert!(out.text().is_empty(), "fmt logged nothing: {}", out.text());
    let snap = p.snapshot();
    let errors: Vec<_> = snap
        .events_named("fallible_under_fmt_filter")
        .map(|e| e.error.as_deref())
        .collect();
    assert_eq!(errors, vec![None, Some("tile 4 failed")]);
    assert_eq!(
        snap.operation("fallible_under_fmt_filter").unwrap().errors,
        1
    );
}

#[profile(err(Debug), ret)]
fn fallible_under_global_filter(code: u32) -> Result<f64, TileError> {
    if code > 0 {
        return Err(TileError(code));
    }
    Ok(0.25)
}

#[profile(ret, err)]
async fn async_fallible_under_global_filter(code: u32) -> Result<u8, TileError> {
    let code = std::future::ready(code).await;
    if code > 0 {
        return Err(TileError(code));
    }
    Ok(9)
}

#[test]
fn err_and_ret_are_recorded_when_a_global_filter_disables_every_event() {
    let p = profiler();
    let subscriber = tracing_subscriber::registry()
        .with(filter::filter_fn(|meta| meta.is_span()))
        .with(p.layer());
    tracing::subscriber::with_default(subscriber, || {
        assert_eq!(fallible_under_global_filter(0).ok(), Some(0.25));
        assert!(fallible_under_global_filter(2).is_err());
        assert_eq!(
            block_on(async_fallible_under_global_filter(0)).ok(),
            Some(9)
        );
        assert!(block_on(async_fallible_under_global_filter(3)).is_err());
    });
    let snap = p.snapshot();
    let sync: Vec<_> = snap
        .events_named("fallible_under_global_filter")
        .map(|e| (e.error.as_deref(), e.metric("return")))
        .collect();
    assert_eq!(sync, vec![(None, Some(0.25)), (Some("TileError(2)"), None)]);
    let asynchronous: Vec<_> = snap
        .events_named("async_fallible_under_global_filter")
        .map(|e| (e.error.as_deref(), e.metric("return")))
        .collect();
    assert_eq!(
        asynchronous,
        vec![(None, Some(9.0)), (Some("tile 3 failed"), None)]
    );
}

/// Polls `f` to completion on this thread (the futures here never wait).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
