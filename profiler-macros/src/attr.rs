//! Parsing of the `#[profile(..)]` options. Nothing here generates code except the small
//! `ToTokens` impls of the option values themselves.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

use crate::fields::Fields;
use crate::support_path;

/// The kinds a span may have, as written in `kind = ".."`.
pub(crate) const KINDS: &[&str] = &[
    "function_call",
    "memory_usage",
    "computation",
    "io_operation",
    "hardware_access",
    "algorithm_step",
];

/// The options `#[profile(..)]` accepts.
const OPTIONS: &str = "`kind`, `name`, `fields(..)`, `skip(..)`, `skip_all`, `ret`, `err`, `level`";

/// Everything `#[profile(..)]` was given. Every option is optional.
#[derive(Clone, Default)]
pub(crate) struct ProfileArgs {
    /// `kind = ".."`, already checked against [`KINDS`].
    pub(crate) kind: Option<Ident>,
    /// `name = ".."`, and the key token (for errors about `name` where it does not belong).
    pub(crate) name: Option<(Ident, LitStr)>,
    pub(crate) level: Option<Level>,
    pub(crate) fields: Option<Fields>,
    /// `skip(..)`, in the order written.
    pub(crate) skips: Vec<Ident>,
    pub(crate) skip_all: bool,
    pub(crate) err: Option<FormatMode>,
    pub(crate) ret: Option<FormatMode>,
}

impl ProfileArgs {
    /// The kind as a field-name segment (`hardware_access`), defaulting to `function_call`.
    pub(crate) fn kind(&self) -> Ident {
        self.kind
            .clone()
            .unwrap_or_else(|| Ident::new("function_call", Span::call_site()))
    }

    pub(crate) fn level(&self) -> Level {
        self.level.unwrap_or(Level::Info)
    }
}

impl Parse for ProfileArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Self::default();
        while !input.is_empty() {
            let key = input.call(Ident::parse_any)?;
            let key_str = key.to_string();
            let duplicate = || {
                syn::Error::new(
                    key.span(),
                    format!("duplicate option `{key_str}`: give each option at most once"),
                )
            };
            match key_str.as_str() {
                "kind" => {
                    if args.kind.is_some() {
                        return Err(duplicate());
                    }
                    input.parse::<Token![=]>()?;
                    args.kind = Some(parse_kind(input)?);
                }
                "name" => {
                    if args.name.is_some() {
                        return Err(duplicate());
                    }
                    input.parse::<Token![=]>()?;
                    let lit: LitStr = input.parse()?;
                    if lit.value().is_empty() {
                        return Err(syn::Error::new(lit.span(), "`name` must not be empty"));
                    }
                    args.name = Some((key, lit));
                }
                "level" => {
                    if args.level.is_some() {
                        return Err(duplicate());
                    }
                    input.parse::<Token![=]>()?;
                    args.level = Some(input.parse()?);
                }
                "fields" => {
                    if args.fields.is_some() {
                        return Err(duplicate());
                    }
                    args.fields = Some(input.parse()?);
                }
                "skip" => {
                    if !args.skips.is_empty() {
                        return Err(duplicate());
                    }
                    if args.skip_all {
                        return Err(syn::Error::new(
                            key.span(),
                            "use either `skip(..)` or `skip_all`, not both",
                        ));
                    }
                    args.skips = parse_skips(input, &key)?;
                }
                "skip_all" => {
                    if args.skip_all {
                        return Err(duplicate());
                    }
                    if !args.skips.is_empty() {
                        return Err(syn::Error::new(
                            key.span(),
                            "use either `skip(..)` or `skip_all`, not both",
                        ));
                    }
                    args.skip_all = true;
                }
                "err" => {
                    if args.err.is_some() {
                        return Err(duplicate());
                    }
                    args.err = Some(FormatMode::parse_optional(input, FormatMode::Display)?);
                }
                "ret" => {
                    if args.ret.is_some() {
                        return Err(duplicate());
                    }
                    args.ret = Some(FormatMode::parse_optional(input, FormatMode::Debug)?);
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{key_str}`; expected one of {OPTIONS}"),
                    ))
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// `"hardware_access"` (or the bare identifier), checked against [`KINDS`].
fn parse_kind(input: ParseStream<'_>) -> syn::Result<Ident> {
    let (value, span) = if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        (lit.value(), lit.span())
    } else {
        let ident = input.call(Ident::parse_any)?;
        (ident.to_string(), ident.span())
    };
    if KINDS.contains(&value.as_str()) {
        Ok(Ident::new(&value, span))
    } else {
        let list = KINDS
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", ");
        Err(syn::Error::new(
            span,
            format!("unknown profile kind \"{value}\"; expected one of {list}"),
        ))
    }
}

/// `skip(a, b)`: at least one name, none twice.
fn parse_skips(input: ParseStream<'_>, key: &Ident) -> syn::Result<Vec<Ident>> {
    let content;
    syn::parenthesized!(content in input);
    let names = content.parse_terminated(Ident::parse_any, Token![,])?;
    if names.is_empty() {
        return Err(syn::Error::new(
            key.span(),
            "`skip(..)` needs at least one argument name; to skip all arguments use `skip_all`",
        ));
    }
    let mut skips: Vec<Ident> = Vec::with_capacity(names.len());
    for name in names {
        if skips.contains(&name) {
            return Err(syn::Error::new(
                name.span(),
                format!("argument `{name}` is skipped twice"),
            ));
        }
        skips.push(name);
    }
    Ok(skips)
}

/// How `err` and `ret` format the value they record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FormatMode {
    Display,
    Debug,
}

impl FormatMode {
    /// Parses the optional `(Debug)` / `(Display)` after `err` or `ret`.
    fn parse_optional(input: ParseStream<'_>, default: Self) -> syn::Result<Self> {
        if !input.peek(syn::token::Paren) {
            return Ok(default);
        }
        let content;
        syn::parenthesized!(content in input);
        let ident: Ident = content.parse()?;
        let mode = match ident.to_string().as_str() {
            "Debug" => Self::Debug,
            "Display" => Self::Display,
            other => {
                return Err(syn::Error::new(
                    ident.span(),
                    format!("unknown format mode `{other}`; expected `Debug` or `Display`"),
                ))
            }
        };
        if !content.is_empty() {
            return Err(content.error("expected `)`"));
        }
        Ok(mode)
    }

    /// The sigil tracing's field syntax uses for this mode.
    pub(crate) fn sigil(self) -> TokenStream {
        match self {
            Self::Display => quote!(%),
            Self::Debug => quote!(?),
        }
    }
}

/// The verbosity of the span (and of the `ret` event).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Parse for Level {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (value, span) = if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            (lit.value(), lit.span())
        } else {
            let ident = input.call(Ident::parse_any)?;
            (ident.to_string(), ident.span())
        };
        match value.to_ascii_lowercase().as_str() {
            "trace" => Ok(Self::Trace),
            "debug" => Ok(Self::Debug),
            "info" => Ok(Self::Info),
            "warn" => Ok(Self::Warn),
            "error" => Ok(Self::Error),
            _ => Err(syn::Error::new(
                span,
                format!(
                    "unknown level \"{value}\"; expected one of \"trace\", \"debug\", \"info\", \
                     \"warn\", \"error\""
                ),
            )),
        }
    }
}

impl ToTokens for Level {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let level = match self {
            Self::Trace => quote!(TRACE),
            Self::Debug => quote!(DEBUG),
            Self::Info => quote!(INFO),
            Self::Warn => quote!(WARN),
            Self::Error => quote!(ERROR),
        };
        let rt = support_path();
        tokens.extend(quote!(#rt::tracing::Level::#level));
    }
}
