//! `rram-prof merge A B ... -o OUT`: the profiles of several processes as one.

use std::path::{Path, PathBuf};

use rram_profiler::profiler_runtime::output::persist::Input;
use rram_profiler::profiler_runtime::output::write::SafeWriter;
use rram_profiler::profiler_runtime::Profile;

use crate::cli::ReadArgs;
use crate::commands::{read, Outcome};
use crate::error::CliError;

/// Reads every input (each process labelled with its file's name), merges them with
/// [`Profile::merge`] and saves the result through the safe writer, which refuses to write
/// over any of the inputs (checked before anything is read).
pub fn merge(files: &[PathBuf], output: &Path, args: ReadArgs) -> Result<Outcome, CliError> {
    if files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        return Err(CliError::Invalid(
            "merge: `-` (standard input) can be only one of the inputs".into(),
        ));
    }
    let mut w = SafeWriter::new(output);
    for f in files {
        let input = Input::from_arg(f);
        if let Some(id) = input.file_id() {
            w = w.input(id, input.label());
        }
    }
    w.check()?;
    let mut parts = Vec::with_capacity(files.len());
    for f in files {
        let mut p = read(f, args, true)?.profile;
        p.set_process_label(&label(f));
        parts.push(p);
    }
    let merged = Profile::merge(parts)?;
    w.write(|s| merged.write_json(s, output))?;
    eprintln!(
        "merged {} profiles ({} processes, {} events kept, {} operations) into {}",
        files.len(),
        merged.processes.len(),
        merged.events.len(),
        merged.operations.len(),
        output.display()
    );
    Ok(Outcome::Ok)
}

/// A process's label: its file's path as given, without `.json` (`stdin` for `-`).
fn label(f: &Path) -> String {
    if f.as_os_str() == "-" {
        return "stdin".to_owned();
    }
    let shown = if f.extension().is_some_and(|e| e == "json") {
        f.with_extension("")
    } else {
        f.to_owned()
    };
    shown.display().to_string()
}
