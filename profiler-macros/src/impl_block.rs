//! `#[profile(..)]` on an `impl` block: every method is profiled, named `Type::method`.
//!
//! - The block's options apply to each method, except `name` (an error: each method is named
//!   after itself).
//! - `skip(x)` skips `x` wherever a method has it; it is an error only if no method has it.
//! - A method with its own `#[profile(..)]` uses its own options instead of the block's (still
//!   named `Type::method` by default); it is expanded here and its attribute removed.
//! - `#[profile(skip_fn)]` on a method leaves it unprofiled (the attribute is removed).
//! - `const fn` methods are left unprofiled (a span cannot be created in a constant context).

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Attribute, ImplItem, ItemImpl, Meta, Type};

use crate::args::{self, SkipCheck};
use crate::attr::ProfileArgs;
use crate::fn_parts::{default_name, FnParts};

/// How one method is expanded (`lib.rs`'s dispatch between async-like and plain functions):
/// the method, its options, its default span name, and how strictly to check `skip(..)`.
pub(crate) type ExpandFn<'a> =
    &'a dyn Fn(FnParts, &ProfileArgs, &str, SkipCheck) -> syn::Result<TokenStream>;

/// Expands a profiled `impl` block, each method through `expand_fn`.
pub(crate) fn expand_impl(
    args: &ProfileArgs,
    mut block: ItemImpl,
    expand_fn: ExpandFn<'_>,
) -> syn::Result<TokenStream> {
    if let Some((key, _)) = &args.name {
        return Err(syn::Error::new(
            key.span(),
            "`name` cannot be given on an `impl` block: each method is named `Type::method`; \
             put `#[profile(name = \"..\")]` on the method instead",
        ));
    }
    check_block_skips(args, &block)?;
    let self_name = self_type_name(&block.self_ty);
    let mut errors: Option<syn::Error> = None;
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        let own = match take_own_attribute(&mut method.attrs) {
            // `#[profile(skip_fn)]`: the method stays as written, without the attribute.
            Ok(Some(own)) if own.skip_fn.is_some() => continue,
            // The block's `crate = ".."` holds for a method with options of its own too.
            Ok(Some(mut own)) => {
                if own.krate.is_none() {
                    own.krate.clone_from(&args.krate);
                }
                Some(own)
            }
            Ok(None) => None,
            Err(e) => {
                push_error(&mut errors, e);
                continue;
            }
        };
        // A `const fn` cannot hold a span: left as it is, unless its own `#[profile]` asks
        // (then expanding it gives the error).
        if own.is_none() && method.sig.constness.is_some() {
            continue;
        }
        let (method_args, skip_check) = match &own {
            Some(own) => (own, SkipCheck::Strict),
            None => (args, SkipCheck::Lenient),
        };
        let name = default_name(&method.sig, Some(&self_name));
        let parts = FnParts::from(method.clone());
        match expand_fn(parts, method_args, &name, skip_check) {
            Ok(tokens) => *item = ImplItem::Verbatim(tokens),
            Err(e) => push_error(&mut errors, e),
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(block.into_token_stream()),
    }
}

fn push_error(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}

/// Every `skip(..)` name of the block must be an argument of at least one profiled method.
fn check_block_skips(args: &ProfileArgs, block: &ItemImpl) -> syn::Result<()> {
    let bound: Vec<_> = block
        .items
        .iter()
        .filter_map(|item| match item {
            ImplItem::Fn(m) if m.sig.constness.is_none() => Some(args::bound_names(&m.sig.inputs)),
            _ => None,
        })
        .flatten()
        .collect();
    for skip in &args.skips {
        if !bound.contains(skip) {
            return Err(syn::Error::new(
                skip.span(),
                format!("cannot skip `{skip}`: no method in this `impl` block has an argument named `{skip}`"),
            ));
        }
    }
    Ok(())
}

/// Removes a method's own `#[profile]` / `#[profile(..)]` (any path ending in `profile`) and
/// parses its options.
fn take_own_attribute(attrs: &mut Vec<Attribute>) -> syn::Result<Option<ProfileArgs>> {
    let Some(pos) = attrs.iter().position(is_profile_attr) else {
        return Ok(None);
    };
    let attr = attrs.remove(pos);
    if let Some(second) = attrs.iter().find(|a| is_profile_attr(a)) {
        return Err(syn::Error::new_spanned(
            second,
            "`#[profile]` is given twice on this method",
        ));
    }
    match attr.meta {
        Meta::Path(_) => Ok(Some(ProfileArgs::default())),
        Meta::List(list) => list.parse_args::<ProfileArgs>().map(Some),
        Meta::NameValue(nv) => Err(syn::Error::new_spanned(
            nv,
            "expected `#[profile]` or `#[profile(..)]`",
        )),
    }
}

fn is_profile_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "profile")
}

/// The name methods are prefixed with: the last path segment of the self type (`Crossbar` for
/// `impl<T> RramDevice for sim::Crossbar<T>`), looking through references and parentheses.
fn self_type_name(ty: &Type) -> String {
    match ty {
        Type::Path(p) if p.qself.is_none() => match p.path.segments.last() {
            Some(seg) => seg.ident.to_string(),
            None => quote!(#ty).to_string(),
        },
        Type::Reference(r) => self_type_name(&r.elem),
        Type::Paren(p) => self_type_name(&p.elem),
        Type::Group(g) => self_type_name(&g.elem),
        other => quote!(#other).to_string().replace(' ', ""),
    }
}
