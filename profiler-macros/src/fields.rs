//! `fields(..)`: extra span fields in tracing's own syntax (`n = g.nrows()`, `label = %s`,
//! `dbg = ?x`, `a.b = 1`, `{ CONST } = v`, `empty`). Parsing only; the expansion writes them
//! out (`expand::gen_field`).

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

use crate::value::FormatMode;

/// `fields(..)`: the entries, in the order written.
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

impl Fields {
    /// The names given as a single identifier (`n`, not `a.b` nor `{ C }`): these replace the
    /// function arguments of the same name.
    pub(crate) fn single_names(&self) -> impl Iterator<Item = &Ident> {
        self.0.iter().filter_map(|f| f.name.single_ident())
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

/// The key as the user wrote it (`a.b`, `{ C }`).
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
            // The profiler's own marker fields are `profile.<..>`; a user field there could
            // change a span's kind or its bookkeeping.
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
