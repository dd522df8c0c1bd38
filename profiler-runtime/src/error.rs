//! The runtime's error type.

use std::path::PathBuf;

/// Everything the runtime can refuse or fail at. Each variant names what was wrong.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// A kind string that is not one of [`EventKind::ALL`](crate::EventKind::ALL).
    #[error("unknown event kind `{0}`; expected one of function_call, memory_usage, computation, io_operation, hardware_access, algorithm_step")]
    UnknownKind(String),
    /// `stop_profiling` for a session that was never started (or already stopped).
    #[error("no profiling session named `{0}` is running")]
    NoSuchSession(String),
    /// `install` when a global tracing subscriber is already set.
    #[error("a global tracing subscriber is already installed; compose `profiler.layer()` into it instead")]
    AlreadyInstalled,
    /// A builder option out of range.
    #[error("invalid profiler configuration: {0}")]
    InvalidConfig(String),
    /// Reading or writing a file.
    #[error("{action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A path the safe writer (or a reader) will not touch: not a regular file, the same file
    /// as an input, or not a file that can be read or written safely. Nothing was changed.
    #[error("refusing `{path}`: {reason}")]
    Refused {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Not enough memory (address space or available RAM) for what a file needs; checked
    /// before allocating.
    #[error("`{path}`: {reason}")]
    OutOfMemory {
        /// The file.
        path: PathBuf,
        /// How much was needed and how much is available.
        reason: String,
    },
    /// A profile file that cannot be read as a profile.
    #[error("`{path}` is not a valid profile: {reason}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A profile file written by an incompatible version of the format.
    #[error("`{path}` has format_version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u64,
        /// The version this build reads and writes.
        supported: u64,
    },
    /// Rendering a chart or export.
    #[error("rendering {what}: {reason}")]
    Render {
        /// What was being rendered.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A network operation: binding the metrics endpoint, reaching an OTLP collector.
    #[error("{action} `{addr}`: {source}")]
    Net {
        /// What was being done.
        action: &'static str,
        /// The address or URL.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A study or analysis given inputs it cannot use.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// Prints the same one-line message as `Display`, so `.unwrap()` and `.expect()` on a result
/// show what went wrong in words (for example "no profiling session named `never` is running")
/// rather than the variant's fields.
impl std::fmt::Debug for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwrap_shows_the_message_not_the_variant() {
        let e = ProfileError::NoSuchSession("never".into());
        assert_eq!(format!("{e:?}"), e.to_string());
        assert!(format!("{e:?}").contains("no profiling session named `never`"));
        assert!(format!("{:?}", ProfileError::AlreadyInstalled).contains("compose"));
    }
}
