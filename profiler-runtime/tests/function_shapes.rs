//! Every function shape `#[profile]` accepts records one event per call, with the right name,
//! kind, metrics and error text.

mod common;

use profiler_runtime::{metrics, profile, EventKind, Profile};

#[profile]
fn free(a: u32, b: u32) -> u32 {
    a + b
}

#[profile(kind = "computation", name = "custom.name", fields(n = v.len()))]
fn with_fields(v: &[f64]) -> f64 {
    v.iter().sum()
}

struct Tile {
    cells: Vec<f64>,
}

impl Tile {
    #[profile(kind = "hardware_access")]
    fn read(&self) -> f64 {
        self.cells[0]
    }

    #[profile(kind = "hardware_access")]
    fn write(&mut self, v: f64) {
        self.cells[0] = v;
        metrics!(energy_pj = 2.0, bytes = 8usize);
        metrics!(energy_pj = 3.0);
    }

    #[profile]
    fn into_cells(self) -> Vec<f64> {
        self.cells
    }
}

#[profile]
fn generic<T: Clone, U>(t: &T, _u: U) -> T
where
    U: Into<u64>,
{
    t.clone()
}

#[profile]
fn const_generic<const N: usize>(a: [u8; N]) -> usize {
    a.len()
}

#[profile]
fn returns_impl(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[derive(Debug)]
struct MyError(&'static str);

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "my error: {}", self.0)
    }
}

impl std::error::Error for MyError {}

fn inner(fail: bool) -> Result<u32, MyError> {
    if fail {
        Err(MyError("bad input"))
    } else {
        Ok(1)
    }
}

#[profile(err)]
fn fallible(fail: bool, early: bool) -> Result<u32, MyError> {
    if early {
        return Ok(7);
    }
    let v = inner(fail)?;
    Ok(v + 1)
}

#[profile]
fn pattern_args((a, b): (u32, u32)) -> u32 {
    a * b
}

/// # Safety
/// `p` must be valid for reads.
#[profile]
unsafe fn unsafe_read(p: *const u32) -> u32 {
    unsafe { *p }
}

trait Device {
    fn op(&self) -> u32;
}

impl Device for Tile {
    #[profile(kind = "io_operation")]
    fn op(&self) -> u32 {
        self.cells.len() as u32
    }
}

#[profile(name = "fib")]
fn fib(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

struct Solver;

#[profile(kind = "algorithm_step")]
impl Solver {
    fn step(&self, k: usize) -> usize {
        k + 1
    }

    #[profile(kind = "computation", name = "solver.special")]
    fn special(&self) -> u8 {
        1
    }
}

common::both_paths! {
    fn run_all() -> Profile {
        let p = common::profiler();
        PATH.in_scope(&p, || {
            assert_eq!(free(2, 3), 5);
            assert_eq!(with_fields(&[1.0, 2.0, 3.0]), 6.0);
            let mut t = Tile {
                cells: vec![1.0, 2.0],
            };
            assert_eq!(t.read(), 1.0);
            t.write(5.0);
            assert_eq!(t.op(), 2);
            assert_eq!(t.into_cells(), vec![5.0, 2.0]);
            assert_eq!(generic(&"x".to_string(), 3u32), "x");
            assert_eq!(const_generic([1u8, 2, 3, 4]), 4);
            assert_eq!(returns_impl(3).sum::<u32>(), 3);
            assert_eq!(fallible(false, false).unwrap(), 2);
            assert_eq!(fallible(false, true).unwrap(), 7);
            assert!(fallible(true, false).is_err());
            assert_eq!(pattern_args((3, 4)), 12);
            let x = 9u32;
            assert_eq!(unsafe { unsafe_read(&x) }, 9);
            assert_eq!(fib(5), 5);
            assert_eq!(Solver.step(1), 2);
            assert_eq!(Solver.special(), 1);
        });
        p.snapshot()
    }

    fn one<'a>(p: &'a Profile, name: &str) -> &'a profiler_runtime::OperationStats {
        p.operations
            .iter()
            .find(|o| &*o.name == name)
            .unwrap_or_else(|| panic!("no operation {name}; have {:?}", names(p)))
    }

    fn names(p: &Profile) -> Vec<String> {
        p.operations.iter().map(|o| o.name.to_string()).collect()
    }

    #[test]
    fn every_shape_records_an_event() {
        let p = run_all();
        for (name, kind, count) in [
            ("free", EventKind::FunctionCall, 1),
            ("custom.name", EventKind::Computation, 1),
            ("read", EventKind::HardwareAccess, 1),
            ("write", EventKind::HardwareAccess, 1),
            ("into_cells", EventKind::FunctionCall, 1),
            ("generic", EventKind::FunctionCall, 1),
            ("const_generic", EventKind::FunctionCall, 1),
            ("returns_impl", EventKind::FunctionCall, 1),
            ("fallible", EventKind::FunctionCall, 3),
            ("pattern_args", EventKind::FunctionCall, 1),
            ("unsafe_read", EventKind::FunctionCall, 1),
            ("op", EventKind::IoOperation, 1),
            ("fib", EventKind::FunctionCall, 15),
            ("Solver::step", EventKind::AlgorithmStep, 1),
            ("solver.special", EventKind::Computation, 1),
        ] {
            let o = one(&p, name);
            assert_eq!(o.kind, kind, "{name}");
            assert_eq!(o.count, count, "{name}");
        }
        assert_eq!(p.total_events(), p.events.len() as u64);
    }

    #[test]
    fn numeric_args_fields_and_metrics_become_metrics() {
        let p = run_all();
        let free = p.events_named("free").next().unwrap();
        assert_eq!(free.metric("a"), Some(2.0));
        assert_eq!(free.metric("b"), Some(3.0));
        let wf = p.events_named("custom.name").next().unwrap();
        assert_eq!(wf.metric("n"), Some(3.0));
        let w = p.events_named("write").next().unwrap();
        assert_eq!(
            w.metric("energy_pj"),
            Some(5.0),
            "repeats of a key are summed"
        );
        assert_eq!(w.metric("bytes"), Some(8.0));
        assert_eq!(w.metric("v"), Some(5.0));
        assert_eq!(one(&p, "write").metric_sum("energy_pj"), 5.0);
    }

    #[test]
    fn err_records_the_error_text_on_err_only() {
        let p = run_all();
        let evs: Vec<_> = p.events_named("fallible").collect();
        assert_eq!(evs.len(), 3);
        let errors: Vec<_> = evs.iter().filter_map(|e| e.error.clone()).collect();
        assert_eq!(errors, vec!["my error: bad input".to_string()]);
        assert_eq!(one(&p, "fallible").errors, 1);
    }

    #[test]
    fn recursion_links_parents() {
        let p = run_all();
        let fibs: Vec<_> = p.events_named("fib").collect();
        let roots: Vec<_> = fibs.iter().filter(|e| e.parent.is_none()).collect();
        assert_eq!(roots.len(), 1);
        for e in &fibs {
            if let Some(parent) = e.parent {
                let pe = p.events.iter().find(|x| x.id == parent).unwrap();
                assert_eq!(&*pe.name, "fib");
                assert!(pe.start_ns <= e.start_ns && e.end_ns <= pe.end_ns);
            }
        }
    }
}
