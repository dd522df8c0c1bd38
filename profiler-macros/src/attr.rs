//! Parsing of the `#[profile(..)]` options. Nothing here generates code.

use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

use crate::fields::Fields;
use crate::value::{FormatMode, Kind, Level};

/// The options `#[profile(..)]` accepts.
const OPTIONS: &str =
    "`kind`, `name`, `fields(..)`, `skip(..)`, `skip_all`, `ret`, `err`, `level`, `crate`";

/// Everything `#[profile(..)]` was given. Every option is optional.
#[derive(Clone, Default)]
pub(crate) struct ProfileArgs {
    pub(crate) kind: Option<Kind>,
    /// `name = ".."`, and the key token (for errors about `name` where it does not belong).
    pub(crate) name: Option<(Ident, LitStr)>,
    pub(crate) level: Option<Level>,
    pub(crate) fields: Option<Fields>,
    /// `skip(..)`, in the order written.
    pub(crate) skips: Vec<Ident>,
    pub(crate) skip_all: bool,
    pub(crate) err: Option<FormatMode>,
    pub(crate) ret: Option<FormatMode>,
    /// `crate = "path"`: the path of the runtime crate, instead of finding it.
    pub(crate) krate: Option<syn::Path>,
}

impl ProfileArgs {
    pub(crate) fn kind(&self) -> Kind {
        self.kind.unwrap_or_default()
    }

    pub(crate) fn level(&self) -> Level {
        self.level.unwrap_or_default()
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
            let not_both =
                || syn::Error::new(key.span(), "use either `skip(..)` or `skip_all`, not both");
            match key_str.as_str() {
                "kind" => {
                    if args.kind.is_some() {
                        return Err(duplicate());
                    }
                    input.parse::<Token![=]>()?;
                    args.kind = Some(input.parse()?);
                }
                "name" => {
                    if args.name.is_some() {
                        return Err(duplicate());
                    }
                    input.parse::<Token![=]>()?;
                    args.name = Some((key, parse_name(input)?));
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
                        return Err(not_both());
                    }
                    args.skips = parse_skips(input, &key)?;
                }
                "skip_all" => {
                    if args.skip_all {
                        return Err(duplicate());
                    }
                    if !args.skips.is_empty() {
                        return Err(not_both());
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
                "crate" => {
                    if args.krate.is_some() {
                        return Err(duplicate());
                    }
                    input.parse::<Token![=]>()?;
                    args.krate = Some(parse_crate_path(input)?);
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

/// A span name: a non-empty string literal.
pub(crate) fn parse_name(input: ParseStream<'_>) -> syn::Result<LitStr> {
    let lit: LitStr = input.parse()?;
    if lit.value().is_empty() {
        return Err(syn::Error::new(lit.span(), "a span name must not be empty"));
    }
    Ok(lit)
}

/// `crate = "path"`: a path in a string literal, as serde's `crate = ".."`.
pub(crate) fn parse_crate_path(input: ParseStream<'_>) -> syn::Result<syn::Path> {
    let lit: LitStr = input.parse()?;
    lit.parse::<syn::Path>().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!(
                "`crate` takes the path of the runtime crate, such as \"::profiler_runtime\"; \
                 \"{}\" is not a path",
                lit.value()
            ),
        )
    })
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
