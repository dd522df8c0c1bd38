//! Code generation for one profiled function: the span, then the body entered (sync) or
//! instrumented (async), with the optional `err` / `ret` handling. Modelled on
//! tracing-attributes' `expand.rs`. Which of these a function gets (an `async fn`, a sync one, or
//! the output of `#[async_trait]`) is decided in `lib.rs`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::visit_mut::VisitMut;
use syn::{Ident, LitStr, ReturnType, Signature, Token, Type};

use crate::args;
use crate::attr::ProfileArgs;
use crate::fields::Field;
use crate::fn_parts::FnParts;
use crate::primitive::{self, Primitive};
use crate::scope::ScopeArgs;
use crate::support::Support;
use crate::value::{AllocMode, FormatMode, Kind, Level};

/// Expands a function that is not async-like: the span entered around a sync body, or an
/// `async fn`'s body instrumented with it. `name` is the default span name.
pub(crate) fn gen_function(
    f: FnParts,
    args: &ProfileArgs,
    name: &str,
    rt: &Support,
) -> TokenStream {
    let is_async = f.sig.asyncness.is_some();
    let span = gen_span(&f.sig, args, name, is_async, rt);
    let body = if is_async || args.err.is_some() || args.ret.is_some() {
        let numeric = numeric_return(&f.sig.output, args.err.is_some());
        let block = with_fake_return(&f.sig.output, &f.sig.ident, f.body.clone());
        gen_wrapped(args, span.expr(), block, is_async, numeric, rt)
    } else {
        // A plain sync body is spliced in unchanged after the guard.
        let (span_var, guard_var) = (local("span"), local("guard"));
        let bind = span.bind(&span_var);
        let body = &f.body;
        quote! {
            #bind
            let #guard_var = #span_var.enter();
            #body
        }
    };
    f.with_body(body)
}

/// A local of the expansion, `__profile_<what>`, invisible to the user's code (mixed-site
/// hygiene).
fn local(what: &str) -> Ident {
    Ident::new(&format!("__profile_{what}"), Span::mixed_site())
}

/// The span of a profiled function: `span!(target: module_path!(), LEVEL, "name",
/// <markers>, <recorded arguments>, <user fields>)` (see [`gen_span_macro`]).
pub(crate) fn gen_span(
    sig: &Signature,
    args: &ProfileArgs,
    default_name: &str,
    is_async: bool,
    rt: &Support,
) -> SpanTokens {
    let user_names: Vec<&Ident> = args.fields.iter().flat_map(|f| f.single_names()).collect();
    let recorded: Vec<(Ident, Primitive)> = args::recordable(&sig.inputs)
        .into_iter()
        .filter(|(ident, _)| {
            !args.skip_all
                && !args.skips.contains(ident)
                // A field of the same name takes the argument's place, as in `#[instrument]`.
                && !user_names.contains(&ident)
        })
        .collect();
    let name = match &args.name {
        Some((_, lit)) => lit.clone(),
        None => LitStr::new(default_name, sig.ident.span()),
    };
    // Every argument is a field of its own (none skipped, replaced, unrecordable or `self`).
    let all_recorded = recorded.len() == sig.inputs.len();
    gen_span_macro(&name, args, !is_async, &recorded, all_recorded, rt)
}

/// `profile_scope!`: a sync span, entered until the end of the enclosing block by a guard
/// that user code cannot name.
pub(crate) fn gen_scope(scope: &ScopeArgs, rt: &Support) -> TokenStream {
    let span = gen_span_macro(&scope.name, &scope.options, true, &[], false, rt);
    let (span_var, guard) = (local("scope_span"), local("scope"));
    let bind = span.bind(&span_var);
    quote! {
        #bind
        let #guard = #span_var.entered();
    }
}

/// `span!(target: module_path!(), LEVEL, "name", <recorded>, <marker>, <user fields>)`: one
/// empty marker field, after the recorded arguments, whose name (the runtime's
/// `contract::span_marker`) carries the kind and the options. The sync option promises the
/// runtime that the span is created, entered once, exited and closed on one thread; the
/// arguments-recorded option that every argument of the function is among the recorded
/// fields. (One marker, not one per option: tracing visits every field of a span on every
/// call, an empty one too.)
fn gen_span_macro(
    name: &LitStr,
    args: &ProfileArgs,
    sync: bool,
    recorded: &[(Ident, Primitive)],
    all_recorded: bool,
    rt: &Support,
) -> SpanTokens {
    let level = gen_level(args.level(), rt);
    let mut options = Vec::new();
    if sync {
        options.push(quote!(#rt::contract::MARKER_SYNC));
    }
    if args.alloc() == AllocMode::Process {
        options.push(quote!(#rt::contract::MARKER_PROCESS_ALLOC));
    }
    if all_recorded {
        options.push(quote!(#rt::contract::MARKER_ARGS_RECORDED));
    }
    let marker = gen_marker(args.kind(), &options, rt);
    let fields = args
        .fields
        .iter()
        .flat_map(|f| f.0.iter())
        .map(|f| gen_field(f, rt));
    // Recorded as itself: `tracing` keeps an integer an integer and a bool a bool.
    let recorded_fields = recorded.iter().map(|(ident, _)| quote!(#ident = #ident));
    let span = quote! {
        #rt::tracing::span!(
            target: ::core::module_path!(),
            #level,
            #name,
            #(#recorded_fields,)*
            #marker,
            #(#fields,)*
        )
    };
    // A sync span stages its first inline arguments for the profiler (see `stage_args`).
    let staged = if sync && !recorded.is_empty() {
        let mut vals: Vec<TokenStream> = recorded
            .iter()
            .take(INLINE_ARGS)
            .map(|(ident, class)| {
                let value = if class.by_ref {
                    quote!(&*#ident)
                } else {
                    quote!(#ident)
                };
                quote!(#rt::metric_value(#value))
            })
            .collect();
        vals.resize(INLINE_ARGS, quote!(0.0));
        vals
    } else {
        Vec::new()
    };
    SpanTokens {
        span,
        name: name.clone(),
        rt: rt.clone(),
        staged,
    }
}

/// How many arguments a sync span stages: the runtime's `INLINE_ARGS` (its `stage_args` takes
/// an array of this length, so a mismatch fails to compile).
const INLINE_ARGS: usize = 2;

/// A profiled span: the `span!` invocation, and what notes it when it is disabled.
pub(crate) struct SpanTokens {
    span: TokenStream,
    name: LitStr,
    rt: Support,
    /// The values a sync span with recorded arguments stages (`stage_args`), one per inline
    /// slot; empty for any other span.
    staged: Vec<TokenStream>,
}

impl SpanTokens {
    /// `let <var> = span!(..); if <var>.is_disabled() { <note> }`: the span bound in place.
    /// A disabled span is noted once per callsite (one relaxed load after that), so sessions
    /// and reports can say which `#[profile]` spans a filter hid from the profiler; an enabled
    /// sync one with recorded arguments stages them (`stage_args`). (As
    /// statements, not a block that yields the span: moving the span out of a block copied it
    /// through a store-to-load stall even when it was disabled, ~1.5 ns of a 4 ns call.)
    fn bind(&self, var: &Ident) -> TokenStream {
        let (span, name, rt) = (&self.span, &self.name, &self.rt);
        let note = local("NOTE");
        let on_enabled = (!self.staged.is_empty()).then(|| {
            let vals = &self.staged;
            quote!(else { #rt::stage_args(&#var, [#(#vals),*]); })
        });
        quote! {
            let #var = #span;
            if #var.is_disabled() {
                static #note: #rt::DisabledNote = #rt::DisabledNote::new(#name);
                #note.note();
            } #on_enabled
        }
    }

    /// The span as one expression (a block that binds, notes and yields it).
    pub(crate) fn expr(&self) -> TokenStream {
        let var = local("new_span");
        let bind = self.bind(&var);
        quote! {
            {
                #bind
                #var
            }
        }
    }
}

/// The span's one marker field, named by the runtime's `const fn`:
/// `{ rt::contract::span_marker(rt::contract::EventKind::<Kind>, <options>) } =
/// rt::tracing::field::Empty`. No field name is spelt here.
fn gen_marker(kind: Kind, options: &[TokenStream], rt: &Support) -> TokenStream {
    let variant: String = kind
        .as_str()
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    let variant = Ident::new(&variant, Span::call_site());
    let options = if options.is_empty() {
        quote!(0)
    } else {
        quote!(#(#options)|*)
    };
    quote!({ #rt::contract::span_marker(#rt::contract::EventKind::#variant, #options) } = #rt::tracing::field::Empty)
}

/// `tracing::Level::INFO`, ...
fn gen_level(level: Level, rt: &Support) -> TokenStream {
    let level = match level {
        Level::Trace => quote!(TRACE),
        Level::Debug => quote!(DEBUG),
        Level::Info => quote!(INFO),
        Level::Warn => quote!(WARN),
        Level::Error => quote!(ERROR),
    };
    quote!(#rt::tracing::Level::#level)
}

/// One `fields(..)` entry in `span!`'s syntax.
fn gen_field(field: &Field, rt: &Support) -> TokenStream {
    let name = &field.name;
    let sigil = field.sigil.map(sigil);
    match (&field.value, sigil) {
        (Some(value), sigil) => quote!(#name = #sigil #value),
        // `fields(n)`: an empty field, to be recorded later (as `#[instrument]` does).
        (None, None) => quote!(#name = #rt::tracing::field::Empty),
        // `fields(%x)` / `fields(?x)`: tracing's shorthand for the local `x`.
        (None, Some(sigil)) => quote!(#sigil #name),
    }
}

/// The sigil tracing's field syntax uses for a format mode.
fn sigil(mode: FormatMode) -> TokenStream {
    match mode {
        FormatMode::Display => quote!(%),
        FormatMode::Debug => quote!(?),
    }
}

/// Whether the value `ret` reports is a primitive number or `bool` by its spelling
/// ([`crate::primitive`]): the return type, or with `err` the `T` of a `Result<T, _>`.
fn numeric_return(output: &ReturnType, err: bool) -> Option<Primitive> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    if err {
        primitive::classify(primitive::result_ok_type(ty)?)
    } else {
        primitive::classify(ty)
    }
}

/// The body (without its braces) that runs `block` in a closure (sync) or an async block
/// (async) inside the span, handling `err` / `ret` on its result. With `numeric` (see
/// [`numeric_return`]) `ret` records the value as a number.
pub(crate) fn gen_wrapped(
    args: &ProfileArgs,
    span: TokenStream,
    block: TokenStream,
    is_async: bool,
    numeric: Option<Primitive>,
    rt: &Support,
) -> TokenStream {
    let (span_var, guard_var, result_var) = (local("span"), local("guard"), local("result"));
    let (future_var, x, e) = (local("future"), local("value"), local("error"));

    let level = gen_level(args.level(), rt);
    // The error goes to the profiler directly (no filter can drop it while the span lives);
    // the log event keeps the function's own target, as `#[instrument(err)]`'s does.
    let err_event = args.err.map(|mode| {
        let (record, sigil) = match mode {
            FormatMode::Display => (quote!(record_error), quote!(%)),
            FormatMode::Debug => (quote!(record_error_debug), quote!(?)),
        };
        quote! {
            #rt::#record(&#e);
            #rt::tracing::event!(
                target: ::core::module_path!(), #rt::tracing::Level::ERROR, error = #sigil #e
            )
        }
    });
    // A number goes to the profiler as the metric `return`, past any filter; the log event
    // has the function's target and the span's level, as `#[instrument(ret)]`'s.
    let ret_event = args.ret.map(|mode| {
        let sigil = sigil(mode);
        let metric = numeric.map(|p| {
            let value = if p.by_ref { quote!(&*#x) } else { quote!(&#x) };
            quote! {
                #rt::add_metrics(&[(#rt::contract::RETURN, #rt::metric_value(#value))]);
            }
        });
        quote! {
            #metric
            #rt::tracing::event!(target: ::core::module_path!(), #level, return = #sigil #x)
        }
    });
    let wraps = err_event.is_some() || ret_event.is_some();

    let ok = quote!(::core::result::Result::Ok);
    let err = quote!(::core::result::Result::Err);
    let outcome = match (err_event, ret_event) {
        (Some(err_event), Some(ret_event)) => quote! {
            match #result_var {
                #[allow(clippy::unit_arg)]
                #ok(#x) => { #ret_event; #ok(#x) }
                #err(#e) => { #err_event; #err(#e) }
            }
        },
        (Some(err_event), None) => quote! {
            match #result_var {
                #[allow(clippy::unit_arg)]
                #ok(#x) => #ok(#x),
                #err(#e) => { #err_event; #err(#e) }
            }
        },
        (None, Some(ret_event)) => quote! {
            let #x = #result_var;
            #ret_event;
            #x
        },
        (None, None) => quote!(#result_var),
    };
    if is_async {
        let future = if wraps {
            quote!(async move {
                let #result_var = async move #block.await;
                #outcome
            })
        } else {
            quote!(async move #block)
        };
        quote! {
            let #span_var = #span;
            let #future_var = #future;
            #rt::tracing::Instrument::instrument(#future_var, #span_var).await
        }
    } else {
        quote! {
            let #span_var = #span;
            let #guard_var = #span_var.enter();
            // Called through an `FnOnce` bound, so that the closure is `FnOnce` and may return
            // what it captured (`&mut self` borrows); scoped so that it shadows nothing.
            let #result_var = {
                #[inline(always)]
                fn __profile_call_once<R, F: ::core::ops::FnOnce() -> R>(f: F) -> R {
                    f()
                }
                __profile_call_once(move || #block)
            };
            #outcome
        }
    }
}

/// `{ if false { let v: Ret = loop {}; return v; } { body } }`, the unreachable `return` pinning
/// the block's type to the declared return type (with `impl Trait` erased to `_`). Omitted for
/// `-> !`, which cannot be written as a `let` type on stable.
fn with_fake_return(output: &ReturnType, ident: &Ident, body: TokenStream) -> TokenStream {
    let (ty, span) = match output {
        ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => {
            return quote!({ #body });
        }
        ReturnType::Type(_, ty) => (erase_impl_trait(ty), ty.span()),
        ReturnType::Default => (syn::parse_quote!(()), ident.span()),
    };
    let fake = local("fake_return");
    let edge = quote_spanned! {span=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let #fake: #ty = loop {};
            return #fake;
        }
    };
    quote!({ #edge { #body } })
}

/// Replaces every `impl Trait` in a type with `_`, so it can annotate a `let`.
struct ImplTraitEraser;

impl VisitMut for ImplTraitEraser {
    fn visit_type_mut(&mut self, t: &mut Type) {
        if let Type::ImplTrait(it) = t {
            *t = Type::Infer(syn::TypeInfer {
                underscore_token: Token![_](it.span()),
            });
        } else {
            syn::visit_mut::visit_type_mut(self, t);
        }
    }
}

fn erase_impl_trait(ty: &Type) -> Type {
    let mut ty = ty.clone();
    ImplTraitEraser.visit_type_mut(&mut ty);
    ty
}
