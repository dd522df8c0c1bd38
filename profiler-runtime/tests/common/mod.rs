//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use profiler_runtime::PerformanceProfiler;

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
