//! How a run was launched and where its records came from: what `--resume` reuses, what it refuses to change
//! silently, and how `run.json` and the report describe the endpoint. Credentials inside URLs never reach
//! `run.json`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{EndpointInfo, RunMetadata};
use crate::redact::redact_url;

impl EndpointInfo {
    /// Whether `other` is the same endpoint: the embedded one (whatever port it had), or the same URL (AWS's own
    /// when none) in the same region.
    pub fn same_endpoint(&self, other: &EndpointInfo) -> bool {
        match (self, other) {
            // `--local` starts a new endpoint on a new port each time: any two are the same simulation. One reached
            // by URL is the process behind that URL.
            (
                EndpointInfo::Simulated { url, external },
                EndpointInfo::Simulated {
                    url: other_url,
                    external: other_external,
                },
            ) => external == other_external && (!external || url == other_url),
            (
                EndpointInfo::Bedrock { endpoint_url, region },
                EndpointInfo::Bedrock {
                    endpoint_url: other_url,
                    region: other_region,
                },
            ) => endpoint_url == other_url && region == other_region,
            _ => false,
        }
    }

    /// The endpoint in words, for messages and the report: `embedded endpoint (simulated models)`, `Amazon
    /// Bedrock, us-east-1`, `Amazon Bedrock, us-east-1, endpoint http://127.0.0.1:4000`.
    pub fn describe(&self) -> String {
        match self {
            EndpointInfo::Simulated { external: false, .. } => "embedded endpoint (simulated models)".to_string(),
            EndpointInfo::Simulated { url, external: true } => {
                format!("embedded endpoint (simulated models) at {url}")
            }
            EndpointInfo::Bedrock { endpoint_url, region } => format!(
                "Amazon Bedrock{}{}",
                region.as_ref().map_or(String::new(), |r| format!(", {r}")),
                endpoint_url
                    .as_ref()
                    .map_or(String::new(), |u| format!(", endpoint {u}"))
            ),
        }
    }

    /// The same, with credentials in its URL redacted.
    pub fn redacted(self) -> EndpointInfo {
        match self {
            EndpointInfo::Simulated { url, external } => EndpointInfo::Simulated {
                url: redact_url(&url),
                external,
            },
            EndpointInfo::Bedrock { endpoint_url, region } => EndpointInfo::Bedrock {
                endpoint_url: endpoint_url.map(|u| redact_url(&u)),
                region,
            },
        }
    }
}

/// How a run was started: what `--resume` reuses unless it is given again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Launch {
    /// `--local`: the embedded endpoint.
    pub local: bool,
    /// `--endpoint-url` (or the SDK's endpoint variable), credentials redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// The AWS region calls were signed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `--profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The results root the run folder is in (absolute).
    pub results: PathBuf,
    /// `--concurrency`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// `--s3-endpoint-url` (batch mode), credentials redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_endpoint_url: Option<String>,
    /// `--alpha`: the significance level of the run's report, in place of the suite's `analysis.alpha`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// `--max-error-rate`, when given (else the suite's `max_error_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_rate: Option<f64>,
}

impl Launch {
    /// The same, with credentials in its URLs redacted (as `run.json` keeps it).
    pub fn redacted(mut self) -> Launch {
        self.endpoint_url = self.endpoint_url.map(|u| redact_url(&u));
        self.s3_endpoint_url = self.s3_endpoint_url.map(|u| redact_url(&u));
        self
    }
}

/// One endpoint a run's records came from, when a resume moved it to another (`--endpoint-change`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSegment {
    /// The endpoint.
    pub endpoint: EndpointInfo,
    /// The first line of `records.jsonl` it answered (1-based); it answered every line up to the next segment's.
    pub first_record: usize,
    /// When calls to it started.
    pub started_at: String,
}

impl RunMetadata {
    /// Records how the run was started (credentials in URLs redacted).
    pub fn launched(mut self, launch: Launch) -> RunMetadata {
        self.launch = Some(launch.redacted());
        self
    }

    /// Carries over what an earlier invocation of the same run recorded: its first start time, and where its
    /// records came from (a new segment when this invocation's endpoint differs, starting after the
    /// `records_before` records already there).
    pub fn continuing(mut self, previous: Option<&RunMetadata>, records_before: usize) -> RunMetadata {
        let Some(previous) = previous else { return self };
        self.run_started_at = Some(previous.first_started_at().to_string());
        self.endpoint_history = previous.endpoint_history.clone();
        if !previous.endpoint.same_endpoint(&self.endpoint) {
            if self.endpoint_history.is_empty() {
                self.endpoint_history.push(EndpointSegment {
                    endpoint: previous.endpoint.clone(),
                    first_record: 1,
                    started_at: previous.first_started_at().to_string(),
                });
            }
            self.endpoint_history.push(EndpointSegment {
                endpoint: self.endpoint.clone(),
                first_record: records_before + 1,
                started_at: self.started_at.clone(),
            });
        }
        self
    }

    /// When the run was first started.
    pub fn first_started_at(&self) -> &str {
        self.run_started_at.as_deref().unwrap_or(&self.started_at)
    }

    /// Where the records came from, in words: the endpoint, or each endpoint with its records when a resume
    /// changed endpoint.
    pub fn endpoint_description(&self) -> String {
        if self.endpoint_history.len() < 2 {
            return self.endpoint.describe();
        }
        let segments: Vec<String> = self
            .endpoint_history
            .iter()
            .enumerate()
            .map(|(i, segment)| {
                let range = match self.endpoint_history.get(i + 1) {
                    Some(next) if next.first_record > segment.first_record + 1 => {
                        format!("records {}–{}", segment.first_record, next.first_record - 1)
                    }
                    Some(_) => format!("record {}", segment.first_record),
                    None => format!("records {} onward", segment.first_record),
                };
                format!("{range} from {}", segment.endpoint.describe())
            })
            .collect();
        segments.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's metadata on `endpoint`, first started at `started_at`.
    fn metadata(endpoint: EndpointInfo, started_at: &str) -> RunMetadata {
        let mut metadata: RunMetadata = serde_json::from_value(serde_json::json!({
            "run_id": "r", "suite": "s", "suite_path": "/s.yaml", "suite_sha256": "", "held_out_sha256": "",
            "training_sha256": null, "rubric_sha256": "", "models": [], "harness_version": "0",
            "endpoint": {"kind": "simulated", "url": ""}, "arguments": [], "started_at": started_at,
            "finished_at": null, "status": "running", "planned_requests": 48, "already_recorded": 0
        }))
        .expect("valid metadata");
        metadata.endpoint = endpoint;
        metadata
    }

    fn bedrock(url: &str) -> EndpointInfo {
        EndpointInfo::Bedrock {
            endpoint_url: Some(url.to_string()),
            region: Some("us-east-1".to_string()),
        }
    }

    #[test]
    fn a_resume_on_another_endpoint_starts_a_segment_and_the_description_names_both() {
        let first = metadata(bedrock("http://127.0.0.1:1"), "2026-01-01T00:00:00Z");
        let second = metadata(bedrock("http://127.0.0.1:2"), "2026-01-02T00:00:00Z").continuing(Some(&first), 24);
        assert_eq!(second.first_started_at(), "2026-01-01T00:00:00Z");
        let starts: Vec<usize> = second.endpoint_history.iter().map(|s| s.first_record).collect();
        assert_eq!(starts, [1, 25]);
        assert_eq!(
            second.endpoint_description(),
            "records 1–24 from Amazon Bedrock, us-east-1, endpoint http://127.0.0.1:1; records 25 onward from \
             Amazon Bedrock, us-east-1, endpoint http://127.0.0.1:2"
        );
    }

    #[test]
    fn the_embedded_endpoint_on_another_port_is_the_same_endpoint() {
        let simulated = |port: u16| EndpointInfo::Simulated {
            url: format!("http://127.0.0.1:{port}"),
            external: false,
        };
        let first = metadata(simulated(1), "2026-01-01T00:00:00Z");
        let second = metadata(simulated(2), "2026-01-02T00:00:00Z").continuing(Some(&first), 24);
        assert!(second.endpoint_history.is_empty());
        assert_eq!(second.endpoint_description(), "embedded endpoint (simulated models)");
        assert!(!simulated(1).same_endpoint(&bedrock("http://127.0.0.1:1")));
    }

    #[test]
    fn a_served_endpoint_is_named_by_its_url() {
        let served = |port: u16| EndpointInfo::Simulated {
            url: format!("http://127.0.0.1:{port}"),
            external: true,
        };
        assert!(served(1).same_endpoint(&served(1)));
        assert!(!served(1).same_endpoint(&served(2)));
        let in_process = EndpointInfo::Simulated {
            url: "http://127.0.0.1:1".to_string(),
            external: false,
        };
        assert!(!served(1).same_endpoint(&in_process));
        assert_eq!(
            served(7).describe(),
            "embedded endpoint (simulated models) at http://127.0.0.1:7"
        );
        // A run.json written before the field existed was made with --local.
        let old: EndpointInfo = serde_json::from_str(r#"{"kind":"simulated","url":"http://127.0.0.1:1"}"#).unwrap();
        assert_eq!(old, in_process);
    }

    #[test]
    fn credentials_in_launch_urls_are_redacted() {
        let launch = Launch {
            endpoint_url: Some("http://user:pw@127.0.0.1:4000".to_string()),
            s3_endpoint_url: Some("http://127.0.0.1:9000/?X-Amz-Signature=abc".to_string()),
            ..Launch::default()
        }
        .redacted();
        assert_eq!(launch.endpoint_url.as_deref(), Some("http://REDACTED@127.0.0.1:4000"));
        assert_eq!(
            launch.s3_endpoint_url.as_deref(),
            Some("http://127.0.0.1:9000/?X-Amz-Signature=REDACTED")
        );
    }
}
