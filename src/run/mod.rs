//! Running a suite: plan the requests, skip those already recorded, execute the rest, record every outcome.

pub mod command_scoring;
pub mod errors;
pub mod executor;
pub mod folder;
pub mod judging;
mod launch;
pub mod limits;
pub mod pending;
pub mod plan;
pub mod progress;
pub mod recorded;
pub mod records;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::error::InputError;
use crate::provider::Provider;
use crate::redact::redact_url;
use crate::suite::Suite;
use executor::{execute, ExecutionSummary, Policy};
use limits::Limiters;
use pending::PendingPlan;
use progress::Progress;
use recorded::RecordedIndex;
use records::RecordWriter;

pub use launch::{EndpointSegment, Launch};

/// The records file of a run directory.
pub const RECORDS_FILE: &str = "records.jsonl";
/// The metadata file of a run directory.
pub const RUN_FILE: &str = "run.json";

/// What the endpoint behind a run was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EndpointInfo {
    /// The embedded, simulated endpoint: no real model answered.
    Simulated {
        /// Its URL.
        url: String,
        /// Reached through `--endpoint-url` (a `bedrock-eval serve` process), not started in-process by `--local`:
        /// then its URL names it, and another URL is another endpoint.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        external: bool,
    },
    /// Amazon Bedrock, or whatever `--endpoint-url` pointed at.
    Bedrock {
        /// The endpoint override, if any.
        endpoint_url: Option<String>,
        /// The region, if given.
        region: Option<String>,
    },
}

impl EndpointInfo {
    /// Whether the answers were simulated.
    pub fn is_simulated(&self) -> bool {
        matches!(self, EndpointInfo::Simulated { .. })
    }
}

/// `run.json`: what ran, on what, when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMetadata {
    /// The run's id (its folder name).
    pub run_id: String,
    /// The suite's name.
    pub suite: String,
    /// Absolute path of the suite file.
    pub suite_path: PathBuf,
    /// SHA-256 of the suite file.
    pub suite_sha256: String,
    /// The commit checked out in the suite's git repository, if it is in one (`git rev-parse HEAD`; a trailing
    /// `+dirty` when the suite's folder has uncommitted changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite_git_commit: Option<String>,
    /// SHA-256 of the held-out file.
    pub held_out_sha256: String,
    /// SHA-256 of the training file, if any.
    pub training_sha256: Option<String>,
    /// SHA-256 of the rubric.
    pub rubric_sha256: String,
    /// Config name → model id.
    pub models: Vec<(String, String)>,
    /// bedrock-eval's version.
    pub harness_version: String,
    /// Where the calls went.
    pub endpoint: EndpointInfo,
    /// Live (on-demand) calls or batch inference jobs.
    #[serde(default)]
    pub mode: RunMode,
    /// How the run was started (absent in runs recorded before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<Launch>,
    /// Every endpoint the records came from, in order, when a resume changed endpoint; empty when all came from
    /// `endpoint`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoint_history: Vec<EndpointSegment>,
    /// The command line (credentials in URLs redacted).
    pub arguments: Vec<String>,
    /// When the run was first started (kept across resumptions; absent in runs recorded before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_started_at: Option<String>,
    /// When this run (or its latest resumption) started.
    pub started_at: String,
    /// When it ended; absent while running or after a crash.
    pub finished_at: Option<String>,
    /// `running`, `finished` or `interrupted`.
    pub status: String,
    /// Why an interrupted run stopped early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Requests the suite needs.
    pub planned_requests: usize,
    /// Requests found recorded when this invocation started.
    pub already_recorded: usize,
    /// Set by `bedrock-eval score --rubric`: the rubric the reports now use instead of the suite's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric_override: Option<RubricOverride>,
    /// What the run's calls cost at per-token prices (generation and judge), once reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_cost: Option<crate::cost::RunCost>,
}

/// A rubric a run was re-scored with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RubricOverride {
    /// Absolute path of the rubric file.
    pub path: PathBuf,
    /// Its SHA-256.
    pub sha256: String,
}

/// How the generation calls were made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// On-demand Converse calls through the executor.
    #[default]
    Live,
    /// Bedrock batch inference jobs.
    Batch,
}

impl RunMetadata {
    /// The metadata of a run (or resumption) starting now.
    pub fn starting(
        suite: &Suite,
        endpoint: EndpointInfo,
        run_dir: &Path,
        planned: usize,
        already_recorded: usize,
        mode: RunMode,
    ) -> RunMetadata {
        RunMetadata {
            run_id: run_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            suite: suite.file.name.clone(),
            suite_path: std::fs::canonicalize(&suite.path).unwrap_or_else(|_| suite.path.clone()),
            suite_sha256: suite.sha256.clone(),
            suite_git_commit: git_commit(&suite.path),
            held_out_sha256: suite.held_out.sha256.clone(),
            training_sha256: suite.training.as_ref().map(|d| d.sha256.clone()),
            rubric_sha256: suite.rubric.sha256.clone(),
            models: suite
                .file
                .configs
                .iter()
                .map(|c| (c.name.clone(), c.model.clone()))
                .collect(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            endpoint: endpoint.redacted(),
            mode,
            launch: None,
            endpoint_history: Vec::new(),
            arguments: std::env::args().map(|a| redact_url(&a)).collect(),
            run_started_at: Some(now_precise()),
            started_at: now(),
            finished_at: None,
            status: "running".into(),
            stop_reason: None,
            planned_requests: planned,
            already_recorded,
            rubric_override: None,
            run_cost: None,
        }
    }

    /// Marks the run finished now, or interrupted (stopped early) for `stop_reason`.
    pub fn finish(&mut self, stop_reason: Option<String>) {
        self.finished_at = Some(now());
        self.status = if stop_reason.is_some() {
            "interrupted"
        } else {
            "finished"
        }
        .into();
        self.stop_reason = stop_reason;
    }
}

/// How a run was asked to go.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Re-run requests whose latest record is an error.
    pub retry_errors: bool,
    /// Override the suite's concurrency.
    pub concurrency: Option<usize>,
    /// How it was started, for `run.json`.
    pub launch: Launch,
    /// The metadata of the run being resumed, if it is.
    pub previous: Option<RunMetadata>,
    /// Stop dispatching once more than this fraction of the planned requests has failed (`None`: never).
    pub max_error_rate: Option<f64>,
}

/// How many of `planned` requests may fail under `max_error_rate` (a fraction of them, rounded down).
pub fn allowed_errors(max_error_rate: f64, planned: usize) -> usize {
    // Planned counts are far below 2^52: the product is exact enough, and floor keeps the limit strict.
    (max_error_rate * planned as f64).floor() as usize
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Requests the suite needs.
    pub planned: usize,
    /// Recorded before this invocation.
    pub already_recorded: usize,
    /// What this invocation's executor did.
    pub execution: ExecutionSummary,
}

/// Runs `suite` into `run_dir`, skipping requests already recorded there. `run.json` says `running` afterwards:
/// the caller records how the run ended with [`record_end`] once the judge has had its turn too.
pub async fn run_suite(
    suite: &Suite,
    provider: &dyn Provider,
    endpoint: EndpointInfo,
    run_dir: &Path,
    options: &RunOptions,
    interrupts: &mut mpsc::Receiver<()>,
) -> anyhow::Result<RunOutcome> {
    crate::files::create_dir_all(run_dir)?;
    let records_path = run_dir.join(RECORDS_FILE);
    // Compact keys of what is recorded, then one bit per plan position: the plan is built again, a request at a
    // time, as the executor reaches it; nothing holds the records or the requests.
    let recorded = RecordedIndex::read(&records_path)?;
    let pending = PendingPlan::new(suite, &recorded, options.retry_errors)?;
    for warning in pending.shared_warnings(suite) {
        crate::note!("warning: {warning}");
    }
    let records_before = recorded.records();
    drop(recorded);
    let (planned, already_recorded) = (pending.planned, pending.already_recorded);
    // The failures this invocation may add before the run can no longer meet its error rate.
    let max_errors = options
        .max_error_rate
        .map(|rate| allowed_errors(rate, planned).saturating_sub(pending.kept_errors));

    let metadata = RunMetadata::starting(suite, endpoint, run_dir, planned, already_recorded, RunMode::Live)
        .launched(options.launch.clone())
        .continuing(options.previous.as_ref(), records_before);
    write_metadata(run_dir, &metadata)?;

    let limiters = Limiters::new(&suite.file.limits);
    let concurrency = options.concurrency.unwrap_or(suite.file.concurrency);
    let mut writer = RecordWriter::open(&records_path)?;
    let mut progress = Progress::new(planned, already_recorded);
    let policy = Policy {
        limiters: &limiters,
        concurrency,
        retry: &suite.file.retry,
        max_errors,
    };
    // The first pass built every request, so building them again cannot fail; if it did, the run stops with it.
    let failed_build = std::cell::RefCell::new(None);
    let requests = pending
        .requests(suite)
        .map_while(|planned| planned.map_err(|e| *failed_build.borrow_mut() = Some(e)).ok());
    let execution = execute(requests, pending.to_send, provider, policy, interrupts, |record, _| {
        progress.record(&record);
        writer.append(&record)
    })
    .await?;
    if let Some(error) = failed_build.into_inner() {
        return Err(error.into());
    }
    progress.finish();
    Ok(RunOutcome {
        run_dir: run_dir.to_path_buf(),
        planned,
        already_recorded,
        execution,
    })
}

/// The commit of the git repository holding `path`, from the local `git` (no network); `None` outside a
/// repository or without git.
fn git_commit(path: &Path) -> Option<String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"]).filter(|c| !c.is_empty())?;
    let dirty = git(&["status", "--porcelain", "--", "."]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{commit}+dirty") } else { commit })
}

/// Records in `run.json` that the run ended now: finished, or interrupted for `stop_reason`.
pub fn record_end(run_dir: &Path, stop_reason: Option<String>) -> anyhow::Result<()> {
    let mut metadata = read_metadata(run_dir)?;
    metadata.finish(stop_reason);
    write_metadata(run_dir, &metadata)?;
    Ok(())
}

/// Reads a run's `run.json`.
pub fn read_metadata(run_dir: &Path) -> Result<RunMetadata, InputError> {
    let path = run_dir.join(RUN_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| InputError::in_file(&path, format!("cannot read run metadata: {e}")))?;
    serde_json::from_str(&text).map_err(|e| InputError::at_line(&path, e.line(), format!("invalid run metadata: {e}")))
}

/// Writes a run's `run.json` (through a temporary file, so a crash never leaves half of it).
pub fn write_metadata(run_dir: &Path, metadata: &RunMetadata) -> std::io::Result<()> {
    let mut json = serde_json::to_vec_pretty(metadata).map_err(std::io::Error::other)?;
    json.push(b'\n');
    crate::files::write_atomically(&run_dir.join(RUN_FILE), &json)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Now, to the millisecond: runs started in the same second still order by start time.
fn now_precise() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
