//! Which name the crate being compiled gives a package: its `Cargo.toml` read for the few
//! things that matter here (the package's own name, and the keys of its dependency tables with
//! their `package = ".."` renames, including ones inherited from `[workspace.dependencies]`).
//!
//! This is the part of `proc-macro-crate` the expansion needs, without a full TOML parser: that
//! crate pulls eight more crates (toml_edit and its tree) into every build of a crate that only
//! wants `#[profile]`, and the runtime's no-default-features build has a budget of 30 crates.
//! The reader understands the TOML forms Cargo accepts for dependencies: `[dependencies]`,
//! `[dev-dependencies]`, `[build-dependencies]` and their `[target.'..'.*]` forms; entries as
//! `key = "1"`, `key = { package = "..", .. }` (over several lines too, as TOML 1.1 allows),
//! dotted `key.package = ".."` / `key.workspace = true`, and sub-tables `[dependencies.key]`;
//! quoted keys, comments, and strings containing `#`, `{` or `}`. Files are read with a size
//! limit ([`MAX_MANIFEST_BYTES`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Manifests larger than this are not read (a real one is a few KiB).
pub(crate) const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// How the crate being compiled reaches a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FoundCrate {
    /// The package being compiled is the package itself.
    Itself,
    /// A dependency, by this crate name (the key, `-` turned into `_`).
    Name(String),
}

/// Why a package was not found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NotFound {
    /// The manifest was read, and the package is not among its dependencies.
    Absent,
    /// No manifest could be read (`CARGO_MANIFEST_DIR` unset, an unreadable or huge file).
    NoManifest,
}

/// What one manifest says: the package's name and, per dependency key, the package it names
/// (`None`: inherited from the workspace without a `package` of its own).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Manifest {
    package: Option<String>,
    /// `(key, package, inherits from the workspace)` of every dependency entry.
    deps: Vec<(String, Option<String>, bool)>,
    /// `[workspace.dependencies]`: key -> package.
    workspace_deps: Vec<(String, String)>,
    is_workspace: bool,
}

/// Finds `package` in the manifest of the crate being compiled (`CARGO_MANIFEST_DIR`).
pub(crate) fn crate_name(package: &str) -> Result<FoundCrate, NotFound> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").ok_or(NotFound::NoManifest)?;
    let path = Path::new(&dir).join("Cargo.toml");
    let manifest = cached(&path).ok_or(NotFound::NoManifest)?;
    let workspace = || workspace_of(Path::new(&dir));
    manifest.find(package, workspace)
}

impl Manifest {
    /// Parses a manifest's text.
    pub(crate) fn parse(text: &str) -> Self {
        let mut m = Manifest::default();
        let mut section = Section::Other;
        let mut lines = LogicalLines::new(text);
        while let Some(line) = lines.next_line() {
            if let Some(header) = line.strip_prefix('[') {
                let header = header.trim_start_matches('[');
                let end = header.find(']').unwrap_or(header.len());
                section = Section::of(&split_key(&header[..end]));
                if section == Section::Workspace {
                    m.is_workspace = true;
                }
                if let Section::DepTable(key) = &section {
                    m.deps.push((key.clone(), None, false));
                }
                continue;
            }
            let Some((key, value)) = split_assignment(&line) else {
                continue;
            };
            let key = split_key(key);
            match &section {
                Section::Package if key == ["name"] => m.package = string_value(value),
                Section::Deps => m.add_dep(&key, value),
                Section::DepTable(dep) => m.set_dep_field(dep, &key, value),
                Section::WorkspaceDeps => {
                    if let Some(first) = key.first() {
                        let package = dep_package(&key[1..], value).unwrap_or(first.clone());
                        m.workspace_deps.push((first.clone(), package));
                    }
                }
                _ => {}
            }
        }
        m
    }

    /// One `key = value` line of a dependency table.
    fn add_dep(&mut self, key: &[String], value: &str) {
        let Some(first) = key.first() else {
            return;
        };
        let rest = &key[1..];
        match self.deps.iter().position(|(k, _, _)| k == first) {
            Some(_) => self.set_dep_field(first, rest, value),
            None => {
                self.deps.push((first.clone(), None, false));
                self.set_dep_field(first, rest, value);
            }
        }
    }

    /// Sets `package` or `workspace` of the entry `dep` from one of its fields (`rest` is the
    /// key within the entry: empty for `dep = value`).
    fn set_dep_field(&mut self, dep: &str, rest: &[String], value: &str) {
        let Some(entry) = self.deps.iter_mut().rev().find(|(k, _, _)| k == dep) else {
            return;
        };
        if let Some(p) = dep_package(rest, value) {
            entry.1 = Some(p);
        }
        let inherits = match rest {
            [f] if f == "workspace" => value.trim() == "true",
            [] => inline_field(value, "workspace").is_some_and(|v| v.trim() == "true"),
            _ => false,
        };
        entry.2 |= inherits;
    }

    /// How this manifest's crate reaches `package`.
    fn find(
        &self,
        package: &str,
        workspace: impl FnOnce() -> Option<Manifest>,
    ) -> Result<FoundCrate, NotFound> {
        if self.package.as_deref() == Some(package) {
            return Ok(FoundCrate::Itself);
        }
        let mut ws: Option<Option<Manifest>> = None;
        let mut workspace = Some(workspace);
        for (key, named, inherits) in &self.deps {
            let resolved = match named {
                Some(p) => Some(p.clone()),
                None if *inherits => {
                    let w = ws.get_or_insert_with(|| workspace.take().and_then(|f| f()));
                    w.as_ref()
                        .and_then(|w| w.workspace_deps.iter().find(|(k, _)| k == key))
                        .map(|(_, p)| p.clone())
                        .or_else(|| Some(key.clone()))
                }
                None => Some(key.clone()),
            };
            if resolved.as_deref() == Some(package) {
                return Ok(FoundCrate::Name(key.replace('-', "_")));
            }
        }
        Err(NotFound::Absent)
    }
}

/// The package a dependency entry names: `package = ".."` inside an inline table (`rest`
/// empty), or a dotted `package` field.
fn dep_package(rest: &[String], value: &str) -> Option<String> {
    match rest {
        [] => inline_field(value, "package").and_then(string_value),
        [f] if f == "package" => string_value(value),
        _ => None,
    }
}

/// What a table header is about.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Section {
    Package,
    /// A table of dependencies (`[dependencies]`, `[target.x.dev-dependencies]`, ...).
    Deps,
    /// One dependency as a table of its own (`[dependencies.key]`).
    DepTable(String),
    Workspace,
    WorkspaceDeps,
    Other,
}

impl Section {
    fn of(key: &[String]) -> Self {
        let is_deps = |s: &str| {
            matches!(
                s,
                "dependencies" | "dev-dependencies" | "build-dependencies" | "dev_dependencies"
            )
        };
        let key: Vec<&str> = key.iter().map(String::as_str).collect();
        match key.as_slice() {
            ["package"] => Section::Package,
            ["workspace"] => Section::Workspace,
            ["workspace", "dependencies"] => Section::WorkspaceDeps,
            [d] if is_deps(d) => Section::Deps,
            [d, name] if is_deps(d) => Section::DepTable((*name).to_owned()),
            ["target", _, d] if is_deps(d) => Section::Deps,
            ["target", _, d, name] if is_deps(d) => Section::DepTable((*name).to_owned()),
            _ => Section::Other,
        }
    }
}

/// Splits a (possibly dotted, possibly quoted) key into its parts: `a."b.c".d` -> `a`, `b.c`,
/// `d`.
fn split_key(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in key.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, '.') => parts.push(std::mem::take(&mut cur).trim().to_owned()),
            (None, c) => cur.push(c),
        }
    }
    parts.push(cur.trim().to_owned());
    parts
}

/// `key = value` at the top level of a line (the first `=` outside quotes).
fn split_assignment(line: &str) -> Option<(&str, &str)> {
    let i = *top_level_positions(line, '=').first()?;
    Some((line[..i].trim(), line[i + 1..].trim()))
}

/// The value of `field` inside an inline table `{ a = 1, field = "x" }`.
fn inline_field<'a>(table: &'a str, field: &str) -> Option<&'a str> {
    let inner = table.trim().strip_prefix('{')?.strip_suffix('}')?;
    split_top_level(inner, ',').into_iter().find_map(|part| {
        let (k, v) = split_assignment(part)?;
        (split_key(k) == [field]).then_some(v)
    })
}

/// Splits at `sep` outside quotes, braces and brackets.
fn split_top_level(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for i in top_level_positions(s, sep) {
        parts.push(&s[start..i]);
        start = i + sep.len_utf8();
    }
    parts.push(&s[start..]);
    parts
}

/// Byte positions of `sep` outside quotes, braces and brackets.
fn top_level_positions(s: &str, sep: char) -> Vec<usize> {
    let mut at = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => depth -= 1,
            (None, c) if c == sep && depth == 0 => at.push(i),
            _ => {}
        }
    }
    at
}

/// A basic or literal TOML string's contents (escapes other than `\"` and `\\` are kept as
/// written: package names have none).
fn string_value(v: &str) -> Option<String> {
    let v = v.trim();
    let q = v.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = v.strip_prefix(q)?.strip_suffix(q)?;
    Some(if q == '"' {
        body.replace("\\\"", "\"").replace("\\\\", "\\")
    } else {
        body.to_owned()
    })
}

/// The manifest's lines with comments removed, and an inline table or array that spans
/// several lines joined into one.
struct LogicalLines<'a> {
    lines: std::str::Lines<'a>,
}

impl<'a> LogicalLines<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            lines: text.lines(),
        }
    }

    fn next_line(&mut self) -> Option<String> {
        loop {
            let mut line = strip_comment(self.lines.next()?).trim().to_owned();
            // Join continuation lines while braces or brackets are open (bounded by the file).
            while open_depth(&line) > 0 {
                match self.lines.next() {
                    Some(more) => {
                        line.push(' ');
                        line.push_str(strip_comment(more).trim());
                    }
                    None => break,
                }
            }
            if !line.is_empty() {
                return Some(line);
            }
        }
    }
}

/// `line` without a `#` comment (a `#` inside a string is kept).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Braces and brackets left open on `line`, outside strings; a table header (`[x]`) is closed.
fn open_depth(line: &str) -> i32 {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// Reads `path` with a size limit; `None` when it cannot be read or is too large.
fn read_bounded(path: &Path) -> Option<String> {
    let f = std::fs::File::open(path).ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    f.take(MAX_MANIFEST_BYTES + 1)
        .read_to_string(&mut text)
        .ok()?;
    (text.len() as u64 <= MAX_MANIFEST_BYTES).then_some(text)
}

thread_local! {
    /// Parsed manifests by path, with the modification time they were read at: every
    /// `#[profile]` of a crate reads the same one.
    static CACHE: RefCell<HashMap<PathBuf, (Option<SystemTime>, Manifest)>> =
        RefCell::new(HashMap::new());
}

/// The parsed manifest at `path`, from the cache while the file is unchanged.
fn cached(path: &Path) -> Option<Manifest> {
    let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if let Some(m) = CACHE.with(|c| {
        c.borrow()
            .get(path)
            .filter(|(t, _)| *t == mtime && mtime.is_some())
            .map(|(_, m)| m.clone())
    }) {
        return Some(m);
    }
    let m = Manifest::parse(&read_bounded(path)?);
    CACHE.with(|c| c.borrow_mut().insert(path.to_owned(), (mtime, m.clone())));
    Some(m)
}

/// The workspace manifest above (or at) `dir`: the nearest `Cargo.toml` with a `[workspace]`.
fn workspace_of(dir: &Path) -> Option<Manifest> {
    dir.ancestors()
        .filter_map(|d| cached(&d.join("Cargo.toml")))
        .find(|m| m.is_workspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str, package: &str) -> Result<FoundCrate, NotFound> {
        Manifest::parse(text).find(package, || None)
    }

    fn name(n: &str) -> Result<FoundCrate, NotFound> {
        Ok(FoundCrate::Name(n.into()))
    }

    #[test]
    fn plain_renamed_dotted_and_table_forms() {
        let m = r#"
            [package]
            name = "mycrate" # a comment
            [dependencies]
            profiler-runtime = "0.1"
        "#;
        assert_eq!(find(m, "profiler-runtime"), name("profiler_runtime"));
        assert_eq!(find(m, "mycrate"), Ok(FoundCrate::Itself));
        assert_eq!(find(m, "rram-profiler"), Err(NotFound::Absent));

        let renamed = r#"
            [dev-dependencies]
            prt = { version = "0.1", package = "profiler-runtime", features = ["a,b", "c}"] }
        "#;
        assert_eq!(find(renamed, "profiler-runtime"), name("prt"));

        let dotted = "[dependencies]\nrp.package = 'rram-profiler'\nrp.version = \"1\"\n";
        assert_eq!(find(dotted, "rram-profiler"), name("rp"));

        let table =
            "[target.'cfg(unix)'.dependencies.rp]\nversion = \"1\"\npackage = \"rram-profiler\"\n";
        assert_eq!(find(table, "rram-profiler"), name("rp"));

        let multiline = "[dependencies]\nprt = {\n  package = \"profiler-runtime\", # why\n  version = \"0.1\",\n}\n";
        assert_eq!(find(multiline, "profiler-runtime"), name("prt"));
    }

    #[test]
    fn workspace_inheritance_resolves_renames() {
        let member = "[dependencies]\nprt = { workspace = true }\nrram-profiler.workspace = true\n";
        let ws = Manifest::parse(
            "[workspace]\nmembers = [\n \"a\",\n]\n[workspace.dependencies]\nprt = { path = \"x\", package = \"profiler-runtime\" }\n",
        );
        let m = Manifest::parse(member);
        assert_eq!(m.find("profiler-runtime", || Some(ws.clone())), name("prt"));
        assert_eq!(
            m.find("rram-profiler", || Some(ws.clone())),
            name("rram_profiler")
        );
    }

    #[test]
    fn strings_and_other_tables_do_not_confuse_it() {
        let m = r#"
            [package]
            name = "x"
            description = "uses [dependencies] and profiler-runtime = 1 # not a key"
            [features]
            profiler-runtime = []
            [dependencies]
            "quoted-key" = { package = "profiler-runtime" }
        "#;
        assert_eq!(find(m, "profiler-runtime"), name("quoted_key"));
    }

    #[test]
    fn this_crates_own_manifest_is_read() {
        let m = cached(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
        assert_eq!(m.find("profiler-macros", || None), Ok(FoundCrate::Itself));
        assert!(read_bounded(Path::new("/nonexistent/Cargo.toml")).is_none());
        assert!(read_bounded(Path::new("/")).is_none());
    }
}
