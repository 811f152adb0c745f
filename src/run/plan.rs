//! The plan: every (example, config, repeat) request a suite needs, each with its fingerprint.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{InputError, InputErrors};
use crate::prompt::RequestBuilder;
use crate::provider::ModelRequest;
use crate::suite::Suite;

/// One request the run must make.
#[derive(Debug, Clone)]
pub struct PlannedRequest {
    /// The held-out example's id.
    pub example_id: String,
    /// The config's name.
    pub config: String,
    /// Repeat index, from 0.
    pub repeat: u32,
    /// Hash of the request and repeat index: a record with this fingerprint means the call is done.
    pub fingerprint: RequestFingerprint,
    /// What is sent.
    pub request: ModelRequest,
    /// For a judge call, the rubric criterion it asks about.
    pub criterion: Option<String>,
}

/// SHA-256 (hex) over the canonical JSON of a request and its repeat index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct RequestFingerprint(pub String);

impl RequestFingerprint {
    /// The fingerprint of `request`'s `repeat`-th asking (judge requests: the same request from any config is the
    /// same question, asked once).
    pub fn of(request: &ModelRequest, repeat: u32) -> Self {
        Self::canonical(None, request, repeat)
    }

    /// The fingerprint of config `config`'s request: two configs that happen to send the same request still make
    /// separate calls, each recorded under its config (they may be deliberate replicas, sampled independently).
    pub fn of_config(config: &str, request: &ModelRequest, repeat: u32) -> Self {
        Self::canonical(Some(config), request, repeat)
    }

    fn canonical(config: Option<&str>, request: &ModelRequest, repeat: u32) -> Self {
        #[derive(Serialize)]
        struct Canonical<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            config: Option<&'a str>,
            request: &'a ModelRequest,
            repeat: u32,
        }
        // serde_json writes struct fields in declaration order, so this is canonical for our types.
        let bytes = serde_json::to_vec(&Canonical {
            config,
            request,
            repeat,
        })
        .unwrap_or_default();
        RequestFingerprint(crate::dataset::sha256_hex(&Sha256::digest(&bytes)[..]))
    }
}

/// Every request of the suite, ordered example-major (so an interrupted run has whole examples done across configs).
pub fn build_plan(suite: &Suite) -> Result<Vec<PlannedRequest>, InputErrors> {
    let builders: Vec<RequestBuilder> = suite
        .file
        .configs
        .iter()
        .map(|config| RequestBuilder::new(config, suite.pool()))
        .collect();
    let mut plan = Vec::with_capacity(suite.held_out.examples.len() * builders.len() * suite.file.repeats as usize);
    for example in &suite.held_out.examples {
        for (config, builder) in suite.file.configs.iter().zip(&builders) {
            let request = builder.build(example).map_err(|e| {
                InputError::at_line(&suite.held_out.path, example.line, e.to_string()).field("template")
            })?;
            for repeat in 0..suite.file.repeats {
                plan.push(PlannedRequest {
                    example_id: example.id.clone(),
                    config: config.name.clone(),
                    repeat,
                    fingerprint: RequestFingerprint::of_config(&config.name, &request, repeat),
                    request: request.clone(),
                    criterion: None,
                });
            }
        }
    }
    Ok(plan)
}
