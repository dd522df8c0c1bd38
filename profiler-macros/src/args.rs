//! Which function arguments exist (for `skip(..)`) and which are recorded as span fields.
//!
//! Only arguments whose type is *syntactically* a primitive number or `bool` (or a reference to
//! one), bound by a plain identifier pattern not starting with `_`, are recorded: as
//! `name = metric_value(name)`. Everything else is left alone, so no argument type ever needs
//! `Debug` or any other trait.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{FnArg, Ident, Pat, Token, Type};

use crate::support_path;

/// The primitive types whose arguments are recorded.
const PRIMITIVES: &[&str] = &[
    "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize", "f32", "f64", "bool",
];

/// One argument that will be recorded as a span field.
pub(crate) struct Recorded {
    pub(crate) ident: Ident,
    /// The argument is `&T` / `&mut T` and must be dereferenced.
    pub(crate) by_ref: bool,
}

/// Every name a function's arguments bind (`self` included), for checking `skip(..)`.
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

/// The arguments that can be recorded, before `skip`/`skip_all` are applied.
pub(crate) fn recordable(inputs: &Punctuated<FnArg, Token![,]>) -> Vec<Recorded> {
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
            let by_ref = primitive_kind(&t.ty)?;
            Some(Recorded {
                ident: p.ident.clone(),
                by_ref,
            })
        })
        .collect()
}

/// `Some(false)` for a primitive, `Some(true)` for `&`/`&mut` of one, `None` otherwise.
fn primitive_kind(ty: &Type) -> Option<bool> {
    match ty {
        Type::Path(p) if is_primitive_path(p) => Some(false),
        Type::Reference(r) => match primitive_kind(&r.elem) {
            Some(false) => Some(true),
            _ => None,
        },
        Type::Paren(p) => primitive_kind(&p.elem),
        Type::Group(g) => primitive_kind(&g.elem),
        _ => None,
    }
}

/// `u32`, or `std::primitive::u32` / `core::primitive::u32`.
fn is_primitive_path(p: &syn::TypePath) -> bool {
    if p.qself.is_some() {
        return false;
    }
    let segs: Vec<_> = p.path.segments.iter().collect();
    if segs.iter().any(|s| !s.arguments.is_empty()) {
        return false;
    }
    let prefix_ok = match segs.len() {
        1 => p.path.leading_colon.is_none(),
        3 => (segs[0].ident == "std" || segs[0].ident == "core") && segs[1].ident == "primitive",
        _ => false,
    };
    prefix_ok
        && segs
            .last()
            .is_some_and(|s| PRIMITIVES.iter().any(|t| s.ident == t))
}

impl Recorded {
    /// `name = ::profiler_runtime::__macro_support::metric_value(name)`.
    pub(crate) fn field(&self) -> TokenStream {
        let rt = support_path();
        let ident = &self.ident;
        let value = if self.by_ref {
            quote!(*#ident)
        } else {
            quote!(#ident)
        };
        quote!(#ident = #rt::metric_value(#value))
    }
}
