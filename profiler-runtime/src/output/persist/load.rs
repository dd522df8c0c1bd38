//! What may be read as a profile, how much of it is kept, and how much memory that may take.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::budget;
use super::check::{check_head, check_version, classify};
use super::consistency::{check_operation_sums, Repairs};
use super::context::{with_context, ParseContext};
use super::table::FileIn;
use super::{io_err, BUF_BYTES};
use crate::error::ProfileError;
use crate::model::profile::Profile;
use crate::output::write::{kind_of, FileId};

/// In-memory size of a kept event relative to its row in the file: a heuristic from this
/// project's profiles (a row of about 100 bytes becomes a `ProfileEvent` of about 170 bytes
/// plus its metrics map), used only to refuse early a file that cannot fit.
const KEPT_EVENTS_PER_FILE_BYTE: u64 = 3;

/// Where a profile comes from: a path (a regular file), or standard input (`-` on the
/// command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file.
    Path(PathBuf),
    /// Standard input.
    Stdin,
}

impl Input {
    /// `-` is standard input; anything else a path.
    pub fn from_arg(arg: impl AsRef<Path>) -> Input {
        let arg = arg.as_ref();
        if arg.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::Path(arg.to_owned())
        }
    }

    /// How the input is named in messages.
    pub fn label(&self) -> PathBuf {
        match self {
            Input::Path(p) => p.clone(),
            Input::Stdin => PathBuf::from("<stdin>"),
        }
    }

    /// The identity of the file behind the input (for standard input, the file it was
    /// redirected from, if any): an output must never be the same file.
    pub fn file_id(&self) -> Option<FileId> {
        match self {
            Input::Path(p) => FileId::of_path(p).ok().flatten(),
            Input::Stdin => stdin_id(),
        }
    }
}

#[cfg(unix)]
fn stdin_id() -> Option<FileId> {
    use std::os::fd::AsFd;
    let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
    FileId::of_file(&File::from(fd)).ok()
}

#[cfg(not(unix))]
fn stdin_id() -> Option<FileId> {
    None
}

/// A profile read by [`LoadOptions`], with what the load found.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The profile (without events when [`LoadOptions::events`] is `false`).
    pub profile: Profile,
    /// Events in the file, whether kept or not.
    pub events_in_file: u64,
    /// What a lenient load repaired (all zero for a strict one, which refuses instead).
    pub repairs: Repairs,
}

/// How to read a profile: strict or lenient, with or without its events.
///
/// ```
/// use profiler_runtime::{output::persist::LoadOptions, Profile};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("p.json");
/// Profile::empty().save(&path).unwrap();
/// let loaded = LoadOptions::new().lenient(true).events(false).load(&path).unwrap();
/// assert_eq!(loaded.events_in_file, 0);
/// assert_eq!(loaded.repairs.total(), 0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    lenient: bool,
    events: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions::new()
    }
}

impl LoadOptions {
    /// Strict, keeping the events.
    pub fn new() -> Self {
        LoadOptions {
            lenient: false,
            events: true,
        }
    }

    /// Repair inconsistent events (and count the repairs in [`Loaded::repairs`]) instead of
    /// refusing the file.
    pub fn lenient(mut self, yes: bool) -> Self {
        self.lenient = yes;
        self
    }

    /// Keep the raw events (`true`, the default), or only count and check them (`false`: the
    /// profile's `events` is empty, and memory stays near the aggregates' size).
    pub fn events(mut self, keep: bool) -> Self {
        self.events = keep;
        self
    }

    /// Reads `input`: a path, or standard input.
    pub fn read(&self, input: &Input) -> Result<Loaded, ProfileError> {
        match input {
            Input::Path(p) => self.load(p),
            Input::Stdin => self.load_stdin(),
        }
    }

    /// Reads the profile at `path`, which must be a regular file (anything else is refused
    /// before it is read: a FIFO would block, a device never end).
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Loaded, ProfileError> {
        let path = path.as_ref();
        let file = open_regular(path)?;
        let len = file
            .metadata()
            .map_err(|e| io_err("reading", path, e))?
            .len();
        if self.events {
            // The bytes, held while parsing in place, and the events they become.
            let need = len.saturating_add(len.saturating_mul(KEPT_EVENTS_PER_FILE_BYTE));
            budget::ensure(need, path, "loading this file with its events")?;
            let mut bytes = Vec::new();
            let cap = usize::try_from(len).unwrap_or(usize::MAX);
            bytes
                .try_reserve_exact(cap.saturating_add(1))
                .map_err(|_| ProfileError::OutOfMemory {
                    path: path.to_owned(),
                    reason: format!("cannot allocate {} MiB to read the file", len >> 20),
                })?;
            (&file)
                .take(len.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(|e| io_err("reading", path, e))?;
            self.parse_slice(&bytes, path)
        } else {
            // Streamed: nothing but the aggregates and 24 bytes per event's id are held.
            budget::ensure(len / 4, path, "checking this file's events")?;
            let mut r = BufReader::with_capacity(BUF_BYTES, file);
            self.parse_reader(&mut r, path)
        }
    }

    /// Reads a profile from standard input, streamed, up to the memory available.
    pub fn load_stdin(&self) -> Result<Loaded, ProfileError> {
        let label = Path::new("<stdin>");
        let limit = budget::available_bytes()
            .map_or(u64::MAX, |a| a.saturating_sub(budget::RESERVE_BYTES))
            / if self.events {
                1 + KEPT_EVENTS_PER_FILE_BYTE
            } else {
                4
            };
        let mut r = BufReader::with_capacity(
            BUF_BYTES,
            Limited {
                inner: io::stdin().lock(),
                left: limit,
                limit,
            },
        );
        self.parse_reader(&mut r, label)
    }

    /// Parses a profile held in memory.
    pub fn parse_slice(&self, bytes: &[u8], label: &Path) -> Result<Loaded, ProfileError> {
        check_head(bytes, label)?;
        self.parse(label, || serde_json::from_slice::<FileIn>(bytes))
    }

    /// Parses a profile from a reader.
    pub fn parse_reader<R: BufRead>(
        &self,
        reader: &mut R,
        label: &Path,
    ) -> Result<Loaded, ProfileError> {
        let head = reader
            .fill_buf()
            .map_err(|source| io_err("reading", label, source))?;
        check_head(head, label)?;
        self.parse(label, || serde_json::from_reader::<_, FileIn>(reader))
    }

    fn parse(
        &self,
        label: &Path,
        parse: impl FnOnce() -> serde_json::Result<FileIn>,
    ) -> Result<Loaded, ProfileError> {
        let ctx = ParseContext {
            keep_events: self.events,
            lenient: self.lenient,
            path: label.to_owned(),
            failure: None,
            tally: None,
        };
        let (parsed, ctx) = with_context(ctx, parse);
        let file = match (parsed, ctx.failure) {
            (_, Some(typed)) => return Err(typed),
            (Err(e), None) => return Err(classify(e, label)),
            (Ok(f), None) => f,
        };
        check_version(file.format_version, label)?;
        check_operation_sums(file.operations(), label)?;
        let mut profile = file.into_profile();
        let (events_in_file, repairs) = match ctx.tally {
            Some(t) => {
                let n = t.seen();
                (n, t.finish(&mut profile.events, label)?)
            }
            None => (0, Repairs::default()),
        };
        Ok(Loaded {
            profile,
            events_in_file,
            repairs,
        })
    }
}

/// Opens `path` for reading if it is a regular file, refusing anything else before reading a
/// byte (and without blocking on a FIFO).
fn open_regular(path: &Path) -> Result<File, ProfileError> {
    let refuse = |m: &fs::Metadata| ProfileError::Refused {
        path: path.to_owned(),
        reason: format!(
            "it is {}, not a regular file; a profile is read only from a regular file or `-` \
             (standard input)",
            kind_of(m)
        ),
    };
    let m = fs::metadata(path).map_err(|e| io_err("reading", path, e))?;
    if !m.is_file() {
        return Err(refuse(&m));
    }
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Never block in `open` if the path was swapped for a FIFO meanwhile.
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path).map_err(|e| io_err("reading", path, e))?;
    let m = file.metadata().map_err(|e| io_err("reading", path, e))?;
    if !m.is_file() {
        return Err(refuse(&m));
    }
    Ok(file)
}

/// A reader that fails once more than `limit` bytes were read.
struct Limited<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::other(format!(
                "more than {} MiB on standard input, the most that fits in the memory available",
                self.limit >> 20
            ))
        })?;
        Ok(n)
    }
}
