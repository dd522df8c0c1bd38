//! ScalingStudy: a planted O(n^3) workload fits an exponent of 3 +/- 0.3; bad inputs are errors.

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

#[test]
fn cubic_workload_fits_exponent_three() {
    let r = ScalingStudy::new("matmul")
        .sizes([40, 60, 80, 100, 120, 140, 160])
        .repeats(3)
        .run(|run| {
            cubic(run.n);
            // Energy reported by the workload: proportional to the flops.
            2.0 * (run.n as f64).powi(3)
        })
        .unwrap();
    let k = r.time_exponent().unwrap();
    assert!((k - 3.0).abs() <= 0.3, "time ~ n^{k}\n{}", r.summary());
    let e = r.energy.as_ref().unwrap();
    assert!((e.fit.exponent - 3.0).abs() < 1e-9);
    assert!(r.summary().contains("time ~ n^"));
    assert_eq!(r.measurements.len(), 7);
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
    assert!(r.parallel.iter().all(|t| t.threads == 2 && t.efficiency > 0.0));
}

#[test]
fn bad_inputs_are_errors() {
    assert!(ScalingStudy::new("x").sizes([10]).run(|_| ()).is_err());
    assert!(ScalingStudy::new("x").sizes([0, 10]).run(|_| ()).is_err());
    assert!(ScalingStudy::new("x").sizes([1, 2]).threads([0]).run(|_| ()).is_err());
    let e = ScalingStudy::new("x").sizes([1, 2]).repeats(0).run(|_| ()).unwrap_err();
    assert!(e.to_string().contains("repeat"), "{e}");
}
