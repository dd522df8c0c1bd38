//! ScalingStudy: a planted O(n^3) workload fits an exponent of 3 +/- 0.3; thread counts give
//! parallel efficiency; bad inputs are errors.

use std::collections::HashMap;

use profiler_runtime::sys::ScalingClock;
use profiler_runtime::ScalingStudy;

fn cubic(n: usize) -> f64 {
    let a: Vec<f64> = (0..n * n).map(|i| (i % 7) as f64).collect();
    let b: Vec<f64> = (0..n * n).map(|i| (i % 5) as f64).collect();
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let mut s = 0.0;
            for k in 0..n {
                s += a[i * n + k] * b[k * n + j];
            }
            c[i * n + j] = s;
        }
    }
    std::hint::black_box(c[n + 1])
}

/// Naive `c = a b` with `bt` = b transposed, so the inner loop reads both operands
/// contiguously: pure O(n^3) arithmetic with no cache cliff between the sizes tried, and plain
/// index loops (cheap per row even unoptimised).
fn matmul_t(n: usize, a: &[f64], bt: &[f64], c: &mut [f64]) {
    for i in 0..n {
        for j in 0..n {
            let mut s = 0.0;
            for k in 0..n {
                s += a[i * n + k] * bt[j * n + k];
            }
            c[i * n + j] = s;
        }
    }
}

#[test]
fn cubic_workload_fits_exponent_three() {
    // Sizes over a factor of 8, so timing noise moves the fitted slope little.
    let sizes = [24usize, 32, 48, 64, 96, 128, 192];
    // Inputs are built outside the timed runs, so each run is only the O(n^3) product.
    let inputs: HashMap<usize, (Vec<f64>, Vec<f64>)> = sizes
        .iter()
        .map(|&n| {
            let a = (0..n * n).map(|i| (i % 7) as f64).collect();
            let bt = (0..n * n).map(|i| (i % 5) as f64).collect();
            (n, (a, bt))
        })
        .collect();
    let mut c = vec![0.0; 192 * 192];
    // Thread CPU time: other processes preempting this test on a busy machine do not count.
    let r = ScalingStudy::new("matmul")
        .sizes(sizes)
        .repeats(5)
        .clock(ScalingClock::ThreadCpu)
        .run(|run| {
            let n = run.n;
            let (a, bt) = &inputs[&n];
            matmul_t(n, a, bt, &mut c[..n * n]);
            std::hint::black_box(&c);
            // Energy reported by the workload: proportional to the flops.
            2.0 * (n as f64).powi(3)
        })
        .unwrap();
    eprintln!("{}", r.summary());
    let k = r.time_exponent().unwrap();
    assert!((k - 3.0).abs() <= 0.3, "time ~ n^{k}\n{}", r.summary());
    let t = r.time.as_ref().unwrap();
    assert!(t.fit.r_squared > 0.95, "{}", r.summary());
    let e = r.energy.as_ref().unwrap();
    assert!((e.fit.exponent - 3.0).abs() < 1e-9);
    assert!(r.summary().contains("time ~ n^"));
    assert_eq!(r.measurements.len(), 7);
    assert!(r
        .measurements
        .iter()
        .all(|m| m.times_ns.len() == 5 && m.wall_time_ns > 0));
}

#[test]
fn threads_give_parallel_efficiency() {
    let r = ScalingStudy::new("split")
        .sizes([30, 60])
        .threads([1, 2])
        .repeats(1)
        .run(|run| {
            std::thread::scope(|s| {
                for _ in 0..run.threads {
                    s.spawn(|| cubic(run.n / run.threads.max(1) + 1));
                }
            });
        })
        .unwrap();
    assert_eq!(r.parallel.len(), 2);
    assert!(r
        .parallel
        .iter()
        .all(|t| t.threads == 2 && t.efficiency > 0.0));
}

#[test]
fn bad_inputs_are_errors() {
    assert!(ScalingStudy::new("x").sizes([10]).run(|_| ()).is_err());
    assert!(ScalingStudy::new("x").sizes([0, 10]).run(|_| ()).is_err());
    assert!(ScalingStudy::new("x")
        .sizes([1, 2])
        .threads([0])
        .run(|_| ())
        .is_err());
    let e = ScalingStudy::new("x")
        .sizes([1, 2])
        .repeats(0)
        .run(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("repeat"), "{e}");
}
