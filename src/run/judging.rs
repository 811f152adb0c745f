//! The judge stage: every judge criterion of the rubric asked about every reply, through the same executor (rate
//! limits, retries, records) as generation, into `judgements.jsonl`.
//!
//! Requests are fingerprinted like generation requests, so a verdict whose request did not change is never paid
//! for twice: resuming a run, or re-scoring it after a rubric edit, asks only what is new. Identical requests (the
//! same reply judged twice, e.g. by two repeats) are asked once. Malformed verdicts are asked again in rounds, each
//! round sending the re-asks the previous one made necessary, up to the judge's `reasks`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use tokio::sync::mpsc;

use super::executor::{execute, ExecutionSummary, Policy, Stop};
use super::limits::Limiters;
use super::plan::{PlannedRequest, RequestFingerprint};
use super::progress::Progress;
use super::recorded::{OnceKeys, RecordedIndex};
use super::records::{records_in, Record, RecordReader, RecordStatus, RecordWriter};
use crate::dataset::Example;
use crate::error::InputError;
use crate::provider::Provider;
use crate::score::judge::{resolve_sample, SampleState};
use crate::score::rubric::JudgeSpec;
use crate::score::Rubric;
use crate::suite::schema::{JudgeSection, ModelLimits};
use crate::suite::Suite;

/// The judge calls of a run directory.
pub const JUDGEMENTS_FILE: &str = "judgements.jsonl";

/// What the judge stage did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JudgingSummary {
    /// Judge calls made by this invocation.
    pub calls: usize,
    /// Verdicts needed that were already recorded (reused).
    pub reused: usize,
    /// Why it stopped before asking everything, if it did.
    pub stop: Option<Stop>,
}

/// A recorded reply with the held-out example it answers.
pub struct Reply<'e> {
    /// The latest record of its request (ok, with an output).
    pub record: Record,
    /// The example.
    pub example: &'e Example,
}

impl Reply<'_> {
    /// The reply's text.
    pub fn output(&self) -> &str {
        self.record.output.as_deref().unwrap_or_default()
    }
}

/// The latest record of each generation request that has a reply, with its example, read from the records file at
/// `path` a line at a time (replies to examples no longer in the suite are left out). `index` is that file's.
pub fn replies<'a>(
    path: &Path,
    index: &'a RecordedIndex,
    examples: &'a HashMap<&str, &'a Example>,
) -> Result<impl Iterator<Item = Result<Reply<'a>, InputError>> + 'a, InputError> {
    Ok(records_in(path)?.filter_map(move |read| {
        let (at, record) = match read {
            Ok(read) => read,
            Err(e) => return Some(Err(e)),
        };
        if record.status != RecordStatus::Ok || record.output.is_none() || !index.is_latest(at, &record) {
            return None;
        }
        let example = *examples.get(record.example_id.as_str())?;
        Some(Ok(Reply { record, example }))
    }))
}

/// The judge calls recorded so far, looked up by fingerprint: compact keys in memory, each record read back from
/// `judgements.jsonl` when a verdict is followed through it.
struct Judged {
    index: RecordedIndex,
    reader: RecordReader,
    /// Ask again the calls whose latest record is an error (as if they were not recorded).
    retry_errors: bool,
    /// The records read for the sample being resolved.
    read: HashMap<RequestFingerprint, Record>,
}

impl Judged {
    fn read(path: &Path, retry_errors: bool) -> Result<Judged, InputError> {
        Ok(Judged {
            index: RecordedIndex::read(path)?,
            reader: RecordReader::open(path)?,
            retry_errors,
            read: HashMap::new(),
        })
    }

    /// Where sample `sample` of `spec` stands for `output`, reading each recorded call of its chain (the first ask,
    /// then each re-ask) as the chain reaches it.
    fn resolve(
        &mut self,
        judge: &JudgeSection,
        spec: &JudgeSpec,
        example: &Example,
        output: &str,
        sample: u32,
    ) -> Result<SampleState, InputError> {
        self.read.clear();
        loop {
            let read = &self.read;
            let state = resolve_sample(judge, spec, example, output, sample, &|fp| read.get(fp));
            let SampleState::Pending(_, fingerprint) = &state else {
                return Ok(state);
            };
            let recorded = self
                .index
                .latest(fingerprint)
                .filter(|latest| !(self.retry_errors && latest.failed()));
            match recorded {
                Some(latest) if !self.read.contains_key(fingerprint) => {
                    let record = self.reader.read_at(latest.offset)?;
                    self.read.insert(fingerprint.clone(), record);
                }
                _ => return Ok(state),
            }
        }
    }

    /// The judge calls still needed for `reply` under `rubric` (each request once: `once` says which to take), and
    /// how many needed verdicts were found recorded.
    fn pending_for(
        &mut self,
        judge: &JudgeSection,
        rubric: &Rubric,
        reply: &Reply,
        mut once: impl FnMut(&RequestFingerprint) -> bool,
    ) -> Result<(Vec<PlannedRequest>, usize), InputError> {
        let mut pending = Vec::new();
        let mut reused = 0;
        for criterion in rubric.judge_criteria() {
            let Some(spec) = criterion.judge() else { continue };
            for sample in 0..spec.samples {
                match self.resolve(judge, spec, reply.example, reply.output(), sample)? {
                    SampleState::Pending(request, fingerprint) => {
                        if once(&fingerprint) {
                            pending.push(PlannedRequest {
                                example_id: reply.record.example_id.clone(),
                                config: reply.record.config.clone(),
                                repeat: sample,
                                fingerprint,
                                request: *request,
                                criterion: Some(criterion.id.clone()),
                            });
                        }
                    }
                    SampleState::Verdict(_) | SampleState::Failed(_) => reused += 1,
                }
            }
        }
        Ok((pending, reused))
    }
}

/// The judge's rate limits: its `judge.limits`, or its entry under the suite's `limits`.
pub fn judge_limiters(suite: &Suite, judge: &JudgeSection) -> Limiters {
    let limits: Option<&ModelLimits> = judge.limits.as_ref().or_else(|| suite.file.limits.get(&judge.model));
    Limiters::new(limits.map(|l| (&judge.model, l)))
}

/// Asks the judge about every reply recorded in `run_dir` that still needs a verdict under `rubric`, appending each
/// call to `judgements.jsonl`.
///
/// Each round reads the records twice as a stream: once to gather the keys of the calls still needed (so the
/// progress knows the total and identical requests are asked once), once to rebuild those requests as the executor
/// reaches them. Neither replies nor verdicts are held beyond the reply at hand.
pub async fn judge_run(
    suite: &Suite,
    rubric: &Rubric,
    provider: &dyn Provider,
    run_dir: &Path,
    concurrency: usize,
    retry_errors: bool,
    interrupts: &mut mpsc::Receiver<()>,
) -> anyhow::Result<JudgingSummary> {
    let mut summary = JudgingSummary::default();
    let Some(judge) = suite.file.judge.as_ref().filter(|_| rubric.has_judge()) else {
        return Ok(summary);
    };
    let records_path = run_dir.join(super::RECORDS_FILE);
    let generation = RecordedIndex::read(&records_path)?;
    let examples: HashMap<&str, &Example> = suite.held_out.examples.iter().map(|e| (e.id.as_str(), e)).collect();
    let path = run_dir.join(JUDGEMENTS_FILE);
    let limiters = judge_limiters(suite, judge);
    let mut writer = RecordWriter::open(&path)?;
    // The first round asks; each later one re-asks the malformed verdicts of the round before.
    for round in 0..=judge.reasks {
        let retry = retry_errors && round == 0;
        let mut judged = Judged::read(&path, retry)?;
        let mut keys = Vec::new();
        let mut reused = 0;
        for reply in replies(&records_path, &generation, &examples)? {
            let (pending, found) = judged.pending_for(judge, rubric, &reply?, |_| true)?;
            keys.extend(pending.iter().filter_map(|p| p.fingerprint.key()));
            reused += found;
        }
        if round == 0 {
            summary.reused = reused;
        }
        let mut once = OnceKeys::new(keys);
        if once.is_empty() {
            break;
        }
        let total = once.len();
        let mut progress = Progress::new(total, 0).counting("judge calls");
        let policy = Policy {
            limiters: &limiters,
            concurrency,
            retry: &suite.file.retry,
            max_errors: None,
        };
        // Reading fails only if the files changed under the run (its folder is locked): then the round stops there.
        let failure = RefCell::new(None);
        let fail = |e: InputError| {
            failure.borrow_mut().get_or_insert(e);
        };
        let requests = replies(&records_path, &generation, &examples)?
            .map_while(|reply| reply.map_err(fail).ok())
            .flat_map(|reply| {
                judged
                    .pending_for(judge, rubric, &reply, |fp| once.take(fp))
                    .map_err(fail)
                    .map_or_else(|()| Vec::new(), |(pending, _)| pending)
            });
        let execution: ExecutionSummary = execute(requests, total, provider, policy, interrupts, |record, _| {
            progress.record(&record);
            writer.append(&record)
        })
        .await?;
        progress.finish();
        if let Some(error) = failure.into_inner() {
            return Err(error.into());
        }
        summary.calls += execution.recorded;
        if execution.stop.is_some() {
            summary.stop = execution.stop;
            break;
        }
    }
    Ok(summary)
}
