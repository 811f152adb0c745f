//! The suite's `batch:` section.

use serde::{Deserialize, Serialize};

use super::input::S3Location;

/// The suite's `batch:` section: where batch input and output live, the service role, and how to wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchSettings {
    /// `s3://bucket/prefix` under which each run writes `<run-id>/<model-slug>/input.jsonl` and its output.
    pub s3_uri: String,
    /// The service role Bedrock assumes to read the input and write the output (`arn:aws:iam::…:role/…`).
    pub role_arn: String,
    /// First wait between two status checks, in milliseconds; doubled after each check.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Longest wait between two status checks, in milliseconds.
    #[serde(default = "default_max_poll_interval_ms")]
    pub max_poll_interval_ms: u64,
    /// How long to wait for the jobs before giving up (they keep running; a re-run attaches), in minutes.
    #[serde(default = "default_timeout_minutes")]
    pub timeout_minutes: u64,
    /// Fewest records a job may have: Bedrock's per-model quota "minimum number of records per batch inference
    /// job" (100 by default). A model with fewer requests is refused (never padded).
    #[serde(default = "default_min_records_per_job")]
    pub min_records_per_job: usize,
    /// Most records a job may have (Bedrock's per-model quota, 50,000 by default); more are split into even jobs.
    #[serde(default = "default_max_records_per_job")]
    pub max_records_per_job: usize,
    /// The job's own timeout in hours (24 to 168); Bedrock's default when absent.
    #[serde(default)]
    pub job_timeout_hours: Option<u32>,
}

fn default_poll_interval_ms() -> u64 {
    30_000
}
fn default_max_poll_interval_ms() -> u64 {
    300_000
}
fn default_timeout_minutes() -> u64 {
    48 * 60
}
fn default_min_records_per_job() -> usize {
    100
}
fn default_max_records_per_job() -> usize {
    50_000
}

impl BatchSettings {
    /// Checks the settings; the message names the field and what would be right.
    pub fn validate(&self) -> Result<(), String> {
        S3Location::parse(&self.s3_uri).map_err(|e| format!("batch.s3_uri: {e}"))?;
        if !self.role_arn.starts_with("arn:aws") || !self.role_arn.contains(":role/") {
            return Err(format!(
                "batch.role_arn: `{}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                self.role_arn
            ));
        }
        if self.poll_interval_ms == 0 || self.max_poll_interval_ms < self.poll_interval_ms {
            return Err("batch.poll_interval_ms must be at least 1 and at most max_poll_interval_ms".into());
        }
        if self.min_records_per_job == 0 || self.max_records_per_job < self.min_records_per_job {
            return Err("batch.min_records_per_job must be at least 1 and at most max_records_per_job".into());
        }
        if let Some(hours) = self.job_timeout_hours.filter(|h| !(24..=168).contains(h)) {
            return Err(format!(
                "batch.job_timeout_hours: {hours} is outside Bedrock's 24 to 168"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> BatchSettings {
        serde_yaml::from_str("s3_uri: s3://my-bucket/evals\nrole_arn: arn:aws:iam::123456789012:role/BedrockBatch\n")
            .expect("valid settings")
    }

    #[test]
    fn settings_have_documented_defaults_and_refuse_unknown_keys() {
        let s = settings();
        assert_eq!(s.min_records_per_job, 100);
        assert_eq!(s.max_records_per_job, 50_000);
        assert_eq!(s.poll_interval_ms, 30_000);
        assert_eq!(s.validate(), Ok(()));
        let error =
            serde_yaml::from_str::<BatchSettings>("s3_uri: s3://b/p\nrole_arn: x\npoll: 1\n").expect_err("unknown key");
        assert!(error.to_string().contains("unknown field `poll`"), "{error}");
    }

    #[test]
    fn invalid_settings_name_their_field() {
        let mut s = settings();
        s.role_arn = "BedrockBatch".into();
        assert!(s.validate().expect_err("bad role").starts_with("batch.role_arn"));
        let mut s = settings();
        s.min_records_per_job = 10;
        s.max_records_per_job = 5;
        assert!(s.validate().expect_err("bad bounds").contains("min_records_per_job"));
        let mut s = settings();
        s.job_timeout_hours = Some(6);
        assert!(s.validate().expect_err("bad timeout").contains("job_timeout_hours"));
    }
}
