//! The scoring pass: each planned row matched to its latest record by fingerprint, scored against its own example,
//! and handed to the report's consumers one at a time.
//!
//! Nothing here holds the run's texts at once. `records.jsonl` is read twice as a stream: first to note, per
//! planned row, where its latest record starts (the plan's fingerprints are held as 32-byte keys while that is
//! done), then in plan order, each record read back from that position, scored and dropped. Several planned rows may
//! share one record (two held-out examples with the same input make the same request): each is scored against its
//! own example. A record is stale only when no planned row has its fingerprint. Judge verdicts and scorer results
//! are looked up by their fingerprint's key.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::InputError;
use crate::run::plan::{plan_position, FingerprintKey, RequestFingerprint};
use crate::run::records::{line_number, Record, RecordStatus};
use crate::score::command::command_outcome;
use crate::score::judge::criterion_outcome;
use crate::score::{score_output_with, OutputScore};
use crate::suite::Suite;
use latest::{latest_record_offsets, NOT_RECORDED};

mod latest;

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
    /// The row's latest record, if any (boxed: rows are handed from thread to thread, and a record is large).
    pub record: Option<Box<Record>>,
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
            record: self.record.as_deref(),
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
    let rows = RowScorer {
        suite,
        judged: &judged,
        commanded: &commanded,
    };
    // One core is the writer's (`build_and_write`); the others share the parsing and scoring.
    let workers = std::thread::available_parallelism().map_or(1, |n| usize::from(n).saturating_sub(1).max(1));
    let mut reader = RecordReader::open(&records)?;
    // A batch's records are read in order on this thread, parsed and scored by the workers, then handed on in order.
    let (mut text, mut spans) = (Vec::new(), Vec::with_capacity(BATCH));
    for first in (0..offsets.len()).step_by(BATCH) {
        let batch = first..(first + BATCH).min(offsets.len());
        text.clear();
        spans.clear();
        for &offset in &offsets[batch.clone()] {
            let span = (offset != NOT_RECORDED)
                .then(|| reader.append_line_at(offset, &mut text).map(|span| (offset, span)))
                .transpose()?;
            spans.push(span);
        }
        let scored = parallel_map(&spans, workers, |i, span| -> anyhow::Result<_> {
            let Some((offset, span)) = span else {
                return Ok((None, None));
            };
            let record: Box<Record> = reader.parse(*offset, &text[span.clone()])?;
            let score = rows.score(first + i, &record);
            Ok((Some(record), score))
        });
        for ((row, scored), span) in batch.zip(scored).zip(&spans) {
            let (record, score) = scored?;
            let (example, config, repeat) = plan_position(suite, row);
            visit(ScoredRow {
                example,
                config,
                repeat,
                record,
                position: span.as_ref().map(|(offset, _)| *offset),
                score,
            })?;
        }
    }
    Ok(ScoringTotals { stale_records, judge })
}

/// Planned rows read back and scored together: enough to keep every core busy between hand-overs, few enough that
/// their texts take little memory.
pub(crate) const BATCH: usize = 2048;

/// Scores a planned row's record against the row's own example, with the judge's verdicts and the scorers' results.
struct RowScorer<'a> {
    suite: &'a Suite,
    judged: &'a HashMap<FingerprintKey, Record>,
    commanded: &'a HashMap<FingerprintKey, Record>,
}

impl RowScorer<'_> {
    /// The scores of the record of plan row `row`, when it is a reply.
    fn score(&self, row: usize, record: &Record) -> Option<OutputScore> {
        let suite = self.suite;
        let example = &suite.held_out.examples[plan_position(suite, row).0];
        let (RecordStatus::Ok, Some(output)) = (record.status, &record.output) else {
            return None;
        };
        let lookup = |fp: &RequestFingerprint| fp.key().and_then(|k| self.judged.get(&k));
        let command_lookup = |fp: &RequestFingerprint| fp.key().and_then(|k| self.commanded.get(&k));
        let judge_outcome = |id: &str| {
            let spec = suite.rubric.criteria.iter().find(|c| c.id == id)?.judge()?;
            Some(criterion_outcome(
                suite.file.judge.as_ref()?,
                spec,
                example,
                output,
                &lookup,
            ))
        };
        let scorer_outcome = |id: &str| {
            let check = suite.rubric.criteria.iter().find(|c| c.id == id)?.command()?;
            Some(command_outcome(id, check, example, output, &command_lookup))
        };
        Some(score_output_with(
            &suite.rubric,
            example,
            output,
            &judge_outcome,
            &scorer_outcome,
        ))
    }
}

/// `f(index, item)` of every item, in order, the items shared out in contiguous runs among `workers` threads (this
/// one included).
fn parallel_map<T: Sync, R: Send>(items: &[T], workers: usize, f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let run = |start: usize, items: &[T]| -> Vec<R> {
        items.iter().enumerate().map(|(i, item)| f(start + i, item)).collect()
    };
    if workers <= 1 || items.len() < 2 {
        return run(0, items);
    }
    let size = items.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let run = &run;
        let others: Vec<_> = items
            .chunks(size)
            .enumerate()
            .skip(1)
            .map(|(k, chunk)| scope.spawn(move || run(k * size, chunk)))
            .collect();
        let mut all = run(0, &items[..size.min(items.len())]);
        for other in others {
            all.extend(other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        all
    })
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
    each: impl FnMut(u64, T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    crate::run::records::for_each_line_in(path, 0..u64::MAX, each)
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
        self.line.clear();
        let mut line = std::mem::take(&mut self.line);
        let span = self.append_line_at(offset, &mut line);
        let record = span.and_then(|span| self.parse(offset, &line[span]));
        self.line = line;
        record
    }

    /// Appends the line that starts at byte `offset` to `text`; returns where it lies in `text`.
    fn append_line_at(&mut self, offset: u64, text: &mut Vec<u8>) -> anyhow::Result<std::ops::Range<usize>> {
        let cannot_read = |e: io::Error| InputError::in_file(self.path, format!("cannot read records: {e}"));
        let reader = self
            .reader
            .as_mut()
            .ok_or_else(|| cannot_read(io::ErrorKind::NotFound.into()))?;
        reader
            .seek_relative(offset as i64 - self.position as i64)
            .map_err(cannot_read)?;
        let start = text.len();
        let read = reader.read_until(b'\n', text).map_err(cannot_read)?;
        self.position = offset + read as u64;
        Ok(start..text.len())
    }

    /// The record in `line`, which starts at byte `offset` (that names the line when it is not a record).
    fn parse<R: DeserializeOwned>(&self, offset: u64, line: &[u8]) -> anyhow::Result<R> {
        serde_json::from_slice(line).map_err(|e| {
            let number = line_number(self.path, offset).unwrap_or(0);
            InputError::at_line(self.path, number, format!("invalid record: {e}")).into()
        })
    }
}
