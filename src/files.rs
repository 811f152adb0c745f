//! Writing the files a run keeps: whole or not at all, and every I/O error naming its path.
//!
//! A report or `run.json` is written to a temporary name beside its final one, flushed to disk, and renamed over
//! it, so a full disk or a crash leaves the previous file (or none), never half of one.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// `error`, with what was being done and to which path in front of its message (its kind is kept).
pub fn with_path(action: &str, path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("cannot {action} {}: {error}", path.display()))
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed over `path` once it is complete
/// and on disk; on failure the temporary file is removed and `path` is left as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = PendingFile::create(path)?;
    file.write_all(bytes).map_err(|error| with_path("write", path, error))?;
    file.finish()
}

/// A file written as a stream to a temporary name beside `path`, and renamed over `path` by [`PendingFile::finish`]
/// once complete and on disk; dropped unfinished, the temporary file is removed and `path` is left as it was.
pub struct PendingFile {
    path: PathBuf,
    temporary: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl PendingFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy());
        let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&temporary).map_err(|error| with_path("write", path, error))?;
        Ok(PendingFile {
            path: path.to_path_buf(),
            temporary,
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// The file's final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes what is written so far and waits until it is on disk, leaving [`PendingFile::finish`] little to wait
    /// for: a large file is synced on another thread while other work goes on.
    pub fn sync(&mut self) -> io::Result<()> {
        let writer = self.writer.as_mut().ok_or_else(|| io::Error::other("finished"))?;
        writer
            .flush()
            .and_then(|()| writer.get_ref().sync_all())
            .map_err(|error| with_path("write", &self.path, error))
    }

    /// Flushes the file to disk and renames it over its final path.
    pub fn finish(mut self) -> io::Result<()> {
        let writer = self.writer.take().ok_or_else(|| io::Error::other("finished twice"))?;
        let synced = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .and_then(|file| file.sync_all());
        if let Err(error) = synced {
            let _ = std::fs::remove_file(&self.temporary);
            return Err(with_path("write", &self.path, error));
        }
        std::fs::rename(&self.temporary, &self.path).map_err(|error| {
            let _ = std::fs::remove_file(&self.temporary);
            with_path("replace", &self.path, error)
        })
    }
}

impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let writer = self.writer.as_mut().ok_or_else(|| io::Error::other("finished"))?;
        writer.write(buf).map_err(|error| with_path("write", &self.path, error))
    }

    fn flush(&mut self) -> io::Result<()> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        writer.flush().map_err(|error| with_path("write", &self.path, error))
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
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
    fn a_streamed_file_that_cannot_be_put_in_place_names_its_path_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("examples.csv");
        // A folder in the way (not empty) cannot be replaced by a file.
        std::fs::create_dir_all(path.join("in-the-way")).expect("folder");
        let mut file = PendingFile::create(&path).expect("created");
        file.write_all(b"row\n").expect("buffered");
        let error = file.finish().expect_err("a folder is in the way");
        assert!(error.to_string().contains(&path.display().to_string()), "{error}");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["examples.csv"]);
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
