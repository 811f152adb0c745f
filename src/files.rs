//! Writing the files a run keeps: whole or not at all, and every I/O error naming its path.
//!
//! A report or `run.json` is written to a temporary name beside its final one, flushed to disk, and renamed over
//! it, so a full disk or a crash leaves the previous file (or none), never half of one.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// `error`, with what was being done and to which path in front of its message (its kind is kept).
pub fn with_path(action: &str, path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("cannot {action} {}: {error}", path.display()))
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed over `path` once it is complete
/// and on disk; on failure the temporary file is removed and `path` is left as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy());
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(with_path("write", path, error));
    }
    std::fs::rename(&temporary, path).map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        with_path("replace", path, error)
    })
}

/// Creates `dir` and its parents, naming the folder when that fails.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir).map_err(|error| with_path("create the folder", dir, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.md");
        std::fs::write(&path, "old").expect("write");
        write_atomically(&path, b"new contents").expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new contents");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["report.md"]);
    }

    #[test]
    fn a_failed_write_names_the_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("no-such-folder").join("examples.csv");
        let error = write_atomically(&missing, b"x").expect_err("no folder");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(error.to_string().contains(&missing.display().to_string()), "{error}");
    }
}
