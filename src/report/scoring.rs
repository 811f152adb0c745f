//! The scoring pass: each planned row matched to its latest record by fingerprint, scored against its own example,
//! and handed to the report's consumers one at a time.
//!
//! Nothing here holds the run's texts at once. `records.jsonl` is read twice as a stream: first to note, per
//! planned row, where its latest record starts (the plan's fingerprints are held as 32-byte keys while that is
//! done), then in plan order, each record read back from that position, scored and dropped. Several planned rows may
//! share one record (two held-out examples with the same input make the same request): each is scored against its
//! own example. A record is stale only when no planned row has its fingerprint. Judge verdicts and scorer results
//! are looked up by their fingerprint's key.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{InputError, InputErrors};
use crate::run::plan::{plan_requests, FingerprintKey, RequestFingerprint};
use crate::run::records::{Record, RecordStatus};
use crate::score::command::command_outcome;
use crate::score::judge::criterion_outcome;
use crate::score::{score_output_with, OutputScore};
use crate::suite::Suite;

/// One planned (example, config, repeat) row as the pass reaches it.
#[derive(Debug, Clone, Copy)]
pub struct RowOutcome<'a> {
    /// Index of the example in the held-out set.
    pub example: usize,
    /// Index of the config in the suite's list.
    pub config: usize,
    /// Repeat index, from 0.
    pub repeat: u32,
    /// The row's latest record; `None` when the request was never recorded (an interrupted run).
    pub record: Option<&'a Record>,
    /// The reply's scores against this row's example, when the record is a reply.
    pub score: Option<&'a OutputScore>,
}

/// A [`RowOutcome`] that owns its record and scores, to be handed on (to a writer on another thread).
#[derive(Debug, Clone)]
pub struct ScoredRow {
    /// Index of the example in the held-out set.
    pub example: usize,
    /// Index of the config in the suite's list.
    pub config: usize,
    /// Repeat index, from 0.
    pub repeat: u32,
    /// The row's latest record, if any.
    pub record: Option<Record>,
    /// Where that record starts in `records.jsonl` (to read it back later with a [`RecordReader`]).
    pub position: Option<u64>,
    /// The reply's scores, if it is one.
    pub score: Option<OutputScore>,
}

impl ScoredRow {
    /// The row, borrowed.
    pub fn outcome(&self) -> RowOutcome<'_> {
        RowOutcome {
            example: self.example,
            config: self.config,
            repeat: self.repeat,
            record: self.record.as_ref(),
            score: self.score.as_ref(),
        }
    }
}

/// What the judge's calls were, over every line of `judgements.jsonl`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JudgeCalls {
    /// Judge calls recorded (re-asks included).
    pub calls: usize,
    /// Of which ended in an error.
    pub failed: usize,
    /// Input tokens over all judge calls.
    pub input_tokens: u64,
    /// Output tokens over all judge calls.
    pub output_tokens: u64,
}

/// What the pass found beside the rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScoringTotals {
    /// Distinct fingerprints recorded that no planned row has (the suite changed since they were made).
    pub stale_records: usize,
    /// The judge's calls.
    pub judge: JudgeCalls,
}

/// Marks a planned row without a record in the row-to-offset table.
const NOT_RECORDED: u64 = u64::MAX;

/// Scores every planned row of `suite` from the run's files, in plan order (example, then config, then repeat),
/// handing each to `visit`, recorded or not.
pub fn score_rows(
    suite: &Suite,
    run_dir: &Path,
    visit: &mut dyn FnMut(ScoredRow) -> anyhow::Result<()>,
) -> anyhow::Result<ScoringTotals> {
    let records = run_dir.join(crate::run::RECORDS_FILE);
    let (offsets, stale_records) = latest_record_offsets(suite, &records)?;
    let mut judge = JudgeCalls::default();
    let mut judged: HashMap<FingerprintKey, Record> = HashMap::new();
    for_each_line(
        &run_dir.join(crate::run::judging::JUDGEMENTS_FILE),
        |_, record: Record| {
            judge.calls += 1;
            judge.failed += usize::from(record.status == RecordStatus::Error);
            judge.input_tokens += record.input_tokens;
            judge.output_tokens += record.output_tokens;
            if let Some(key) = record.fingerprint.key() {
                judged.insert(key, outcome_only(record));
            }
            Ok(())
        },
    )?;
    let commanded = records_by_key(&run_dir.join(crate::run::command_scoring::COMMANDS_FILE))?;
    let lookup = |fp: &RequestFingerprint| fp.key().and_then(|k| judged.get(&k));
    let command_lookup = |fp: &RequestFingerprint| fp.key().and_then(|k| commanded.get(&k));
    let judge_settings = suite.file.judge.as_ref();
    let (configs, repeats) = (suite.file.configs.len(), suite.file.repeats as usize);
    let mut reader = RecordReader::open(&records)?;
    for (row, &offset) in offsets.iter().enumerate() {
        let (example, config, repeat) = (row / (configs * repeats), (row / repeats) % configs, row % repeats);
        let position = (offset != NOT_RECORDED).then_some(offset);
        let record = position.map(|offset| reader.read_at(offset)).transpose()?;
        let example_data = &suite.held_out.examples[example];
        let score = match &record {
            Some(Record {
                output: Some(output),
                status: RecordStatus::Ok,
                ..
            }) => {
                let judge_outcome = |id: &str| {
                    let spec = suite.rubric.criteria.iter().find(|c| c.id == id)?.judge()?;
                    Some(criterion_outcome(judge_settings?, spec, example_data, output, &lookup))
                };
                let scorer_outcome = |id: &str| {
                    let check = suite.rubric.criteria.iter().find(|c| c.id == id)?.command()?;
                    Some(command_outcome(id, check, example_data, output, &command_lookup))
                };
                Some(score_output_with(
                    &suite.rubric,
                    example_data,
                    output,
                    &judge_outcome,
                    &scorer_outcome,
                ))
            }
            _ => None,
        };
        visit(ScoredRow {
            example,
            config,
            repeat: repeat as u32,
            record,
            position,
            score,
        })?;
    }
    Ok(ScoringTotals { stale_records, judge })
}

/// Per planned row, where its latest record starts in `records.jsonl` ([`NOT_RECORDED`] if nowhere), and how many
/// distinct fingerprints were recorded that no planned row has.
fn latest_record_offsets(suite: &Suite, records: &Path) -> anyhow::Result<(Vec<u64>, usize)> {
    // The plan's keys, sorted with their rows: several rows may share a key (examples with the same input).
    let rows = suite.held_out.examples.len() * suite.file.configs.len() * suite.file.repeats as usize;
    let mut planned: Vec<(FingerprintKey, u32)> = Vec::with_capacity(rows);
    for (row, request) in plan_requests(suite).enumerate() {
        let request = request.map_err(InputErrors::from)?;
        let key = request
            .fingerprint
            .key()
            .ok_or_else(|| anyhow::anyhow!("fingerprint {} is not 64 hex digits", request.fingerprint.0))?;
        planned.push((key, u32::try_from(row)?));
    }
    planned.sort_unstable();
    let mut offsets = vec![NOT_RECORDED; planned.len()];
    let mut stale: HashSet<FingerprintKey> = HashSet::new();
    let mut unkeyed: HashSet<String> = HashSet::new();
    #[derive(serde::Deserialize)]
    struct Head {
        fingerprint: RequestFingerprint,
    }
    for_each_line(records, |offset, head: Head| {
        let Some(key) = head.fingerprint.key() else {
            unkeyed.insert(head.fingerprint.0);
            return Ok(());
        };
        let start = planned.partition_point(|(k, _)| *k < key);
        let rows = planned[start..].iter().take_while(|(k, _)| *k == key);
        let mut matched = false;
        for &(_, row) in rows {
            offsets[row as usize] = offset;
            matched = true;
        }
        if !matched {
            stale.insert(key);
        }
        Ok(())
    })?;
    Ok((offsets, stale.len() + unkeyed.len()))
}

/// The latest record of each fingerprint in a records file, by key.
fn records_by_key(path: &Path) -> anyhow::Result<HashMap<FingerprintKey, Record>> {
    let mut map = HashMap::new();
    for_each_line(path, |_, record: Record| {
        if let Some(key) = record.fingerprint.key() {
            map.insert(key, outcome_only(record));
        }
        Ok(())
    })?;
    Ok(map)
}

/// A judge call's or scorer's record reduced to what scoring reads of it — its status, its output (the verdict,
/// whose reasons the reports show) and its error — so that a large run's verdicts take little beyond their text.
fn outcome_only(record: Record) -> Record {
    Record {
        example_id: String::new(),
        config: String::new(),
        fingerprint: RequestFingerprint(String::new()),
        model: String::new(),
        stop_reason: None,
        retried: Vec::new(),
        started_at: String::new(),
        criterion: None,
        ..record
    }
}

/// Calls `each(offset, value)` for every non-blank line of a JSONL records file, as `records::read_records` reads
/// it: a missing file has no lines; a last line cut short by a crash (no newline, not valid) is ignored; any other
/// line that does not parse is an error naming it.
pub(crate) fn for_each_line<T: DeserializeOwned>(
    path: &Path,
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
    let (mut offset, mut number) = (0u64, 0usize);
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(cannot_read)?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        let start = offset;
        offset += read as u64;
        let text = std::str::from_utf8(&line).map_err(|e| cannot_read(io::Error::other(e)))?;
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<T>(text) {
            Ok(value) => each(start, value)?,
            Err(_) if !line.ends_with(b"\n") => return Ok(()),
            Err(e) => return Err(InputError::at_line(path, number, format!("invalid record: {e}")).into()),
        }
    }
}

/// Reads single records back from `records.jsonl` by where they start. The scoring pass reads in nearly ascending
/// order (the plan's order is close to the order the calls completed in), so a large buffer is mostly reused rather
/// than refilled; reads scattered over the file want a small one ([`RecordReader::for_lookups`]).
pub(crate) struct RecordReader<'a> {
    path: &'a Path,
    reader: Option<BufReader<File>>,
    position: u64,
    line: Vec<u8>,
}

impl<'a> RecordReader<'a> {
    /// A reader of the records file at `path` for reads in nearly ascending order (a missing file can be opened, but
    /// not read from).
    fn open(path: &'a Path) -> anyhow::Result<Self> {
        Self::with_buffer(path, 1 << 16)
    }

    /// A reader of the records file at `path` for a few records here and there: each read fills little more than
    /// a record's length.
    pub(crate) fn for_lookups(path: &'a Path) -> anyhow::Result<Self> {
        Self::with_buffer(path, 1 << 12)
    }

    fn with_buffer(path: &'a Path, capacity: usize) -> anyhow::Result<Self> {
        let reader = match File::open(path) {
            Ok(file) => Some(BufReader::with_capacity(capacity, file)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(InputError::in_file(path, format!("cannot read records: {e}")).into()),
        };
        Ok(RecordReader {
            path,
            reader,
            position: 0,
            line: Vec::new(),
        })
    }

    /// The record that starts at byte `offset`.
    pub(crate) fn read_at(&mut self, offset: u64) -> anyhow::Result<Record> {
        let cannot_read = |e: io::Error| InputError::in_file(self.path, format!("cannot read records: {e}"));
        let reader = self
            .reader
            .as_mut()
            .ok_or_else(|| cannot_read(io::ErrorKind::NotFound.into()))?;
        reader
            .seek_relative(offset as i64 - self.position as i64)
            .map_err(cannot_read)?;
        self.line.clear();
        let read = reader.read_until(b'\n', &mut self.line).map_err(cannot_read)?;
        self.position = offset + read as u64;
        serde_json::from_slice(&self.line).map_err(|e| {
            let number = line_number(self.path, offset).unwrap_or(0);
            InputError::at_line(self.path, number, format!("invalid record: {e}")).into()
        })
    }
}

/// The 1-based line that starts at byte `offset` (only for naming a bad line).
fn line_number(path: &Path, offset: u64) -> io::Result<usize> {
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
