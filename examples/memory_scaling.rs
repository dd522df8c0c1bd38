//! `ScalingStudy` of `rram_sim::hp_inv`'s memory: every thread's allocations per solve (the
//! array-programming workers and faer's pool included), fitted as a power of n.
//!
//! Run it with (the sizes are optional; the default is a quick sweep):
//!
//! ```text
//! cargo run --release --example memory_scaling -- 64,128,256,512
//! ```

use nalgebra::{DMatrix, DVector};
use rram_profiler::profiler_runtime::{MemorySource, ScalingStudy};
use rram_profiler::rram_sim::{hp_inv, HpInvConfig};
use rram_profiler::CountingAllocator;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

/// A system `g x = b`.
type System = (DMatrix<f64>, DVector<f64>);

/// A well-conditioned system: `G = I + (0.5 / sqrt n) U`, `U` a fixed pattern in `[-1, 1]`.
fn system(n: usize) -> System {
    let s = 0.5 / (n as f64).sqrt();
    let g = DMatrix::from_fn(n, n, |i, j| {
        let u = (((i * 7919 + j * 104_729) % 2001) as f64 / 1000.0) - 1.0;
        if i == j {
            1.0 + s * u
        } else {
            s * u
        }
    });
    let b = DVector::from_fn(n, |i, _| ((i as f64) * 0.37).sin());
    (g, b)
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .nth(1)
        .map(|a| a.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![8, 16, 32]);
    let systems: Vec<(usize, System)> = sizes.iter().map(|&n| (n, system(n))).collect();
    let results = ScalingStudy::new("hp_inv")
        .sizes(sizes.iter().copied())
        .repeats(3)
        .run(|run| {
            let (g, b) = &systems.iter().find(|(n, _)| *n == run.n).expect("a size").1;
            let out = hp_inv(g, b, &HpInvConfig::default()).expect("solves");
            assert!(out.info.converged);
        })
        .expect("a valid study");
    for m in &results.measurements {
        println!(
            "n = {:4}: {:>12} bytes allocated per solve (every thread)",
            m.n,
            m.allocated_bytes.unwrap_or(0)
        );
    }
    println!("{}", results.summary());
    let mem = results.memory.expect("a memory fit");
    assert_eq!(results.memory_source, MemorySource::Allocator);
    println!(
        "memory exponent {:.2}, R^2 {:.3} over n = {:?}",
        mem.fit.exponent, mem.fit.r_squared, sizes
    );
}
