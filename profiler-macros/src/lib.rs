//! # profiler-macros
//!
//! The instrumentation macros of rram-profiler: the [`macro@profile`] attribute, which makes each
//! call of a function (or of every method of an `impl` block) one profiled span, and
//! [`profile_scope!`], which does the same for the rest of a block. Use them through the runtime,
//! `profiler_runtime::profile` (or `rram_profiler::profile`); the profiler's layer in
//! `profiler-runtime` turns each span into one `ProfileEvent` with its timing, allocations,
//! metrics and error.
//!
//! `#[profile]` accepts every function shape `#[tracing::instrument]` does (methods with any
//! receiver, generics, `impl Trait`, `async fn`, `unsafe fn`, `extern fn`, pattern arguments,
//! the output of `#[async_trait]`), and `impl` blocks.
//!
#![doc = include_str!("options.md")]
//!
//! ## What the expansion emits
//!
//! Every path below goes through `<runtime>::__macro_support` (left out here), where `<runtime>`
//! is the path found as above. No field name is spelt in the expansion: the marker fields are
//! named by the runtime's `contract` (tracing's `{ CONST } = value` syntax).
//!
//! ```text
//! tracing::span!(target: module_path!(), <level>, "<name>",
//!     <arg> = <arg>,                               // each recorded argument, as itself
//!     { contract::span_marker(                     // the one marker field, its name
//!         contract::EventKind::<Kind>,             //   `profile.span.<kind>[.sync]...`:
//!         contract::MARKER_SYNC                    //   unless the function is `async`
//!         | contract::MARKER_PROCESS_ALLOC         //   with `alloc = "process"`
//!         | contract::MARKER_ARGS_RECORDED         //   when every argument is recorded
//!     ) } = Empty,
//!     <fields(..)>)
//!
//! // a sync function with recorded arguments, when the span is enabled: the first two of
//! // them handed to the profiler directly (its first enter takes them; no field visitor),
//! // `&*a` for a reference, 0.0 past the last
//! stage_args(&span, [metric_value(a), metric_value(b)]);
//!
//! // with `err`, on `Err(e)`, while the span is still entered:
//! record_error(&e);                                // `record_error_debug(&e)` with `err(Debug)`
//! tracing::event!(target: module_path!(), Level::ERROR, error = %e);      // `?e`
//!
//! // with `ret`, on the returned value `v` (the `Ok` value with `err`):
//! add_metrics(&[(contract::RETURN, metric_value(&v))]);   // only for a primitive number or bool
//! tracing::event!(target: module_path!(), <level>, return = ?v);           // `%v`
//! ```
//!
//! A sync function enters the span for its whole body (the original statements follow the
//! guard, so `return` and `?` are unchanged; with `err`/`ret` the body runs in a closure, as in
//! `#[tracing::instrument]`). An `async fn` creates the span when first polled and runs its body
//! as `Instrument::instrument(async move { .. }, span).await`; the sync marker is left out, since
//! its span may be entered many times and on several threads. `profile_scope!` is the same sync
//! span, followed by `let <guard> = span.entered();`.

mod args;
mod async_like;
mod attr;
mod expand;
mod fields;
mod fn_parts;
mod impl_block;
mod manifest;
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
/// The span is entered for the call (for an `async fn`, for every poll of its future); inside,
/// `metrics!(..)` adds numbers to it and nested profiled calls become its children.
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
#[doc = include_str!("options.md")]
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
