//! Parsing of the `#[profile(..)]` options (and of the same options after the name in
//! `profile_scope!`). Nothing here generates code.

use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

use crate::fields::Fields;
use crate::value::{AllocMode, FormatMode, Kind, Level};

/// The options `#[profile(..)]` accepts.
pub(crate) const FN_OPTIONS: &[&str] = &[
    "kind", "name", "fields", "skip", "skip_all", "ret", "err", "level", "alloc", "crate",
    "skip_fn",
];

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
    pub(crate) alloc: Option<AllocMode>,
    /// `crate = "path"`: the path of the runtime crate, instead of finding it.
    pub(crate) krate: Option<syn::Path>,
    /// `skip_fn`: this method of a profiled `impl` block is left unprofiled (the key token, for
    /// errors where it does not belong).
    pub(crate) skip_fn: Option<Ident>,
}

impl ProfileArgs {
    pub(crate) fn kind(&self) -> Kind {
        self.kind.unwrap_or_default()
    }

    pub(crate) fn level(&self) -> Level {
        self.level.unwrap_or_default()
    }

    pub(crate) fn alloc(&self) -> AllocMode {
        self.alloc.unwrap_or_default()
    }

    /// Parses `key = value, key(..), flag` options up to the end of `input`, accepting only
    /// the keys in `allowed` (an error at any other lists them).
    pub(crate) fn parse_options(input: ParseStream<'_>, allowed: &[&str]) -> syn::Result<Self> {
        let mut args = Self::default();
        // Every key given, for `skip_fn`'s check that it comes alone.
        let mut keys: Vec<Ident> = Vec::new();
        while !input.is_empty() {
            let key = input.call(Ident::parse_any)?;
            let key_str = key.to_string();
            if !allowed.contains(&key_str.as_str()) {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown option `{key_str}`; expected one of {}",
                        list_options(allowed)
                    ),
                ));
            }
            if keys.contains(&key) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate option `{key_str}`: give each option at most once"),
                ));
            }
            args.parse_option(input, &key, &key_str)?;
            keys.push(key);
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if let Some(skip_fn) = &args.skip_fn {
            if let Some(other) = keys.iter().find(|k| *k != skip_fn) {
                return Err(syn::Error::new(
                    other.span(),
                    format!(
                        "`skip_fn` leaves the method unprofiled, so it takes no other option \
                         (`{other}` here)"
                    ),
                ));
            }
        }
        Ok(args)
    }

    /// The value of one option (its key already read and checked).
    fn parse_option(
        &mut self,
        input: ParseStream<'_>,
        key: &Ident,
        key_str: &str,
    ) -> syn::Result<()> {
        let not_both =
            || syn::Error::new(key.span(), "use either `skip(..)` or `skip_all`, not both");
        match key_str {
            "kind" => {
                input.parse::<Token![=]>()?;
                self.kind = Some(input.parse()?);
            }
            "name" => {
                input.parse::<Token![=]>()?;
                self.name = Some((key.clone(), parse_name(input)?));
            }
            "level" => {
                input.parse::<Token![=]>()?;
                self.level = Some(input.parse()?);
            }
            "fields" => self.fields = Some(input.parse()?),
            "skip" => {
                if self.skip_all {
                    return Err(not_both());
                }
                self.skips = parse_skips(input, key)?;
            }
            "skip_all" => {
                if !self.skips.is_empty() {
                    return Err(not_both());
                }
                self.skip_all = true;
            }
            "err" => self.err = Some(FormatMode::parse_optional(input, FormatMode::Display)?),
            "ret" => self.ret = Some(FormatMode::parse_optional(input, FormatMode::Debug)?),
            "alloc" => {
                input.parse::<Token![=]>()?;
                self.alloc = Some(input.parse()?);
            }
            "crate" => {
                input.parse::<Token![=]>()?;
                self.krate = Some(parse_crate_path(input)?);
            }
            "skip_fn" => self.skip_fn = Some(key.clone()),
            // `allowed` only holds the keys above.
            _ => {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown option `{key_str}`"),
                ))
            }
        }
        Ok(())
    }
}

impl Parse for ProfileArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Self::parse_options(input, FN_OPTIONS)
    }
}

/// `` `kind`, `fields(..)`, .. `` for an error message.
fn list_options(options: &[&str]) -> String {
    options
        .iter()
        .map(|o| match *o {
            "fields" | "skip" => format!("`{o}(..)`"),
            _ => format!("`{o}`"),
        })
        .collect::<Vec<_>>()
        .join(", ")
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
fn parse_crate_path(input: ParseStream<'_>) -> syn::Result<syn::Path> {
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
