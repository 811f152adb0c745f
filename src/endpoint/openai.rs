//! OpenAI's chat-completions wire format on the embedded endpoint: `POST /v1/chat/completions`, so a suite's
//! `provider: openai` configs (and any OpenAI client) can run against the simulated models.
//!
//! A request is translated into the Converse request it means and goes down the same path: the same validation,
//! the same simulated base model (whatever the model's name: there are no custom models on this route), the same
//! faults, quota and delays, counted in `/_local/stats` under the model name. Answers and errors are written in
//! OpenAI's shapes. The `Authorization` header is accepted and ignored.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::server::{Reply, Shared};
use super::simulator::{Completion, StopReason};
use super::wire::{json_response, parse_converse, truncated_body, BedrockError, ErrorKind, ParsedConverse};

/// A chat-completions body: the fields the simulated models use, and the two they cannot honour (`stream`, `n`).
/// Other fields OpenAI clients send (`seed`, `user`, penalties, …) are ignored, as most compatible servers do.
#[derive(Debug, Deserialize)]
struct ChatCompletionsBody {
    messages: Vec<ChatMessage>,
    #[serde(default)]
    max_tokens: Option<i64>,
    /// The newer name of `max_tokens`.
    #[serde(default)]
    max_completion_tokens: Option<i64>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    /// A string or a list of strings.
    #[serde(default)]
    stop: Option<Value>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    n: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct ChatMessage {
    role: String,
    /// A string, or a list of content parts (`{"type": "text", "text": …}`).
    #[serde(default)]
    content: Value,
}

/// `POST /v1/chat/completions`.
pub(super) async fn chat_completions(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let model = match read_model(&body) {
        Ok(model) => model,
        // Without a model name there is nothing to count the request under.
        Err(error) => return error_response(&error, "-"),
    };
    let parsed = to_converse(&body, &shared);
    let (request_id, plan, reply) = shared.decide_parsed(&model, parsed);
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    match reply {
        Reply::Answer(completion) => json_response(completion_body(&completion, &model, &request_id), &request_id),
        Reply::Malformed(completion, cut) => json_response(
            truncated_body(&completion_body(&completion, &model, &request_id), cut),
            &request_id,
        ),
        Reply::Refused(error, _) => error_response(&error, &request_id),
    }
}

/// The `model` of a body that is a JSON object.
fn read_model(body: &[u8]) -> Result<String, BedrockError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| BedrockError::validation(format!("the request body is not valid JSON: {e}")))?;
    match value.get("model") {
        Some(Value::String(model)) if !model.trim().is_empty() => Ok(model.clone()),
        Some(Value::String(_)) => Err(BedrockError::validation("`model` must not be empty")),
        Some(_) => Err(BedrockError::validation("`model` must be a string")),
        None => Err(BedrockError::validation("missing required parameter: `model`")),
    }
}

/// The Converse request a chat-completions body means, validated as Converse validates it: system and developer
/// messages become the system prompt, user and assistant messages the turns.
fn to_converse(body: &[u8], shared: &Shared) -> Result<ParsedConverse, BedrockError> {
    let body: ChatCompletionsBody =
        serde_json::from_slice(body).map_err(|e| BedrockError::validation(format!("invalid request body: {e}")))?;
    if body.stream == Some(true) {
        return Err(BedrockError::validation(
            "`stream: true` is not supported by the local endpoint; ask without streaming",
        ));
    }
    if body.n.is_some_and(|n| n != 1) {
        return Err(BedrockError::validation(
            "the local endpoint returns one choice; `n` must be 1",
        ));
    }
    let mut system = Vec::new();
    let mut messages = Vec::new();
    for (i, message) in body.messages.iter().enumerate() {
        let text = message_text(&message.content, i)?;
        match message.role.as_str() {
            "system" | "developer" => system.push(json!({ "text": text })),
            "user" | "assistant" => messages.push(json!({ "role": message.role, "content": [{ "text": text }] })),
            other => {
                return Err(BedrockError::validation(format!(
                    "messages[{i}].role `{other}` is not supported: the simulated models answer text conversations \
                     of system, user and assistant messages"
                )))
            }
        }
    }
    let mut inference = Map::new();
    if let Some(max_tokens) = body.max_completion_tokens.or(body.max_tokens) {
        inference.insert("maxTokens".into(), max_tokens.into());
    }
    if let Some(temperature) = body.temperature {
        inference.insert("temperature".into(), temperature.into());
    }
    if let Some(top_p) = body.top_p {
        inference.insert("topP".into(), top_p.into());
    }
    let stop = match body.stop {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(stop)) => vec![Value::String(stop)],
        Some(Value::Array(stops)) if stops.iter().all(Value::is_string) => stops,
        Some(_) => return Err(BedrockError::validation("`stop` must be a string or a list of strings")),
    };
    if !stop.is_empty() {
        inference.insert("stopSequences".into(), Value::Array(stop));
    }
    let converse = json!({ "messages": messages, "system": system, "inferenceConfig": inference });
    parse_converse(converse.to_string().as_bytes(), shared.limits())
}

/// A message's text: its string content, or its text parts joined by newlines.
fn message_text(content: &Value, index: usize) -> Result<String, BedrockError> {
    match content {
        Value::String(text) => Ok(text.clone()),
        Value::Array(parts) => {
            let mut texts = Vec::new();
            for part in parts {
                match (
                    part.get("type").and_then(Value::as_str),
                    part.get("text").and_then(Value::as_str),
                ) {
                    (Some("text"), Some(text)) => texts.push(text),
                    _ => {
                        return Err(BedrockError::validation(format!(
                            "messages[{index}].content: only text parts (`{{\"type\": \"text\", \"text\": …}}`) are \
                             supported"
                        )))
                    }
                }
            }
            Ok(texts.join("\n"))
        }
        _ => Err(BedrockError::validation(format!(
            "messages[{index}].content must be a string or a list of text parts"
        ))),
    }
}

/// OpenAI's name for why generation stopped.
fn finish_reason(stop_reason: StopReason) -> &'static str {
    match stop_reason {
        StopReason::EndTurn | StopReason::StopSequence => "stop",
        StopReason::MaxTokens => "length",
    }
}

/// The body of a successful chat completion.
fn completion_body(completion: &Completion, model: &str, request_id: &str) -> String {
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    json!({
        "id": format!("chatcmpl-{request_id}"),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": completion.text },
            "finish_reason": finish_reason(completion.stop_reason),
        }],
        "usage": {
            "prompt_tokens": completion.input_tokens,
            "completion_tokens": completion.output_tokens,
            "total_tokens": completion.input_tokens.saturating_add(completion.output_tokens),
        },
    })
    .to_string()
}

/// OpenAI's error `type` and `code` for each simulated failure (the status is Bedrock's for the same failure).
fn error_type_and_code(kind: ErrorKind) -> (&'static str, &'static str) {
    match kind {
        ErrorKind::Throttling => ("rate_limit_error", "rate_limit_exceeded"),
        ErrorKind::ModelNotReady => ("server_error", "model_not_ready"),
        ErrorKind::Validation => ("invalid_request_error", "invalid_request"),
        ErrorKind::AccessDenied => ("permission_error", "model_access_denied"),
        ErrorKind::UnrecognizedClient | ErrorKind::ExpiredToken => ("authentication_error", "invalid_api_key"),
        ErrorKind::ResourceNotFound => ("invalid_request_error", "model_not_found"),
        ErrorKind::ModelTimeout => ("timeout_error", "model_timeout"),
        ErrorKind::ModelError => ("server_error", "model_error"),
        ErrorKind::InternalServer => ("server_error", "internal_error"),
        ErrorKind::ServiceUnavailable => ("server_error", "service_unavailable"),
    }
}

/// An error answer in OpenAI's shape: `{"error": {"message", "type", "code"}}`.
fn error_response(error: &BedrockError, request_id: &str) -> Response {
    let (error_type, code) = error_type_and_code(error.kind);
    let body = json!({ "error": { "message": error.message, "type": error_type, "code": code } }).to_string();
    let mut response = (error.kind.status(), body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::EndpointOptions;

    fn parse(body: Value) -> Result<ParsedConverse, BedrockError> {
        to_converse(body.to_string().as_bytes(), &Shared::new(EndpointOptions::default()))
    }

    #[test]
    fn system_and_developer_messages_become_the_system_prompt_and_parameters_carry_over() {
        let parsed = parse(json!({
            "model": "llama3.1:8b",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [{"type": "text", "text": "Sign off."}]},
                {"role": "user", "content": "Hello?"},
            ],
            "max_tokens": 50,
            "temperature": 0,
            "stop": "\n\n",
            "seed": 4,
        }))
        .expect("valid");
        let conversation = parsed.conversation;
        assert_eq!(conversation.system, "Be brief.\n\nSign off.");
        assert_eq!(conversation.turns.len(), 1);
        assert_eq!(conversation.turns[0].text, "Hello?");
        assert_eq!(conversation.max_tokens, 50);
        assert_eq!(conversation.temperature, 0.0);
        assert_eq!(conversation.stop_sequences, ["\n\n"]);
    }

    #[test]
    fn requests_the_simulated_models_cannot_answer_are_validation_errors() {
        let user = json!({"role": "user", "content": "Hi"});
        for (body, expected) in [
            (json!({"model": "m", "messages": [user], "stream": true}), "stream"),
            (json!({"model": "m", "messages": [user], "n": 2}), "`n`"),
            (
                json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}),
                "role `tool`",
            ),
            (
                json!({"model": "m", "messages": [user], "temperature": 1.5}),
                "temperature",
            ),
            (json!({"model": "m", "messages": [user], "stop": 3}), "`stop`"),
            (
                json!({"model": "m", "messages": [{"role": "assistant", "content": "x"}]}),
                "start with a user",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
                "text parts",
            ),
        ] {
            let error = parse(body.clone()).expect_err(&body.to_string());
            assert_eq!(error.kind, ErrorKind::Validation, "{body}");
            assert!(error.message.contains(expected), "{body}: {}", error.message);
        }
        assert!(read_model(b"{\"messages\": []}").is_err());
        assert!(read_model(b"not json").is_err());
        assert_eq!(read_model(br#"{"model": "qwen2.5:7b"}"#).unwrap(), "qwen2.5:7b");
    }
}
