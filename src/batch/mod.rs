//! Bedrock batch inference: run a plan's requests as one `CreateModelInvocationJob` per model (split only past the
//! per-job maximum) instead of one Converse call each, and record the answers as a live run would.
//!
//! Flow: group requests by model → write `{"recordId": <fingerprint>, "modelInput": <Converse body>}` JSONL →
//! upload to `s3://<bucket>/<prefix>/<run-id>/<model-slug>/input.jsonl` → create the job (recorded in
//! `<run_dir>/batch.json` at once) → poll with exponential backoff → read `<output>/<jobId>/*.jsonl.out` → append
//! one `Record` per request to `records.jsonl`. A re-run attaches to the jobs in `batch.json` instead of
//! submitting again. See `docs/scale.md`.

pub mod input;
mod jobs;
pub mod output;
mod settings;
pub mod state;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use self::input::{client_request_token, input_jsonl, job_name, model_slug, part_sizes, S3Location};
pub use self::jobs::BatchClients;
use self::jobs::{create_job, describe_job, download_outputs, is_final, upload, JobSpec};
use self::output::{missing_from_output, parse_output_line, record_of};
pub use self::settings::BatchSettings;
use self::state::{read_state, write_state, BatchState, SubmittedJob};
use crate::run::plan::{build_plan, PlannedRequest};
use crate::run::records::{read_records, RecordStatus, RecordWriter};
use crate::run::RECORDS_FILE;
use crate::suite::Suite;

/// What a batch invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Jobs this invocation created.
    pub submitted_jobs: usize,
    /// Jobs found in `batch.json`, still uncollected, that this invocation attached to.
    pub attached_jobs: usize,
    /// Records appended with status ok.
    pub ok_records: usize,
    /// Records appended with status error (error lines, and requests the output did not answer).
    pub error_records: usize,
}

/// Submits jobs for `requests` not already covered by an uncollected job of `batch.json`, and records them there
/// (after each creation). Refuses, before submitting anything, a provisioned model (AWS batch inference does not
/// accept them) and a model with fewer requests than the minimum.
/// Returns the number of jobs created.
pub async fn submit(
    requests: &[PlannedRequest],
    settings: &BatchSettings,
    clients: &BatchClients,
    run_dir: &Path,
) -> anyhow::Result<usize> {
    settings.validate().map_err(anyhow::Error::msg)?;
    crate::files::create_dir_all(run_dir)?;
    let location = S3Location::parse(&settings.s3_uri).map_err(anyhow::Error::msg)?;
    let run_id = run_id(run_dir);
    let mut state = read_state(run_dir)?;
    let covered: HashSet<&str> = state
        .jobs
        .iter()
        .filter(|job| !job.collected)
        .flat_map(|job| job.record_ids.iter().map(String::as_str))
        .collect();
    let mut by_model: BTreeMap<&str, Vec<&PlannedRequest>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for planned in requests {
        let id = planned.fingerprint.0.as_str();
        if !covered.contains(id) && seen.insert(id) {
            by_model
                .entry(planned.request.model.as_str())
                .or_default()
                .push(planned);
        }
    }
    let provisioned: Vec<&str> = by_model
        .keys()
        .copied()
        .filter(|model| model.contains(":provisioned-model/"))
        .collect();
    if !provisioned.is_empty() {
        anyhow::bail!(
            "batch inference isn't supported for provisioned models ({}); run their requests live instead",
            provisioned.join(", ")
        );
    }
    let too_few: Vec<String> = by_model
        .iter()
        .filter(|(_, group)| group.len() < settings.min_records_per_job)
        .map(|(model, group)| format!("{model} has {}", group.len()))
        .collect();
    if !too_few.is_empty() {
        anyhow::bail!(
            "a batch job needs at least {} records per model (Bedrock's per-model minimum, batch.min_records_per_job), \
             but {}; run these requests live instead (without --mode batch), or add examples or repeats",
            settings.min_records_per_job,
            too_few.join(", ")
        );
    }

    let mut created = 0;
    for (model, group) in by_model {
        let slug = model_slug(model);
        let mut start = 0;
        for size in part_sizes(group.len(), settings.max_records_per_job) {
            let records = &group[start..start + size];
            start += size;
            let part = state.jobs.iter().filter(|job| job.model == model).count();
            let folder: Vec<String> = if part == 0 {
                vec![run_id.clone(), slug.clone()]
            } else {
                vec![run_id.clone(), slug.clone(), format!("part-{part}")]
            };
            let folder: Vec<&str> = folder.iter().map(String::as_str).collect();
            let input_key = location.key(&[folder.as_slice(), &["input.jsonl"]].concat());
            let output_uri = format!(
                "{}/",
                location.uri(&location.key(&[folder.as_slice(), &["output"]].concat()))
            );
            let input_uri = location.uri(&input_key);
            upload(&clients.s3, &location.bucket, &input_key, input_jsonl(records)).await?;
            let record_ids: Vec<String> = records.iter().map(|p| p.fingerprint.0.clone()).collect();
            let name = job_name(&run_id, &slug, part);
            let token = client_request_token(&run_id, model, part, &record_ids);
            let spec = JobSpec {
                job_name: &name,
                role_arn: &settings.role_arn,
                model,
                input_uri: &input_uri,
                output_uri: &output_uri,
                client_request_token: &token,
                timeout_hours: settings.job_timeout_hours,
            };
            let job_arn = create_job(&clients.bedrock, &spec).await?;
            crate::note!(
                "batch: submitted {} records of {model} as job {job_arn}",
                record_ids.len()
            );
            state.jobs.push(SubmittedJob {
                model: model.to_string(),
                part,
                job_arn,
                job_name: name,
                input_uri,
                output_uri,
                submitted_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                record_ids,
                collected: false,
                final_status: None,
            });
            write_state(run_dir, &state)?;
            created += 1;
        }
    }
    Ok(created)
}

/// Runs `requests` as batch jobs into `run_dir`: attaches to uncollected jobs of `batch.json`, submits the rest,
/// waits for every job to end, and appends one record per request to `records.jsonl`.
///
/// `requests` are the requests still to do (as for a live run: not recorded yet, or errors with
/// `--retry-errors`); output lines whose record id is not among them are skipped.
pub async fn run_batch(
    requests: &[PlannedRequest],
    settings: &BatchSettings,
    clients: &BatchClients,
    run_dir: &Path,
) -> anyhow::Result<BatchOutcome> {
    settings.validate().map_err(anyhow::Error::msg)?;
    crate::files::create_dir_all(run_dir)?;
    let attached_jobs = read_state(run_dir)?.jobs.iter().filter(|job| !job.collected).count();
    let submitted_jobs = submit(requests, settings, clients, run_dir).await?;
    let mut outcome = BatchOutcome {
        submitted_jobs,
        attached_jobs,
        ..BatchOutcome::default()
    };
    let final_statuses = wait_for_jobs(settings, clients, run_dir).await?;

    let by_id: HashMap<&str, &PlannedRequest> = requests.iter().map(|p| (p.fingerprint.0.as_str(), p)).collect();
    // A collection cut short (the command killed mid-way) left some of a job's records written: skip those.
    let written: HashSet<(String, String)> = read_records(&run_dir.join(RECORDS_FILE))?
        .records
        .into_iter()
        .map(|r| (r.fingerprint.0, r.started_at))
        .collect();
    let mut writer = RecordWriter::open(&run_dir.join(RECORDS_FILE))?;
    let mut state = read_state(run_dir)?;
    for index in 0..state.jobs.len() {
        let job = &state.jobs[index];
        let Some(status) = final_statuses.get(&job.job_arn) else {
            continue;
        };
        let output = S3Location::parse(job.output_uri.trim_end_matches('/')).map_err(anyhow::Error::msg)?;
        let bytes = download_outputs(&clients.s3, &output, job.job_id()).await?;
        let mut answered = HashSet::new();
        for line in String::from_utf8_lossy(&bytes).lines().filter(|l| !l.trim().is_empty()) {
            let parsed = match parse_output_line(line) {
                Ok(parsed) => parsed,
                Err(error) => {
                    crate::note!("batch: skipping an unreadable output line of {}: {error}", job.job_arn);
                    continue;
                }
            };
            let Some(planned) = by_id.get(parsed.record_id.as_str()) else {
                continue;
            };
            if !answered.insert(parsed.record_id.clone())
                || written.contains(&(parsed.record_id.clone(), job.submitted_at.clone()))
            {
                continue;
            }
            let record = record_of(planned, parsed.result, &job.submitted_at);
            count(&mut outcome, record.status);
            writer.append(&record)?;
        }
        for id in &job.record_ids {
            let already = answered.contains(id) || written.contains(&(id.clone(), job.submitted_at.clone()));
            if let (false, Some(planned)) = (already, by_id.get(id.as_str())) {
                let error = missing_from_output(&job.job_arn, &status.status, status.message.as_deref());
                let record = record_of(planned, Err(error), &job.submitted_at);
                count(&mut outcome, record.status);
                writer.append(&record)?;
            }
        }
        state.jobs[index].collected = true;
        state.jobs[index].final_status = Some(status.status.clone());
        write_state(run_dir, &state)?;
    }
    Ok(outcome)
}

/// The suite's configs on a provisioned model, which AWS batch inference does not accept: (index, name).
pub fn provisioned_configs(suite: &Suite) -> Vec<(usize, &str)> {
    suite
        .file
        .configs
        .iter()
        .enumerate()
        .filter(|(_, c)| crate::cost::is_provisioned(c.kind, &c.model))
        .map(|(i, c)| (i, c.name.as_str()))
        .collect()
}

/// The suite's requests still to do in `run_dir`, as a live run picks them: not recorded yet, or (with
/// `retry_errors`) whose latest record is an error. Pass them to [`run_batch`].
pub fn pending_requests(suite: &Suite, run_dir: &Path, retry_errors: bool) -> anyhow::Result<Vec<PlannedRequest>> {
    let plan = build_plan(suite)?;
    let existing = read_records(&run_dir.join(RECORDS_FILE))?;
    let done: HashSet<&str> = existing
        .latest()
        .into_iter()
        .filter(|(_, record)| !(retry_errors && record.status == RecordStatus::Error))
        .map(|(fingerprint, _)| fingerprint.0.as_str())
        .collect();
    // Examples with the same input share a request: it goes into the job once.
    let mut seen = HashSet::new();
    Ok(plan
        .into_iter()
        .filter(|p| !done.contains(p.fingerprint.0.as_str()) && seen.insert(p.fingerprint.clone()))
        .collect())
}

fn count(outcome: &mut BatchOutcome, status: RecordStatus) {
    match status {
        RecordStatus::Ok => outcome.ok_records += 1,
        RecordStatus::Error => outcome.error_records += 1,
    }
}

/// Polls every uncollected job of `batch.json` until each has ended, with exponential backoff from
/// `poll_interval_ms` to `max_poll_interval_ms`, printing one progress line per job and check on stderr. Gives up
/// after `timeout_minutes` (the jobs go on; a re-run attaches). Returns the final status of each job by ARN.
async fn wait_for_jobs(
    settings: &BatchSettings,
    clients: &BatchClients,
    run_dir: &Path,
) -> anyhow::Result<HashMap<String, jobs::JobStatus>> {
    let state: BatchState = read_state(run_dir)?;
    let mut pending: Vec<&SubmittedJob> = state.jobs.iter().filter(|job| !job.collected).collect();
    let mut ended = HashMap::new();
    let started = Instant::now();
    let deadline = Duration::from_secs(settings.timeout_minutes.saturating_mul(60));
    let mut interval = Duration::from_millis(settings.poll_interval_ms);
    let max_interval = Duration::from_millis(settings.max_poll_interval_ms);
    while !pending.is_empty() {
        let mut still = Vec::new();
        for job in pending {
            let status = describe_job(&clients.bedrock, &job.job_arn).await?;
            let counts = match (status.processed, status.total) {
                (Some(done), Some(total)) => format!(" ({done}/{total} records)"),
                _ => String::new(),
            };
            crate::note!(
                "batch: {} job {}: {}{counts} after {}s",
                job.model,
                job.job_id(),
                status.status,
                started.elapsed().as_secs()
            );
            if is_final(&status.status) {
                ended.insert(job.job_arn.clone(), status);
            } else {
                still.push(job);
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if started.elapsed() + interval > deadline {
            let arns: Vec<&str> = pending.iter().map(|job| job.job_arn.as_str()).collect();
            anyhow::bail!(
                "batch jobs still running after {} minutes: {}; they go on running, and re-running this command \
                 (with --resume) attaches to them",
                settings.timeout_minutes,
                arns.join(", ")
            );
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(max_interval);
    }
    Ok(ended)
}

/// The run id: the run directory's name.
fn run_id(run_dir: &Path) -> String {
    run_dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string())
}
