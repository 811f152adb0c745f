//! `records.jsonl`: one line per finished request, appended as it completes; the source of truth for reports.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::plan::RequestFingerprint;
use crate::error::InputError;
use crate::files::with_path;
use crate::provider::CallError;

/// The outcome of one planned request, after every attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The held-out example's id.
    pub example_id: String,
    /// The config's name.
    pub config: String,
    /// Repeat index, from 0.
    pub repeat: u32,
    /// The request's fingerprint.
    pub fingerprint: RequestFingerprint,
    /// Model id or ARN called.
    pub model: String,
    /// `ok` or `error`.
    pub status: RecordStatus,
    /// The reply, when the call succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Why generation stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Input tokens the service counted (0 on error).
    pub input_tokens: u64,
    /// Output tokens the service counted (0 on error).
    pub output_tokens: u64,
    /// Input tokens read from the prompt cache (`cacheReadInputTokens`; not in `input_tokens`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_read_input_tokens: u64,
    /// Input tokens written to the prompt cache (`cacheWriteInputTokens`; not in `input_tokens`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_write_input_tokens: u64,
    /// Wall time of the successful attempt (or the last one), in milliseconds.
    pub latency_ms: u64,
    /// Latency the service reported, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_latency_ms: Option<u64>,
    /// Attempts made, the first included.
    pub attempts: u32,
    /// Why earlier attempts failed, by error kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retried: Vec<CallError>,
    /// The final error, when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CallError>,
    /// When the request was first dispatched (RFC 3339).
    pub started_at: String,
    /// For a judge call: the rubric criterion it asked about (`example_id`, `config` and `repeat` then name the
    /// judged output's example and config, and the verdict sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<String>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Whether a request ended in a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// A reply was recorded.
    Ok,
    /// Every attempt failed, or the failure was not retryable.
    Error,
}

impl RecordStatus {
    /// The name used in records and reports: `ok` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Ok => "ok",
            RecordStatus::Error => "error",
        }
    }
}

/// Appends records, one `write` and one flush per line, so a crash loses at most the calls in flight.
pub struct RecordWriter {
    file: File,
    path: PathBuf,
}

impl RecordWriter {
    /// Opens (creating if needed) `path` for appending. A last line cut short by a crash is removed first, so
    /// the next record starts on a line of its own.
    pub fn open(path: &Path) -> io::Result<Self> {
        let open = || {
            cut_torn_last_line(path)?;
            OpenOptions::new().create(true).append(true).open(path)
        };
        let file = open().map_err(|e| with_path("open", path, e))?;
        Ok(RecordWriter {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one record.
    pub fn append(&mut self, record: &Record) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.flush())
            .map_err(|e| with_path("append to", &self.path, e))
    }
}

/// Cuts a last line that lacks its newline (a write a crash cut short) off the file at `path`, if there is one,
/// reading only the file's tail: a file of a million records is not read to append to it.
fn cut_torn_last_line(path: &Path) -> io::Result<()> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut end = file.metadata()?.len();
    let mut chunk = vec![0u8; 1 << 16];
    let mut last = true;
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let bytes = &mut chunk[..(end - start) as usize];
        file.seek(io::SeekFrom::Start(start))?;
        file.read_exact(bytes)?;
        if last && bytes.last() == Some(&b'\n') {
            return Ok(());
        }
        last = false;
        if let Some(newline) = bytes.iter().rposition(|&b| b == b'\n') {
            return file.set_len(start + newline as u64 + 1);
        }
        end = start;
    }
    file.set_len(0)
}

/// Records read back from a run, and what could not be read.
#[derive(Debug, Default)]
pub struct LoadedRecords {
    /// Valid records in file order.
    pub records: Vec<Record>,
    /// A final line cut short by a crash, which is ignored (its request is simply not done).
    pub torn_last_line: bool,
}

impl LoadedRecords {
    /// The latest record for each fingerprint (a retried error is superseded by its later record).
    pub fn latest(&self) -> HashMap<&RequestFingerprint, &Record> {
        let mut latest = HashMap::new();
        for record in &self.records {
            latest.insert(&record.fingerprint, record);
        }
        latest
    }
}

/// Reads `records.jsonl`; a missing file is an empty run. A bad line other than a torn last one is an error.
pub fn read_records(path: &Path) -> Result<LoadedRecords, crate::error::InputError> {
    let mut loaded = LoadedRecords::default();
    loaded.torn_last_line = for_each_record(path, |_, record| loaded.records.push(record))?;
    Ok(loaded)
}

/// Where a record was read: its line (from 1) and the byte offset its line starts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordAt {
    /// Its line, from 1.
    pub line: usize,
    /// The offset of the line's first byte.
    pub offset: u64,
}

/// Reads `records.jsonl` a line at a time, handing each record and where it was read to `each`, so a file of a
/// million records is never held at once; a missing file is an empty run. Returns whether a final line cut short by
/// a crash was ignored. A bad line other than a torn last one is an error.
pub fn for_each_record(path: &Path, mut each: impl FnMut(RecordAt, Record)) -> Result<bool, crate::error::InputError> {
    let mut records = records_in(path)?;
    for record in records.by_ref() {
        let (at, record) = record?;
        each(at, record);
    }
    Ok(records.torn_last_line)
}

/// Calls `each(offset, value)` for every non-blank line of a JSONL records file that starts within the byte range
/// `within`, as [`for_each_record`] reads a whole file: a missing file has no lines; a last line cut short by a crash
/// (no newline, not valid) is ignored; any other line that does not parse is an error naming it. Ranges that split a
/// file between them see each of its lines exactly once, so threads can share one file's reading ([`in_parts`]).
pub(crate) fn for_each_line_in<T: DeserializeOwned>(
    path: &Path,
    within: std::ops::Range<u64>,
    each: impl FnMut(u64, T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for_each_line_or_quick_in(path, within, |_, _| false, each)
}

/// As [`for_each_line_in`], but each whole line (one that ends in a newline) is first offered, as it is, to
/// `quick(offset, line)`, which takes it by returning `true`; only the lines it declines are parsed and handed to
/// `each`. A line `quick` takes is not checked here: the caller answers for that.
pub(crate) fn for_each_line_or_quick_in<T: DeserializeOwned>(
    path: &Path,
    within: std::ops::Range<u64>,
    mut quick: impl FnMut(u64, &[u8]) -> bool,
    mut each: impl FnMut(u64, T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let cannot_read = |e: io::Error| InputError::in_file(path, format!("cannot read records: {e}"));
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(cannot_read(e).into()),
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let mut offset = 0u64;
    // Line numbers are counted from the file's start; a range that begins later finds one only to name a bad line.
    let mut number = (within.start == 0).then_some(0usize);
    if within.start > 0 {
        // The line that starts at `within.start` or the first after it: skip to the end of the line before.
        reader
            .seek(io::SeekFrom::Start(within.start - 1))
            .map_err(cannot_read)?;
        offset = within.start - 1 + reader.read_until(b'\n', &mut line).map_err(cannot_read)? as u64;
    }
    while offset < within.end {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(cannot_read)?;
        if read == 0 {
            return Ok(());
        }
        number = number.map(|n| n + 1);
        let start = offset;
        offset += read as u64;
        if line.ends_with(b"\n") && quick(start, &line) {
            continue;
        }
        let text = std::str::from_utf8(&line).map_err(|e| cannot_read(io::Error::other(e)))?;
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<T>(text) {
            Ok(value) => each(start, value)?,
            Err(_) if !line.ends_with(b"\n") => return Ok(()),
            Err(e) => {
                let number = number.unwrap_or_else(|| line_number(path, start).unwrap_or(0));
                return Err(InputError::at_line(path, number, format!("invalid record: {e}")).into());
            }
        }
    }
    Ok(())
}

/// Below this many bytes per thread, one thread reads a records file: threads would cost more than they save.
const BYTES_PER_THREAD: u64 = 8 << 20;

/// `part(range)` for byte ranges that split the file at `path` between the cores (one range for a small or missing
/// file), run side by side; the results in file order. Each part reads its lines with [`for_each_line_in`].
pub(crate) fn in_parts<T: Send>(
    path: &Path,
    part: impl Fn(std::ops::Range<u64>) -> anyhow::Result<T> + Sync,
) -> anyhow::Result<Vec<T>> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    let length = std::fs::metadata(path).map_or(0, |m| m.len());
    let parts = cores.min(length.div_ceil(BYTES_PER_THREAD)).max(1);
    let ranges = (0..parts).map(|i| {
        length * i / parts..if i + 1 == parts {
            u64::MAX
        } else {
            length * (i + 1) / parts
        }
    });
    let part = &part;
    std::thread::scope(|scope| {
        let parts: Vec<_> = ranges.map(|range| scope.spawn(move || part(range))).collect();
        parts
            .into_iter()
            .map(|part| {
                part.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("reading {} stopped unexpectedly", path.display())))
            })
            .collect()
    })
}

/// The 1-based line that starts at byte `offset` (only for naming a bad line).
pub(crate) fn line_number(path: &Path, offset: u64) -> io::Result<usize> {
    let mut reader = BufReader::new(File::open(path)?);
    let (mut number, mut read, mut line) = (1, 0u64, Vec::new());
    while read < offset {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        read += n as u64;
        number += 1;
    }
    Ok(number)
}

/// The records of `path` as an iterator, read a line at a time (see [`for_each_record`]); a missing file has none.
pub fn records_in(path: &Path) -> Result<RecordLines, crate::error::InputError> {
    Ok(RecordLines {
        reader: open_if_present(path, 1 << 16)?,
        path: path.to_path_buf(),
        line: String::new(),
        at: RecordAt { line: 0, offset: 0 },
        next_offset: 0,
        torn_last_line: false,
    })
}

/// `path` opened for buffered reading; `None` when there is no such file (an empty run).
fn open_if_present(path: &Path, buffer: usize) -> Result<Option<BufReader<File>>, crate::error::InputError> {
    match File::open(path) {
        Ok(file) => Ok(Some(BufReader::with_capacity(buffer, file))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(cannot_read(path, &e)),
    }
}

fn cannot_read(path: &Path, e: &io::Error) -> crate::error::InputError {
    crate::error::InputError::in_file(path, format!("cannot read records: {e}"))
}

/// The iterator of [`records_in`]: each record with where it was read; after a bad line, its error and nothing more.
pub struct RecordLines {
    reader: Option<BufReader<File>>,
    path: PathBuf,
    line: String,
    at: RecordAt,
    next_offset: u64,
    /// Whether a final line cut short by a crash was ignored (known once the iterator is done).
    pub torn_last_line: bool,
}

impl Iterator for RecordLines {
    type Item = Result<(RecordAt, Record), crate::error::InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let reader = self.reader.as_mut()?;
            self.line.clear();
            let read = match reader.read_line(&mut self.line) {
                Ok(0) => {
                    self.reader = None;
                    return None;
                }
                Ok(read) => read,
                Err(e) => {
                    self.reader = None;
                    return Some(Err(cannot_read(&self.path, &e)));
                }
            };
            self.at = RecordAt {
                line: self.at.line + 1,
                offset: self.next_offset,
            };
            self.next_offset += read as u64;
            let complete = self.line.ends_with('\n');
            let text = self.line.trim_end_matches('\n').trim_end_matches('\r');
            if text.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(text) {
                Ok(record) => return Some(Ok((self.at, record))),
                // Only the last line can lack its newline: a write a crash cut short.
                Err(_) if !complete => {
                    self.reader = None;
                    self.torn_last_line = true;
                    return None;
                }
                Err(e) => {
                    self.reader = None;
                    return Some(Err(crate::error::InputError::at_line(
                        &self.path,
                        self.at.line,
                        format!("invalid record: {e}"),
                    )));
                }
            }
        }
    }
}

/// Reads single records of a file by the offset of their line (as [`for_each_record`] gives it), for lookups
/// that keep offsets instead of records.
pub struct RecordReader {
    reader: Option<BufReader<File>>,
    path: PathBuf,
    line: String,
}

impl RecordReader {
    /// A reader of `path` (a missing file has no records to read).
    pub fn open(path: &Path) -> Result<RecordReader, crate::error::InputError> {
        Ok(RecordReader {
            reader: open_if_present(path, 1 << 12)?,
            path: path.to_path_buf(),
            line: String::new(),
        })
    }

    /// The record whose line starts at `offset`.
    pub fn read_at(&mut self, offset: u64) -> Result<Record, crate::error::InputError> {
        let path = &self.path;
        let failed = |message: String| crate::error::InputError::in_file(path, message);
        let reader = self
            .reader
            .as_mut()
            .ok_or_else(|| failed("cannot read records: the file is gone".into()))?;
        self.line.clear();
        reader
            .seek(io::SeekFrom::Start(offset))
            .and_then(|_| reader.read_line(&mut self.line))
            .map_err(|e| failed(format!("cannot read records: {e}")))?;
        serde_json::from_str(self.line.trim_end()).map_err(|e| failed(format!("invalid record: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Line {
        n: usize,
    }

    #[test]
    fn byte_ranges_that_split_a_file_see_each_line_once_and_name_bad_lines_by_their_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let text: String = (1..=50).map(|n| format!("{{\"n\":{n}}}\n")).collect();
        std::fs::write(&path, &text).unwrap();
        let length = text.len() as u64;
        for parts in [1u64, 2, 3, 7, length] {
            let mut seen = Vec::new();
            for i in 0..parts {
                let range = length * i / parts..if i + 1 == parts {
                    u64::MAX
                } else {
                    length * (i + 1) / parts
                };
                for_each_line_in(&path, range, |offset, line: Line| {
                    assert_eq!(
                        text[offset as usize..].split('\n').next().unwrap(),
                        format!("{{\"n\":{}}}", line.n)
                    );
                    seen.push(line.n);
                    Ok(())
                })
                .unwrap();
            }
            assert_eq!(seen, (1..=50).collect::<Vec<_>>(), "{parts} parts");
        }
        // A bad line in a later range is named by its line number in the file.
        std::fs::write(&path, text.replace("{\"n\":40}", "{\"n\":")).unwrap();
        let error = for_each_line_in(&path, length / 2..u64::MAX, |_, _: Line| Ok(())).unwrap_err();
        assert!(format!("{error:#}").contains("records.jsonl:40: "), "{error:#}");
    }

    fn record(id: &str) -> Record {
        Record {
            example_id: id.into(),
            config: "c".into(),
            repeat: 0,
            fingerprint: RequestFingerprint(id.repeat(64 / id.len())),
            model: "m".into(),
            status: RecordStatus::Ok,
            output: Some(format!("reply to {id}")),
            stop_reason: None,
            input_tokens: 1,
            output_tokens: 2,
            cache_read_input_tokens: 0,
            cache_write_input_tokens: 0,
            latency_ms: 3,
            service_latency_ms: None,
            attempts: 1,
            retried: Vec::new(),
            error: None,
            started_at: "2026-01-01T00:00:00Z".into(),
            criterion: None,
        }
    }

    #[test]
    fn records_stream_with_their_offsets_and_a_torn_last_line_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let mut writer = RecordWriter::open(&path).unwrap();
        writer.append(&record("a")).unwrap();
        writer.append(&record("b")).unwrap();
        drop(writer);
        let mut text = std::fs::read_to_string(&path).unwrap();
        let second = text.find('\n').unwrap() as u64 + 1;
        text.push_str("\n{\"example_id\": \"c\", \"conf");
        std::fs::write(&path, &text).unwrap();

        let mut lines = records_in(&path).unwrap();
        let read: Vec<(RecordAt, Record)> = lines.by_ref().map(Result::unwrap).collect();
        assert!(lines.torn_last_line);
        assert_eq!(read.len(), 2);
        assert_eq!((read[0].0.line, read[0].0.offset), (1, 0));
        assert_eq!((read[1].0.line, read[1].0.offset), (2, second));
        assert_eq!(read[1].1, record("b"));
        let mut reader = RecordReader::open(&path).unwrap();
        assert_eq!(reader.read_at(second).unwrap(), record("b"));
        assert_eq!(reader.read_at(0).unwrap(), record("a"));
    }

    #[test]
    fn opening_for_append_cuts_only_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let long = "x".repeat(200_000);
        for (text, kept) in [("a\nb\n", "a\nb\n"), ("a\nb\ntorn", "a\nb\n"), ("torn", ""), ("", "")] {
            std::fs::write(&path, text).unwrap();
            RecordWriter::open(&path).unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), kept, "{text:?}");
        }
        // A torn line longer than one chunk read from the end.
        std::fs::write(&path, format!("a\n{long}")).unwrap();
        RecordWriter::open(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\n");
        std::fs::write(&path, format!("{long}\n{long}")).unwrap();
        RecordWriter::open(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{long}\n"));
    }

    #[test]
    fn a_bad_line_before_the_last_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let good = serde_json::to_string(&record("a")).unwrap();
        std::fs::write(&path, format!("{good}\nnot json\n{good}\n")).unwrap();
        let error = for_each_record(&path, |_, _| {}).unwrap_err();
        assert!(error.to_string().contains(":2"), "{error}");
        assert!(error.to_string().contains("invalid record"), "{error}");
        let missing = dir.path().join("none.jsonl");
        assert!(!for_each_record(&missing, |_, _| panic!("no records")).unwrap());
    }
}
