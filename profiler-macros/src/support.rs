//! The path the expansion reaches the runtime's `__macro_support` module through.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// `<path to profiler-runtime>::__macro_support`, written wherever the expansion needs the
/// runtime (`#rt::tracing::span!`, `#rt::contract::SYNC_FIELD`, ...).
#[derive(Clone)]
pub(crate) struct Support(TokenStream);

impl Support {
    /// Through the runtime crate at `runtime` (`::profiler_runtime`).
    pub(crate) fn new(runtime: TokenStream) -> Self {
        Self(quote!(#runtime::__macro_support))
    }
}

impl Default for Support {
    fn default() -> Self {
        Self::new(quote!(::profiler_runtime))
    }
}

impl ToTokens for Support {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.0.to_tokens(tokens);
    }
}
