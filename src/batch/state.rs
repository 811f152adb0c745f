//! `batch.json`: the jobs a run submitted, written before any polling, so a re-run attaches instead of submitting.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The batch state file of a run directory.
pub const BATCH_FILE: &str = "batch.json";

/// Every job a run submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchState {
    /// Jobs in submission order.
    pub jobs: Vec<SubmittedJob>,
}

/// One submitted job and what it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedJob {
    /// The model id or ARN the job runs.
    pub model: String,
    /// Part index among the model's jobs of one submission (0 unless the records exceeded the per-job maximum).
    pub part: usize,
    /// The job's ARN.
    pub job_arn: String,
    /// The job's name.
    pub job_name: String,
    /// Where its input was uploaded.
    pub input_uri: String,
    /// The output prefix given to the job (Bedrock writes under `<output_uri>/<jobId>/`).
    pub output_uri: String,
    /// When it was submitted (RFC 3339).
    pub submitted_at: String,
    /// The record ids (request fingerprints) in its input.
    pub record_ids: Vec<String>,
    /// Whether its output has been turned into records.
    #[serde(default)]
    pub collected: bool,
    /// The final status seen, once the job ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_status: Option<String>,
}

impl SubmittedJob {
    /// The job id: the last segment of its ARN.
    pub fn job_id(&self) -> &str {
        self.job_arn.rsplit('/').next().unwrap_or(&self.job_arn)
    }
}

/// Reads `batch.json`; a missing file is no jobs.
pub fn read_state(run_dir: &Path) -> io::Result<BatchState> {
    match std::fs::read_to_string(run_dir.join(BATCH_FILE)) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("invalid {}: {e}", run_dir.join(BATCH_FILE).display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BatchState::default()),
        Err(e) => Err(crate::files::with_path("read", &run_dir.join(BATCH_FILE), e)),
    }
}

/// Writes `batch.json` through a temporary file, so a crash never leaves half of it.
pub fn write_state(run_dir: &Path, state: &BatchState) -> io::Result<()> {
    let mut json = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
    json.push(b'\n');
    crate::files::write_atomically(&run_dir.join(BATCH_FILE), &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(read_state(dir.path()).expect("empty"), BatchState::default());
        let state = BatchState {
            jobs: vec![SubmittedJob {
                model: "amazon.nova-lite-v1:0".into(),
                part: 0,
                job_arn: "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdef123456".into(),
                job_name: "j".into(),
                input_uri: "s3://b/p/input.jsonl".into(),
                output_uri: "s3://b/p/output/".into(),
                submitted_at: "2026-11-25T18:00:00Z".into(),
                record_ids: vec!["f1".into()],
                collected: false,
                final_status: None,
            }],
        };
        write_state(dir.path(), &state).expect("written");
        let back = read_state(dir.path()).expect("read");
        assert_eq!(back, state);
        assert_eq!(back.jobs[0].job_id(), "abcdef123456");
    }
}
