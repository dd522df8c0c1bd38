//! The CLI's errors: each prints as one line.

use std::path::{Path, PathBuf};

use rram_profiler::profiler_runtime::ProfileError;
use rram_profiler::rram_sim::SimError;

/// What can go wrong in a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the profiler runtime (a bad file, a bad chart type, ...).
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// From the simulator.
    #[error("simulator: {0}")]
    Sim(#[from] SimError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A bad option value.
    #[error("{0}")]
    Invalid(String),
    /// Some outputs of a command were not written.
    #[error("{0}")]
    NotWritten(String),
}

impl CliError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.to_owned(),
            source,
        }
    }
}
