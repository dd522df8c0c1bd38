//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use profiler_runtime::PerformanceProfiler;

/// The two ways a profiler records: its own subscriber (`install()`, `in_scope`) and its layer
/// over tracing-subscriber's registry (the composable path). Behaviour tests run under both
/// ([`both_paths!`]), so the two cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// The profiler's own subscriber, as `install()` sets it.
    Installed,
    /// `registry().with(profiler.layer())`.
    Layer,
}

impl Path {
    /// Runs `f` with `p` recording on this path, as the calling thread's default subscriber.
    pub fn in_scope<R>(self, p: &PerformanceProfiler, f: impl FnOnce() -> R) -> R {
        match self {
            Path::Installed => p.in_scope(f),
            Path::Layer => tracing::subscriber::with_default(p.subscriber(), f),
        }
    }
}

/// Generates the items given once per [`Path`]: in a module `installed` and a module `layer`,
/// each with a `PATH` constant (and the parent's items in scope), so every test runs, and is
/// reported, under both paths.
#[allow(unused_macros)]
macro_rules! both_paths {
    ($($body:tt)*) => {
        mod installed {
            #[allow(unused_imports)]
            use super::*;
            #[allow(dead_code)]
            const PATH: common::Path = common::Path::Installed;
            $($body)*
        }
        mod layer {
            #[allow(unused_imports)]
            use super::*;
            #[allow(dead_code)]
            const PATH: common::Path = common::Path::Layer;
            $($body)*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use both_paths;

/// A profiler without the monitor thread (tests do not need samples unless they say so).
pub fn profiler() -> PerformanceProfiler {
    PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .expect("valid config")
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal executor: polls `fut` on this thread, parking between wake-ups.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// Polls `fut` on this thread; each time it is pending, sleeps `pause` (outside any poll, so
/// no span of the future is entered meanwhile) and polls again. With [`yield_once`] inside,
/// the future's timeline is deterministic: every pending gap lasts at least `pause`, however
/// loaded the machine is.
pub fn block_on_pausing<F: Future>(fut: F, pause: std::time::Duration) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::sleep(pause),
        }
    }
}

/// A future that is pending exactly once (waking itself at once), then ready.
pub fn yield_once() -> YieldOnce {
    YieldOnce(false)
}

/// See [`yield_once`].
pub struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A future that is pending once and is woken by a timer thread after `ms` milliseconds.
pub struct Sleep {
    ms: u64,
    started: bool,
    done: Arc<std::sync::atomic::AtomicBool>,
}

pub fn sleep_ms(ms: u64) -> Sleep {
    Sleep {
        ms,
        started: false,
        done: Arc::new(std::sync::atomic::AtomicBool::new(false)),
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        use std::sync::atomic::Ordering;
        if self.done.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if !self.started {
            self.started = true;
            let waker = cx.waker().clone();
            let done = self.done.clone();
            let ms = self.ms;
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                done.store(true, Ordering::Release);
                waker.wake();
            });
        }
        Poll::Pending
    }
}
