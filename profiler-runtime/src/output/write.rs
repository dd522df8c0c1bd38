//! The one way the project writes a file: [`SafeWriter`].
//!
//! Every profile, trace, folded stack, flame graph, chart, report and analysis file goes
//! through it. It writes into a new, uniquely named temporary file in the target's directory
//! (created exclusively, so it never opens anything that already exists), syncs it, and renames
//! it over the target: a reader sees the old file or the new one, never half of one, and
//! concurrent writers to one target each leave a complete file (the last rename wins).
//!
//! It refuses, before creating anything and with [`ProfileError::Refused`] naming the path:
//!
//! - a target that exists and is not a regular file (a device, a FIFO, a socket, a
//!   directory): such a target is never replaced, so `-o /dev/null` cannot destroy the node;
//! - a target that is the same file (device and inode) as an input of the same command;
//! - a target whose directory is missing or not a directory ([`ProfileError::Io`] for a
//!   directory that exists but cannot be written, such as a read-only one).
//!
//! A symbolic link to a regular file is followed: the file it points to is replaced and the
//! link stays.
//!
//! **Temporary files** are named `.rram-tmp-<hash>-<pid>-<n>-<prefix>`: the hash is of the
//! target's file name, so the name stays within `NAME_MAX` whatever the target's length, and
//! the writer's process id and a counter make it unique. The writer holds an advisory lock
//! (`flock`) on it while it writes. On any error it is removed; a process killed while writing
//! leaves it behind, and the next write to the same target removes every such leftover whose
//! process is gone and whose lock is free.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ProfileError;

/// Buffer size of the writer.
const BUF_BYTES: usize = 1 << 20;

/// What every temporary file's name starts with.
pub const TEMP_PREFIX: &str = ".rram-tmp-";

/// How many bytes of the target's name a temporary file's name repeats (for people reading a
/// directory listing; the hash identifies the target).
const NAME_HINT_BYTES: usize = 32;

/// The identity of a file: its device and inode (on Unix), to tell whether two paths name the
/// same file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity of an open file.
    pub fn of_file(file: &File) -> io::Result<FileId> {
        file.metadata().map(|m| FileId::of_metadata(&m))
    }

    /// The identity of the file at `path` (following symbolic links); `None` if nothing is
    /// there.
    pub fn of_path(path: &Path) -> io::Result<Option<FileId>> {
        match fs::metadata(path) {
            Ok(m) => Ok(Some(FileId::of_metadata(&m))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    #[cfg(unix)]
    fn of_metadata(m: &fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: m.dev(),
            ino: m.ino(),
        }
    }

    #[cfg(not(unix))]
    fn of_metadata(m: &fs::Metadata) -> FileId {
        // Without inodes: length and modification time, a weaker but useful guard.
        FileId {
            dev: m.len(),
            ino: m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as u64),
        }
    }
}

/// What kind of file a metadata describes, in words.
pub(crate) fn kind_of(m: &fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Writes one file safely (see the [module docs](self)).
///
/// ```
/// use std::io::Write;
/// use profiler_runtime::output::write::SafeWriter;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("notes.txt");
/// SafeWriter::new(&path).write(|w| Ok(w.write_all(b"hello\n")?)).unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello\n");
/// // A directory is never replaced.
/// assert!(SafeWriter::new(dir.path()).write(|w| Ok(w.write_all(b"x")?)).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct SafeWriter {
    target: PathBuf,
    inputs: Vec<(FileId, PathBuf)>,
}

/// What a [`SafeWriter`] body writes into.
pub type Sink<'a> = &'a mut dyn Write;

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl SafeWriter {
    /// A writer of `target`.
    pub fn new(target: impl AsRef<Path>) -> Self {
        SafeWriter {
            target: target.as_ref().to_owned(),
            inputs: Vec::new(),
        }
    }

    /// Refuses to write over `input` (an input of the same command), named `label` in the
    /// error.
    pub fn input(mut self, id: FileId, label: impl AsRef<Path>) -> Self {
        self.inputs.push((id, label.as_ref().to_owned()));
        self
    }

    /// Refuses to write over the file at `path`, if there is one.
    pub fn input_path(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        match FileId::of_path(path) {
            Ok(Some(id)) => self.input(id, path),
            _ => self,
        }
    }

    /// The target.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// What the names of this target's temporary files start with (in the target's
    /// directory): to find leftovers of a crash by hand.
    pub fn temp_prefix(&self) -> String {
        let name = self.target.file_name().unwrap_or_default();
        format!("{TEMP_PREFIX}{:016x}-", name_hash(name))
    }

    /// Checks, without writing, what [`write`](Self::write) checks first: the target is
    /// absent or a regular file that is no input, and its directory exists.
    pub fn check(&self) -> Result<(), ProfileError> {
        let target = self.resolve()?;
        self.check_target(&target)?;
        let dir = parent_dir(&target);
        match fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(m) => Err(refused(
                &self.target,
                format!("its directory `{}` is {}", dir.display(), kind_of(&m)),
            )),
            Err(e) => Err(ProfileError::Io {
                action: "finding the directory of",
                path: self.target.clone(),
                source: e,
            }),
        }
    }

    /// Writes the target with `body`, which writes the whole content into the sink (buffered).
    /// An error from `body`, or from writing, syncing or renaming, leaves the target as it
    /// was and no temporary file behind.
    pub fn write<F>(&self, body: F) -> Result<(), ProfileError>
    where
        F: FnOnce(Sink<'_>) -> Result<(), ProfileError>,
    {
        self.check()?;
        let target = self.resolve()?;
        let dir = parent_dir(&target);
        let key = name_hash(target.file_name().unwrap_or_default());
        remove_stale_temps(&dir, key);
        let (tmp, file) = self.create_temp(&dir, &target, key)?;
        let result = self.fill(file, body).and_then(|()| {
            // The target may have changed while we wrote: check again just before the rename.
            self.check_target(&target)?;
            fs::rename(&tmp, &target).map_err(|source| ProfileError::Io {
                action: "renaming the finished temporary file onto",
                path: self.target.clone(),
                source,
            })
        });
        match result {
            Ok(()) => {
                sync_dir(&dir);
                Ok(())
            }
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    /// Writes `bytes` as the whole content of the target.
    pub fn write_bytes(&self, bytes: &[u8]) -> Result<(), ProfileError> {
        self.write(|w| Ok(w.write_all(bytes)?))
    }

    /// The path that will be replaced: the target, or the file a symbolic link at the target
    /// points to.
    fn resolve(&self) -> Result<PathBuf, ProfileError> {
        match fs::symlink_metadata(&self.target) {
            Ok(m) if m.file_type().is_symlink() => fs::canonicalize(&self.target).map_err(|e| {
                refused(
                    &self.target,
                    format!("it is a symbolic link that cannot be followed ({e})"),
                )
            }),
            _ => Ok(self.target.clone()),
        }
    }

    /// Refuses a target that exists and is not a regular file, or is an input.
    fn check_target(&self, target: &Path) -> Result<(), ProfileError> {
        let m = match fs::metadata(target) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(ProfileError::Io {
                    action: "checking",
                    path: self.target.clone(),
                    source: e,
                })
            }
        };
        if !m.is_file() {
            return Err(refused(
                &self.target,
                format!(
                    "it is {}, not a regular file; it was left untouched",
                    kind_of(&m)
                ),
            ));
        }
        let id = FileId::of_metadata(&m);
        if let Some((_, input)) = self.inputs.iter().find(|(i, _)| *i == id) {
            return Err(refused(
                &self.target,
                format!(
                    "it is the same file as the input `{}`; write the output elsewhere",
                    input.display()
                ),
            ));
        }
        Ok(())
    }

    fn create_temp(
        &self,
        dir: &Path,
        target: &Path,
        key: u64,
    ) -> Result<(PathBuf, File), ProfileError> {
        let pid = std::process::id();
        let hint = name_hint(target.file_name().unwrap_or_default());
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(format!("{TEMP_PREFIX}{key:016x}-{pid}-{n}-{hint}"));
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(file) => {
                    lock_exclusive(&file);
                    if let Ok(m) = fs::metadata(target) {
                        // Keep the replaced file's permissions.
                        let _ = file.set_permissions(m.permissions());
                    }
                    return Ok((tmp, file));
                }
                // A leftover of a process with the same id (after a reboot): take another.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => {
                    return Err(ProfileError::Io {
                        action: "creating a temporary file beside",
                        path: self.target.clone(),
                        source,
                    })
                }
            }
        }
    }

    fn fill<F>(&self, file: File, body: F) -> Result<(), ProfileError>
    where
        F: FnOnce(Sink<'_>) -> Result<(), ProfileError>,
    {
        let io = |action: &'static str| {
            let path = self.target.clone();
            move |source: io::Error| ProfileError::Io {
                action,
                path,
                source,
            }
        };
        let mut w = BufWriter::with_capacity(BUF_BYTES, file);
        body(&mut w).map_err(|e| match e {
            // An I/O error of the body is an error writing the target.
            ProfileError::Io {
                action: "writing",
                path,
                source,
            } if path.as_os_str().is_empty() => io("writing")(source),
            e => e,
        })?;
        let file = w.into_inner().map_err(|e| io("writing")(e.into_error()))?;
        file.sync_all().map_err(io("syncing"))
    }
}

impl From<io::Error> for ProfileError {
    /// An I/O error of a writer body, before the writer names the path.
    fn from(source: io::Error) -> Self {
        ProfileError::Io {
            action: "writing",
            path: PathBuf::new(),
            source,
        }
    }
}

fn refused(path: &Path, reason: String) -> ProfileError {
    ProfileError::Refused {
        path: path.to_owned(),
        reason,
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// FNV-1a of a file name: stable across runs and builds (temporary names must match later).
fn name_hash(name: &OsStr) -> u64 {
    name.as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// The first bytes of a file name, for people: ASCII alphanumerics, `.`, `_` and `-` only.
fn name_hint(name: &OsStr) -> String {
    name.as_encoded_bytes()
        .iter()
        .take(NAME_HINT_BYTES)
        .map(|&b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
                char::from(b)
            } else {
                '_'
            }
        })
        .collect()
}

/// Removes temporary files of the target with hash `key` left by processes that are gone.
fn remove_stale_temps(dir: &Path, key: u64) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{TEMP_PREFIX}{key:016x}-");
    let me = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me || process_alive(pid) {
            continue;
        }
        let path = entry.path();
        // Only plain files, and only when no writer holds the lock.
        let Ok(m) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !m.is_file() {
            continue;
        }
        if let Ok(f) = OpenOptions::new().read(true).open(&path) {
            if try_lock_exclusive(&f) {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: `kill` with signal 0 only checks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    // Unknown: keep the file.
    true
}

#[cfg(unix)]
fn lock_exclusive(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: `flock` on a descriptor we own; advisory, released when the file is closed.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
}

#[cfg(unix)]
fn try_lock_exclusive(f: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: as in `lock_exclusive`.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn lock_exclusive(_f: &File) {}

#[cfg(not(unix))]
fn try_lock_exclusive(_f: &File) -> bool {
    false
}

/// Makes a rename durable (best effort: some file systems refuse to sync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Creates `path` exclusively for appending (a journal): refuses anything that exists.
#[cfg(feature = "persist")]
pub(crate) fn create_exclusive(path: &Path) -> Result<File, ProfileError> {
    if let Ok(m) = fs::symlink_metadata(path) {
        return Err(refused(
            path,
            format!(
                "it already exists ({}); a journal never overwrites anything (recover it with \
                 `rram-prof recover`, or remove it)",
                kind_of(&m)
            ),
        ));
    }
    let dir = parent_dir(path);
    match fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(m) => {
            return Err(refused(
                path,
                format!("its directory `{}` is {}", dir.display(), kind_of(&m)),
            ))
        }
        Err(source) => {
            return Err(ProfileError::Io {
                action: "finding the directory of",
                path: path.to_owned(),
                source,
            })
        }
    }
    OpenOptions::new()
        .append(true)
        .create_new(true)
        .open(path)
        .map_err(|source| ProfileError::Io {
            action: "creating",
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_fit_name_max_whatever_the_target() {
        let long = "x".repeat(255);
        let key = name_hash(OsStr::new(&long));
        let name = format!(
            "{TEMP_PREFIX}{key:016x}-{}-{}-{}",
            u32::MAX,
            u64::MAX,
            name_hint(OsStr::new(&long))
        );
        assert!(name.len() < 128, "{}", name.len());
        assert_ne!(
            name_hash(OsStr::new("a.json")),
            name_hash(OsStr::new("b.json"))
        );
    }
}
