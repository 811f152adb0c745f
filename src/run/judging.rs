//! The judge stage: every judge criterion of the rubric asked about every reply, through the same executor (rate
//! limits, retries, records) as generation, into `judgements.jsonl`.
//!
//! Requests are fingerprinted like generation requests, so a verdict whose request did not change is never paid
//! for twice: resuming a run, or re-scoring it after a rubric edit, asks only what is new. Identical requests (the
//! same reply judged twice, e.g. by two repeats) are asked once. Malformed verdicts are asked again in rounds, each
//! round sending the re-asks the previous one made necessary, up to the judge's `reasks`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use tokio::sync::mpsc;

use super::executor::{execute, ExecutionSummary, Policy, Stop};
use super::limits::Limiters;
use super::plan::{PlannedRequest, RequestFingerprint};
use super::progress::Progress;
use super::records::{read_records, Record, RecordStatus, RecordWriter};
use crate::dataset::Example;
use crate::provider::Provider;
use crate::score::judge::{resolve_sample, SampleState};
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

/// The latest generation record of each fingerprint, in file order of first appearance.
pub fn latest_replies(records: &[Record]) -> Vec<&Record> {
    let mut index: HashMap<&RequestFingerprint, usize> = HashMap::new();
    let mut latest: Vec<&Record> = Vec::new();
    for record in records {
        match index.get(&record.fingerprint) {
            Some(&i) => latest[i] = record,
            None => {
                index.insert(&record.fingerprint, latest.len());
                latest.push(record);
            }
        }
    }
    latest.retain(|r| r.status == RecordStatus::Ok && r.output.is_some());
    latest
}

/// Each reply with the held-out example it answers (replies to examples no longer in the suite are left out).
pub fn replies_with_examples<'r>(
    examples: &'r HashMap<&str, &Example>,
    replies: &'r [&Record],
) -> impl Iterator<Item = (&'r Record, &'r Example, &'r str)> {
    replies.iter().filter_map(|reply| {
        let example = examples.get(reply.example_id.as_str())?;
        Some((*reply, *example, reply.output.as_deref()?))
    })
}

/// The judge calls still needed for `replies` under `rubric`, given the judge calls recorded so far (latest per
/// fingerprint); also how many needed verdicts were found recorded. With `retry_errors`, failed judge calls are
/// asked again.
pub fn pending_judgements(
    judge: &JudgeSection,
    rubric: &Rubric,
    examples: &HashMap<&str, &Example>,
    replies: &[&Record],
    judged: &HashMap<&RequestFingerprint, &Record>,
    retry_errors: bool,
) -> (Vec<PlannedRequest>, usize) {
    let lookup = |fp: &RequestFingerprint| {
        judged
            .get(fp)
            .copied()
            .filter(|r| !(retry_errors && r.status == RecordStatus::Error))
    };
    let mut pending = Vec::new();
    let mut seen = HashSet::new();
    let mut reused = 0;
    for (reply, example, output) in replies_with_examples(examples, replies) {
        for criterion in rubric.judge_criteria() {
            let Some(spec) = criterion.judge() else { continue };
            for sample in 0..spec.samples {
                match resolve_sample(judge, spec, example, output, sample, &lookup) {
                    SampleState::Pending(request, fingerprint) => {
                        if seen.insert(fingerprint.clone()) {
                            pending.push(PlannedRequest {
                                example_id: reply.example_id.clone(),
                                config: reply.config.clone(),
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
    }
    (pending, reused)
}

/// The judge's rate limits: its `judge.limits`, or its entry under the suite's `limits`.
pub fn judge_limiters(suite: &Suite, judge: &JudgeSection) -> Limiters {
    let limits: Option<&ModelLimits> = judge.limits.as_ref().or_else(|| suite.file.limits.get(&judge.model));
    Limiters::new(limits.map(|l| (&judge.model, l)))
}

/// Asks the judge about every reply recorded in `run_dir` that still needs a verdict under `rubric`, appending each
/// call to `judgements.jsonl`.
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
    let records = read_records(&run_dir.join(super::RECORDS_FILE))?.records;
    let replies = latest_replies(&records);
    let examples: HashMap<&str, &Example> = suite.held_out.examples.iter().map(|e| (e.id.as_str(), e)).collect();
    let path = run_dir.join(JUDGEMENTS_FILE);
    let mut judgements = read_records(&path)?.records;
    let limiters = judge_limiters(suite, judge);
    let mut writer = RecordWriter::open(&path)?;
    // The first round asks; each later one re-asks the malformed verdicts of the round before.
    for round in 0..=judge.reasks {
        let judged: HashMap<&RequestFingerprint, &Record> = judgements.iter().map(|r| (&r.fingerprint, r)).collect();
        let (pending, reused) =
            pending_judgements(judge, rubric, &examples, &replies, &judged, retry_errors && round == 0);
        if round == 0 {
            summary.reused = reused;
        }
        if pending.is_empty() {
            break;
        }
        let mut progress = Progress::new(pending.len(), 0).counting("judge calls");
        let mut fresh = Vec::new();
        let policy = Policy {
            limiters: &limiters,
            concurrency,
            retry: &suite.file.retry,
            max_errors: None,
        };
        let execution: ExecutionSummary = execute(pending, provider, policy, interrupts, |record, _| {
            progress.record(&record);
            writer.append(&record)?;
            fresh.push(record);
            Ok(())
        })
        .await?;
        progress.finish();
        summary.calls += fresh.len();
        judgements.extend(fresh);
        if execution.stop.is_some() {
            summary.stop = execution.stop;
            break;
        }
    }
    Ok(summary)
}
