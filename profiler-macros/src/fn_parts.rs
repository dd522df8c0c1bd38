//! A function as the expansion sees it: attributes, visibility, signature, and the body as raw
//! tokens (as tracing-attributes' `MaybeItemFn`), so a body that does not parse still reaches
//! rustc, which then reports the real error instead of this macro.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, ImplItemFn, ItemFn, Signature, Token, Visibility};

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

/// The default span name: the function's name, or `Type::method` inside a profiled `impl`.
pub(crate) fn default_name(sig: &Signature, self_type: Option<&str>) -> String {
    let ident = sig.ident.unraw();
    match self_type {
        Some(ty) => format!("{ty}::{ident}"),
        None => ident.to_string(),
    }
}

impl FnParts {
    /// The function again, with `body` in place of its statements (its attributes, visibility
    /// and signature unchanged).
    pub(crate) fn with_body(self, body: TokenStream) -> TokenStream {
        let Self {
            outer_attrs,
            inner_attrs,
            vis,
            defaultness,
            sig,
            ..
        } = self;
        quote::quote! {
            #(#outer_attrs)*
            #vis #defaultness #sig {
                #(#inner_attrs)*
                #body
            }
        }
    }
}
