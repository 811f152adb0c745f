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

use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::InputError;
use crate::provider::CallError;
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
///
/// The rows are read in batches. A batch's records are parsed and scored on every core, and there each row is also
/// given to `prepare` (with a `state` made once per worker thread), so that work done per row — formatting a
/// row of a report file, say — is shared out as well; `visit` then has the rows, with what `prepare` made of each,
/// one at a time and in order on this thread.
pub fn score_rows<S, P: Send>(
    suite: &Suite,
    run_dir: &Path,
    state: impl Fn() -> S + Sync,
    prepare: impl Fn(&mut S, &ScoredRow) -> anyhow::Result<P> + Sync,
    visit: &mut dyn FnMut(ScoredRow, P) -> anyhow::Result<()>,
) -> anyhow::Result<ScoringTotals> {
    // Declared first, so dropped last: everything the pass freed goes back to the system before the analysis.
    let _held = crate::memory::HoldFreedMemory::start();
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
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let batches = offsets.len().div_ceil(BATCH);
    let mut reader = RecordReader::open(&records)?;
    // This thread reads each batch's records (in order, into one buffer) and hands the batch to a worker; the
    // workers parse, score and prepare whole batches, each on its own; this thread then visits the batches' rows in
    // plan order. The workers live for the whole pass: a thread per batch would start each batch with an empty
    // allocator heap and leave its memory to be reclaimed by others.
    let (jobs, job_queue) = std::sync::mpsc::sync_channel::<Batch>(workers);
    let job_queue = std::sync::Mutex::new(job_queue);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        // Owned here, so that however this ends, the queue closes and the workers stop.
        let jobs = jobs;
        let (done, finished) =
            std::sync::mpsc::channel::<(usize, std::thread::Result<Vec<anyhow::Result<(ScoredRow, P)>>>)>();
        for _ in 0..workers {
            let (job_queue, done, state, prepare, rows, records) =
                (&job_queue, done.clone(), &state, &prepare, &rows, records.as_path());
            scope.spawn(move || {
                let mut state = state();
                loop {
                    // A poisoned lock or a closed queue: the pass is over.
                    let job = job_queue.lock().ok().and_then(|queue| queue.recv().ok());
                    let Some(batch) = job else { break };
                    // A panic is handed over too, to be raised where the batch is awaited (rather than leave that wait
                    // for a batch that never comes).
                    let scored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        batch.score(suite, records, rows, &mut state, prepare)
                    }));
                    let panicked = scored.is_err();
                    if done.send((batch.index, scored)).is_err() || panicked {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut ready = std::collections::BTreeMap::new();
        let (mut read, mut visited) = (0, 0);
        while visited < batches {
            // Keep every worker busy with a batch and one more waiting, and no more: each holds its rows' texts.
            while read < batches && read < visited + 2 * workers {
                let first = read * BATCH;
                let mut batch = Batch {
                    index: read,
                    first,
                    text: Vec::new(),
                    spans: Vec::with_capacity(BATCH),
                };
                for &offset in &offsets[first..(first + BATCH).min(offsets.len())] {
                    let span = (offset != NOT_RECORDED)
                        .then(|| {
                            reader
                                .append_line_at(offset, &mut batch.text)
                                .map(|span| (offset, span))
                        })
                        .transpose()?;
                    batch.spans.push(span);
                }
                jobs.send(batch)
                    .map_err(|_| anyhow::anyhow!("the scoring workers stopped unexpectedly"))?;
                read += 1;
            }
            let (index, scored) = finished
                .recv()
                .map_err(|_| anyhow::anyhow!("the scoring workers stopped unexpectedly"))?;
            ready.insert(index, scored.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            while let Some(scored) = ready.remove(&visited) {
                for row in scored {
                    let (row, prepared) = row?;
                    visit(row, prepared)?;
                }
                visited += 1;
            }
        }
        Ok(())
    })?;
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

/// A batch of planned rows, their records read in.
struct Batch {
    /// Which batch it is, from 0.
    index: usize,
    /// The plan position of its first row.
    first: usize,
    /// The records' lines, one after another.
    text: Vec<u8>,
    /// Per row: where its record starts in the file and lies in `text`, if it has one.
    spans: Vec<Option<(u64, std::ops::Range<usize>)>>,
}

impl Batch {
    /// Each row of the batch parsed, scored and prepared, in order.
    fn score<S, P>(
        &self,
        suite: &Suite,
        records: &Path,
        rows: &RowScorer,
        state: &mut S,
        prepare: impl Fn(&mut S, &ScoredRow) -> anyhow::Result<P>,
    ) -> Vec<anyhow::Result<(ScoredRow, P)>> {
        let score = |state: &mut S, i: usize, span: &Option<(u64, std::ops::Range<usize>)>| {
            let row = self.first + i;
            let (example, config, repeat) = plan_position(suite, row);
            let mut scored = ScoredRow {
                example,
                config,
                repeat,
                record: None,
                position: None,
                score: None,
            };
            if let Some((offset, span)) = span {
                let record: ScoredRecord = parse_record(records, *offset, &self.text[span.clone()])?;
                let record = Box::new(Record::from(record));
                scored.score = rows.score(row, &record);
                scored.record = Some(record);
                scored.position = Some(*offset);
            }
            let prepared = prepare(state, &scored)?;
            Ok((scored, prepared))
        };
        self.spans
            .iter()
            .enumerate()
            .map(|(i, span)| score(state, i, span))
            .collect()
    }
}

/// A record as the pass reads it: the fields it never reads (the example's id, the config's name, the model, the
/// start time, the earlier attempts' errors) are skipped in the line rather than copied out of it, but still required
/// where a record requires them.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)] // the skipped fields are only checked to be there
struct ScoredRecord {
    example_id: IgnoredAny,
    config: IgnoredAny,
    repeat: u32,
    fingerprint: RequestFingerprint,
    model: IgnoredAny,
    status: RecordStatus,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    stop_reason: Option<String>,
    input_tokens: u64,
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_write_input_tokens: u64,
    latency_ms: u64,
    #[serde(default)]
    service_latency_ms: Option<u64>,
    attempts: u32,
    #[serde(default)]
    retried: IgnoredAny,
    #[serde(default)]
    error: Option<CallError>,
    started_at: IgnoredAny,
    #[serde(default)]
    criterion: Option<String>,
}

impl From<ScoredRecord> for Record {
    /// The record, with empty strings and no earlier errors where the line was skipped. The record is built field by
    /// field, so a field added to [`Record`] must be placed here too.
    fn from(record: ScoredRecord) -> Self {
        Record {
            example_id: String::new(),
            config: String::new(),
            repeat: record.repeat,
            fingerprint: record.fingerprint,
            model: String::new(),
            status: record.status,
            output: record.output,
            stop_reason: record.stop_reason,
            input_tokens: record.input_tokens,
            output_tokens: record.output_tokens,
            cache_read_input_tokens: record.cache_read_input_tokens,
            cache_write_input_tokens: record.cache_write_input_tokens,
            latency_ms: record.latency_ms,
            service_latency_ms: record.service_latency_ms,
            attempts: record.attempts,
            retried: Vec::new(),
            error: record.error,
            started_at: String::new(),
            criterion: record.criterion,
        }
    }
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
        self.parse_at(offset)
    }

    /// The line that starts at byte `offset`, parsed as a `T` (the line named when it is not one).
    fn parse_at<T: DeserializeOwned>(&mut self, offset: u64) -> anyhow::Result<T> {
        self.line.clear();
        let mut line = std::mem::take(&mut self.line);
        let span = self.append_line_at(offset, &mut line);
        let record = span.and_then(|span| parse_record(self.path, offset, &line[span]));
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
}

/// The record in `line`, which starts at byte `offset` of the records file at `path` (that names the line when it is
/// not a record).
fn parse_record<R: DeserializeOwned>(path: &Path, offset: u64, line: &[u8]) -> anyhow::Result<R> {
    // The line is checked as UTF-8 whole: from bytes, serde_json checks each string apart, and a reply's text, cut
    // at every escaped newline, is many short strings.
    let parsed = std::str::from_utf8(line)
        .map_err(|e| format!("not UTF-8 from byte {}", e.valid_up_to()))
        .and_then(|line| serde_json::from_str(line).map_err(|e| e.to_string()));
    parsed.map_err(|e| {
        let number = line_number(path, offset).unwrap_or(0);
        InputError::at_line(path, number, format!("invalid record: {e}")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_that_is_not_utf8_is_named_by_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let good = br#"{"example_id":"a","config":"c","repeat":0,"fingerprint":"f","model":"m","status":"ok","output":"Zoe\nhi","input_tokens":1,"output_tokens":1,"latency_ms":1,"attempts":1,"started_at":"t"}"#;
        let mut bad = good.to_vec();
        let at = bad.windows(3).position(|w| w == b"Zoe").unwrap() + 2;
        bad[at] = 0xEB;
        std::fs::write(&path, [&good[..], b"\n", &bad, b"\n"].concat()).unwrap();
        let record: Record = parse_record(&path, 0, good).unwrap();
        assert_eq!(record.output.as_deref(), Some("Zoe\nhi"));
        let error = parse_record::<Record>(&path, good.len() as u64 + 1, &bad).unwrap_err();
        let error = error.downcast::<InputError>().unwrap();
        assert_eq!(error.line, Some(2));
        assert!(
            error
                .to_string()
                .contains(&format!("invalid record: not UTF-8 from byte {at}")),
            "{error}"
        );
    }

    #[test]
    fn a_scored_record_is_the_record_without_what_the_pass_skips() {
        let path = Path::new("records.jsonl");
        let line = br#"{"example_id":"a","config":"c","repeat":2,"fingerprint":"f","model":"m","status":"error","stop_reason":"x","input_tokens":3,"output_tokens":4,"cache_read_input_tokens":5,"cache_write_input_tokens":6,"latency_ms":7,"service_latency_ms":8,"attempts":2,"retried":[{"kind":"throttling","message":"slow"}],"error":{"kind":"timeout","message":"late"},"started_at":"t","criterion":"k"}"#;
        let full: Record = parse_record(path, 0, line).unwrap();
        assert_eq!(full.retried.len(), 1);
        let scored = Record::from(parse_record::<ScoredRecord>(path, 0, line).unwrap());
        let skipped = Record {
            example_id: String::new(),
            config: String::new(),
            model: String::new(),
            retried: Vec::new(),
            started_at: String::new(),
            ..full
        };
        assert_eq!(scored, skipped);
        // A skipped field is still required.
        let text = std::str::from_utf8(line).unwrap().replace(r#""model":"m","#, "");
        let error = parse_record::<ScoredRecord>(path, 0, text.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("missing field `model`"), "{error}");
    }
}
