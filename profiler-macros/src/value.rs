//! The values the options take (`kind = ..`, `level = ..`, `err(Debug)`), parsed and checked.
//!
//! A leaf: it imports nothing from this crate. Every option whose value is a word goes through
//! one type, [`StrOrIdent`], so `kind = "computation"` and `kind = computation` are the same
//! thing, and a bad value gets one kind of error: it points at the value and lists the choices.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr};

/// The kinds a span may have, as written in `kind = ".."`; the first is the default.
///
/// The runtime's `EventKind::ALL` must list the same strings: `tests/kinds_contract.rs` compares
/// the two (through the hidden `__kinds!()` macro), and the expansion names each kind through
/// the runtime's `contract::EventKind::<Kind>` variant, so a kind missing there does not compile
/// either.
pub(crate) const KINDS: [&str; 6] = [
    "function_call",
    "memory_usage",
    "computation",
    "io_operation",
    "hardware_access",
    "algorithm_step",
];

/// A string literal or a bare identifier (`"computation"` or `computation`), with the span to
/// point errors at.
pub(crate) struct StrOrIdent {
    value: String,
    span: Span,
}

impl Parse for StrOrIdent {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            Ok(Self {
                value: lit.value(),
                span: lit.span(),
            })
        } else if input.peek(Ident::peek_any) {
            let ident = input.call(Ident::parse_any)?;
            Ok(Self {
                value: ident.unraw().to_string(),
                span: ident.span(),
            })
        } else {
            Err(input.error("expected a string literal or an identifier"))
        }
    }
}

impl StrOrIdent {
    /// The choice whose name is this value; otherwise an error at the value, naming `what`
    /// and listing every choice.
    fn choose<T: Copy>(&self, what: &str, choices: &[(&str, T)], any_case: bool) -> syn::Result<T> {
        let found = choices.iter().find(|(name, _)| {
            if any_case {
                name.eq_ignore_ascii_case(&self.value)
            } else {
                *name == self.value
            }
        });
        match found {
            Some(&(_, value)) => Ok(value),
            None => {
                let list = choices
                    .iter()
                    .map(|(name, _)| format!("\"{name}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                Err(syn::Error::new(
                    self.span,
                    format!("unknown {what} \"{}\"; expected one of {list}", self.value),
                ))
            }
        }
    }
}

/// `kind = ".."`: one of [`KINDS`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Kind(&'static str);

impl Default for Kind {
    fn default() -> Self {
        Self(KINDS[0])
    }
}

impl Kind {
    /// The kind as written (`hardware_access`).
    pub(crate) fn as_str(self) -> &'static str {
        self.0
    }
}

impl Parse for Kind {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let choices = KINDS.map(|k| (k, Kind(k)));
        input
            .parse::<StrOrIdent>()?
            .choose("profile kind", &choices, false)
    }
}

/// The verbosity of a span (and of its `ret` event), `level = ".."`, in any case.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) enum Level {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

impl Parse for Level {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        const CHOICES: [(&str, Level); 5] = [
            ("trace", Level::Trace),
            ("debug", Level::Debug),
            ("info", Level::Info),
            ("warn", Level::Warn),
            ("error", Level::Error),
        ];
        input.parse::<StrOrIdent>()?.choose("level", &CHOICES, true)
    }
}

/// How `err` and `ret` format the value they log: `err(Debug)`, `ret(Display)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FormatMode {
    Display,
    Debug,
}

impl FormatMode {
    /// The optional `(Debug)` / `(Display)` after `err` or `ret`; `default` without one.
    pub(crate) fn parse_optional(input: ParseStream<'_>, default: Self) -> syn::Result<Self> {
        const CHOICES: [(&str, FormatMode); 2] = [
            ("Debug", FormatMode::Debug),
            ("Display", FormatMode::Display),
        ];
        if !input.peek(syn::token::Paren) {
            return Ok(default);
        }
        let content;
        syn::parenthesized!(content in input);
        let mode = content
            .parse::<StrOrIdent>()?
            .choose("format mode", &CHOICES, false)?;
        if !content.is_empty() {
            return Err(content.error("expected `)`"));
        }
        Ok(mode)
    }
}

/// Whose allocations a span counts, `alloc = ".."`: its own thread's (the default) or every
/// thread's while it is open.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) enum AllocMode {
    #[default]
    Thread,
    Process,
}

impl Parse for AllocMode {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        const CHOICES: [(&str, AllocMode); 2] = [
            ("thread", AllocMode::Thread),
            ("process", AllocMode::Process),
        ];
        input
            .parse::<StrOrIdent>()?
            .choose("`alloc` mode", &CHOICES, false)
    }
}
