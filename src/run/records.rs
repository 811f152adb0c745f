//! `records.jsonl`: one line per finished request, appended as it completes; the source of truth for reports.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::plan::RequestFingerprint;
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
            if let Ok(bytes) = std::fs::read(path) {
                if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                    OpenOptions::new().write(true).open(path)?.set_len(keep as u64)?;
                }
            }
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
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LoadedRecords::default()),
        Err(e) => {
            return Err(crate::error::InputError::in_file(
                path,
                format!("cannot read records: {e}"),
            ))
        }
    };
    let mut loaded = LoadedRecords::default();
    let ends_with_newline = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(record) => loaded.records.push(record),
            Err(_) if i + 1 == lines.len() && !ends_with_newline => loaded.torn_last_line = true,
            Err(e) => {
                return Err(crate::error::InputError::at_line(
                    path,
                    i + 1,
                    format!("invalid record: {e}"),
                ))
            }
        }
    }
    Ok(loaded)
}
