//! Model providers: one request in, one completion (with usage and latency) or a typed error out.
//!
//! `bedrock` calls Converse through the AWS SDK; the embedded endpoint is reached through the same provider, by
//! endpoint URL, so tests exercise the real client.

pub mod bedrock;
pub mod openai;
pub mod routing;

use std::fmt;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::dataset::Turn;
use crate::suite::schema::InferenceSection;

/// A provider-neutral chat request: exactly what is sent, and what its fingerprint is computed over.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRequest {
    /// Model id, inference-profile id or ARN.
    pub model: String,
    /// System prompt, if any.
    pub system: Option<String>,
    /// The conversation: demonstrations and history, ending with the user turn to answer.
    pub messages: Vec<Turn>,
    /// Inference parameters.
    pub inference: InferenceSection,
    /// Prompt caching: a cache point after the system prompt and this many messages (0: after the system prompt).
    /// Absent from the fingerprint when `None`, so uncached requests keep theirs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_after_messages: Option<usize>,
}

impl ModelRequest {
    /// Whether message `index` ends the cached prefix.
    pub fn cache_point_after(&self, index: usize) -> bool {
        self.cache_after_messages == Some(index + 1)
    }

    /// Whether the cached prefix ends with the system prompt.
    pub fn cache_point_after_system(&self) -> bool {
        self.cache_after_messages == Some(0) && self.system.is_some()
    }
}

/// A model's reply and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The reply's text (text blocks joined by newlines).
    pub text: String,
    /// Why generation stopped (`end_turn`, `max_tokens`, `stop_sequence`, …).
    pub stop_reason: String,
    /// Input tokens the service counted.
    pub input_tokens: u64,
    /// Output tokens the service counted.
    pub output_tokens: u64,
    /// Input tokens read from the prompt cache (not in `input_tokens`).
    #[serde(default)]
    pub cache_read_tokens: u64,
    /// Input tokens written to the prompt cache (not in `input_tokens`).
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Latency the service reported, if it did.
    pub service_latency_ms: Option<u64>,
}

/// The kinds of failure a model call can have; the record keeps the kind, the message and the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum CallErrorKind {
    /// 429 ThrottlingException.
    Throttling,
    /// 429 ModelNotReadyException.
    ModelNotReady,
    /// 400 ValidationException.
    Validation,
    /// 403 AccessDeniedException.
    AccessDenied,
    /// No usable credentials: none found, or refused by the service (403 `UnrecognizedClientException`,
    /// `ExpiredTokenException`, `InvalidSignatureException`, …).
    Credentials,
    /// 404 ResourceNotFoundException.
    ResourceNotFound,
    /// 408 ModelTimeoutException.
    ModelTimeout,
    /// 424 ModelErrorException.
    ModelError,
    /// 500 InternalServerException.
    InternalServer,
    /// 503 ServiceUnavailableException.
    ServiceUnavailable,
    /// No answer within the attempt timeout.
    Timeout,
    /// The connection failed.
    Network,
    /// An answer that could not be parsed.
    MalformedResponse,
    /// A 200 that reported no token usage: suspicious, never taken as free.
    MissingUsage,
    /// The request exceeds a configured tokens-per-minute limit on its own.
    RequestTooLarge,
    /// Anything else.
    Other,
}

impl CallErrorKind {
    /// Whether a retry may succeed where this attempt failed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            CallErrorKind::Throttling
                | CallErrorKind::ModelNotReady
                | CallErrorKind::InternalServer
                | CallErrorKind::ServiceUnavailable
                | CallErrorKind::Timeout
                | CallErrorKind::Network
                | CallErrorKind::MalformedResponse
                | CallErrorKind::ModelTimeout
        )
    }

    /// Whether no other call can succeed either: credentials missing or refused, or access denied. Such a failure
    /// stops the run instead of being recorded against each request.
    pub fn is_fatal(self) -> bool {
        matches!(self, CallErrorKind::Credentials | CallErrorKind::AccessDenied)
    }

    /// The snake_case name used in records and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CallErrorKind::Throttling => "throttling",
            CallErrorKind::ModelNotReady => "model_not_ready",
            CallErrorKind::Validation => "validation",
            CallErrorKind::AccessDenied => "access_denied",
            CallErrorKind::Credentials => "credentials",
            CallErrorKind::ResourceNotFound => "resource_not_found",
            CallErrorKind::ModelTimeout => "model_timeout",
            CallErrorKind::ModelError => "model_error",
            CallErrorKind::InternalServer => "internal_server",
            CallErrorKind::ServiceUnavailable => "service_unavailable",
            CallErrorKind::Timeout => "timeout",
            CallErrorKind::Network => "network",
            CallErrorKind::MalformedResponse => "malformed_response",
            CallErrorKind::MissingUsage => "missing_usage",
            CallErrorKind::RequestTooLarge => "request_too_large",
            CallErrorKind::Other => "other",
        }
    }
}

/// A failed model call attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallError {
    /// What kind of failure.
    pub kind: CallErrorKind,
    /// HTTP status, when there was a response.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    /// The service's message, or ours.
    pub message: String,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} ({status}): {}", self.kind.as_str(), self.message),
            None => write!(f, "{}: {}", self.kind.as_str(), self.message),
        }
    }
}

impl std::error::Error for CallError {}

impl CallError {
    /// The same error, with credentials in any URL its message quotes redacted (as records keep it).
    pub fn redacted(self) -> CallError {
        CallError {
            message: crate::redact::redact_urls_in(&self.message),
            ..self
        }
    }
}

/// Something that answers chat requests.
pub trait Provider: Send + Sync {
    /// Sends one request, once (the executor owns retries and timeouts).
    fn converse<'a>(&'a self, request: &'a ModelRequest) -> BoxFuture<'a, Result<Completion, CallError>>;
}

/// An error and its chain of causes on one line, "outer: inner: innermost".
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
