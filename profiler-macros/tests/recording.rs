//! What the profiler records for the macro's options, run under the profiler alone: every kind
//! arrives as itself, `skip_fn` leaves a method out, `profile_scope!` is one event of its kind
//! under the right parent and ends with its block, `alloc = "process"` spans are recorded.
//!
//! Every test runs its profiled code under its own subscriber, and no two tests share a
//! profiled function.

use profiler_macros::profile_scope;
use profiler_runtime::{profile, EventKind, PerformanceProfiler, Profile, ProfileEvent};

fn profiled(f: impl FnOnce()) -> Profile {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .expect("a valid configuration");
    tracing::subscriber::with_default(p.subscriber(), f);
    p.snapshot()
}

/// The one event named `name` (fails, listing what there is, otherwise).
fn only<'a>(p: &'a Profile, name: &'a str) -> &'a ProfileEvent {
    let evs: Vec<_> = p.events_named(name).collect();
    let all: Vec<_> = p.events.iter().map(|e| &*e.name).collect();
    assert_eq!(evs.len(), 1, "events named {name}; have {all:?}");
    evs[0]
}

// ---- kinds --------------------------------------------------------------------------------

#[profile]
fn kind_default() {}
#[profile(kind = "function_call")]
fn kind_function_call() {}
#[profile(kind = "memory_usage")]
fn kind_memory_usage() {}
#[profile(kind = computation)]
fn kind_computation() {}
#[profile(kind = "io_operation")]
fn kind_io_operation() {}
#[profile(kind = "hardware_access")]
fn kind_hardware_access() {}
#[profile(kind = "algorithm_step")]
async fn kind_algorithm_step() {}

#[test]
fn every_kind_is_recorded_as_itself() {
    let snap = profiled(|| {
        kind_default();
        kind_function_call();
        kind_memory_usage();
        kind_computation();
        kind_io_operation();
        kind_hardware_access();
        block_on(kind_algorithm_step());
    });
    let expected = [
        ("kind_default", EventKind::FunctionCall),
        ("kind_function_call", EventKind::FunctionCall),
        ("kind_memory_usage", EventKind::MemoryUsage),
        ("kind_computation", EventKind::Computation),
        ("kind_io_operation", EventKind::IoOperation),
        ("kind_hardware_access", EventKind::HardwareAccess),
        ("kind_algorithm_step", EventKind::AlgorithmStep),
    ];
    for (name, kind) in expected {
        assert_eq!(only(&snap, name).kind, kind, "{name}");
    }
}

// ---- skip_fn ------------------------------------------------------------------------------

#[derive(Default)]
struct Tile {
    cells: Vec<f64>,
}

#[profile(kind = "hardware_access")]
impl Tile {
    fn write(&mut self, v: f64) {
        self.cells.push(v);
    }

    #[profile(skip_fn)]
    fn len(&self) -> usize {
        self.cells.len()
    }

    #[profile(kind = "computation")]
    fn sum(&self) -> f64 {
        self.cells.iter().sum()
    }
}

#[test]
fn skip_fn_leaves_one_method_of_a_profiled_impl_out() {
    let snap = profiled(|| {
        let mut t = Tile::default();
        t.write(1.0);
        t.write(2.0);
        assert_eq!(t.len(), 2);
        assert_eq!(t.sum(), 3.0);
    });
    assert_eq!(snap.events_named("Tile::write").count(), 2);
    assert_eq!(only(&snap, "Tile::sum").kind, EventKind::Computation);
    let names: Vec<_> = snap.events.iter().map(|e| &*e.name).collect();
    assert!(
        !names.iter().any(|n| n.contains("len")),
        "the skipped method has no event: {names:?}"
    );
    assert_eq!(snap.events.len(), 3, "{names:?}");
}

// ---- profile_scope! -------------------------------------------------------------------------

#[profile(kind = "computation")]
fn scope_after_block() {}

#[profile(name = "scope_outer")]
fn scope_outer(n: u64) -> u64 {
    let partial = {
        profile_scope!("scope.factorise", kind = "algorithm_step", fields(n = n));
        (0..n).sum::<u64>()
    };
    // The scope ended with its block: this call is the function's child, not the scope's.
    scope_after_block();
    partial
}

fn scope_unprofiled_caller() -> u32 {
    profile_scope!("scope.alone");
    7
}

#[test]
fn profile_scope_is_one_event_of_its_kind_under_the_enclosing_span() {
    let snap = profiled(|| {
        assert_eq!(scope_outer(4), 6);
        assert_eq!(scope_unprofiled_caller(), 7);
    });
    let outer = only(&snap, "scope_outer");
    let scope = only(&snap, "scope.factorise");
    assert_eq!(scope.kind, EventKind::AlgorithmStep);
    assert_eq!(
        scope.parent,
        Some(outer.id),
        "the function's span is its parent"
    );
    assert_eq!(scope.metric("n"), Some(4.0), "fields(..) as in #[profile]");
    let after = only(&snap, "scope_after_block");
    assert_eq!(
        after.parent,
        Some(outer.id),
        "the scope ended with its block"
    );
    let alone = only(&snap, "scope.alone");
    assert_eq!(alone.kind, EventKind::FunctionCall, "the default kind");
    assert_eq!(alone.parent, None);
}

// ---- alloc = "process" --------------------------------------------------------------------

#[profile(kind = "computation", alloc = "process")]
fn alloc_on_workers(n: usize) -> usize {
    std::thread::scope(|s| {
        let a = s.spawn(|| vec![1_u8; n].len());
        let b = s.spawn(|| vec![2_u8; n].len());
        a.join().unwrap_or(0) + b.join().unwrap_or(0)
    })
}

#[test]
fn a_process_alloc_span_is_recorded_with_its_kind_and_arguments() {
    let snap = profiled(|| assert_eq!(alloc_on_workers(1024), 2048));
    let e = only(&snap, "alloc_on_workers");
    assert_eq!(e.kind, EventKind::Computation);
    // `n` is a reserved key: the argument is recorded as `arg.n`.
    assert_eq!(
        e.metric("arg.n"),
        Some(1024.0),
        "the marker is not an argument"
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
