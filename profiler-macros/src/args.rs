//! A function's arguments: which names they bind (for checking `skip(..)`) and which are
//! recorded as span fields.
//!
//! Only arguments bound by a plain identifier not starting with `_`, whose type is spelt as a
//! primitive number or `bool` or a reference to one ([`crate::primitive`]), are recorded, each
//! as itself (`n = n`): `tracing` records it as the integer, float or bool it is. Everything
//! else is left alone, so no argument type ever needs `Debug` or any other trait.

use syn::punctuated::Punctuated;
use syn::{FnArg, Ident, Pat, Token};

use crate::primitive::{self, Primitive};

/// How strictly to check `skip(..)` names against a function's arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkipCheck {
    /// Every skipped name must be an argument (the attribute is on this function).
    Strict,
    /// Names absent here are ignored (the attribute is on the enclosing `impl` block).
    Lenient,
}

/// Every name a function's arguments bind (`self` included).
pub(crate) fn bound_names(inputs: &Punctuated<FnArg, Token![,]>) -> Vec<Ident> {
    let mut names = Vec::new();
    for input in inputs {
        match input {
            FnArg::Receiver(r) => names.push(Ident::new("self", r.self_token.span)),
            FnArg::Typed(t) => pat_names(&t.pat, &mut names),
        }
    }
    names
}

fn pat_names(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(p) => {
            out.push(p.ident.clone());
            if let Some((_, sub)) = &p.subpat {
                pat_names(sub, out);
            }
        }
        Pat::Reference(p) => pat_names(&p.pat, out),
        Pat::Paren(p) => pat_names(&p.pat, out),
        Pat::Struct(p) => p.fields.iter().for_each(|f| pat_names(&f.pat, out)),
        Pat::Tuple(p) => p.elems.iter().for_each(|e| pat_names(e, out)),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|e| pat_names(e, out)),
        Pat::Slice(p) => p.elems.iter().for_each(|e| pat_names(e, out)),
        Pat::Type(p) => pat_names(&p.pat, out),
        _ => {}
    }
}

/// With [`SkipCheck::Strict`], an error at the first skipped name that no argument binds.
pub(crate) fn check_skips(
    inputs: &Punctuated<FnArg, Token![,]>,
    skips: &[Ident],
    check: SkipCheck,
) -> syn::Result<()> {
    if check == SkipCheck::Lenient {
        return Ok(());
    }
    let bound = bound_names(inputs);
    match skips.iter().find(|s| !bound.contains(s)) {
        Some(skip) => Err(syn::Error::new(
            skip.span(),
            format!("cannot skip `{skip}`: this function has no argument named `{skip}`"),
        )),
        None => Ok(()),
    }
}

/// The arguments that can be recorded, before `skip`/`skip_all`/`fields` are applied, each
/// with its type's class (by value or by reference).
pub(crate) fn recordable(inputs: &Punctuated<FnArg, Token![,]>) -> Vec<(Ident, Primitive)> {
    inputs
        .iter()
        .filter_map(|input| {
            let FnArg::Typed(t) = input else { return None };
            let Pat::Ident(p) = &*t.pat else { return None };
            // `_x` says "unused": recording it would use it (and trip
            // `clippy::used_underscore_binding`).
            if p.by_ref.is_some() || p.subpat.is_some() || p.ident.to_string().starts_with('_') {
                return None;
            }
            let class = primitive::classify(&t.ty)?;
            Some((p.ident.clone(), class))
        })
        .collect()
}
