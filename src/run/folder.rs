//! The run folder: created atomically for a new run, found for a resumed one, and held by one process at a time.
//!
//! Whoever writes a run folder (`run`, `run --resume`, `score`, `report`) holds an exclusive lock on its
//! `run.lock` for its whole life. The lock is the operating system's (`flock` on Unix), so a crashed process never
//! leaves it behind; the file only says which process holds it, for the message of the one turned away.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::InputError;
use crate::files::with_path;

use super::{read_metadata, RUN_FILE};

/// The lock file of a run folder.
pub const LOCK_FILE: &str = "run.lock";

/// The lock file, in a suite's results folder, held while a new run's folder is created and locked, so that no
/// other process sees the folder between the two.
const CLAIM_LOCK_FILE: &str = ".claim.lock";

/// How often, and how long apart, a process turned away looks for the holder's pid (written just after locking).
const PID_READS: u32 = 50;
const PID_READ_INTERVAL: Duration = Duration::from_millis(10);

/// Most folders tried for new runs started in the same second (`ID`, `ID-2`, …).
const MAX_SAME_SECOND_RUNS: u32 = 1000;

/// Why a run folder could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// A user mistake: a bad run id, a new run into an existing folder, a resume of nothing (exit code 2).
    #[error(transparent)]
    Input(#[from] InputError),
    /// Another process holds the folder.
    #[error(
        "run folder {} is in use by another bedrock-eval process (pid {pid}); nothing was called. Wait for it \
         to end (or stop it) and try again",
        dir.display()
    )]
    InUse {
        /// The folder.
        dir: PathBuf,
        /// The holder's pid, as its lock file says (`unknown` when it says nothing yet).
        pid: String,
    },
    /// The file system failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// An exclusive hold on a run folder; released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct RunFolderLock {
    _file: File,
}

/// Locks `dir` for this process, or says which process holds it.
pub fn lock(dir: &Path) -> Result<RunFolderLock, FolderError> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| with_path("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => {
            let pid = std::process::id().to_string();
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(pid.as_bytes()))
                .and_then(|()| file.flush())
                .map_err(|e| with_path("write", &path, e))?;
            Ok(RunFolderLock { _file: file })
        }
        Err(TryLockError::WouldBlock) => Err(FolderError::InUse {
            dir: dir.to_path_buf(),
            pid: holder_pid(&mut file),
        }),
        Err(TryLockError::Error(e)) => Err(with_path("lock", &path, e).into()),
    }
}

/// The pid the holder wrote into the lock file; it writes it just after locking, so wait for it briefly.
fn holder_pid(file: &mut File) -> String {
    for _ in 0..PID_READS {
        let mut text = String::new();
        if file.rewind().and_then(|()| file.read_to_string(&mut text)).is_ok() && !text.trim().is_empty() {
            return text.trim().to_string();
        }
        std::thread::sleep(PID_READ_INTERVAL);
    }
    "unknown".to_string()
}

/// The longest run id: a folder name that every file system takes.
const MAX_RUN_ID_CHARS: usize = 100;

/// Checks a run id given with `--run-id`: a single folder name.
pub fn check_run_id(suite_path: &Path, id: &str) -> Result<(), InputError> {
    let folder_name = !id.is_empty()
        && id.chars().count() <= MAX_RUN_ID_CHARS
        && !id.chars().any(|c| c.is_control() || c == '/' || c == '\\')
        && !id.chars().all(|c| c == '.');
    if !folder_name {
        return Err(InputError::in_file(
            suite_path,
            format!(
                "invalid run id `{}`: give one folder name of at most {MAX_RUN_ID_CHARS} characters, without \
                 slashes or control characters, not only dots",
                id.escape_debug()
            ),
        )
        .field("--run-id"));
    }
    Ok(())
}

/// Refuses early a new run into an existing folder (a user mistake, or a folder another process is running).
/// [`claim_new`] makes the same check atomically when the folder is created.
pub fn check_new(suite_dir: &Path, id: &str) -> Result<(), FolderError> {
    let dir = suite_dir.join(id);
    if !dir.exists() {
        return Ok(());
    }
    let _claiming = claim_lock(suite_dir)?;
    Err(existing_folder(&dir))
}

/// Holds the suite folder's claim lock (waiting for it): new run folders are created and locked under it.
fn claim_lock(suite_dir: &Path) -> Result<File, FolderError> {
    std::fs::create_dir_all(suite_dir).map_err(|e| with_path("create the folder", suite_dir, e))?;
    let path = suite_dir.join(CLAIM_LOCK_FILE);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| with_path("open", &path, e))?;
    file.lock().map_err(|e| with_path("lock", &path, e))?;
    Ok(file)
}

/// Creates and locks the folder of a new run: `suite_dir/ID` for a given id, else the UTC start time (with `-2`,
/// `-3`, … for runs started in the same second). Creation is atomic, so two processes never share a folder.
pub fn claim_new(suite_dir: &Path, id: Option<&str>) -> Result<(PathBuf, RunFolderLock), FolderError> {
    let _claiming = claim_lock(suite_dir)?;
    if let Some(id) = id {
        let dir = suite_dir.join(id);
        return match std::fs::create_dir(&dir) {
            Ok(()) => Ok((dir.clone(), lock(&dir)?)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(existing_folder(&dir)),
            Err(e) => Err(with_path("create the folder", &dir, e).into()),
        };
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    for n in 1..=MAX_SAME_SECOND_RUNS {
        let dir = match n {
            1 => suite_dir.join(&stamp),
            n => suite_dir.join(format!("{stamp}-{n}")),
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((dir.clone(), lock(&dir)?)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(with_path("create the folder", &dir, e).into()),
        }
    }
    Err(io::Error::other(format!(
        "cannot create a run folder under {}: {MAX_SAME_SECOND_RUNS} runs already started in the second {stamp}",
        suite_dir.display()
    ))
    .into())
}

/// An existing folder a new run was asked to use: in use by another process, or a mistake.
fn existing_folder(dir: &Path) -> FolderError {
    match lock(dir) {
        Err(in_use @ FolderError::InUse { .. }) => in_use,
        _ => InputError::in_file(
            dir,
            "run folder exists; pass --resume to continue it, or choose another --run-id",
        )
        .into(),
    }
}

/// The folder of the run to resume: `suite_dir/ID`, else the run started most recently (by the start time its
/// `run.json` records).
pub fn find_to_resume(suite_dir: &Path, id: Option<&str>) -> Result<PathBuf, InputError> {
    match id {
        Some(id) => {
            let dir = suite_dir.join(id);
            if dir.join(RUN_FILE).is_file() {
                Ok(dir)
            } else {
                Err(InputError::in_file(&dir, "no run to resume here (no run.json)"))
            }
        }
        None => latest_run(suite_dir)
            .ok_or_else(|| InputError::in_file(suite_dir, "no earlier run of this suite to resume")),
    }
}

/// The run of `suite_dir` started last, by the first start time in its `run.json` (folder name on a tie).
fn latest_run(suite_dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(suite_dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter_map(|dir| {
            let metadata = read_metadata(&dir).ok()?;
            let started = chrono::DateTime::parse_from_rfc3339(metadata.first_started_at()).ok()?;
            Some((started, dir))
        })
        .max()
        .map(|(_, dir)| dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_id_is_one_plain_folder_name() {
        let suite = Path::new("suite.yaml");
        for good in ["20261202T120000Z", "nightly-2026.12.02", "r", "ab c", ".hidden-ok"] {
            assert!(check_run_id(suite, good).is_ok(), "{good}");
        }
        let long = "x".repeat(MAX_RUN_ID_CHARS + 1);
        for bad in [
            "",
            ".",
            "..",
            "...",
            "a/b",
            "a\\b",
            "../up",
            "bell\u{7}",
            "line\nbreak",
            "\u{1b}[31m",
            &long,
        ] {
            let error = check_run_id(suite, bad).expect_err(bad);
            assert_eq!(error.field.as_deref(), Some("--run-id"), "{bad}");
            assert!(
                !error.to_string().contains('\u{1b}'),
                "the message escapes control characters"
            );
        }
    }

    #[test]
    fn a_second_lock_on_a_folder_names_the_holder_and_a_dropped_lock_frees_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let held = lock(dir.path()).expect("first lock");
        match lock(dir.path()) {
            Err(FolderError::InUse { pid, dir: folder }) => {
                assert_eq!(pid, std::process::id().to_string());
                assert_eq!(folder, dir.path());
            }
            other => panic!("expected in use, got {other:?}"),
        }
        drop(held);
        lock(dir.path()).expect("free again");
    }

    #[test]
    fn new_runs_in_the_same_second_get_folders_of_their_own() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (first, _a) = claim_new(dir.path(), None).expect("first");
        let (second, _b) = claim_new(dir.path(), None).expect("second");
        assert_ne!(first, second);
        assert!(first.is_dir() && second.is_dir());
    }

    #[test]
    fn a_new_run_into_an_existing_folder_is_a_mistake_unless_it_is_in_use() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (folder, held) = claim_new(dir.path(), Some("nightly")).expect("claimed");
        assert!(matches!(
            claim_new(dir.path(), Some("nightly")),
            Err(FolderError::InUse { .. })
        ));
        drop(held);
        match claim_new(dir.path(), Some("nightly")) {
            Err(FolderError::Input(error)) => assert_eq!(error.file, folder),
            other => panic!("expected an input error, got {other:?}"),
        }
    }
}
