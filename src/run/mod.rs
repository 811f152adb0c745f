//! Running a suite: plan the requests, skip those already recorded, execute the rest, record every outcome.

pub mod command_scoring;
pub mod executor;
pub mod judging;
pub mod limits;
pub mod plan;
pub mod progress;
pub mod records;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::error::InputError;
use crate::provider::Provider;
use crate::suite::Suite;
use executor::{execute, ExecutionSummary};
use limits::Limiters;
use plan::{build_plan, PlannedRequest};
use progress::Progress;
use records::{read_records, RecordStatus, RecordWriter};

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
    /// The command line.
    pub arguments: Vec<String>,
    /// When this run (or its latest resumption) started.
    pub started_at: String,
    /// When it ended; absent while running or after a crash.
    pub finished_at: Option<String>,
    /// `running`, `finished` or `interrupted`.
    pub status: String,
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
            endpoint,
            mode,
            arguments: std::env::args().collect(),
            started_at: now(),
            finished_at: None,
            status: "running".into(),
            planned_requests: planned,
            already_recorded,
            rubric_override: None,
            run_cost: None,
        }
    }

    /// Marks the run finished (or interrupted) now.
    pub fn finish(&mut self, interrupted: bool) {
        self.finished_at = Some(now());
        self.status = if interrupted { "interrupted" } else { "finished" }.into();
    }
}

/// How a run was asked to go.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Re-run requests whose latest record is an error.
    pub retry_errors: bool,
    /// Override the suite's concurrency.
    pub concurrency: Option<usize>,
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

/// Picks the run directory: `results/<suite>/<run-id>`; a new run refuses an existing directory, `--resume`
/// requires one (the latest of the suite when no id is given).
pub fn resolve_run_dir(
    results: &Path,
    suite: &Suite,
    run_id: Option<&str>,
    resume: bool,
) -> Result<PathBuf, InputError> {
    let suite_dir = results.join(&suite.file.name);
    match (run_id, resume) {
        (Some(id), _) if id.is_empty() || id.contains(['/', '\\']) || id == "." || id == ".." => {
            Err(InputError::in_file(&suite.path, format!("invalid run id `{id}`")))
        }
        (Some(id), false) => {
            let dir = suite_dir.join(id);
            if dir.exists() {
                Err(InputError::in_file(
                    &dir,
                    "run directory exists; pass --resume to continue it, or choose another --run-id",
                ))
            } else {
                Ok(dir)
            }
        }
        (Some(id), true) => {
            let dir = suite_dir.join(id);
            if dir.join(RUN_FILE).is_file() {
                Ok(dir)
            } else {
                Err(InputError::in_file(&dir, "no run to resume here (no run.json)"))
            }
        }
        (None, true) => latest_run(&suite_dir)
            .ok_or_else(|| InputError::in_file(&suite_dir, "no earlier run of this suite to resume")),
        (None, false) => {
            let id = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
            let mut dir = suite_dir.join(&id);
            let mut n = 1;
            while dir.exists() {
                n += 1;
                dir = suite_dir.join(format!("{id}-{n}"));
            }
            Ok(dir)
        }
    }
}

fn latest_run(suite_dir: &Path) -> Option<PathBuf> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(suite_dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join(RUN_FILE).is_file())
        .collect();
    runs.sort();
    runs.pop()
}

/// Runs `suite` into `run_dir`, skipping requests already recorded there.
pub async fn run_suite(
    suite: &Suite,
    provider: &dyn Provider,
    endpoint: EndpointInfo,
    run_dir: &Path,
    options: &RunOptions,
    interrupts: &mut mpsc::Receiver<()>,
) -> anyhow::Result<RunOutcome> {
    let plan = build_plan(suite)?;
    std::fs::create_dir_all(run_dir)?;
    let records_path = run_dir.join(RECORDS_FILE);
    let existing = read_records(&records_path)?;
    let done: HashSet<_> = existing
        .latest()
        .into_iter()
        .filter(|(_, record)| !(options.retry_errors && record.status == RecordStatus::Error))
        .map(|(fingerprint, _)| fingerprint.clone())
        .collect();
    let planned = plan.len();
    let todo: Vec<PlannedRequest> = plan.into_iter().filter(|p| !done.contains(&p.fingerprint)).collect();
    let already_recorded = planned - todo.len();

    let mut metadata = RunMetadata::starting(suite, endpoint, run_dir, planned, already_recorded, RunMode::Live);
    write_metadata(run_dir, &metadata)?;

    let limiters = Limiters::new(&suite.file.limits);
    let concurrency = options.concurrency.unwrap_or(suite.file.concurrency);
    let mut writer = RecordWriter::open(&records_path)?;
    let mut progress = Progress::new(planned, already_recorded);
    let execution = execute(
        todo,
        provider,
        &limiters,
        concurrency,
        &suite.file.retry,
        interrupts,
        |record, _| {
            progress.record(&record);
            writer.append(&record)
        },
    )
    .await?;
    progress.finish();

    metadata.finish(execution.interrupted);
    write_metadata(run_dir, &metadata)?;
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

/// Reads a run's `run.json`.
pub fn read_metadata(run_dir: &Path) -> Result<RunMetadata, InputError> {
    let path = run_dir.join(RUN_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| InputError::in_file(&path, format!("cannot read run metadata: {e}")))?;
    serde_json::from_str(&text).map_err(|e| InputError::at_line(&path, e.line(), format!("invalid run metadata: {e}")))
}

/// Writes a run's `run.json` (through a temporary file, so a crash never leaves half of it).
pub fn write_metadata(run_dir: &Path, metadata: &RunMetadata) -> std::io::Result<()> {
    let path = run_dir.join(RUN_FILE);
    let temporary = run_dir.join(format!("{RUN_FILE}.tmp"));
    let mut json = serde_json::to_vec_pretty(metadata).map_err(std::io::Error::other)?;
    json.push(b'\n');
    std::fs::write(&temporary, json)?;
    std::fs::rename(temporary, path)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
