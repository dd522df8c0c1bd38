//! The primitive types the expansion treats as numbers: arguments of these types are recorded
//! as span fields, and a `ret` value of one is reported to the profiler as the metric `return`.
//! One list for both.
//!
//! Types are recognised by their spelling (a proc macro sees no types): `u32`,
//! `std::primitive::u32` or `core::primitive::u32`, or `&`/`&mut` of one. A type alias is not
//! recognised, so such an argument is simply not recorded.

use syn::Type;

/// Every primitive number type and `bool`: each is a `tracing` field value of its own kind
/// (integers as `i64`/`u64`/`i128`/`u128`, floats as `f64`) and a runtime `MetricValue`.
const PRIMITIVES: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64", "bool",
];

/// A type recognised as a primitive number or `bool`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Primitive {
    /// Written as `&T` or `&mut T`.
    pub(crate) by_ref: bool,
}

/// `Some` for a primitive number or `bool`, or a reference to one; `None` for anything else.
pub(crate) fn classify(ty: &Type) -> Option<Primitive> {
    match ty {
        Type::Path(p) if is_primitive_path(p) => Some(Primitive { by_ref: false }),
        Type::Reference(r) => match classify(&r.elem) {
            Some(Primitive { by_ref: false }) => Some(Primitive { by_ref: true }),
            _ => None,
        },
        Type::Paren(p) => classify(&p.elem),
        Type::Group(g) => classify(&g.elem),
        _ => None,
    }
}

/// `u32`, or `std::primitive::u32` / `core::primitive::u32` (with or without a leading `::`).
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

/// The `T` of a return type spelt `Result<T, ..>` (any path ending in `Result`).
pub(crate) fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last().filter(|s| s.ident == "Result")?;
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => match a.args.first() {
            Some(syn::GenericArgument::Type(t)) => Some(t),
            _ => None,
        },
        _ => None,
    }
}
