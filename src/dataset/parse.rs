//! One JSONL line into an `Example`.

use serde_json::{Map, Value};

use super::{derived_id, Example, Role, Turn};

/// What went wrong with a line: the field concerned (if any) and a message.
pub type LineError = (Option<String>, String);

fn error(field: &str, message: impl Into<String>) -> LineError {
    (Some(field.to_string()), message.into())
}

/// Parses one non-empty JSONL line (1-based `line_number`) in any accepted format.
pub fn parse_line(line: &str, line_number: usize) -> Result<Example, LineError> {
    let value: Value = serde_json::from_str(line).map_err(|e| (None, format!("invalid JSON: {e}")))?;
    let Value::Object(mut object) = value else {
        return Err((None, "expected a JSON object on each line".to_string()));
    };
    let id = match object.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => return Err(error("id", "expected a non-empty string or a number")),
    };
    let (system, history, input, reference) = if object.contains_key("messages") {
        parse_conversation(&mut object)?
    } else if object.contains_key("prompt") {
        parse_prompt_completion(&mut object)?
    } else {
        return Err((
            None,
            "unknown format: expected `prompt` (prompt/completion) or `messages` (bedrock-conversation-2024)"
                .to_string(),
        ));
    };
    let id = id.unwrap_or_else(|| derived_id(system.as_deref(), &history, &input, reference.as_deref()));
    Ok(Example {
        id,
        line: line_number,
        system,
        history,
        input,
        reference,
        fields: object.into(),
    })
}

type Parts = (Option<String>, Vec<Turn>, String, Option<String>);

fn parse_prompt_completion(object: &mut Map<String, Value>) -> Result<Parts, LineError> {
    let prompt = take_text(object, "prompt")?.ok_or_else(|| error("prompt", "missing"))?;
    if prompt.trim().is_empty() {
        return Err(error("prompt", "is empty"));
    }
    let completion = take_text(object, "completion")?;
    if matches!(&completion, Some(c) if c.trim().is_empty()) {
        return Err(error("completion", "is empty"));
    }
    Ok((None, Vec::new(), prompt, completion))
}

fn take_text(object: &mut Map<String, Value>, field: &str) -> Result<Option<String>, LineError> {
    match object.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(error(field, "expected a string")),
    }
}

fn parse_conversation(object: &mut Map<String, Value>) -> Result<Parts, LineError> {
    if let Some(version) = object.remove("schemaVersion") {
        if version != Value::String("bedrock-conversation-2024".to_string()) {
            return Err(error(
                "schemaVersion",
                format!(
                    "unsupported schema version {}; expected \"bedrock-conversation-2024\"",
                    crate::input_file::excerpt(&version.to_string())
                ),
            ));
        }
    }
    let system = match object.remove("system") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Array(blocks)) => Some(blocks_text(&blocks, "system")?),
        Some(_) => return Err(error("system", "expected a string or a list of {\"text\": ...} blocks")),
    };
    let Some(Value::Array(messages)) = object.remove("messages") else {
        return Err(error("messages", "expected a list of messages"));
    };
    let mut turns = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        let field = format!("messages[{i}]");
        let Value::Object(message) = message else {
            return Err(error(&field, "expected an object with `role` and `content`"));
        };
        let role = match message.get("role").and_then(Value::as_str) {
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            _ => return Err(error(&format!("{field}.role"), "expected \"user\" or \"assistant\"")),
        };
        let content_field = format!("{field}.content");
        let text = match message.get("content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(blocks)) => blocks_text(blocks, &content_field)?,
            _ => {
                return Err(error(
                    &content_field,
                    "expected a string or a list of {\"text\": ...} blocks",
                ))
            }
        };
        if text.trim().is_empty() {
            return Err(error(&content_field, "is empty"));
        }
        let expected = if i % 2 == 0 { Role::User } else { Role::Assistant };
        if role != expected {
            return Err(error(
                &format!("{field}.role"),
                "turns must alternate user, assistant, user, …, starting with the user",
            ));
        }
        turns.push(Turn { role, text });
    }
    let reference = match turns.last() {
        None => return Err(error("messages", "is empty")),
        Some(turn) if turn.role == Role::Assistant => turns.pop().map(|t| t.text),
        Some(_) => None,
    };
    let input = turns
        .pop()
        .map(|t| t.text)
        .ok_or_else(|| error("messages", "has no user turn"))?;
    Ok((system, turns, input, reference))
}

fn blocks_text(blocks: &[Value], field: &str) -> Result<String, LineError> {
    let mut texts = Vec::with_capacity(blocks.len());
    for (i, block) in blocks.iter().enumerate() {
        match block.get("text").and_then(Value::as_str) {
            Some(text) => texts.push(text),
            None => {
                return Err(error(
                    &format!("{field}[{i}]"),
                    "only text blocks ({\"text\": ...}) are supported",
                ))
            }
        }
    }
    Ok(texts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_completion_keeps_extra_fields() {
        let example = parse_line(
            r#"{"prompt": "Lock jams", "completion": "Hi,", "id": "a1", "products": ["Kestrel Lock"]}"#,
            3,
        )
        .unwrap();
        assert_eq!(example.id, "a1");
        assert_eq!(example.line, 3);
        assert_eq!(example.input, "Lock jams");
        assert_eq!(example.reference.as_deref(), Some("Hi,"));
        assert_eq!(example.field_terms("products"), Some(vec!["Kestrel Lock".to_string()]));
    }

    #[test]
    fn nova_conversation_with_reference() {
        let line = r#"{"schemaVersion":"bedrock-conversation-2024","system":[{"text":"Be kind."}],
            "messages":[{"role":"user","content":[{"text":"Q1"}]},{"role":"assistant","content":[{"text":"A1"}]},
            {"role":"user","content":[{"text":"Q2"}]},{"role":"assistant","content":[{"text":"A2"}]}]}"#;
        let example = parse_line(&line.replace('\n', ""), 1).unwrap();
        assert_eq!(example.system.as_deref(), Some("Be kind."));
        assert_eq!(example.history.len(), 2);
        assert_eq!(example.input, "Q2");
        assert_eq!(example.reference.as_deref(), Some("A2"));
        assert!(example.id.starts_with("ex-"));
    }

    #[test]
    fn claude_format_with_string_content() {
        let line = r#"{"system":"S","messages":[{"role":"user","content":"Q"},{"role":"assistant","content":"A"}]}"#;
        let example = parse_line(line, 1).unwrap();
        assert_eq!((example.input.as_str(), example.reference.as_deref()), ("Q", Some("A")));
    }

    #[test]
    fn role_order_is_checked() {
        let line = r#"{"messages":[{"role":"assistant","content":"A"},{"role":"user","content":"Q"}]}"#;
        let (field, message) = parse_line(line, 1).unwrap_err();
        assert_eq!(field.as_deref(), Some("messages[0].role"));
        assert!(message.contains("alternate"));
    }

    #[test]
    fn empty_completion_and_unknown_format_are_errors() {
        assert_eq!(
            parse_line(r#"{"prompt":"Q","completion":"  "}"#, 1)
                .unwrap_err()
                .0
                .as_deref(),
            Some("completion")
        );
        assert!(parse_line(r#"{"question":"Q"}"#, 1)
            .unwrap_err()
            .1
            .contains("unknown format"));
        assert!(parse_line("{not json", 1).unwrap_err().1.contains("invalid JSON"));
    }

    #[test]
    fn derived_ids_are_stable_and_content_based() {
        let a = parse_line(r#"{"prompt":"Q","completion":"A"}"#, 1).unwrap();
        let b = parse_line(r#"{"completion":"A","prompt":"Q"}"#, 9).unwrap();
        let c = parse_line(r#"{"prompt":"Q2","completion":"A"}"#, 1).unwrap();
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
    }
}
