//! Expansion of one profiled function: the span, then the body entered (sync) or instrumented
//! (async), with the optional `err` / `ret` events. Modelled on tracing-attributes' `expand.rs`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned as _;
use syn::visit_mut::VisitMut;
use syn::{Attribute, ImplItemFn, ItemFn, LitStr, ReturnType, Signature, Token, Type, Visibility};

use crate::args;
use crate::async_like;
use crate::attr::{FormatMode, ProfileArgs};
use crate::support_path;

/// A function split into what the expansion needs; its body is kept as raw tokens so a body
/// that does not parse still reaches rustc (which then reports the real error).
pub(crate) struct FnParts {
    pub(crate) outer_attrs: Vec<Attribute>,
    pub(crate) inner_attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) defaultness: Option<Token![default]>,
    pub(crate) sig: Signature,
    pub(crate) body: TokenStream,
    /// The body's statements, when it parsed (to recognise async-trait's output).
    pub(crate) stmts: Option<Vec<syn::Stmt>>,
}

impl FnParts {
    fn from_parts(
        attrs: Vec<Attribute>,
        vis: Visibility,
        defaultness: Option<Token![default]>,
        sig: Signature,
        block: syn::Block,
    ) -> Self {
        let (outer_attrs, inner_attrs) = attrs
            .into_iter()
            .partition(|a| matches!(a.style, syn::AttrStyle::Outer));
        let mut body = TokenStream::new();
        for stmt in &block.stmts {
            stmt.to_tokens(&mut body);
        }
        Self {
            outer_attrs,
            inner_attrs,
            vis,
            defaultness,
            sig,
            body,
            stmts: Some(block.stmts),
        }
    }
}

impl From<ItemFn> for FnParts {
    fn from(f: ItemFn) -> Self {
        Self::from_parts(f.attrs, f.vis, None, f.sig, *f.block)
    }
}

impl From<ImplItemFn> for FnParts {
    fn from(f: ImplItemFn) -> Self {
        Self::from_parts(f.attrs, f.vis, f.defaultness, f.sig, f.block)
    }
}

/// Parses a function whose body is not parsed (the fallback when the body has syntax errors).
impl Parse for FnParts {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let outer_attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        syn::braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body = content.parse()?;
        Ok(Self {
            outer_attrs,
            inner_attrs,
            vis,
            defaultness: None,
            sig,
            body,
            stmts: None,
        })
    }
}

/// How strictly to check `skip(..)` names against this function's arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkipCheck {
    /// Every skipped name must be an argument (the attribute is on this function).
    Strict,
    /// Names absent here are ignored (the attribute is on the enclosing `impl` block).
    Lenient,
}

/// The default span name: the function's name, or `Type::method` inside a profiled `impl`.
pub(crate) fn default_name(sig: &Signature, self_type: Option<&str>) -> String {
    let ident = sig.ident.unraw();
    match self_type {
        Some(ty) => format!("{ty}::{ident}"),
        None => ident.to_string(),
    }
}

/// Expands one function. `name` is the default span name (overridden by `name = ..`).
pub(crate) fn gen_function(
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
    let is_async = f.sig.asyncness.is_some();
    let async_tail = f
        .stmts
        .as_deref()
        .filter(|_| !is_async)
        .and_then(async_like::find);
    let body = match async_tail {
        Some(tail) => async_like::instrument(&tail, &f.sig, args, name, skip_check)?,
        None => {
            let span = gen_span(&f.sig, args, name, skip_check, is_async)?;
            if is_async || args.err.is_some() || args.ret.is_some() {
                let numeric = numeric_return(&f.sig.output, args.err.is_some());
                let block = with_fake_return(&f.sig.output, &f.sig.ident, f.body);
                gen_wrapped(args, span, block, is_async, numeric)
            } else {
                // A plain sync body is spliced in unchanged after the guard.
                let (span_var, guard_var) = (local("span"), local("guard"));
                let body = f.body;
                quote! {
                    let #span_var = #span;
                    let #guard_var = #span_var.enter();
                    #body
                }
            }
        }
    };
    let FnParts {
        outer_attrs,
        inner_attrs,
        vis,
        defaultness,
        sig,
        ..
    } = f;
    Ok(quote! {
        #(#outer_attrs)*
        #vis #defaultness #sig {
            #(#inner_attrs)*
            #body
        }
    })
}

/// A local of the expansion, `__profile_<what>`, invisible to the user's code (mixed-site
/// hygiene).
fn local(what: &str) -> syn::Ident {
    syn::Ident::new(&format!("__profile_{what}"), Span::mixed_site())
}

/// `span!(target: module_path!(), LEVEL, "name", profile.kind.K = Empty, [profile.sync = Empty,]
/// <recorded arguments>, <user fields>)`.
pub(crate) fn gen_span(
    sig: &Signature,
    args: &ProfileArgs,
    default_name: &str,
    skip_check: SkipCheck,
    is_async: bool,
) -> syn::Result<TokenStream> {
    if skip_check == SkipCheck::Strict {
        let bound = args::bound_names(&sig.inputs);
        for skip in &args.skips {
            if !bound.contains(skip) {
                return Err(syn::Error::new(
                    skip.span(),
                    format!("cannot skip `{skip}`: this function has no argument named `{skip}`"),
                ));
            }
        }
    }
    let rt = support_path();
    let user_names: Vec<_> = args
        .fields
        .iter()
        .flat_map(|f| f.0.iter())
        .filter_map(|f| f.name.single_ident())
        .collect();
    let recorded = args::recordable(&sig.inputs)
        .into_iter()
        .filter(|r| {
            !args.skip_all
                && !args.skips.contains(&r.ident)
                // A field of the same name takes the argument's place, as in `#[instrument]`.
                && !user_names.iter().any(|n| **n == r.ident)
        })
        .map(|r| r.field());
    let name = match &args.name {
        Some((_, lit)) => lit.clone(),
        None => LitStr::new(default_name, sig.ident.span()),
    };
    let level = args.level();
    let kind = args.kind();
    let sync = (!is_async).then(|| quote!(profile.sync = #rt::tracing::field::Empty,));
    let fields = &args.fields;
    Ok(quote! {
        #rt::tracing::span!(
            target: ::core::module_path!(),
            #level,
            #name,
            profile.kind.#kind = #rt::tracing::field::Empty,
            #sync
            #(#recorded,)*
            #fields
        )
    })
}

/// Whether the value `ret` records is a primitive number or `bool` by its spelling: the return
/// type, or with `err` the `T` of a `Result<T, _>`. Such a value is recorded as a number (the
/// profiler keeps it as the metric `return`) instead of in its `Debug`/`Display` form.
pub(crate) fn numeric_return(output: &ReturnType, err: bool) -> bool {
    const NUMERIC: &[&str] = &[
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "bool",
    ];
    fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
        match ty {
            Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
            Type::Paren(p) => last_segment(&p.elem),
            Type::Group(g) => last_segment(&g.elem),
            _ => None,
        }
    }
    fn is_numeric(ty: &Type) -> bool {
        last_segment(ty)
            .is_some_and(|s| s.arguments.is_none() && NUMERIC.iter().any(|n| s.ident == n))
    }
    let ReturnType::Type(_, ty) = output else {
        return false;
    };
    if !err {
        return is_numeric(ty);
    }
    let Some(seg) = last_segment(ty).filter(|s| s.ident == "Result") else {
        return false;
    };
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => match a.args.first() {
            Some(syn::GenericArgument::Type(t)) => is_numeric(t),
            _ => false,
        },
        _ => false,
    }
}

/// The body (without its braces) that runs `block` in a closure (sync) or an async block
/// (async) inside the span, emitting the `err` / `ret` events on its result. With `numeric`
/// (see [`numeric_return`]) `ret` records the value as a number.
pub(crate) fn gen_wrapped(
    args: &ProfileArgs,
    span: TokenStream,
    block: TokenStream,
    is_async: bool,
    numeric: bool,
) -> TokenStream {
    let rt = support_path();
    let (span_var, guard_var, result_var) = (local("span"), local("guard"), local("result"));
    let (future_var, x, e) = (local("future"), local("value"), local("error"));

    let level = args.level();
    let err_event = args.err.map(|mode| {
        let sigil = mode.sigil();
        quote!(#rt::tracing::event!(
            target: "profiler::error", #rt::tracing::Level::ERROR, error = #sigil #e
        ))
    });
    let ret_event = args.ret.map(|mode: FormatMode| {
        if numeric {
            quote!(#rt::tracing::event!(
                target: "profiler::ret", #level, return = #rt::metric_value(&#x)
            ))
        } else {
            let sigil = mode.sigil();
            quote!(#rt::tracing::event!(target: "profiler::ret", #level, return = #sigil #x))
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
fn with_fake_return(output: &ReturnType, ident: &syn::Ident, body: TokenStream) -> TokenStream {
    let (ty, span) = match output {
        ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => {
            return quote!({ #body });
        }
        ReturnType::Type(_, ty) => (erase_impl_trait(ty), ty.span()),
        ReturnType::Default => (syn::parse_quote!(()), ident.span()),
    };
    let fake = syn::Ident::new("__profile_fake_return", Span::mixed_site());
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
