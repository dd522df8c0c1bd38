//! Where the runtime is: the path every expansion reaches `profiler-runtime`'s
//! `__macro_support` module through, whatever the using crate depends on.
//!
//! In order:
//! 1. `#[profile(crate = "path")]`: the path reaches the runtime crate (like serde's
//!    `crate = ".."`), for a crate that re-exports it under another name.
//! 2. `profiler-runtime` in the using crate's `Cargo.toml` (renamed or not, as a dependency or
//!    a dev-dependency, found by [`crate::manifest`]): `::<its name>`.
//! 3. `rram-profiler` (renamed or not), which re-exports the runtime as `profiler_runtime`:
//!    `::<its name>::profiler_runtime`.
//!
//! Neither found is a compile error that says which dependency to add. Where the manifest
//! cannot be read at all (a build outside cargo), the expansion assumes `::profiler_runtime`.
//!
//! Inside one of the two packages themselves (`FoundCrate::Itself`) the path depends on which
//! crate of the package is being compiled: the library and its unit tests reach it as `crate`;
//! its doctests, examples and binaries are separate crates that link it, and reach it by its
//! name.

use crate::manifest::{crate_name, FoundCrate, NotFound};
use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::Ident;

/// The runtime's package.
const RUNTIME_PACKAGE: &str = "profiler-runtime";
/// The umbrella package, which re-exports the runtime as [`UMBRELLA_MODULE`].
const UMBRELLA_PACKAGE: &str = "rram-profiler";
/// The name under which the umbrella crate re-exports the runtime.
const UMBRELLA_MODULE: &str = "profiler_runtime";

/// `<path to profiler-runtime>::__macro_support`, written wherever the expansion needs the
/// runtime (`#rt::tracing::span!`, `#rt::contract::span_marker`, ...).
#[derive(Clone)]
pub(crate) struct Support(TokenStream);

impl Support {
    /// Through the runtime crate at `runtime` (`::profiler_runtime`).
    fn new(runtime: TokenStream) -> Self {
        Self(quote!(#runtime::__macro_support))
    }

    /// The path for an expansion in the crate being compiled: `krate` (from `crate = ".."`)
    /// where given, else found in its `Cargo.toml` (see the module's documentation).
    pub(crate) fn find(krate: Option<&syn::Path>) -> syn::Result<Self> {
        if let Some(path) = krate {
            return Ok(Self::new(path.to_token_stream()));
        }
        let compiling = Compiling::from_env();
        match locate(
            lookup(RUNTIME_PACKAGE),
            || lookup(UMBRELLA_PACKAGE),
            &compiling,
        ) {
            Located::Path(path) => Ok(Self::new(path)),
            Located::Unnameable(name) => Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "`#[profile]` cannot name the dependency `{name}`; give the path of the \
                     runtime with `#[profile(crate = \"..\")]`"
                ),
            )),
            Located::Nowhere => Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "`#[profile]` needs the profiler's runtime: add `{RUNTIME_PACKAGE}` (or \
                     `{UMBRELLA_PACKAGE}`, which re-exports it) to this crate's \
                     `[dependencies]`, or give the path of a crate that re-exports it with \
                     `#[profile(crate = \"path::to::profiler_runtime\")]`"
                ),
            )),
        }
    }
}

impl ToTokens for Support {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.0.to_tokens(tokens);
    }
}

/// What the using crate's manifest says about one package.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Lookup {
    Found(FoundCrate),
    /// The manifest was read, and the package is not in it.
    Absent,
    /// No manifest could be read (`CARGO_MANIFEST_DIR` unset, an unreadable file).
    Unknown,
}

fn lookup(package: &str) -> Lookup {
    match crate_name(package) {
        Ok(found) => Lookup::Found(found),
        Err(NotFound::Absent) => Lookup::Absent,
        Err(NotFound::NoManifest) => Lookup::Unknown,
    }
}

/// The crate being compiled, as far as it decides what `FoundCrate::Itself` means.
#[derive(Clone, Debug, Default)]
struct Compiling {
    /// `CARGO_CRATE_NAME`.
    crate_name: Option<String>,
    /// A binary or an example (`CARGO_BIN_NAME` is set): a crate of its own.
    binary: bool,
    /// A doctest: rustdoc compiles each one as a crate of its own, with the library's
    /// `CARGO_CRATE_NAME`, and sets `UNSTABLE_RUSTDOC_TEST_PATH` while it does.
    doctest: bool,
}

impl Compiling {
    fn from_env() -> Self {
        Self {
            crate_name: std::env::var("CARGO_CRATE_NAME").ok(),
            binary: std::env::var_os("CARGO_BIN_NAME").is_some(),
            doctest: std::env::var_os("UNSTABLE_RUSTDOC_TEST_PATH").is_some(),
        }
    }

    /// Whether this is the library of `package` (or its unit tests), where the library's own
    /// items are reached through `crate`.
    fn is_library_of(&self, package: &str) -> bool {
        !self.binary
            && !self.doctest
            && self.crate_name.as_deref() == Some(crate_ident_of(package).as_str())
    }
}

/// A package's library name: `profiler-runtime` -> `profiler_runtime`.
fn crate_ident_of(package: &str) -> String {
    package.replace('-', "_")
}

/// Where [`locate`] found the runtime.
#[derive(Debug)]
enum Located {
    Path(TokenStream),
    /// Found under a name that is not an identifier.
    Unnameable(String),
    Nowhere,
}

/// The runtime's path from the lookups of both packages (the umbrella's only made when the
/// runtime itself is absent).
fn locate(runtime: Lookup, umbrella: impl FnOnce() -> Lookup, compiling: &Compiling) -> Located {
    let assumed = || {
        let name = Ident::new(&crate_ident_of(RUNTIME_PACKAGE), Span::call_site());
        Located::Path(quote!(::#name))
    };
    match runtime {
        Lookup::Found(found) => return crate_path(RUNTIME_PACKAGE, &found, compiling),
        Lookup::Unknown => return assumed(),
        Lookup::Absent => {}
    }
    match umbrella() {
        Lookup::Found(found) => match crate_path(UMBRELLA_PACKAGE, &found, compiling) {
            Located::Path(root) => {
                let module = Ident::new(UMBRELLA_MODULE, Span::call_site());
                Located::Path(quote!(#root::#module))
            }
            other => other,
        },
        Lookup::Unknown => assumed(),
        Lookup::Absent => Located::Nowhere,
    }
}

/// The path of `package`'s crate, as `found` in the manifest.
fn crate_path(package: &str, found: &FoundCrate, compiling: &Compiling) -> Located {
    let name = match found {
        FoundCrate::Itself if compiling.is_library_of(package) => {
            return Located::Path(quote!(crate));
        }
        FoundCrate::Itself => crate_ident_of(package),
        FoundCrate::Name(name) => name.clone(),
    };
    match syn::parse_str::<Ident>(&name) {
        Ok(ident) => Located::Path(quote!(::#ident)),
        Err(_) => Located::Unnameable(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(l: Located) -> String {
        match l {
            Located::Path(p) => p.to_string().replace(' ', ""),
            other => panic!("expected a path, got {other:?}"),
        }
    }

    fn named(n: &str) -> Lookup {
        Lookup::Found(FoundCrate::Name(n.into()))
    }

    fn compiling(crate_name: &str) -> Compiling {
        Compiling {
            crate_name: Some(crate_name.into()),
            ..Compiling::default()
        }
    }

    #[test]
    fn the_runtime_first_then_the_umbrella_renamed_or_not() {
        let user = compiling("user");
        let never = || -> Lookup { panic!("the umbrella is looked up only without the runtime") };
        let p = path(locate(named("profiler_runtime"), never, &user));
        assert_eq!(p, "::profiler_runtime");
        assert_eq!(path(locate(named("prt"), never, &user)), "::prt");
        let p = path(locate(Lookup::Absent, || named("rram_profiler"), &user));
        assert_eq!(p, "::rram_profiler::profiler_runtime");
        let p = path(locate(Lookup::Absent, || named("rp"), &user));
        assert_eq!(p, "::rp::profiler_runtime");
    }

    #[test]
    fn neither_is_an_error_and_no_manifest_assumes_the_runtime() {
        let user = compiling("user");
        let none = locate(Lookup::Absent, || Lookup::Absent, &user);
        assert!(matches!(none, Located::Nowhere), "{none:?}");
        let p = path(locate(Lookup::Unknown, || Lookup::Unknown, &user));
        assert_eq!(p, "::profiler_runtime");
        let bad = locate(named("not an ident"), || Lookup::Absent, &user);
        assert!(matches!(bad, Located::Unnameable(_)), "{bad:?}");
    }

    #[test]
    fn inside_the_package_itself() {
        let itself = || Lookup::Found(FoundCrate::Itself);
        let lib = compiling("profiler_runtime");
        assert_eq!(path(locate(itself(), || Lookup::Absent, &lib)), "crate");
        let doctest = Compiling {
            doctest: true,
            ..compiling("profiler_runtime")
        };
        let p = path(locate(itself(), || Lookup::Absent, &doctest));
        assert_eq!(p, "::profiler_runtime");
        let example = Compiling {
            binary: true,
            ..compiling("demo")
        };
        let p = path(locate(itself(), || Lookup::Absent, &example));
        assert_eq!(p, "::profiler_runtime");
        // The umbrella's own library, doctests and binaries.
        let root = compiling("rram_profiler");
        let p = path(locate(Lookup::Absent, itself, &root));
        assert_eq!(p, "crate::profiler_runtime");
        let cli = Compiling {
            binary: true,
            ..compiling("rram_prof")
        };
        let p = path(locate(Lookup::Absent, itself, &cli));
        assert_eq!(p, "::rram_profiler::profiler_runtime");
    }
}
