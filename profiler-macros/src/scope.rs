//! `profile_scope!("name", kind = "..", level = .., fields(..), alloc = "..", crate = "..")`:
//! the arguments. Everything after the name takes `#[profile(..)]`'s syntax and meaning; the
//! expansion is `expand::gen_scope`.

use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

use crate::attr::{parse_name, ProfileArgs};

/// The options `profile_scope!` takes after the name.
const SCOPE_OPTIONS: &[&str] = &["kind", "level", "fields", "alloc", "crate"];

/// What `profile_scope!(..)` was given.
pub(crate) struct ScopeArgs {
    pub(crate) name: LitStr,
    pub(crate) options: ProfileArgs,
}

impl Parse for ScopeArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "`profile_scope!` needs the span's name: `profile_scope!(\"name\")` or \
                 `profile_scope!(\"name\", kind = \"computation\")`",
            ));
        }
        let name = parse_name(input)?;
        let options = if input.is_empty() {
            ProfileArgs::default()
        } else {
            input.parse::<Token![,]>()?;
            ProfileArgs::parse_options(input, SCOPE_OPTIONS)?
        };
        Ok(Self { name, options })
    }
}
