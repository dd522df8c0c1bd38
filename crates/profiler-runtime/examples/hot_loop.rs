use profiler_runtime::{profile, CountingAllocator, PerformanceProfiler};
use tracing_subscriber::layer::SubscriberExt;
#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();
#[profile]
#[inline(never)]
fn empty() {}
struct Noop;
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Noop {}
fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let n: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let reps = if std::env::args().nth(3).is_some() {
        1
    } else {
        7
    };
    let run = |f: &dyn Fn()| {
        let mut v = Vec::new();
        for _ in 0..reps {
            let t = std::time::Instant::now();
            f();
            v.push(t.elapsed().as_nanos() as f64 / n as f64);
        }
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ns = if mode == "noop" {
        tracing::subscriber::with_default(tracing_subscriber::registry().with(Noop), || {
            run(&|| {
                for _ in 0..n {
                    empty()
                }
            })
        })
    } else {
        let p = PerformanceProfiler::builder()
            .raw_capacity(1 << 16)
            .without_monitor()
            .build()
            .unwrap();
        p.in_scope(|| {
            run(&|| {
                for _ in 0..n {
                    empty()
                }
            })
        })
    };
    println!("{mode}: median {ns:.1} ns/call");
}
