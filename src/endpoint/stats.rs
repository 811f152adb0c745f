//! What the endpoint received and how it answered, per model: served at `GET /_local/stats` and by
//! [`super::RunningEndpoint::stats`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::wire::ErrorKind;

/// Counts of everything the endpoint received, faults included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointStats {
    /// Converse requests received, whatever their outcome.
    pub total_requests: u64,
    /// CountTokens requests received.
    pub count_tokens_requests: u64,
    /// Converse counts per model id, as the request named it.
    pub models: BTreeMap<String, ModelStats>,
    /// TCP connections: how many, and how many were closed for sending no request in time.
    pub connections: ConnectionStats,
}

/// Counts of TCP connections, for seeing the connection limits at work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionStats {
    /// Connections accepted so far.
    pub accepted: u64,
    /// The most open at once; never above `max_connections`. (How many are open now is left out: asking over HTTP
    /// would change it, and the counts are meant to read the same over HTTP and in process.)
    pub peak_open: u64,
    /// Connections closed because no complete request head arrived within the header-read timeout: idle ones
    /// (never used, or between requests) and slow ones alike.
    pub header_timeouts: u64,
}

/// Converse counts for one model id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelStats {
    /// Requests received.
    pub requests: u64,
    /// Answered 200 with a valid body.
    pub ok: u64,
    /// Answered 200 with a broken body (fault).
    pub malformed: u64,
    /// Answered 429 `ThrottlingException` (rate fault or quota).
    pub throttled: u64,
    /// Of `throttled`, those refused by the RPM/TPM quota.
    pub over_quota: u64,
    /// Answered 429 `ModelNotReadyException`.
    pub model_not_ready: u64,
    /// Answered 400 `ValidationException`.
    pub validation_errors: u64,
    /// Answered 403 `AccessDeniedException`.
    pub access_denied: u64,
    /// Answered 403 `UnrecognizedClientException` or `ExpiredTokenException` (a rejected access key).
    pub rejected_credentials: u64,
    /// Answered 404 `ResourceNotFoundException`.
    pub not_found: u64,
    /// Answered 408 `ModelTimeoutException`.
    pub model_timeouts: u64,
    /// Answered 424 `ModelErrorException`.
    pub model_errors: u64,
    /// Answered 500 `InternalServerException` or 503 `ServiceUnavailableException`.
    pub server_errors: u64,
    /// Requests held back by the slow-response fault (any outcome).
    pub slow: u64,
    /// Grading requests answered (200) with a malformed verdict (fault).
    pub malformed_verdicts: u64,
    /// Input tokens of the requests answered 200 (valid or broken body).
    pub input_tokens: u64,
    /// Output tokens of the requests answered 200 (valid or broken body).
    pub output_tokens: u64,
}

/// How one Converse request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 200 with a valid body.
    Ok {
        /// Input tokens reported.
        input_tokens: u32,
        /// Output tokens reported.
        output_tokens: u32,
    },
    /// 200 with a broken body.
    Malformed {
        /// Input tokens it would have reported.
        input_tokens: u32,
        /// Output tokens it would have reported.
        output_tokens: u32,
    },
    /// `ThrottlingException` because the quota was used up.
    OverQuota,
    /// Any error answer.
    Error(ErrorKind),
}

impl EndpointStats {
    /// Counts one Converse request to `model_id`.
    pub fn record(&mut self, model_id: &str, outcome: Outcome, slow: bool) {
        self.total_requests += 1;
        let model = self.models.entry(model_id.to_string()).or_default();
        model.requests += 1;
        if slow {
            model.slow += 1;
        }
        match outcome {
            Outcome::Ok {
                input_tokens,
                output_tokens,
            } => {
                model.ok += 1;
                model.input_tokens += u64::from(input_tokens);
                model.output_tokens += u64::from(output_tokens);
            }
            Outcome::Malformed {
                input_tokens,
                output_tokens,
            } => {
                model.malformed += 1;
                model.input_tokens += u64::from(input_tokens);
                model.output_tokens += u64::from(output_tokens);
            }
            Outcome::OverQuota => {
                model.throttled += 1;
                model.over_quota += 1;
            }
            Outcome::Error(kind) => {
                let counter = match kind {
                    ErrorKind::Throttling => &mut model.throttled,
                    ErrorKind::ModelNotReady => &mut model.model_not_ready,
                    ErrorKind::Validation => &mut model.validation_errors,
                    ErrorKind::AccessDenied => &mut model.access_denied,
                    ErrorKind::UnrecognizedClient | ErrorKind::ExpiredToken => &mut model.rejected_credentials,
                    ErrorKind::ResourceNotFound => &mut model.not_found,
                    ErrorKind::ModelTimeout => &mut model.model_timeouts,
                    ErrorKind::ModelError => &mut model.model_errors,
                    ErrorKind::InternalServer | ErrorKind::ServiceUnavailable => &mut model.server_errors,
                };
                *counter += 1;
            }
        }
    }

    /// Totals over every model.
    pub fn totals(&self) -> ModelStats {
        self.models.values().fold(ModelStats::default(), |mut sum, m| {
            sum.requests += m.requests;
            sum.ok += m.ok;
            sum.malformed += m.malformed;
            sum.throttled += m.throttled;
            sum.over_quota += m.over_quota;
            sum.model_not_ready += m.model_not_ready;
            sum.validation_errors += m.validation_errors;
            sum.access_denied += m.access_denied;
            sum.rejected_credentials += m.rejected_credentials;
            sum.not_found += m.not_found;
            sum.model_timeouts += m.model_timeouts;
            sum.model_errors += m.model_errors;
            sum.server_errors += m.server_errors;
            sum.slow += m.slow;
            sum.malformed_verdicts += m.malformed_verdicts;
            sum.input_tokens += m.input_tokens;
            sum.output_tokens += m.output_tokens;
            sum
        })
    }
}
