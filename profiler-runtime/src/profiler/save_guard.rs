//! [`SaveOnDrop`]: writes the profile when a scope ends, however it ends (`?`, a panic).

use std::path::{Path, PathBuf};

use crate::error::ProfileError;

use super::PerformanceProfiler;

/// Saves the profiler's data to a file when dropped, through the one safe writer (so a crash
/// half-way never leaves a torn file over an older one). Returned by
/// [`PerformanceProfiler::save_on_drop`]. A failure at drop is printed to standard error, one
/// line naming the path; use [`save_now`](Self::save_now) to get it as a value.
#[must_use = "the profile is written when this guard is dropped: bind it (`let _g = ...`)"]
#[derive(Debug)]
pub struct SaveOnDrop {
    profiler: PerformanceProfiler,
    path: PathBuf,
    armed: bool,
}

impl SaveOnDrop {
    /// Where the profile will be written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the profile now and disarms the guard, returning what went wrong if anything.
    pub fn save_now(mut self) -> Result<(), ProfileError> {
        self.armed = false;
        self.profiler.save_profile_data(&self.path)
    }
}

impl Drop for SaveOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Err(e) = self.profiler.save_profile_data(&self.path) {
            eprintln!("rram-profiler: the profile was not saved: {e}");
        }
    }
}

impl PerformanceProfiler {
    /// A guard that writes this profiler's data (a [`snapshot`](Self::snapshot)) to `path`
    /// when it is dropped: at the end of `main`, on an early return, or while a panic unwinds.
    ///
    /// ```
    /// use profiler_runtime::PerformanceProfiler;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("run.json");
    /// let profiler = PerformanceProfiler::new();
    /// {
    ///     let _guard = profiler.save_on_drop(&path);
    ///     // ... the program ...
    /// }
    /// assert!(profiler_runtime::Profile::load(&path).is_ok());
    /// ```
    pub fn save_on_drop(&self, path: impl AsRef<Path>) -> SaveOnDrop {
        SaveOnDrop {
            profiler: self.clone(),
            path: path.as_ref().to_owned(),
            armed: true,
        }
    }
}
