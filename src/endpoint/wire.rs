//! Converse on the wire: the request body as Bedrock accepts it (validated the way Bedrock validates it), the
//! response body, and Bedrock's error convention (status, `x-amzn-ErrorType` header, `{"message": …}` body).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::simulator::{Completion, Conversation, Role, Turn};

/// Temperature used when a request sets none (Bedrock models default to sampling, so repeats differ).
pub const DEFAULT_TEMPERATURE: f64 = 0.7;
/// Most stop sequences a request may carry.
pub const MAX_STOP_SEQUENCES: usize = 2500;

/// The error types Converse returns, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// 429, request rate or token quota exceeded; retried by SDKs.
    Throttling,
    /// 429, the model is not ready to serve (not a throttling error for SDK retry purposes).
    ModelNotReady,
    /// 400, the request breaks a constraint.
    Validation,
    /// 403, no access to the model (or no credentials).
    AccessDenied,
    /// 403, the access key is not one the service knows (the error every AWS service gives; not in Bedrock's model).
    UnrecognizedClient,
    /// 403, the session token has expired (likewise common to every AWS service).
    ExpiredToken,
    /// 404, the model ARN does not exist.
    ResourceNotFound,
    /// 408, the model took too long.
    ModelTimeout,
    /// 424, the model failed while processing.
    ModelError,
    /// 500, an internal error.
    InternalServer,
    /// 503, the service is unavailable.
    ServiceUnavailable,
}

impl ErrorKind {
    /// The error's shape name, as sent in `x-amzn-ErrorType`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Throttling => "ThrottlingException",
            ErrorKind::ModelNotReady => "ModelNotReadyException",
            ErrorKind::Validation => "ValidationException",
            ErrorKind::AccessDenied => "AccessDeniedException",
            ErrorKind::UnrecognizedClient => "UnrecognizedClientException",
            ErrorKind::ExpiredToken => "ExpiredTokenException",
            ErrorKind::ResourceNotFound => "ResourceNotFoundException",
            ErrorKind::ModelTimeout => "ModelTimeoutException",
            ErrorKind::ModelError => "ModelErrorException",
            ErrorKind::InternalServer => "InternalServerException",
            ErrorKind::ServiceUnavailable => "ServiceUnavailableException",
        }
    }

    /// The HTTP status the API model gives this error.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::Throttling | ErrorKind::ModelNotReady => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Validation => StatusCode::BAD_REQUEST,
            ErrorKind::AccessDenied | ErrorKind::UnrecognizedClient | ErrorKind::ExpiredToken => StatusCode::FORBIDDEN,
            ErrorKind::ResourceNotFound => StatusCode::NOT_FOUND,
            ErrorKind::ModelTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::ModelError => StatusCode::FAILED_DEPENDENCY,
            ErrorKind::InternalServer => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The message Bedrock typically sends with this error when nothing more specific applies.
    pub fn default_message(self) -> &'static str {
        match self {
            ErrorKind::Throttling => "Too many requests, please wait before trying again.",
            ErrorKind::ModelNotReady => "Model is not ready for inference. Wait and try your request again.",
            ErrorKind::Validation => "The request failed validation.",
            ErrorKind::AccessDenied => "You don't have access to the model with the specified model ID.",
            ErrorKind::UnrecognizedClient => "The security token included in the request is invalid.",
            ErrorKind::ExpiredToken => "The security token included in the request is expired",
            ErrorKind::ResourceNotFound => "The specified resource was not found.",
            ErrorKind::ModelTimeout => "Model has timed out in processing the request. Try your request again.",
            ErrorKind::ModelError => "The model encountered an error while processing the request.",
            ErrorKind::InternalServer => "The server encountered an internal error while processing the request.",
            ErrorKind::ServiceUnavailable => "Bedrock is unable to process your request.",
        }
    }
}

/// An error answer: its type and message.
#[derive(Debug, Clone, PartialEq)]
pub struct BedrockError {
    /// Which error.
    pub kind: ErrorKind,
    /// The `message` field of the body.
    pub message: String,
}

impl BedrockError {
    /// An error with a specific message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        BedrockError {
            kind,
            message: message.into(),
        }
    }

    /// A `ValidationException`.
    pub fn validation(message: impl Into<String>) -> Self {
        BedrockError::new(ErrorKind::Validation, message)
    }

    /// An error with the usual message for its type.
    pub fn of(kind: ErrorKind) -> Self {
        BedrockError::new(kind, kind.default_message())
    }

    /// The HTTP response Bedrock would send.
    pub fn into_response(self, request_id: &str) -> Response {
        let body = json!({ "message": self.message }).to_string();
        let mut response = (self.kind.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind.name()));
        insert_request_id(headers, request_id);
        response
    }
}

fn insert_request_id(headers: &mut axum::http::HeaderMap, request_id: &str) {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", value);
    }
}

/// A Converse request body. Fields Bedrock knows but the simulator does not use are accepted and ignored;
/// unknown fields are refused, so a misspelt field in a caller shows up at once.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConverseBody {
    messages: Option<Vec<WireMessage>>,
    #[serde(default)]
    system: Vec<Map<String, Value>>,
    inference_config: Option<WireInferenceConfig>,
    #[serde(rename = "toolConfig")]
    _tool_config: Option<IgnoredAny>,
    #[serde(rename = "guardrailConfig")]
    _guardrail_config: Option<IgnoredAny>,
    #[serde(rename = "additionalModelRequestFields")]
    _additional_model_request_fields: Option<IgnoredAny>,
    #[serde(rename = "promptVariables")]
    _prompt_variables: Option<IgnoredAny>,
    #[serde(rename = "additionalModelResponseFieldPaths")]
    _additional_model_response_field_paths: Option<IgnoredAny>,
    #[serde(rename = "requestMetadata")]
    _request_metadata: Option<IgnoredAny>,
    #[serde(rename = "performanceConfig")]
    _performance_config: Option<IgnoredAny>,
    #[serde(rename = "serviceTier")]
    _service_tier: Option<IgnoredAny>,
    #[serde(rename = "outputConfig")]
    _output_config: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMessage {
    role: WireRole,
    content: Vec<Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum WireRole {
    User,
    Assistant,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WireInferenceConfig {
    max_tokens: Option<i64>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    #[serde(default)]
    stop_sequences: Vec<String>,
}

/// Everything in a request that decides its answer, in a fixed order, for seeding and for spotting repeats.
#[derive(Serialize)]
struct CanonicalRequest<'a> {
    system: &'a [String],
    messages: Vec<(WireRole, Vec<&'a str>)>,
    temperature: Option<f64>,
    top_p: Option<f64>,
}

/// A validated Converse request.
#[derive(Debug, Clone)]
pub struct ParsedConverse {
    /// The conversation as the simulated models read it.
    pub conversation: Conversation,
    /// Canonical bytes of the whole request (with `maxTokens` and stop sequences), identifying repeats.
    pub identity_key: Vec<u8>,
    /// The prefix before the last `cachePoint` block, when the request has one.
    pub cache_prefix: Option<super::cache::CachePrefix>,
}

/// Limits a request is checked against.
#[derive(Debug, Clone, Copy)]
pub struct TokenLimits {
    /// `maxTokens` when the request sets none.
    pub default_max_tokens: u32,
    /// Largest `maxTokens` accepted.
    pub max_tokens_limit: u32,
}

fn malformed(error: &serde_json::Error) -> BedrockError {
    BedrockError::validation(format!(
        "Malformed input request: {error}, please reformat your input and try again."
    ))
}

fn constraint(value: impl std::fmt::Display, path: &str, rule: &str) -> BedrockError {
    BedrockError::validation(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: Member must {rule}"
    ))
}

/// Texts of the content blocks of one message or of the system prompt; other block kinds are skipped.
fn block_texts(blocks: &[Map<String, Value>], path: &str) -> Result<Vec<String>, BedrockError> {
    let mut texts = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        match block.get("text") {
            None => {}
            Some(Value::String(text)) if text.trim().is_empty() => {
                return Err(BedrockError::validation(format!(
                    "The text field in the ContentBlock object at {path}.{j} is blank. Add text to the text field, \
                     and try again."
                )));
            }
            Some(Value::String(text)) => texts.push(text.clone()),
            Some(other) => {
                return Err(BedrockError::validation(format!(
                    "Malformed input request: {path}.{j}.text must be a string, not {other}, please reformat your \
                     input and try again."
                )));
            }
        }
    }
    Ok(texts)
}

/// Parses and validates a Converse body.
pub fn parse_converse(body: &[u8], limits: TokenLimits) -> Result<ParsedConverse, BedrockError> {
    let body: ConverseBody = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
    let messages = body.messages.unwrap_or_default();
    let (system, turns) = read_messages(&body.system, &messages)?;
    let config = body.inference_config.unwrap_or_default();
    let max_tokens = match config.max_tokens {
        None => limits.default_max_tokens,
        Some(v) if v < 1 => {
            return Err(constraint(
                v,
                "inferenceConfig.maxTokens",
                "have value greater than or equal to 1",
            ))
        }
        Some(v) if v > i64::from(limits.max_tokens_limit) => {
            let limit = limits.max_tokens_limit;
            return Err(BedrockError::validation(format!(
                "The maximum tokens you requested exceeds the model limit of {limit}. Try again with a maximum \
                 tokens value that is lower than {limit}."
            )));
        }
        Some(v) => u32::try_from(v).unwrap_or(limits.max_tokens_limit),
    };
    for (name, value) in [("temperature", config.temperature), ("topP", config.top_p)] {
        match value {
            Some(v) if v.is_nan() || v < 0.0 => {
                return Err(constraint(
                    v,
                    &format!("inferenceConfig.{name}"),
                    "have value greater than or equal to 0",
                ))
            }
            Some(v) if v > 1.0 => {
                return Err(constraint(
                    v,
                    &format!("inferenceConfig.{name}"),
                    "have value less than or equal to 1",
                ))
            }
            _ => {}
        }
    }
    if config.stop_sequences.len() > MAX_STOP_SEQUENCES {
        let count = config.stop_sequences.len();
        let rule = format!("have length less than or equal to {MAX_STOP_SEQUENCES}");
        return Err(constraint(count, "inferenceConfig.stopSequences", &rule));
    }
    if let Some(i) = config.stop_sequences.iter().position(String::is_empty) {
        let path = format!("inferenceConfig.stopSequences.{i}");
        return Err(constraint("", &path, "have length greater than or equal to 1"));
    }
    let canonical = CanonicalRequest {
        system: &system,
        messages: messages
            .iter()
            .zip(&turns)
            .map(|(m, t)| (m.role, vec![t.text.as_str()]))
            .collect(),
        temperature: config.temperature,
        top_p: config.top_p,
    };
    let sampling_key = serde_json::to_vec(&canonical).map_err(|e| malformed(&e))?;
    let identity_key =
        serde_json::to_vec(&(&canonical, max_tokens, &config.stop_sequences)).map_err(|e| malformed(&e))?;
    let contents = messages.iter().map(|m| m.content.as_slice());
    let cache_prefix =
        super::cache::cache_prefix(&system, &body.system, contents, &turns).map_err(|e| malformed(&e))?;
    Ok(ParsedConverse {
        conversation: Conversation {
            system: system.join("\n\n"),
            turns,
            temperature: config.temperature.unwrap_or(DEFAULT_TEMPERATURE),
            max_tokens,
            stop_sequences: config.stop_sequences,
            sampling_key,
        },
        identity_key,
        cache_prefix,
    })
}

/// System texts and turns, checked as Bedrock checks them: content present, starting with the user and
/// alternating; the simulated models also need the last turn to be the user's.
fn read_messages(
    system_blocks: &[Map<String, Value>],
    messages: &[WireMessage],
) -> Result<(Vec<String>, Vec<Turn>), BedrockError> {
    let system = block_texts(system_blocks, "system")?;
    if messages.first().is_none_or(|m| m.role != WireRole::User) {
        return Err(BedrockError::validation(
            "A conversation must start with a user message. Try again with a conversation that starts with a user \
             message.",
        ));
    }
    let mut turns = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        if message.content.is_empty() {
            return Err(BedrockError::validation(format!(
                "The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the \
                 content field and try again."
            )));
        }
        if i > 0 && messages[i - 1].role == message.role {
            return Err(BedrockError::validation(
                "A conversation must alternate between user and assistant roles. Make sure the conversation \
                 alternates between user and assistant roles and try again.",
            ));
        }
        let role = match message.role {
            WireRole::User => Role::User,
            WireRole::Assistant => Role::Assistant,
        };
        let text = block_texts(&message.content, &format!("messages.{i}.content"))?.join("\n");
        turns.push(Turn { role, text });
    }
    if turns.last().is_some_and(|t| t.role == Role::Assistant) {
        return Err(BedrockError::validation(
            "The final message must have the user role: the local endpoint's simulated models do not continue an \
             assistant prefill.",
        ));
    }
    Ok((system, turns))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountTokensBody {
    input: CountTokensInput,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CountTokensInput {
    converse: Option<CountTokensConverse>,
    #[serde(rename = "invokeModel")]
    _invoke_model: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CountTokensConverse {
    #[serde(default)]
    messages: Vec<WireMessage>,
    #[serde(default)]
    system: Vec<Map<String, Value>>,
    #[serde(rename = "toolConfig")]
    _tool_config: Option<IgnoredAny>,
    #[serde(rename = "additionalModelRequestFields")]
    _additional_model_request_fields: Option<IgnoredAny>,
}

/// Parses a CountTokens body (the `converse` form) into the system prompt and turns it counts.
pub fn parse_count_tokens(body: &[u8]) -> Result<(String, Vec<Turn>), BedrockError> {
    let body: CountTokensBody = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
    let Some(converse) = body.input.converse else {
        return Err(BedrockError::validation(
            "The local endpoint counts tokens of the converse input form only; send input.converse.",
        ));
    };
    let (system, turns) = read_messages(&converse.system, &converse.messages)?;
    Ok((system.join("\n\n"), turns))
}

/// Converse's `usage`: cache reads and writes only when there are any, and counted in the total.
fn usage(completion: &Completion) -> Value {
    let mut usage = json!({
        "inputTokens": completion.input_tokens,
        "outputTokens": completion.output_tokens,
        "totalTokens": completion
            .input_tokens
            .saturating_add(completion.output_tokens)
            .saturating_add(completion.cache_read_tokens)
            .saturating_add(completion.cache_write_tokens),
    });
    for (field, tokens) in [
        ("cacheReadInputTokens", completion.cache_read_tokens),
        ("cacheWriteInputTokens", completion.cache_write_tokens),
    ] {
        if tokens > 0 {
            usage[field] = json!(tokens);
        }
    }
    usage
}

/// The JSON body of a successful Converse response.
pub fn converse_body(completion: &Completion, latency_ms: u64) -> String {
    json!({
        "output": { "message": { "role": "assistant", "content": [{ "text": completion.text }] } },
        "stopReason": completion.stop_reason.as_str(),
        "usage": usage(completion),
        "metrics": { "latencyMs": latency_ms },
    })
    .to_string()
}

/// A 200 response with a JSON body and the request id.
pub fn json_response(body: String, request_id: &str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    insert_request_id(headers, request_id);
    response
}

/// `body` cut at `fraction` of its length (on a character boundary): a 200 whose JSON never closes.
pub fn truncated_body(body: &str, fraction: f64) -> String {
    let wanted = (body.len() as f64 * fraction.clamp(0.05, 0.95)) as usize;
    let end = body
        .char_indices()
        .map(|(at, _)| at)
        .take_while(|&at| at <= wanted)
        .last()
        .unwrap_or(0);
    body[..end.max(1).min(body.len())].to_string()
}
