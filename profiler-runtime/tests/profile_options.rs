//! Runtime effects of the `#[profile]` options (`err`, `skip`, `skip_all`, `ret`, `fields`) and
//! of the shapes `tests/function_shapes.rs` leaves out: early `return Err(..)`, `async` methods
//! (`&self`, `&mut self`, in a trait impl), async generics, a profiled trait `impl` block, and
//! dotted `metrics!` keys.

mod common;

use profiler_runtime::{metrics, profile, EventKind, Profile, ProfileEvent};

#[derive(Debug)]
struct DeviceError(u32);

impl std::fmt::Display for DeviceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "device error {}", self.0)
    }
}

impl std::error::Error for DeviceError {}

fn check(code: u32) -> Result<u32, DeviceError> {
    (code == 0).then_some(1).ok_or(DeviceError(code))
}

/// The one event named `name` in `p` (panics, listing what there is, otherwise).
fn only<'a>(p: &'a Profile, name: &'a str) -> &'a ProfileEvent {
    let evs: Vec<_> = p.events_named(name).collect();
    let all: Vec<_> = p.events.iter().map(|e| &*e.name).collect();
    assert_eq!(evs.len(), 1, "events named {name}; have {all:?}");
    evs[0]
}

fn assert_busy_within_wall(e: &ProfileEvent) {
    let wall = e.end_ns.checked_sub(e.start_ns).expect("end before start");
    assert!(
        e.busy_ns <= wall,
        "{}: busy {} > wall {wall}",
        e.name,
        e.busy_ns
    );
}

// ---- err ----------------------------------------------------------------------------------

#[profile(err)]
fn early_return(code: u32) -> Result<u32, DeviceError> {
    if code != 0 {
        return Err(DeviceError(code));
    }
    Ok(0)
}

#[profile(err(Debug))]
fn early_return_debug(code: u32) -> Result<u32, DeviceError> {
    if code != 0 {
        return Err(DeviceError(code));
    }
    Ok(code)
}

#[profile(err)]
async fn async_early_return(code: u32) -> Result<u32, DeviceError> {
    common::sleep_ms(1).await;
    if code != 0 {
        return Err(DeviceError(code));
    }
    Ok(0)
}

#[profile(err)]
async fn async_question_mark(code: u32) -> Result<u32, DeviceError> {
    common::sleep_ms(0).await;
    let v = check(code)?;
    Ok(v + 1)
}

#[test]
fn err_records_an_early_return_err() {
    let p = common::profiler();
    p.in_scope(|| {
        assert_eq!(early_return(0).unwrap(), 0);
        assert_eq!(early_return(7).unwrap_err().0, 7);
        assert_eq!(early_return_debug(3).unwrap_err().0, 3);
    });
    let snap = p.snapshot();
    let mut errors: Vec<_> = snap
        .events_named("early_return")
        .map(|e| e.error.clone())
        .collect();
    errors.sort();
    assert_eq!(errors, vec![None, Some("device error 7".to_string())]);
    assert_eq!(snap.operation("early_return").unwrap().errors, 1);
    let dbg = only(&snap, "early_return_debug");
    assert_eq!(dbg.error.as_deref(), Some("DeviceError(3)"), "err(Debug)");
}

#[test]
fn err_on_an_async_fn_records_the_error_text() {
    let p = common::profiler();
    p.in_scope(|| {
        common::block_on(async {
            assert!(async_early_return(0).await.is_ok());
            assert_eq!(async_early_return(5).await.unwrap_err().0, 5);
            assert_eq!(async_question_mark(0).await.unwrap(), 2);
            assert_eq!(async_question_mark(9).await.unwrap_err().0, 9);
        })
    });
    let snap = p.snapshot();
    for (name, text) in [
        ("async_early_return", "device error 5"),
        ("async_question_mark", "device error 9"),
    ] {
        let evs: Vec<_> = snap.events_named(name).collect();
        assert_eq!(evs.len(), 2, "{name}");
        let errors: Vec<_> = evs.iter().filter_map(|e| e.error.as_deref()).collect();
        assert_eq!(errors, vec![text], "{name}");
        assert_eq!(snap.operation(name).unwrap().errors, 1, "{name}");
        for e in &evs {
            assert_busy_within_wall(e);
        }
    }
}

// ---- async methods and generics -------------------------------------------------------------

struct Bank {
    cells: Vec<u32>,
}

impl Bank {
    #[profile]
    async fn total(&self) -> u32 {
        common::sleep_ms(2).await;
        self.cells.iter().sum()
    }

    #[profile(kind = "hardware_access")]
    async fn program(&mut self, v: u32) {
        common::sleep_ms(0).await;
        self.cells.push(v);
    }
}

trait AsyncDevice {
    async fn read_async(&self, row: usize) -> u32;
}

impl AsyncDevice for Bank {
    #[profile(kind = "io_operation")]
    async fn read_async(&self, row: usize) -> u32 {
        common::sleep_ms(1).await;
        self.cells[row]
    }
}

#[profile(kind = "computation")]
async fn async_generic<T, const N: usize>(items: [T; N], scale: u64) -> u64
where
    T: Into<u64> + Copy,
{
    common::sleep_ms(0).await;
    items.iter().map(|&t| Into::<u64>::into(t) * scale).sum()
}

#[test]
fn async_methods_and_generics_record_one_event_each() {
    let p = common::profiler();
    let mut bank = Bank { cells: vec![1, 2] };
    p.in_scope(|| {
        common::block_on(async {
            bank.program(4).await;
            assert_eq!(bank.total().await, 7);
            assert_eq!(bank.read_async(2).await, 4);
            assert_eq!(async_generic([1u8, 2, 3], 10).await, 60);
        })
    });
    let snap = p.snapshot();
    for (name, kind) in [
        ("total", EventKind::FunctionCall),
        ("program", EventKind::HardwareAccess),
        ("read_async", EventKind::IoOperation),
        ("async_generic", EventKind::Computation),
    ] {
        let e = only(&snap, name);
        assert_eq!(e.kind, kind, "{name}");
        assert_eq!(e.parent, None, "{name}");
        assert!(!e.panicked, "{name}");
        assert_busy_within_wall(e);
        assert_eq!(snap.operation(name).unwrap().count, 1, "{name}");
    }
    assert_eq!(only(&snap, "program").metric("v"), Some(4.0));
    assert_eq!(only(&snap, "read_async").metric("row"), Some(2.0));
    assert_eq!(only(&snap, "async_generic").metric("scale"), Some(10.0));
}

// ---- a profiled trait impl block ------------------------------------------------------------

trait Crossbar {
    fn rows(&self) -> usize;
    fn scale(&mut self, by: f64);
    fn sum(&self) -> f64;
    fn into_cells(self) -> Vec<f64>;
    fn family() -> &'static str;
}

struct Grid<T> {
    cells: Vec<T>,
}

#[profile(kind = "hardware_access")]
impl<T: Copy + Into<f64> + From<u8>> Crossbar for Grid<T> {
    fn rows(&self) -> usize {
        self.cells.len()
    }

    fn scale(&mut self, by: f64) {
        if by == 0.0 {
            self.cells.iter_mut().for_each(|c| *c = T::from(0));
        }
    }

    #[profile(kind = "computation")]
    fn sum(&self) -> f64 {
        self.cells.iter().map(|&c| Into::<f64>::into(c)).sum()
    }

    fn into_cells(self) -> Vec<f64> {
        self.cells.into_iter().map(Into::<f64>::into).collect()
    }

    fn family() -> &'static str {
        "grid"
    }
}

#[test]
fn a_profiled_trait_impl_block_profiles_every_method() {
    let p = common::profiler();
    p.in_scope(|| {
        let mut g = Grid {
            cells: vec![1u8, 2, 3],
        };
        assert_eq!(g.rows(), 3);
        g.scale(1.5);
        assert_eq!(g.sum(), 6.0);
        assert_eq!(<Grid<u8> as Crossbar>::family(), "grid");
        assert_eq!(g.into_cells(), vec![1.0, 2.0, 3.0]);
    });
    let snap = p.snapshot();
    for (name, kind) in [
        ("Grid::rows", EventKind::HardwareAccess),
        ("Grid::scale", EventKind::HardwareAccess),
        // Its own attribute replaces the block's options but keeps the `Type::method` name.
        ("Grid::sum", EventKind::Computation),
        ("Grid::into_cells", EventKind::HardwareAccess),
        ("Grid::family", EventKind::HardwareAccess),
    ] {
        let e = only(&snap, name);
        assert_eq!(e.kind, kind, "{name}");
        assert_busy_within_wall(e);
    }
    assert_eq!(snap.events.len(), 5);
    assert_eq!(only(&snap, "Grid::scale").metric("by"), Some(1.5));
}

// ---- skip, skip_all, fields -----------------------------------------------------------------

#[profile(skip(cols))]
fn program_tile(rows: usize, cols: usize, gain: f64) -> f64 {
    (rows * cols) as f64 * gain
}

#[profile(skip_all)]
fn program_all(rows: usize, cols: usize, gain: f64) -> f64 {
    (rows * cols) as f64 * gain
}

#[profile(fields(bits = bits * 2))]
fn quantise(bits: u32, verify: bool, offset: &i64, label: &str, _spare: u8) -> usize {
    (bits as usize) + label.len() + usize::from(verify) + *offset as usize
}

#[test]
fn skipped_arguments_are_not_metrics_and_the_others_are() {
    let p = common::profiler();
    p.in_scope(|| {
        assert_eq!(program_tile(4, 8, 0.5), 16.0);
        assert_eq!(program_all(4, 8, 0.5), 16.0);
        assert_eq!(quantise(3, true, &2, "ab", 9), 8);
    });
    let snap = p.snapshot();
    let tile = only(&snap, "program_tile");
    assert_eq!(tile.metric("rows"), Some(4.0));
    assert_eq!(tile.metric("gain"), Some(0.5));
    assert_eq!(tile.metric("cols"), None, "skip(cols)");
    let agg = snap.operation("program_tile").unwrap().metrics;
    assert!(!agg.contains_key("cols"), "nor in the aggregates: {agg:?}");
    let all = only(&snap, "program_all");
    assert!(all.metrics.is_empty(), "skip_all: {:?}", all.metrics);
    let q = only(&snap, "quantise");
    assert_eq!(q.metric("bits"), Some(6.0), "a field replaces its argument");
    assert_eq!(q.metric("verify"), Some(1.0), "bool arguments are 0/1");
    assert_eq!(q.metric("offset"), Some(2.0), "references to numbers too");
    assert_eq!(q.metric("label"), None, "non-numeric arguments: none");
    assert_eq!(q.metric("_spare"), None, "`_` arguments are not recorded");
    assert_eq!(q.metrics.len(), 3, "{:?}", q.metrics);
}

// ---- ret ------------------------------------------------------------------------------------

#[profile(ret)]
fn answer(x: u64) -> u64 {
    x * 6
}

#[profile(ret, skip_all)]
fn ratio(a: f64, b: f64) -> f64 {
    a / b
}

#[profile(ret)]
fn label(n: u32) -> String {
    format!("tile-{n}")
}

#[profile(ret, err)]
fn checked(code: u32) -> Result<u32, DeviceError> {
    check(code)
}

#[test]
fn ret_records_a_numeric_return_value_as_a_metric() {
    let p = common::profiler();
    p.in_scope(|| {
        assert_eq!(answer(7), 42);
        assert_eq!(ratio(3.0, 4.0), 0.75);
        assert_eq!(checked(0).unwrap(), 1);
    });
    let snap = p.snapshot();
    let a = only(&snap, "answer");
    assert_eq!(a.metrics.get("return"), Some(&42.0), "{a:?}");
    assert_eq!(a.metric("x"), Some(7.0));
    let r = only(&snap, "ratio");
    assert_eq!(r.metrics.get("return"), Some(&0.75), "{r:?}");
    assert_eq!(
        snap.operation("answer").unwrap().metric_sum("return"),
        42.0,
        "the return value is aggregated like any metric"
    );
    let c = only(&snap, "checked");
    let ok = c.metrics.get("return");
    assert_eq!(
        ok,
        Some(&1.0),
        "with err, the Ok value of a Result<number, _>"
    );
}

#[test]
fn ret_of_a_non_numeric_value_adds_no_metric_and_does_not_panic() {
    let p = common::profiler();
    p.in_scope(|| {
        assert_eq!(label(3), "tile-3");
        assert!(checked(2).is_err());
    });
    let snap = p.snapshot();
    let l = only(&snap, "label");
    assert!(!l.panicked);
    assert_eq!(l.metrics.get("return"), None, "{:?}", l.metrics);
    // An argument with a reserved name is recorded apart from the reserved key (issue 22): it
    // is not a problem size unless the function reports one with `fields(n = ..)`.
    assert_eq!(l.metric("arg.n"), Some(3.0));
    assert_eq!(l.metric("n"), None);
    let c = only(&snap, "checked");
    assert_eq!(c.error.as_deref(), Some("device error 2"));
    assert_eq!(c.metrics.get("return"), None, "an Err has no return value");
}

// ---- metrics! with a dotted key -------------------------------------------------------------

#[profile(kind = "hardware_access")]
fn convert(n: u32) {
    metrics!(energy.adc_pj = 2.0, energy.dac_pj = n);
    metrics!(energy.adc_pj = 0.5);
}

#[test]
fn dotted_metric_keys_keep_their_dots() {
    let p = common::profiler();
    p.in_scope(|| {
        convert(3);
        convert(1);
    });
    let snap = p.snapshot();
    let evs: Vec<_> = snap.events_named("convert").collect();
    assert_eq!(evs.len(), 2);
    for e in &evs {
        let m = &e.metrics;
        assert_eq!(m.get("energy.adc_pj"), Some(&2.5), "{m:?}");
        assert!(!e.metrics.contains_key("adc_pj"));
        assert!(!e.metrics.contains_key("energy"));
    }
    let op = snap.operation("convert").unwrap();
    assert_eq!(op.metric_sum("energy.adc_pj"), 5.0);
    assert_eq!(op.metric_sum("energy.dac_pj"), 4.0);
    assert_eq!(snap.metric_total("energy.adc_pj"), 5.0);
}
