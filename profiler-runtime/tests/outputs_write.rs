//! The one safe writer, as an adversary finds it: a device node, a FIFO, a directory, the input
//! itself, concurrent writers, a full disk, names at NAME_MAX, a crash's leftovers.

mod outputs_fixture;

use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use profiler_runtime::output::write::{FileId, SafeWriter, TEMP_PREFIX};
use profiler_runtime::{Profile, ProfileError};

fn is_root() -> bool {
    // SAFETY: `geteuid` has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn c_path(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// Names in `dir` that are temporary files of the writer.
fn temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(TEMP_PREFIX) || n.ends_with(".tmp"))
        .collect()
}

fn assert_refused(r: Result<(), ProfileError>, path: &Path, needle: &str) {
    match r {
        Err(e @ ProfileError::Refused { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains(needle), "`{msg}` lacks `{needle}`");
            assert_eq!(msg.lines().count(), 1, "{msg}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_device_node_is_refused_and_stays_a_device() {
    if !is_root() {
        println!("SKIPPED: making a device node needs root (mknod)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("null");
    let chart = dir.path().join("chart.svg");
    for n in [&node, &chart] {
        // The node of /dev/null: character device 1:3.
        // SAFETY: mknod with a valid C path.
        let r = unsafe {
            libc::mknod(
                c_path(n).as_ptr(),
                libc::S_IFCHR | 0o666,
                libc::makedev(1, 3),
            )
        };
        assert_eq!(r, 0, "mknod: {}", std::io::Error::last_os_error());
    }
    let p = outputs_fixture::profile();
    assert_refused(p.save(&node), &node, "character device");
    assert_refused(p.write_flamegraph(&node), &node, "character device");
    assert_refused(
        p.plot(profiler_runtime::PlotType::EventCounts, &chart),
        &chart,
        "character device",
    );
    for n in [&node, &chart] {
        assert!(std::fs::symlink_metadata(n)
            .unwrap()
            .file_type()
            .is_char_device());
    }
    assert!(temps(dir.path()).is_empty(), "{:?}", temps(dir.path()));
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.json");
    // SAFETY: mkfifo with a valid C path.
    assert_eq!(unsafe { libc::mkfifo(c_path(&fifo).as_ptr(), 0o644) }, 0);
    let p = outputs_fixture::profile();
    assert_refused(p.save(&fifo), &fifo, "FIFO");
    // Reading: refused too, at once (no writer ever opens the FIFO).
    match Profile::load(&fifo) {
        Err(e @ ProfileError::Refused { .. }) => assert!(e.to_string().contains("FIFO"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn a_directory_is_refused_and_nothing_is_left_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("adir");
    std::fs::create_dir(&sub).unwrap();
    assert_refused(outputs_fixture::profile().save(&sub), &sub, "directory");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "only adir: {names:?}");
    assert!(sub.is_dir());
}

#[test]
fn the_input_is_never_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("same.json");
    let p = outputs_fixture::profile();
    p.save(&input).unwrap();
    let before = std::fs::read(&input).unwrap();
    // By path, and through a hard link (same device and inode, another name).
    let link = dir.path().join("link.json");
    std::fs::hard_link(&input, &link).unwrap();
    for target in [&input, &link] {
        let w = SafeWriter::new(target).input_path(&input);
        assert_refused(w.write_bytes(b"{}"), target, "same file as the input");
    }
    let id = FileId::of_path(&input).unwrap().unwrap();
    let r = SafeWriter::new(&link)
        .input(id, "<stdin>")
        .write_bytes(b"x");
    assert_refused(r, &link, "<stdin>");
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn a_missing_directory_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no/such/dir/p.json");
    let e = Profile::empty().save(&target).unwrap_err();
    assert!(matches!(e, ProfileError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("no/such/dir/p.json"), "{e}");
}

#[test]
fn a_symbolic_link_is_followed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    let link = dir.path().join("link.json");
    std::fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    SafeWriter::new(&link).write_bytes(b"new").unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
}

#[test]
fn eight_concurrent_writers_each_leave_a_complete_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.json");
    let profiles: Vec<Profile> = (0..8)
        .map(|k| {
            let mut p = outputs_fixture::profile();
            p.started_at_unix_ns = k;
            p
        })
        .collect();
    for _round in 0..5 {
        std::thread::scope(|s| {
            for p in &profiles {
                let target = &target;
                s.spawn(move || p.save(target).unwrap());
            }
        });
        let back = Profile::load(&target).unwrap();
        assert!(
            profiles.contains(&back),
            "the file is one of the profiles, whole"
        );
    }
    assert!(temps(dir.path()).is_empty(), "{:?}", temps(dir.path()));
}

#[test]
fn names_at_name_max_work() {
    let dir = tempfile::tempdir().unwrap();
    for len in [253, 254, 255] {
        let name = format!("{}.json", "n".repeat(len - 5));
        let target = dir.path().join(&name);
        outputs_fixture::profile().save(&target).unwrap();
        Profile::load(&target).unwrap();
        outputs_fixture::one_event().save(&target).unwrap();
    }
    assert!(temps(dir.path()).is_empty(), "{:?}", temps(dir.path()));
}

/// A failing body (the writer's seam for write errors): the old file stays, no temporary
/// file is left.
#[test]
fn a_write_error_keeps_the_old_file_and_leaves_no_temp() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("chart.svg");
    std::fs::write(&target, "the old chart").unwrap();
    let r = SafeWriter::new(&target).write(|w| {
        w.write_all(&[b'x'; 4096])?;
        Err(std::io::Error::from_raw_os_error(libc::ENOSPC).into())
    });
    let e = r.unwrap_err();
    assert!(e.to_string().contains("chart.svg"), "{e}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "the old chart");
    assert!(temps(dir.path()).is_empty(), "{:?}", temps(dir.path()));
}

/// A small tmpfs mounted for the test.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, opts: &str) -> Option<Mount> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(dir)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| Mount(dir.to_owned()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_keeps_the_old_files_and_leaves_no_temp() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("small");
    std::fs::create_dir(&dir).unwrap();
    let Some(_m) = Mount::tmpfs(&dir, "size=256k") else {
        println!("SKIPPED: cannot mount a tmpfs here (needs root); the injected write error of a_write_error_keeps_the_old_file_and_leaves_no_temp covers the writer");
        return;
    };
    let small = outputs_fixture::one_event();
    let json = dir.join("profile.json");
    small.save(&json).unwrap();
    let chart = dir.join("counts.png");
    small
        .plot(profiler_runtime::PlotType::EventCounts, &chart)
        .unwrap();
    let (old_json, old_chart) = (
        std::fs::read(&json).unwrap(),
        std::fs::read(&chart).unwrap(),
    );
    // Fill the disk.
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    while f.write_all(&[0u8; 4096]).is_ok() {}
    drop(f);
    let big = outputs_fixture::profile();
    let e = big.save(&json).unwrap_err();
    assert!(e.to_string().contains("profile.json"), "{e}");
    let e = big
        .plot(profiler_runtime::PlotType::ExecutionTime, &chart)
        .unwrap_err();
    assert!(e.to_string().contains("counts.png"), "{e}");
    assert_eq!(std::fs::read(&json).unwrap(), old_json);
    assert_eq!(std::fs::read(&chart).unwrap(), old_chart);
    // No new chart, not even an empty one.
    let fresh = dir.join("fresh.svg");
    assert!(big
        .plot(profiler_runtime::PlotType::ExecutionTime, &fresh)
        .is_err());
    assert!(!fresh.exists());
    assert!(temps(&dir).is_empty(), "{:?}", temps(&dir));
}

#[test]
fn a_read_only_directory_is_an_error_naming_the_path() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    let Some(_m) = Mount::tmpfs(&dir, "ro,size=64k") else {
        println!("SKIPPED: cannot mount a read-only tmpfs here (needs root)");
        return;
    };
    let target = dir.join("p.json");
    let e = Profile::empty().save(&target).unwrap_err();
    assert!(e.to_string().contains("ro/p.json"), "{e}");
    assert!(!target.exists());
}

#[test]
fn a_crashed_writers_temp_files_are_removed_by_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("trace.json");
    let w = SafeWriter::new(&target);
    // A process that is gone: a child that has exited.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = dir
        .path()
        .join(format!("{}{dead}-0-trace.json", w.temp_prefix()));
    std::fs::write(&stale, vec![0u8; 1 << 16]).unwrap();
    // A live process's (pid 1) temp file, and another target's, are left alone.
    let live = dir
        .path()
        .join(format!("{}1-0-trace.json", w.temp_prefix()));
    std::fs::write(&live, "busy").unwrap();
    let other = dir.path().join(format!(
        "{}{dead}-0-x",
        SafeWriter::new(dir.path().join("other")).temp_prefix()
    ));
    std::fs::write(&other, "other target").unwrap();
    w.write_bytes(b"{}").unwrap();
    assert!(!stale.exists(), "the crash's leftover is gone");
    assert!(live.exists() && other.exists());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}");
}
