//! The OpenAI-compatible provider: `POST {base_url}/chat/completions`, as served by vLLM, llama.cpp's server,
//! Ollama, LM Studio, TGI and the embedded endpoint (`/v1/chat/completions`).
//!
//! One attempt per call, like the Bedrock provider: the executor owns retries and timeouts. HTTP failures are
//! typed with the same [`CallErrorKind`]s as Bedrock's exceptions, so the executor retries them alike.

use super::error_chain;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::AUTHORIZATION;
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};

use super::{CallError, CallErrorKind, Completion, ModelRequest, Provider};
use crate::dataset::Role;

/// How long a connection may take to open before the attempt fails as a timeout (the executor's per-attempt
/// timeout bounds the whole call anyway).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest excerpt of an unexpected body kept in an error message.
const MAX_BODY_EXCERPT: usize = 300;

/// Why an OpenAI-compatible provider could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum OpenAiSetupError {
    /// The base URL does not make a chat-completions URL.
    #[error("base_url `{base_url}` is not a usable http(s) URL: {reason}")]
    InvalidBaseUrl {
        /// The base URL as configured.
        base_url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The API key cannot be sent as a header value.
    #[error("the API key for {base_url} contains characters an HTTP header cannot carry (a newline?)")]
    InvalidApiKey {
        /// The base URL the key is for.
        base_url: String,
    },
    /// The HTTP client could not be built (TLS initialisation).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Calls an OpenAI-compatible chat-completions API.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    client: reqwest::Client,
    chat_completions_url: Url,
    authorization: Option<reqwest::header::HeaderValue>,
}

impl OpenAiProvider {
    /// A provider for the server whose API root is `base_url` (`http://127.0.0.1:8000/v1`), sending `api_key`, when
    /// given, as `Authorization: Bearer …`.
    pub fn new(base_url: &str, api_key: Option<&str>) -> Result<Self, OpenAiSetupError> {
        let invalid = |reason: String| OpenAiSetupError::InvalidBaseUrl {
            base_url: base_url.to_string(),
            reason,
        };
        let chat_completions_url = Url::parse(&format!("{}/chat/completions", base_url.trim_end_matches('/')))
            .map_err(|e| invalid(e.to_string()))?;
        if !matches!(chat_completions_url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https".to_string()));
        }
        let authorization = api_key
            .map(|key| {
                let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                    OpenAiSetupError::InvalidApiKey {
                        base_url: base_url.to_string(),
                    }
                })?;
                value.set_sensitive(true);
                Ok::<_, OpenAiSetupError>(value)
            })
            .transpose()?;
        let client = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT).build()?;
        Ok(OpenAiProvider {
            client,
            chat_completions_url,
            authorization,
        })
    }

    /// The URL requests are posted to.
    pub fn chat_completions_url(&self) -> &str {
        self.chat_completions_url.as_str()
    }

    async fn call(&self, request: &ModelRequest) -> Result<Completion, CallError> {
        let mut http = self
            .client
            .post(self.chat_completions_url.clone())
            .json(&ChatRequest::from(request));
        if let Some(authorization) = &self.authorization {
            http = http.header(AUTHORIZATION, authorization.clone());
        }
        let response = http.send().await.map_err(|e| transport_error(&e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| CallError {
            status: Some(status.as_u16()),
            ..transport_error(&e)
        })?;
        if !status.is_success() {
            return Err(status_error(status, &body));
        }
        parse_completion(&body)
    }
}

impl Provider for OpenAiProvider {
    fn converse<'a>(&'a self, request: &'a ModelRequest) -> BoxFuture<'a, Result<Completion, CallError>> {
        Box::pin(self.call(request))
    }
}

/// A chat-completions request body: only the fields a `ModelRequest` sets.
#[derive(Debug, Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<ChatMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
}

#[derive(Debug, Serialize)]
struct ChatMessage<'a> {
    role: &'static str,
    content: &'a str,
}

impl<'a> From<&'a ModelRequest> for ChatRequest<'a> {
    fn from(request: &'a ModelRequest) -> Self {
        let system = request.system.as_deref().map(|content| ChatMessage {
            role: "system",
            content,
        });
        let turns = request.messages.iter().map(|turn| ChatMessage {
            role: match turn.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            },
            content: &turn.text,
        });
        let inference = &request.inference;
        ChatRequest {
            model: &request.model,
            messages: system.into_iter().chain(turns).collect(),
            max_tokens: inference.max_tokens,
            temperature: inference.temperature,
            top_p: inference.top_p,
            stop: &inference.stop_sequences,
        }
    }
}

/// The parts of a chat-completions response that are read; anything else is ignored.
#[derive(Debug, Deserialize)]
struct ChatResponse {
    choices: Vec<ChatChoice>,
    #[serde(default)]
    usage: Option<ChatUsage>,
}

#[derive(Debug, Deserialize)]
struct ChatChoice {
    message: ChatReply,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChatReply {
    /// Null when the model produced no text (a refusal or tool call in the full API).
    #[serde(default)]
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChatUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

/// Reads a 200 body: the first choice's text and finish reason, and the usage, which must be there.
fn parse_completion(body: &[u8]) -> Result<Completion, CallError> {
    let malformed = |message: String| CallError {
        kind: CallErrorKind::MalformedResponse,
        status: Some(200),
        message,
    };
    let response: ChatResponse =
        serde_json::from_slice(body).map_err(|e| malformed(format!("response could not be parsed: {e}")))?;
    let Some(choice) = response.choices.into_iter().next() else {
        return Err(malformed("response has no choices".to_string()));
    };
    let usage = response
        .usage
        .and_then(|u| Some((u.prompt_tokens?, u.completion_tokens?)));
    let Some((input_tokens, output_tokens)) = usage.filter(|&(input, output)| input > 0 || output > 0) else {
        return Err(CallError {
            kind: CallErrorKind::MissingUsage,
            status: Some(200),
            message: "response reported no token usage (usage.prompt_tokens, usage.completion_tokens); refusing to \
                      count the call as free"
                .to_string(),
        });
    };
    Ok(Completion {
        text: choice.message.content.unwrap_or_default(),
        stop_reason: stop_reason(choice.finish_reason.as_deref()).to_string(),
        input_tokens,
        output_tokens,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        service_latency_ms: None,
    })
}

/// OpenAI's `finish_reason` in Converse's words, so reports read the same whatever the provider.
fn stop_reason(finish_reason: Option<&str>) -> &str {
    match finish_reason {
        Some("stop") => "end_turn",
        Some("length") => "max_tokens",
        Some("content_filter") => "content_filtered",
        Some("tool_calls" | "function_call") => "tool_use",
        Some(other) => other,
        None => "unknown",
    }
}

/// The kind of an error status, as Bedrock's exception with that status would be typed.
fn status_kind(status: StatusCode) -> CallErrorKind {
    match status.as_u16() {
        429 => CallErrorKind::Throttling,
        500 | 502 | 504 => CallErrorKind::InternalServer,
        503 => CallErrorKind::ServiceUnavailable,
        400 | 422 => CallErrorKind::Validation,
        401 | 403 => CallErrorKind::AccessDenied,
        404 => CallErrorKind::ResourceNotFound,
        408 => CallErrorKind::ModelTimeout,
        424 => CallErrorKind::ModelError,
        _ => CallErrorKind::Other,
    }
}

/// An error answer: its kind from the status, its message from the body (`{"error": {"message"}}`, vLLM's older
/// `{"message"}`, or the start of the text).
fn status_error(status: StatusCode, body: &[u8]) -> CallError {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let from_json = json.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("message"))
            .or_else(|| v.get("error").filter(|e| e.is_string()))
            .and_then(|m| m.as_str())
            .map(str::to_string)
    });
    let message = from_json.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        match text.char_indices().nth(MAX_BODY_EXCERPT) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None if text.is_empty() => status.canonical_reason().unwrap_or("no message").to_string(),
            None => text.to_string(),
        }
    });
    CallError {
        kind: status_kind(status),
        status: Some(status.as_u16()),
        message,
    }
}

/// A failure with no HTTP status to go by: a timeout, a refused or broken connection, an unreadable body.
fn transport_error(error: &reqwest::Error) -> CallError {
    let kind = if error.is_timeout() {
        CallErrorKind::Timeout
    } else if error.is_connect() || error.is_request() {
        CallErrorKind::Network
    } else if error.is_body() || error.is_decode() {
        CallErrorKind::MalformedResponse
    } else {
        CallErrorKind::Other
    };
    CallError {
        kind,
        status: None,
        message: format!("request to an OpenAI-compatible server failed: {}", error_chain(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Turn;
    use crate::suite::schema::InferenceSection;

    fn request(system: Option<&str>, inference: InferenceSection) -> ModelRequest {
        ModelRequest {
            model: "llama3.1:8b".to_string(),
            system: system.map(str::to_string),
            messages: vec![
                Turn {
                    role: Role::User,
                    text: "demo question".to_string(),
                },
                Turn {
                    role: Role::Assistant,
                    text: "demo answer".to_string(),
                },
                Turn {
                    role: Role::User,
                    text: "the question".to_string(),
                },
            ],
            inference,
            cache_after_messages: None,
        }
    }

    #[test]
    fn the_body_has_the_system_message_first_then_the_turns_and_only_the_parameters_set() {
        let inference = InferenceSection {
            max_tokens: Some(300),
            temperature: Some(0.0),
            top_p: Some(0.5),
            stop_sequences: vec!["\n\n\n".to_string()],
        };
        let body = serde_json::to_value(ChatRequest::from(&request(Some("Be brief."), inference))).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "model": "llama3.1:8b",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "demo question"},
                    {"role": "assistant", "content": "demo answer"},
                    {"role": "user", "content": "the question"},
                ],
                "max_tokens": 300,
                "temperature": 0.0,
                "top_p": 0.5,
                "stop": ["\n\n\n"],
            })
        );
        let bare = serde_json::to_value(ChatRequest::from(&request(None, InferenceSection::default()))).unwrap();
        assert_eq!(bare.as_object().unwrap().len(), 2, "{bare}");
        assert_eq!(bare["messages"][0]["role"], "user");
    }

    #[test]
    fn a_completion_reads_text_finish_reason_and_usage() {
        let body = br#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",
            "content":"Hi"},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":3,
            "total_tokens":15}}"#;
        let completion = parse_completion(body).unwrap();
        assert_eq!(completion.text, "Hi");
        assert_eq!(completion.stop_reason, "max_tokens");
        assert_eq!((completion.input_tokens, completion.output_tokens), (12, 3));
        assert_eq!(completion.service_latency_ms, None);
    }

    #[test]
    fn missing_or_zero_usage_is_never_free() {
        for body in [
            r#"{"choices":[{"message":{"content":"Hi"},"finish_reason":"stop"}]}"#,
            r#"{"choices":[{"message":{"content":"Hi"},"finish_reason":"stop"}],"usage":null}"#,
            r#"{"choices":[{"message":{"content":"Hi"},"finish_reason":"stop"}],"usage":{"total_tokens":9}}"#,
            r#"{"choices":[{"message":{"content":"Hi"}}],"usage":{"prompt_tokens":0,"completion_tokens":0}}"#,
        ] {
            let error = parse_completion(body.as_bytes()).expect_err(body);
            assert_eq!(error.kind, CallErrorKind::MissingUsage, "{body}");
        }
    }

    #[test]
    fn unparseable_or_choiceless_bodies_are_malformed() {
        for body in [
            "{\"choices\":[{\"message\":{\"content\":\"Hi",
            "<html>bad gateway</html>",
            r#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        ] {
            let error = parse_completion(body.as_bytes()).expect_err(body);
            assert_eq!(error.kind, CallErrorKind::MalformedResponse, "{body}");
            assert!(error.kind.is_retryable());
        }
    }

    #[test]
    fn statuses_map_to_the_kinds_bedrock_exceptions_have() {
        for (status, kind) in [
            (429, CallErrorKind::Throttling),
            (500, CallErrorKind::InternalServer),
            (502, CallErrorKind::InternalServer),
            (504, CallErrorKind::InternalServer),
            (503, CallErrorKind::ServiceUnavailable),
            (400, CallErrorKind::Validation),
            (422, CallErrorKind::Validation),
            (401, CallErrorKind::AccessDenied),
            (403, CallErrorKind::AccessDenied),
            (404, CallErrorKind::ResourceNotFound),
            (408, CallErrorKind::ModelTimeout),
            (424, CallErrorKind::ModelError),
            (418, CallErrorKind::Other),
        ] {
            assert_eq!(status_kind(StatusCode::from_u16(status).unwrap()), kind, "{status}");
        }
    }

    #[test]
    fn error_messages_come_from_the_body_in_any_common_shape() {
        let status = StatusCode::NOT_FOUND;
        let openai = status_error(
            status,
            br#"{"error":{"message":"model `x` not found","type":"invalid"}}"#,
        );
        assert_eq!(openai.message, "model `x` not found");
        assert_eq!(
            (openai.kind, openai.status),
            (CallErrorKind::ResourceNotFound, Some(404))
        );
        let vllm = status_error(status, br#"{"object":"error","message":"no such model","code":404}"#);
        assert_eq!(vllm.message, "no such model");
        let ollama = status_error(status, br#"{"error":"model 'x' not found"}"#);
        assert_eq!(ollama.message, "model 'x' not found");
        let long = status_error(status, "é".repeat(1000).as_bytes());
        assert_eq!(long.message.chars().count(), MAX_BODY_EXCERPT + 1);
        assert_eq!(status_error(status, b"").message, "Not Found");
    }

    #[test]
    fn the_url_is_the_base_url_with_chat_completions_and_bad_ones_are_refused() {
        for base in ["http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/"] {
            let provider = OpenAiProvider::new(base, None).unwrap();
            assert_eq!(
                provider.chat_completions_url(),
                "http://127.0.0.1:8000/v1/chat/completions"
            );
        }
        assert!(matches!(
            OpenAiProvider::new("127.0.0.1:8000/v1", None),
            Err(OpenAiSetupError::InvalidBaseUrl { .. })
        ));
        assert!(matches!(
            OpenAiProvider::new("http://127.0.0.1:8000/v1", Some("bad\nkey")),
            Err(OpenAiSetupError::InvalidApiKey { .. })
        ));
    }
}
