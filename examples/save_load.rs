//! Save and load: write a profile to a versioned JSON file, read it back unchanged, load it into
//! another profiler, and handle a bad file through the typed `ProfileError`.
//!
//! Run it with (the directory is optional; the default is under the system temp dir):
//!
//! ```text
//! cargo run --example save_load -- /tmp/profiles
//! ```

use std::path::PathBuf;

use rram_profiler::{metrics, profile, PerformanceProfiler, Profile, ProfileError};

#[profile(kind = "hardware_access", fields(tile = tile))]
fn program_tile(tile: usize) {
    metrics!(energy_pj = 40.0 + tile as f64, bytes = 512);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rram-profiler-save-load"));
    std::fs::create_dir_all(&dir)?;

    let profiler = PerformanceProfiler::new();
    profiler.in_scope(|| (0..16).for_each(program_tile));

    // Round trip: a snapshot saved and loaded back is equal to the original, field for field.
    let path = dir.join("profile.json");
    let snapshot = profiler.snapshot();
    snapshot.save(&path)?;
    let loaded = Profile::load(&path)?;
    assert_eq!(loaded, snapshot);
    println!(
        "saved and reloaded {} events ({:.1} pJ) from {}",
        loaded.total_events(),
        loaded.metric_total("energy_pj"),
        path.display()
    );

    // The profiler-level API: save everything so far, then load it into a fresh profiler,
    // whose reports now include the loaded data.
    profiler.save_profile_data(&path)?;
    let viewer = PerformanceProfiler::builder().without_monitor().build()?;
    viewer.load_profile_data(&path)?;
    println!(
        "loaded into a new profiler: {} events",
        viewer.get_performance_report().total_events
    );

    // The same profile as a Chrome/Perfetto trace (open it at https://ui.perfetto.dev).
    // Through the safe writer: a temporary file renamed into place, never over a device.
    let trace = dir.join("trace.json");
    rram_profiler::profiler_runtime::output::write::SafeWriter::new(&trace)
        .write(|w| Ok(loaded.to_chrome_trace(w)?))?;
    println!("wrote {}", trace.display());

    // A bad file is an error value naming the file and what is wrong, never a panic.
    let bad = dir.join("not-a-profile.json");
    rram_profiler::profiler_runtime::output::write::SafeWriter::new(&bad)
        .write_bytes(b"{ this is not json")?;
    match Profile::load(&bad) {
        Err(ProfileError::BadFile { path, reason }) => {
            println!("bad file rejected: {}: {reason}", path.display())
        }
        other => panic!("expected ProfileError::BadFile, got {other:?}"),
    }
    match Profile::load(dir.join("missing.json")) {
        Err(e @ ProfileError::Io { .. }) => println!("missing file rejected: {e}"),
        other => panic!("expected ProfileError::Io, got {other:?}"),
    }
    Ok(())
}
