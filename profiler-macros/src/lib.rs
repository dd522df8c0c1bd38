//! # profiler-macros
//!
//! The `#[profile]` attribute of rram-profiler. Use it through `profiler_runtime::profile` (or
//! `rram_profiler::profile`). The expansion reaches the runtime through the crate's own
//! dependency, found in its `Cargo.toml`: `profiler-runtime`, else `rram-profiler` (renamed or
//! not), else `#[profile(crate = "..")]` names the path; the using crate never needs `tracing`
//! itself.
//!
//! `#[profile]` wraps a function in a `tracing` span that the runtime's `ProfilerLayer` turns into
//! one `ProfileEvent` per call. It accepts every function shape `#[tracing::instrument]` does
//! (methods with any receiver, generics, `impl Trait`, `async fn`, `unsafe fn`, pattern
//! arguments, ...), and `impl` blocks.
//!
//! ## Options
//!
//! All options are optional; each may be given at most once.
//!
//! | option | meaning | default |
//! |---|---|---|
//! | `kind = ".."` | `function_call`, `memory_usage`, `computation`, `io_operation`, `hardware_access` or `algorithm_step` | `function_call` |
//! | `name = ".."` | the span's (the operation's) name | the function's name; `Type::method` in a profiled `impl` |
//! | `level = ".."` | `trace`, `debug`, `info`, `warn` or `error` (string or identifier) | `info` |
//! | `fields(..)` | extra fields in tracing's syntax: `n = g.nrows()`, `label = %s`, `dbg = ?x`, `a.b = 1`; numeric ones become metrics; `fields(x)` alone is an empty field | none |
//! | `skip(a, b)` | do not record these arguments | none |
//! | `skip_all` | record no argument | off |
//! | `err` / `err(Debug)` | on `Err(e)`: the error's `Display` (`Debug`) text becomes the profiled call's error, straight in the profiler (no filter can drop it); and an event with the function's own target at `ERROR`, field `error = %e` (`?e`), as `#[instrument(err)]` logs it | off |
//! | `ret` / `ret(Display)` | a return value of a primitive number type (or the `Ok` value with `err`) becomes the metric `return`, straight in the profiler; and an event with the function's own target at the span's level, field `return = ?value` (`%value`), as `#[instrument(ret)]` logs it | off |
//! | `alloc = ".."` | `thread`: the span counts its own thread's allocations; `process`: every thread's while it is open (work on scoped threads, rayon, ...), at a small cost per allocation | `thread` |
//! | `skip_fn` | on a method inside a profiled `impl` block: leave this method unprofiled (alone; an error anywhere else) | off |
//! | `crate = ".."` | the path of the runtime crate, for a crate that reaches it under another name (`crate = "my_reexports::profiler_runtime"`) | found in `Cargo.toml`: `profiler-runtime`, else `rram-profiler` |
//!
//! **Arguments recorded.** Only arguments bound by a plain name (not starting with `_`) whose
//! type is written as a primitive number or `bool` (`u8`..`u128`, `usize`, `i8`..`i128`,
//! `isize`, `f32`, `f64`, `bool`, or `&`/`&mut` of one) are recorded, each as itself: `tracing`
//! keeps integers as integers and bools as bools (so `fmt` prints `n=8`, `ok=false`), and the
//! profiler turns every number and bool into a metric. Other arguments are never touched, so no
//! argument type needs `Debug`. A `fields(..)` entry with the same name as an argument replaces
//! it.
//!
//! **On an `impl` block** (inherent or trait impl) every method is profiled with the block's
//! options and named `Type::method` (the last path segment of the self type). `name` on an
//! `impl` block is an error. `skip(x)` skips `x` in the methods that have it (it is an error only
//! if none has). A method with its own `#[profile(..)]` uses only its own options (its default
//! name is still `Type::method`). `const fn` methods are left as they are.
//!
//! **Errors.** Unknown options or kinds or levels, duplicate options, skipping an argument the
//! function does not have, `const fn`, and items other than functions and `impl` blocks are
//! compile errors pointing at the offending token.
//!
//! ## What the expansion emits
//!
//! ```text
//! span!(target: module_path!(), Level::INFO, "name",
//!       { contract::KIND_<KIND> } = Empty,   // the kind's marker field
//!       { contract::SYNC_FIELD } = Empty,    // only when the function is not `async`
//!       <arg> = <arg>,                       // recorded arguments
//!       <fields(..)>)
//! ```
//!
//! A sync function enters the span for its whole body (the original statements follow the
//! guard, so `return` and `?` are unchanged; with `err`/`ret` the body runs in a closure, as in
//! `#[tracing::instrument]`). An `async fn` creates the span when first polled and runs its body
//! as `Instrument::instrument(async move { .. }, span).await`.

mod args;
mod async_like;
mod attr;
mod expand;
mod fields;
mod fn_parts;
mod impl_block;
mod primitive;
mod scope;
mod support;
mod value;

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::Item;

use crate::args::SkipCheck;
use crate::attr::ProfileArgs;
use crate::fn_parts::{default_name, FnParts};
use crate::scope::ScopeArgs;
use crate::support::Support;

/// Profiles a function, or every method of an `impl` block, as one span per call.
///
/// ```
/// use profiler_runtime::profile;
///
/// #[profile(kind = "hardware_access", fields(cells = rows * cols), skip(cols), err)]
/// fn program(rows: usize, cols: usize) -> Result<(), String> {
///     Ok(())
/// }
///
/// struct Crossbar;
///
/// #[profile(kind = "computation")]           // spans named "Crossbar::mvm", ...
/// impl Crossbar {
///     fn mvm(&self, x: &[f64]) -> f64 { x.iter().sum() }
///
///     #[profile(kind = "io_operation", ret)]   // its own options replace the block's
///     fn rows(&self) -> usize { 8 }
/// }
///
/// program(2, 3).unwrap();
/// assert_eq!(Crossbar.mvm(&[1.0, 2.0]) + Crossbar.rows() as f64, 11.0);
/// ```
///
/// See the [crate documentation](crate) for every option.
#[proc_macro_attribute]
pub fn profile(
    attr: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    expand(attr.into(), item.into()).into()
}

/// Profiles the rest of the enclosing block as one span: `profile_scope!("name")` or
/// `profile_scope!("name", kind = "computation")`.
///
/// A statement: it opens a span named `name` and enters it until the end of the block it is
/// in, through a guard that the rest of the block cannot name. After the name it takes the
/// options `kind` (default `function_call`), `level` (default `info`), `fields(..)`, `alloc`
/// and `crate`, with the meanings they have in `#[profile(..)]`.
///
/// ```
/// use profiler_macros::profile_scope;
/// use profiler_runtime::profile;
///
/// #[profile]
/// fn solve(n: usize) -> f64 {
///     let x = {
///         profile_scope!("solve.factorise", kind = "computation", fields(n = n));
///         n as f64 * 2.0
///     }; // the scope's span ends here, inside `solve`'s
///     x + 1.0
/// }
///
/// assert_eq!(solve(3), 7.0);
/// ```
///
/// The span is entered on this thread for the rest of the block: do not hold it across an
/// `.await` (the guard is not `Send`, so a future holding it is not `Send` either).
#[proc_macro]
pub fn profile_scope(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand_scope(input.into()).into()
}

/// `profile_scope!`'s expansion, or its error.
fn expand_scope(input: TokenStream) -> TokenStream {
    let expanded = syn::parse2::<ScopeArgs>(input).and_then(|scope| {
        let rt = Support::find(scope.options.krate.as_ref())?;
        Ok(expand::gen_scope(&scope, &rt))
    });
    expanded.unwrap_or_else(|e| e.to_compile_error())
}

/// The kind strings `#[profile(kind = "..")]` accepts, as an array expression
/// (`["function_call", ..]`), for the test that holds them equal to the runtime's
/// `EventKind::ALL` (`tests/kinds_contract.rs`). Not an API.
#[doc(hidden)]
#[proc_macro]
pub fn __kinds(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = TokenStream::from(input);
    if let Some(first) = input.into_iter().next() {
        let e = syn::Error::new_spanned(first, "`__kinds!()` takes no input");
        return e.to_compile_error().into();
    }
    let kinds = value::KINDS;
    quote!([#(#kinds),*]).into()
}

/// The whole expansion; on error, the error followed by the item unchanged (so that one mistake
/// in the attribute does not also make every use of the item fail).
fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(attr, item.clone()) {
        Ok(tokens) => tokens,
        Err(e) => {
            let error = e.to_compile_error();
            quote!(#error #item)
        }
    }
}

fn try_expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args: ProfileArgs = syn::parse2(attr)?;
    if let Some(key) = &args.skip_fn {
        return Err(syn::Error::new(
            key.span(),
            "`skip_fn` leaves one method of a profiled `impl` block unprofiled: it only goes on \
             a method inside an `impl` block that has `#[profile]`; elsewhere, remove the \
             attribute",
        ));
    }
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(f)) => {
            let name = default_name(&f.sig, None);
            expand_fn(FnParts::from(f), &args, &name, SkipCheck::Strict)
        }
        Ok(Item::Impl(block)) => impl_block::expand_impl(&args, block, &expand_fn),
        Ok(other) => Err(not_a_function(&other)),
        // The body may not parse (rustc will say why): expand around its raw tokens.
        Err(parse_error) => match syn::parse2::<FnParts>(item) {
            Ok(f) => {
                let name = default_name(&f.sig, None);
                expand_fn(f, &args, &name, SkipCheck::Strict)
            }
            Err(_) => Err(parse_error),
        },
    }
}

/// Expands one function (free, or a method of a profiled `impl` block): the output of
/// `#[async_trait]` has its returned future instrumented, anything else goes to
/// [`expand::gen_function`]. `name` is the default span name.
fn expand_fn(
    f: FnParts,
    args: &ProfileArgs,
    name: &str,
    skip_check: SkipCheck,
) -> syn::Result<TokenStream> {
    if let Some(c) = &f.sig.constness {
        return Err(syn::Error::new(
            c.span,
            "`#[profile]` cannot be used on a `const fn`: a span cannot be created in a constant \
             context",
        ));
    }
    args::check_skips(&f.sig.inputs, &args.skips, skip_check)?;
    let rt = Support::find(args.krate.as_ref())?;
    let async_tail = f
        .stmts
        .as_deref()
        .filter(|_| f.sig.asyncness.is_none())
        .and_then(async_like::find);
    if let Some(tail) = async_tail {
        let body = async_like::instrument(&tail, &f.sig, args, name, &rt);
        return Ok(f.with_body(body));
    }
    Ok(expand::gen_function(f, args, name, &rt))
}

/// The error for an item that is neither a function nor an `impl` block, pointing at its
/// keyword and name.
fn not_a_function(item: &Item) -> syn::Error {
    let tokens = item_head(item);
    let msg = "`#[profile]` can only be applied to a function with a body or to an `impl` block";
    if tokens.is_empty() {
        syn::Error::new_spanned(item, msg)
    } else {
        syn::Error::new_spanned(tokens, msg)
    }
}

/// `struct Foo`, `enum Foo`, `trait Foo`, ...: the tokens an error about the item points at.
fn item_head(item: &Item) -> TokenStream {
    match item {
        Item::Struct(i) => {
            let (kw, ident) = (&i.struct_token, &i.ident);
            quote!(#kw #ident)
        }
        Item::Enum(i) => {
            let (kw, ident) = (&i.enum_token, &i.ident);
            quote!(#kw #ident)
        }
        Item::Union(i) => {
            let (kw, ident) = (&i.union_token, &i.ident);
            quote!(#kw #ident)
        }
        Item::Trait(i) => {
            let (kw, ident) = (&i.trait_token, &i.ident);
            quote!(#kw #ident)
        }
        Item::Mod(i) => {
            let (kw, ident) = (&i.mod_token, &i.ident);
            quote!(#kw #ident)
        }
        Item::Const(i) => {
            let (kw, ident) = (&i.const_token, &i.ident);
            quote!(#kw #ident)
        }
        Item::Static(i) => {
            let (kw, ident) = (&i.static_token, &i.ident);
            quote!(#kw #ident)
        }
        Item::Type(i) => {
            let (kw, ident) = (&i.type_token, &i.ident);
            quote!(#kw #ident)
        }
        Item::Use(i) => i.use_token.to_token_stream(),
        _ => TokenStream::new(),
    }
}

#[cfg(test)]
mod tests;
