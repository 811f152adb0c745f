//! The batch output side: one line of `<jobId>/<input>.jsonl.out` into the record a live call would have written.

use serde::Deserialize;
use serde_json::Value;

use crate::provider::{CallError, CallErrorKind, Completion};
use crate::run::plan::{PlannedRequest, RequestFingerprint};
use crate::run::records::{Record, RecordStatus};

/// One parsed output line: its record id and what the model answered.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputLine {
    /// The `recordId` (our request fingerprint).
    pub record_id: String,
    /// The reply, or why there is none.
    pub result: Result<Completion, CallError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLine {
    record_id: Option<String>,
    model_output: Option<Value>,
    error: Option<RawError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawError {
    error_code: Option<Value>,
    error_message: Option<String>,
}

/// Parses one output line; `Err` for a line that is not an output record at all (no JSON, no `recordId`).
pub fn parse_output_line(line: &str) -> Result<OutputLine, String> {
    let raw: RawLine = serde_json::from_str(line).map_err(|e| format!("not a JSON output record: {e}"))?;
    let record_id = raw.record_id.ok_or("output record has no recordId")?;
    let result = match (raw.model_output, raw.error) {
        (_, Some(error)) => Err(call_error(error)),
        (Some(output), None) => completion(&output),
        (None, None) => Err(CallError {
            kind: CallErrorKind::MalformedResponse,
            status: None,
            message: "batch output record has neither modelOutput nor error".into(),
        }),
    };
    Ok(OutputLine { record_id, result })
}

/// A batch error: `errorCode` is an HTTP status (a number, sometimes a string) mapped like a live call's error.
fn call_error(error: RawError) -> CallError {
    let status = match &error.error_code {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let kind = match status {
        Some(400) => CallErrorKind::Validation,
        Some(403) => CallErrorKind::AccessDenied,
        Some(404) => CallErrorKind::ResourceNotFound,
        Some(408) => CallErrorKind::ModelTimeout,
        Some(424) => CallErrorKind::ModelError,
        Some(429) => CallErrorKind::Throttling,
        Some(500 | 502 | 504) => CallErrorKind::InternalServer,
        Some(503) => CallErrorKind::ServiceUnavailable,
        _ => CallErrorKind::Other,
    };
    CallError {
        kind,
        status,
        message: error.error_message.unwrap_or_else(|| "no message".into()),
    }
}

/// A Converse response body into a completion, with the live provider's rules: text blocks joined by newlines,
/// zero usage refused as suspicious.
fn completion(output: &Value) -> Result<Completion, CallError> {
    let malformed = |message: &str| CallError {
        kind: CallErrorKind::MalformedResponse,
        status: None,
        message: message.to_string(),
    };
    let content = output
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("batch modelOutput has no output message"))?;
    let text = content
        .iter()
        .filter_map(|block| block.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    let tokens = |name: &str| output.pointer(&format!("/usage/{name}")).and_then(Value::as_u64);
    let (input_tokens, output_tokens) = (tokens("inputTokens"), tokens("outputTokens"));
    if input_tokens.unwrap_or(0) == 0 && output_tokens.unwrap_or(0) == 0 {
        return Err(CallError {
            kind: CallErrorKind::MissingUsage,
            status: None,
            message: "batch output reported no token usage; refusing to count the call as free".into(),
        });
    }
    Ok(Completion {
        text,
        stop_reason: output
            .get("stopReason")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        input_tokens: input_tokens.unwrap_or(0),
        output_tokens: output_tokens.unwrap_or(0),
        cache_read_tokens: tokens("cacheReadInputTokens").unwrap_or(0),
        cache_write_tokens: tokens("cacheWriteInputTokens").unwrap_or(0),
        service_latency_ms: output.pointer("/metrics/latencyMs").and_then(Value::as_u64),
    })
}

/// The record of `planned` from its batch result. Batch calls have no per-call wall time: `latency_ms` is the
/// latency the service reported (0 when none), and `started_at` the job's submission time.
pub fn record_of(planned: &PlannedRequest, result: Result<Completion, CallError>, submitted_at: &str) -> Record {
    let mut record = Record {
        example_id: planned.example_id.clone(),
        config: planned.config.clone(),
        repeat: planned.repeat,
        fingerprint: planned.fingerprint.clone(),
        model: planned.request.model.clone(),
        status: RecordStatus::Ok,
        output: None,
        stop_reason: None,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_input_tokens: 0,
        cache_write_input_tokens: 0,
        latency_ms: 0,
        service_latency_ms: None,
        attempts: 1,
        retried: Vec::new(),
        error: None,
        started_at: submitted_at.to_string(),
        criterion: planned.criterion.clone(),
    };
    match result {
        Ok(completion) => {
            record.output = Some(completion.text);
            record.stop_reason = Some(completion.stop_reason);
            record.input_tokens = completion.input_tokens;
            record.output_tokens = completion.output_tokens;
            record.cache_read_input_tokens = completion.cache_read_tokens;
            record.cache_write_input_tokens = completion.cache_write_tokens;
            record.latency_ms = completion.service_latency_ms.unwrap_or(0);
            record.service_latency_ms = completion.service_latency_ms;
        }
        Err(error) => {
            record.status = RecordStatus::Error;
            record.error = Some(error);
        }
    }
    record
}

/// The error recorded for a submitted request the job's output does not answer (a failed, stopped, expired or
/// partially completed job): a record all the same, so nothing is silently dropped and `--retry-errors` re-asks.
pub fn missing_from_output(job_arn: &str, status: &str, message: Option<&str>) -> CallError {
    let detail = message.map(|m| format!(": {m}")).unwrap_or_default();
    CallError {
        kind: CallErrorKind::Other,
        status: None,
        message: format!("no answer in the output of batch job {job_arn} (status {status}{detail})"),
    }
}

/// The fingerprint a record id stands for.
pub fn fingerprint(record_id: &str) -> RequestFingerprint {
    RequestFingerprint(record_id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_converse_output_becomes_a_completion() {
        let line = r#"{"recordId":"abc","modelInput":{},"modelOutput":{"output":{"message":{"role":"assistant","content":[{"text":"Hi"},{"text":"there"}]}},"stopReason":"end_turn","usage":{"inputTokens":12,"outputTokens":3,"totalTokens":15},"metrics":{"latencyMs":40}}}"#;
        let parsed = parse_output_line(line).expect("valid line");
        assert_eq!(parsed.record_id, "abc");
        let completion = parsed.result.expect("a reply");
        assert_eq!(completion.text, "Hi\nthere");
        assert_eq!(completion.stop_reason, "end_turn");
        assert_eq!((completion.input_tokens, completion.output_tokens), (12, 3));
        assert_eq!(completion.service_latency_ms, Some(40));
    }

    #[test]
    fn an_error_line_becomes_a_typed_error() {
        let line = r#"{"recordId":"abc","modelInput":{},"error":{"errorCode":400,"errorMessage":"bad input"}}"#;
        let error = parse_output_line(line)
            .expect("valid line")
            .result
            .expect_err("an error");
        assert_eq!(error.kind, CallErrorKind::Validation);
        assert_eq!(error.status, Some(400));
        assert_eq!(error.message, "bad input");
        let line = r#"{"recordId":"x","error":{"errorCode":"429","errorMessage":"slow down"}}"#;
        let error = parse_output_line(line)
            .expect("valid line")
            .result
            .expect_err("an error");
        assert_eq!(error.kind, CallErrorKind::Throttling);
    }

    #[test]
    fn zero_usage_and_missing_ids_are_refused() {
        let line = r#"{"recordId":"a","modelOutput":{"output":{"message":{"content":[{"text":"x"}]}},"stopReason":"end_turn","usage":{"inputTokens":0,"outputTokens":0}}}"#;
        let error = parse_output_line(line)
            .expect("valid line")
            .result
            .expect_err("zero usage");
        assert_eq!(error.kind, CallErrorKind::MissingUsage);
        assert!(parse_output_line(r#"{"modelOutput":{}}"#).is_err());
        assert!(parse_output_line("not json").is_err());
    }
}
