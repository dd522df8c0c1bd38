//! Every function shape `#[profile]` must accept, compiled under `#![deny(warnings)]`.
//! Also compiled (and run) as a module of `profiler-macros/tests/shapes_compile.rs`, so clippy sees it too.
#![deny(warnings)]

use std::fmt::{Debug, Display};
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use profiler_runtime::profile;

// ---- free functions ------------------------------------------------------------------------

/// Doc comments and `#[must_use]` are kept.
#[must_use]
#[profile]
pub fn defaults(n: usize, x: f64, flag: bool, name: &str) -> f64 {
    if flag {
        return x;
    }
    x * n as f64 + name.len() as f64
}

#[profile(kind = "hardware_access", name = "tile.program", level = "debug")]
fn references(r: &u32, m: &mut u64, v: &[f64]) {
    *m += u64::from(*r) + v.len() as u64;
}

#[profile(kind = "computation", fields(n = v.len(), label = %label, dbg = ?v, nested.key = 1.5, empty))]
fn with_fields(v: &[f64], label: &str) -> f64 {
    v.iter().sum()
}

#[profile(skip(a), level = trace)]
fn skip_one(a: u32, b: u32) -> u32 {
    a + b
}

#[profile(skip_all, kind = "memory_usage")]
fn skip_all(a: u32, b: Vec<u8>) -> usize {
    a as usize + b.len()
}

#[profile]
fn pattern_args((a, b): (u32, u32), [c, d]: [u8; 2], mut e: u16) -> u32 {
    e += 1;
    a + b + u32::from(c) + u32::from(d) + u32::from(e)
}

#[profile(kind = "algorithm_step")]
fn generic<T, U: Clone>(t: T, u: &U) -> U
where
    T: Debug + Into<u64>,
{
    let _ = t.into();
    u.clone()
}

#[profile]
fn const_generic<const N: usize>(xs: [u32; N]) -> u32 {
    xs.iter().sum()
}

#[profile]
fn lifetimes<'a, 'b: 'a>(a: &'a str, _b: &'b str) -> &'a str {
    a
}

#[profile(ret)]
fn lifetimes_ret<'a>(a: &'a str) -> &'a str {
    a
}

#[profile]
fn returns_impl(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[profile(ret)]
fn returns_impl_ret(n: u32) -> impl Debug {
    n
}

#[profile(err)]
fn returns_impl_err(n: u32) -> Result<impl Display, String> {
    if n == 0 {
        return Err("zero".to_string());
    }
    Ok(n)
}

#[profile(kind = "io_operation", err)]
fn question_mark(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    if n > 10 {
        return Ok(10);
    }
    Ok(n)
}

#[profile(err(Debug), ret)]
fn err_debug_ret(s: &str) -> Result<u64, std::num::ParseIntError> {
    Ok(s.parse::<u64>()? * 2)
}

#[profile(ret(Display))]
fn ret_display(n: i64) -> i64 {
    -n
}

#[profile(ret)]
fn ret_unit(n: i8) {
    let _ = n;
}

#[profile(err)]
fn err_unit_ok(ok: bool) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err("no".into())
    }
}

/// # Safety
/// `p` must be valid for reads.
#[profile]
unsafe fn unsafe_read(p: *const u32) -> u32 {
    // SAFETY: the caller promises `p` is valid.
    unsafe { *p }
}

/// # Safety
/// `p` must be valid for reads.
#[profile(ret)]
unsafe fn unsafe_read_ret(p: *const u32) -> u32 {
    // SAFETY: the caller promises `p` is valid.
    unsafe { *p }
}

#[profile]
fn recursion(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        recursion(n - 1) + recursion(n - 2)
    }
}

#[profile]
fn inner_attrs(n: u32) -> u32 {
    #![allow(clippy::let_and_return)]
    let m = n + 1;
    m
}

#[allow(dead_code)]
#[profile]
fn never(msg: &str) -> ! {
    panic!("{msg}")
}

#[profile]
extern "C" fn extern_c(n: i32) -> i32 {
    n
}

#[profile]
fn argument_names_like_span_syntax(target: u32, level: u32, name: u32, parent: u32) -> u32 {
    target + level + name + parent
}

#[profile]
fn std_primitive_path(n: std::primitive::u32, m: core::primitive::f32) -> f32 {
    n as f32 + m
}

#[profile(kind = "computation")]
fn with_closure_and_early_return(v: &[u32]) -> Option<u32> {
    let first = *v.first()?;
    let total: u32 = v.iter().map(|x| x * first).sum();
    Some(total)
}

// ---- async ---------------------------------------------------------------------------------

#[profile(kind = "io_operation", fields(k = k))]
async fn async_free(k: usize) -> usize {
    ready(k).await + 1
}

#[profile(err, ret)]
async fn async_result(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    if n == 0 {
        return Ok(ready(1).await as u32);
    }
    Ok(n)
}

#[profile(err)]
async fn async_err_only(s: String) -> Result<u32, std::num::ParseIntError> {
    let n = s.parse::<u32>()?;
    Ok(n + 1)
}

#[profile(ret)]
async fn async_ret_only(k: u8) -> u8 {
    k
}

#[profile]
async fn async_impl_trait(k: u8) -> impl Display {
    k
}

#[profile]
async fn async_generic<T: Clone + Send>(t: &T) -> T {
    t.clone()
}

/// What `#[async_trait]` makes of an `async fn`: the returned future is what gets profiled.
#[profile(kind = "io_operation", err)]
fn boxed_future(k: u32) -> Pin<Box<dyn Future<Output = Result<u32, String>> + Send>> {
    Box::pin(async move {
        if k == 0 {
            return Err(String::from("zero"));
        }
        Ok(k)
    })
}

#[profile]
fn async_block(k: u32) -> impl Future<Output = u32> {
    let twice = k * 2;
    async move { twice }
}

async fn ready(k: usize) -> usize {
    k
}

// ---- methods -------------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct Crossbar {
    cells: Vec<f64>,
}

/// Method-level attributes.
impl Crossbar {
    #[profile]
    fn len(&self) -> usize {
        self.cells.len()
    }

    #[profile(kind = "hardware_access", fields(rows = rows))]
    fn write(&mut self, rows: usize, value: f64) {
        self.cells.resize(rows, value);
    }

    #[profile(err)]
    fn into_cells(self) -> Result<Vec<f64>, String> {
        if self.cells.is_empty() {
            return Err("empty".into());
        }
        Ok(self.cells)
    }

    #[profile]
    fn consume(self) -> usize {
        self.cells.len()
    }

    #[profile(ret)]
    fn boxed(self: Box<Self>) -> usize {
        self.cells.len()
    }

    /// `err` on a method returning a borrow of `self`.
    #[profile(err)]
    fn cell_mut(&mut self, i: usize) -> Result<&mut f64, String> {
        self.cells.get_mut(i).ok_or_else(|| format!("no cell {i}"))
    }

    #[profile(ret)]
    async fn async_cell_mut(&mut self) -> Option<&mut f64> {
        self.cells.first_mut()
    }

    #[profile]
    async fn async_len(&self) -> usize {
        self.cells.len()
    }

    #[profile(err)]
    async fn async_mut(&mut self, v: f64) -> Result<usize, String> {
        self.cells.push(v);
        Ok(self.cells.len())
    }
}

pub struct Tile<T, const N: usize> {
    data: [T; N],
}

/// Block-level attribute, inherent impl: names are `Tile::...`.
#[profile(kind = "computation", skip(scale))]
impl<T: Copy + Into<f64>, const N: usize> Tile<T, N> {
    /// `const fn`s are left alone.
    const fn new(data: [T; N]) -> Self {
        Self { data }
    }

    fn sum(&self, scale: f64) -> f64 {
        self.data.iter().map(|&x| x.into()).sum::<f64>() * scale
    }

    #[profile(kind = "io_operation", ret)]
    fn first(&self) -> Option<f64> {
        self.data.first().map(|&x| x.into())
    }

    fn into_data(self) -> [T; N] {
        self.data
    }

    async fn async_sum(&self) -> f64 {
        self.sum(1.0)
    }
}

trait Device {
    fn write_matrix(&mut self, g: &[f64], rows: usize) -> Result<(), String>;
    fn shape(&self) -> (usize, usize);
    fn reset(self) -> usize;
    async fn load(&self) -> usize;
    /// A provided method with its own attribute, in the trait definition.
    #[profile(kind = "computation")]
    fn provided(&self) -> u8 {
        0
    }
}

/// Block-level attribute, trait impl: names are `Crossbar::...`.
#[profile(kind = "hardware_access", err)]
impl Device for Crossbar {
    fn write_matrix(&mut self, g: &[f64], rows: usize) -> Result<(), String> {
        if g.len() < rows {
            return Err("short".into());
        }
        self.cells = g[..rows].to_vec();
        Ok(())
    }

    #[profile]
    fn shape(&self) -> (usize, usize) {
        (self.cells.len(), 1)
    }

    #[profile(skip_all)]
    fn reset(self) -> usize {
        self.cells.len()
    }

    #[profile]
    async fn load(&self) -> usize {
        self.cells.len()
    }
}

/// Method attribute inside a trait impl.
struct Other;

impl Device for Other {
    #[profile(err)]
    fn write_matrix(&mut self, _g: &[f64], _rows: usize) -> Result<(), String> {
        Ok(())
    }

    #[profile]
    fn shape(&self) -> (usize, usize) {
        (0, 0)
    }

    #[profile]
    fn reset(self) -> usize {
        0
    }

    #[profile(kind = "io_operation")]
    async fn load(&self) -> usize {
        1
    }

    #[profile]
    fn provided(&self) -> u8 {
        1
    }
}

// ---- driver --------------------------------------------------------------------------------

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Instrumenting must not make a `Send` future non-`Send`.
fn assert_send<F: Future + Send>(f: F) -> F {
    f
}

pub fn main() {
    let _ = block_on(assert_send(async_result("1")));
    let _ = block_on(assert_send(Crossbar::default().async_len()));
    let _ = defaults(2, 1.5, false, "ab");
    let mut m = 0_u64;
    references(&3, &mut m, &[1.0]);
    let _ = with_fields(&[1.0, 2.0], "x");
    let _ = skip_one(1, 2);
    let _ = skip_all(1, vec![1]);
    let _ = pattern_args((1, 2), [3, 4], 5);
    let _ = generic(3_u32, &"u".to_string());
    let _ = const_generic([1, 2, 3]);
    let _ = lifetimes("a", "b");
    let _ = lifetimes_ret("a");
    let _ = returns_impl(3).count();
    let _ = returns_impl_ret(3);
    let _ = returns_impl_err(0).map(|d| d.to_string());
    let _ = question_mark("12");
    let _ = question_mark("x");
    let _ = err_debug_ret("7");
    let _ = ret_display(3);
    ret_unit(1);
    let _ = err_unit_ok(false);
    let x = 7_u32;
    // SAFETY: `&x` is valid.
    let _ = unsafe { unsafe_read(&x) + unsafe_read_ret(&x) };
    let _ = recursion(10);
    let _ = inner_attrs(1);
    let _ = extern_c(1);
    let _ = std_primitive_path(1, 2.0);
    let _ = argument_names_like_span_syntax(1, 2, 3, 4);
    let _ = with_closure_and_early_return(&[]);
    let _ = block_on(async_free(1));
    let _ = block_on(async_result("0"));
    let _ = block_on(async_err_only("x".into()));
    let _ = block_on(async_ret_only(1));
    let _ = block_on(async_impl_trait(1)).to_string();
    let _ = block_on(async_generic(&1_u8));
    let _ = block_on(boxed_future(0));
    let _ = block_on(assert_send(async_block(2)));

    let mut xbar = Crossbar::default();
    xbar.write(4, 0.5);
    let _ = xbar.len();
    let _ = block_on(xbar.async_len());
    let _ = block_on(xbar.async_mut(1.0));
    let _ = xbar.cell_mut(0).map(|c| *c += 1.0);
    let _ = block_on(xbar.async_cell_mut()).map(|c| *c += 1.0);
    let _ = Box::new(xbar.clone()).boxed();
    let _ = xbar.clone().consume();
    let _ = xbar.clone().into_cells();
    let _ = xbar.write_matrix(&[1.0, 2.0], 2);
    let _ = xbar.shape();
    let _ = xbar.provided();
    let _ = block_on(Device::load(&xbar));
    let _ = xbar.reset();

    let tile = Tile::<f32, 2>::new([1.0, 2.0]);
    let _ = tile.sum(2.0);
    let _ = tile.first();
    let _ = block_on(tile.async_sum());
    let _ = tile.into_data();

    let mut other = Other;
    let _ = other.write_matrix(&[], 0);
    let _ = other.shape();
    let _ = other.provided();
    let _ = block_on(other.load());
    let _ = other.reset();
}
