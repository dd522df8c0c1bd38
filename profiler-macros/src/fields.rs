//! `fields(..)`: extra span fields in tracing's own syntax, passed through to `span!`.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

use crate::attr::FormatMode;
use crate::support_path;

/// `fields(..)`: tracing's field syntax, passed through to `span!`.
#[derive(Clone)]
pub(crate) struct Fields(pub(crate) Punctuated<Field, Token![,]>);

impl Parse for Fields {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let content;
        syn::parenthesized!(content in input);
        let fields = content.parse_terminated(Field::parse, Token![,])?;
        Ok(Self(fields))
    }
}

impl ToTokens for Fields {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.0.to_tokens(tokens);
    }
}

/// One `fields(..)` entry: `[%|?]key[ = [%|?]value]`.
#[derive(Clone)]
pub(crate) struct Field {
    pub(crate) name: FieldName,
    pub(crate) value: Option<Expr>,
    pub(crate) sigil: Option<FormatMode>,
}

/// A field's key: a dotted name, or a constant expression in braces (`{ NAME } = value`).
#[derive(Clone)]
pub(crate) enum FieldName {
    Dotted(Punctuated<Ident, Token![.]>),
    Expr(Expr),
}

impl FieldName {
    /// The name when it is a single identifier (`n`, not `a.b` nor `{ C }`).
    pub(crate) fn single_ident(&self) -> Option<&Ident> {
        match self {
            Self::Dotted(p) if p.len() == 1 => p.first(),
            _ => None,
        }
    }
}

impl ToTokens for FieldName {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Self::Dotted(p) => p.to_tokens(tokens),
            Self::Expr(e) => tokens.extend(quote!({ #e })),
        }
    }
}

fn parse_sigil(input: ParseStream<'_>) -> syn::Result<Option<FormatMode>> {
    if input.peek(Token![%]) {
        input.parse::<Token![%]>()?;
        Ok(Some(FormatMode::Display))
    } else if input.peek(Token![?]) {
        input.parse::<Token![?]>()?;
        Ok(Some(FormatMode::Debug))
    } else {
        Ok(None)
    }
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut sigil = parse_sigil(input)?;
        let name = if input.peek(syn::token::Brace) {
            let content;
            syn::braced!(content in input);
            FieldName::Expr(content.parse()?)
        } else {
            let dotted = Punctuated::parse_separated_nonempty_with(input, Ident::parse_any)?;
            if let Some(first) = dotted.first() {
                if first == "profile" && dotted.len() > 1 {
                    return Err(syn::Error::new(
                        first.span(),
                        "field names starting with `profile.` are reserved for the profiler",
                    ));
                }
            }
            FieldName::Dotted(dotted)
        };
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            if let Some(s) = parse_sigil(input)? {
                sigil = Some(s);
            }
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Self { name, value, sigil })
    }
}

impl ToTokens for Field {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let name = &self.name;
        let sigil = self.sigil.map(FormatMode::sigil);
        match (&self.value, sigil) {
            (Some(value), sigil) => tokens.extend(quote!(#name = #sigil #value)),
            // `fields(n)`: an empty field, to be recorded later (as `#[instrument]` does).
            (None, None) => {
                let rt = support_path();
                tokens.extend(quote!(#name = #rt::tracing::field::Empty));
            }
            // `fields(%x)` / `fields(?x)`: tracing's shorthand for the local `x`.
            (None, Some(sigil)) => tokens.extend(quote!(#sigil #name)),
        }
    }
}
