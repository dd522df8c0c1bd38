//! The options beyond the function shapes, compiled under `#![deny(warnings)]`: `crate = ".."`,
//! `alloc`, `skip_fn` and `profile_scope!`. Also compiled (and run) as a module of
//! `profiler-macros/tests/shapes_compile.rs`, so clippy sees it too.
#![deny(warnings)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use profiler_macros::profile_scope;
use profiler_runtime::profile;

/// A crate that reaches the runtime under another name.
mod reexports {
    pub use profiler_runtime as rt;
}

#[profile(crate = "self::reexports::rt", kind = "computation")]
fn through_a_reexport(n: u32) -> u32 {
    n + 1
}

#[profile(crate = "::profiler_runtime")]
fn through_the_runtime_path(n: u32) -> u32 {
    n * 2
}

#[profile(kind = "computation", alloc = "process")]
fn counts_every_thread(n: usize) -> usize {
    std::thread::scope(|s| s.spawn(|| vec![0_u8; n].len()).join().unwrap_or(0))
}

#[profile(alloc = thread)]
fn counts_its_own_thread(n: usize) -> usize {
    vec![0_u8; n].len()
}

#[derive(Default)]
struct Tile {
    cells: Vec<f64>,
}

#[profile(kind = "hardware_access", crate = "self::reexports::rt")]
impl Tile {
    fn write(&mut self, v: f64) {
        self.cells.push(v);
    }

    #[profile(skip_fn)]
    fn len(&self) -> usize {
        self.cells.len()
    }

    #[profile(skip_fn)]
    const fn rows() -> usize {
        8
    }

    #[profile(ret)]
    fn sum(&self) -> f64 {
        self.cells.iter().sum()
    }
}

fn scopes(n: usize) -> f64 {
    profile_scope!("scopes.all");
    let mut total = 0.0;
    for i in 0..n {
        profile_scope!(
            "scopes.step",
            kind = "algorithm_step",
            level = "debug",
            fields(i = i)
        );
        total += i as f64;
    }
    {
        profile_scope!("scopes.inner", kind = computation, alloc = "process");
        profile_scope!("scopes.nested", crate = "self::reexports::rt");
        total += 1.0;
    }
    total
}

#[profile]
async fn scope_in_async(n: usize) -> usize {
    let m = {
        profile_scope!("scope_in_async.sync_part");
        n + 1
    };
    std::future::ready(m).await
}

/// Polls `f` to completion on this thread (the futures here never wait).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

pub fn main() {
    let _ = through_a_reexport(1) + through_the_runtime_path(2);
    let _ = counts_every_thread(16) + counts_its_own_thread(16);
    let mut tile = Tile::default();
    tile.write(1.0);
    let _ = tile.len() + Tile::rows();
    let _ = tile.sum();
    let _ = scopes(3);
    let _ = block_on(scope_in_async(1));
}
