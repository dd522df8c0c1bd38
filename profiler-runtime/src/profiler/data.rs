//! Loading saved profiles into a profiler: [`load_profile_data`] replaces what it shows,
//! [`merge_profile_data`] adds to it.
//!
//! [`load_profile_data`]: PerformanceProfiler::load_profile_data
//! [`merge_profile_data`]: PerformanceProfiler::merge_profile_data

use std::path::Path;

use crate::error::ProfileError;
use crate::model::profile::Profile;

use super::PerformanceProfiler;

impl PerformanceProfiler {
    /// Loads a saved profile in place of this profiler's data: from now on
    /// [`snapshot`](Self::snapshot) (and every report and analyzer built on this profiler)
    /// shows the loaded data followed by what is recorded after the load. What was recorded
    /// before, and any profile loaded before, is no longer shown, so saving and loading into
    /// the same profiler leaves every count as it was.
    ///
    /// ```
    /// use profiler_runtime::{EventKind, PerformanceProfiler};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("run.json");
    /// let p = PerformanceProfiler::builder().without_monitor().build().unwrap();
    /// p.record_event("program_tile", EventKind::HardwareAccess, [("energy_pj", 2.0)]);
    /// p.save_profile_data(&path).unwrap();
    /// p.load_profile_data(&path).unwrap();
    /// assert_eq!(p.snapshot().total_events(), 1);
    /// ```
    ///
    /// Errors: as [`Profile::load`]; on an error nothing changes.
    pub fn load_profile_data(&self, path: impl AsRef<Path>) -> Result<(), ProfileError> {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let p = Profile::load(path)?;
        self.replace_data(p);
        Ok(())
    }

    /// Loads a saved profile in addition to this profiler's data: snapshots show it followed
    /// by the live recording (a profile loaded or merged before stays, followed by this one).
    ///
    /// Errors: as [`Profile::load`]; on an error nothing changes.
    pub fn merge_profile_data(&self, path: impl AsRef<Path>) -> Result<(), ProfileError> {
        let _own = crate::record::alloc::OwnAllocations::begin();
        let p = Profile::load(path)?;
        self.merge_data(p);
        Ok(())
    }
}
