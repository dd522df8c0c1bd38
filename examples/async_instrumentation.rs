//! Async instrumentation: `#[profile]` on an `async fn` times the future from its first poll to
//! its completion (wall time), and separately the time it actually ran (`busy_ns`). While the
//! future waits, it is not busy, so `busy < wall`.
//!
//! No async runtime is needed: a ten-line `block_on` built on `std::task::Wake` drives the
//! futures, and a timer future is completed by a helper thread. Any executor (tokio,
//! async-std, smol) works the same way.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example async_instrumentation
//! ```

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use rram_profiler::{metrics, profile, EventKind, PerformanceProfiler};

/// The smallest executor: poll, and park the thread until the waker unparks it.
fn block_on<F: Future>(future: F) -> F::Output {
    struct ThreadWaker(Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => thread::park(),
        }
    }
}

/// A timer: pending until a helper thread marks it done after `delay` and wakes the task.
struct Sleep {
    delay: Duration,
    state: Arc<Mutex<(bool, Option<Waker>)>>,
}

fn sleep(delay: Duration) -> Sleep {
    Sleep {
        delay,
        state: Arc::new(Mutex::new((false, None))),
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock().expect("timer state");
        if state.0 {
            return Poll::Ready(());
        }
        if state.1.replace(cx.waker().clone()).is_none() {
            // First poll: start the timer thread.
            let (shared, delay) = (Arc::clone(&self.state), self.delay);
            thread::spawn(move || {
                thread::sleep(delay);
                let mut state = shared.lock().expect("timer state");
                state.0 = true;
                if let Some(waker) = state.1.take() {
                    waker.wake();
                }
            });
        }
        Poll::Pending
    }
}

/// Waits for the (simulated) device, then does a little work on the data.
#[profile(kind = "io_operation", fields(tile = tile))]
async fn read_tile(tile: usize) -> u64 {
    sleep(Duration::from_millis(15)).await;
    let checksum = (0..10_000u64).map(|i| i ^ tile as u64).sum();
    metrics!(bytes = 4096);
    checksum
}

#[profile(kind = "computation")]
async fn read_all(tiles: usize) -> u64 {
    let mut total = 0;
    for tile in 0..tiles {
        total += read_tile(tile).await;
    }
    total
}

fn main() {
    let profiler = PerformanceProfiler::new();
    let total = profiler.in_scope(|| block_on(read_all(3)));
    println!("checksum {total}");

    let profile = profiler.snapshot();
    for e in profile
        .events
        .iter()
        .filter(|e| e.kind == EventKind::IoOperation)
    {
        let busy = Duration::from_nanos(e.busy_ns);
        println!(
            "{} tile={}: wall {:>9.3?}, busy {:>9.3?}",
            e.name,
            e.metric("tile").unwrap_or(f64::NAN),
            e.duration(),
            busy
        );
        // The 15 ms wait counts in the wall time but not in the busy time.
        assert!(busy < e.duration());
    }
    let outer = profile
        .events_named("read_all")
        .next()
        .expect("read_all was profiled");
    println!(
        "read_all: wall {:.3?}, busy {:.3?}: busy < wall for every async span",
        outer.duration(),
        Duration::from_nanos(outer.busy_ns)
    );
    assert_eq!(profile.total_events(), 4);
}
