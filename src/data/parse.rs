//! One JSONL line into a `Record`, with every schema, empty-text and role-order problem found on the way.
//!
//! The parser keeps going after a problem so one pass reports everything wrong with a line; it builds a `Record`
//! whenever the text can be read (right types), even if the record breaks a rule (an empty reply, turns out of order).

use serde_json::{Map, Value};

use crate::dataset::{Role, Turn};
use crate::input_file::excerpt;

use super::record::{detect_format, Format, Purpose, Record};
use super::{Finding, FindingKind};

/// What one line yielded.
#[derive(Debug, Default)]
pub(crate) struct LineOutcome {
    /// The record, when its text could be read.
    pub record: Option<Record>,
    /// Problems that make the line unacceptable.
    pub errors: Vec<Finding>,
    /// Problems worth a look.
    pub warnings: Vec<Finding>,
}

/// Parses a non-blank line in `format` (`Auto`: the line's own format) for a file used as `purpose`.
pub(crate) fn parse_line(line: &str, line_number: usize, format: Format, purpose: Purpose) -> LineOutcome {
    let mut parser = LineParser {
        line_number,
        purpose,
        outcome: LineOutcome::default(),
    };
    let value: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(e) => {
            parser.error(FindingKind::InvalidJson, None, format!("invalid JSON: {e}"));
            return parser.outcome;
        }
    };
    let Value::Object(object) = value else {
        parser.error(FindingKind::Schema, None, "expected a JSON object on each line");
        return parser.outcome;
    };
    let detected = detect_format(&object);
    let format = match (format, detected) {
        (Format::Auto, Some(detected)) => detected,
        (Format::Auto, None) => {
            parser.error(
                FindingKind::Schema,
                None,
                "cannot tell the format: expected `prompt` and `completion` (prompt-completion) or `messages` \
                 (a conversation format)",
            );
            return parser.outcome;
        }
        (expected, Some(detected)) if detected != expected => {
            parser.error(
                FindingKind::WrongFormat,
                None,
                format!("this line is in {detected} format, but the file is read as {expected}"),
            );
            return parser.outcome;
        }
        (expected, _) => expected,
    };
    let parts = match format {
        Format::PromptCompletion => parser.prompt_completion(&object),
        Format::BedrockConversation2024 | Format::ClaudeConversation => parser.conversation(&object, format),
        Format::Auto => None,
    };
    if let Some((system, turns)) = parts {
        parser.outcome.record = Some(Record {
            line: line_number,
            format,
            system,
            turns,
            raw: line.to_string(),
        });
    }
    parser.outcome
}

struct LineParser {
    line_number: usize,
    purpose: Purpose,
    outcome: LineOutcome,
}

type Parts = (Option<String>, Vec<Turn>);

const PROMPT_COMPLETION_KEYS: &[&str] = &["prompt", "completion"];
const CONVERSATION_2024_KEYS: &[&str] = &["schemaVersion", "system", "messages"];
const CLAUDE_KEYS: &[&str] = &["system", "messages"];

impl LineParser {
    fn finding(&self, kind: FindingKind, field: Option<&str>, message: impl Into<String>) -> Finding {
        let finding = Finding::at_line(kind, self.line_number, message);
        match field {
            Some(field) => finding.field(field),
            None => finding,
        }
    }

    fn error(&mut self, kind: FindingKind, field: Option<&str>, message: impl Into<String>) {
        let finding = self.finding(kind, field, message);
        self.outcome.errors.push(finding);
    }

    fn warning(&mut self, kind: FindingKind, field: Option<&str>, message: impl Into<String>) {
        let finding = self.finding(kind, field, message);
        self.outcome.warnings.push(finding);
    }

    /// Keys outside the format. Anthropic documents that Claude 3 Haiku's format allows no extra keys, so there they
    /// are errors; AWS's validators for the other formats ignore them, so there they are warnings (`UnknownKey`,
    /// collapsed per key by `check`). Held-out files keep extra keys for rubrics and templates.
    fn unknown_keys<'k>(
        &mut self,
        keys: impl Iterator<Item = &'k String>,
        known: &[&str],
        format: Format,
        message_field: Option<&str>,
    ) {
        if !self.purpose.checks_unknown_keys() {
            return;
        }
        let expected = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        let holder = if message_field.is_some() { "message" } else { "record" };
        for key in keys.filter(|k| !known.contains(&k.as_str())) {
            let field = match message_field {
                Some(message) => format!("{message}.{}", excerpt(key)),
                None => excerpt(key),
            };
            if format == Format::ClaudeConversation {
                let message = format!("unknown key; in Claude's format a {holder} has only {expected}");
                self.error(FindingKind::Schema, Some(&field), message);
            } else {
                let message = format!(
                    "not part of the {format} format, whose {holder} has only {expected}; AWS's validators ignore \
                     it, but leave it out of uploaded files"
                );
                self.warning(FindingKind::UnknownKey, Some(&field), message);
            }
        }
    }

    /// A text that must be present and not blank; `None` (after recording why) otherwise.
    fn required_text(&mut self, value: Option<&Value>, field: &str) -> Option<String> {
        match value {
            None | Some(Value::Null) => {
                self.error(FindingKind::Schema, Some(field), "missing; expected a string");
                None
            }
            Some(Value::String(text)) => {
                if text.trim().is_empty() {
                    self.error(FindingKind::EmptyText, Some(field), "is empty or whitespace only");
                }
                Some(text.clone())
            }
            Some(other) => {
                self.error(
                    FindingKind::Schema,
                    Some(field),
                    format!("expected a string, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn prompt_completion(&mut self, object: &Map<String, Value>) -> Option<Parts> {
        self.unknown_keys(object.keys(), PROMPT_COMPLETION_KEYS, Format::PromptCompletion, None);
        let prompt = self.required_text(object.get("prompt"), "prompt");
        let completion_value = object.get("completion");
        let completion = if completion_value.is_none() && !self.purpose.requires_reply() {
            None
        } else {
            Some(self.required_text(completion_value, "completion"))
        };
        let mut turns = vec![Turn {
            role: Role::User,
            text: prompt?,
        }];
        match completion {
            Some(None) => return None,
            Some(Some(text)) => turns.push(Turn {
                role: Role::Assistant,
                text,
            }),
            None => {}
        }
        Some((None, turns))
    }

    fn conversation(&mut self, object: &Map<String, Value>, format: Format) -> Option<Parts> {
        let nova = format == Format::BedrockConversation2024;
        let known = if nova { CONVERSATION_2024_KEYS } else { CLAUDE_KEYS };
        self.unknown_keys(object.keys(), known, format, None);
        if let Some(version) = object.get("schemaVersion") {
            if !version.is_string() {
                self.error(
                    FindingKind::Schema,
                    Some("schemaVersion"),
                    format!(
                        "expected a string such as \"bedrock-conversation-2024\", found {}",
                        type_name(version)
                    ),
                );
            }
        }
        let system = self.system(object.get("system"), nova);
        let turns = self.messages(object.get("messages"), nova);
        if let Some(turns) = &turns {
            self.role_order(turns);
        }
        Some((system?, turns?))
    }

    /// `Some(None)`: no system prompt; `None`: an unreadable one.
    fn system(&mut self, value: Option<&Value>, nova: bool) -> Option<Option<String>> {
        let text = match value {
            None | Some(Value::Null) => return Some(None),
            Some(Value::String(text)) if !nova => text.clone(),
            Some(Value::Array(blocks)) if nova => self.text_blocks(blocks, "system")?,
            Some(other) => {
                let expected = if nova {
                    "a list of {\"text\": …} blocks"
                } else {
                    "a string (Claude's format has a plain-string system prompt)"
                };
                self.error(
                    FindingKind::Schema,
                    Some("system"),
                    format!("expected {expected}, found {}", type_name(other)),
                );
                return None;
            }
        };
        if text.trim().is_empty() {
            self.warning(
                FindingKind::EmptyText,
                Some("system"),
                "system prompt is empty; leave `system` out instead",
            );
        }
        Some(Some(text))
    }

    fn messages(&mut self, value: Option<&Value>, nova: bool) -> Option<Vec<Turn>> {
        let messages = match value {
            Some(Value::Array(messages)) => messages,
            None | Some(Value::Null) => {
                self.error(
                    FindingKind::Schema,
                    Some("messages"),
                    "missing; expected a list of messages",
                );
                return None;
            }
            Some(other) => {
                self.error(
                    FindingKind::Schema,
                    Some("messages"),
                    format!("expected a list of messages, found {}", type_name(other)),
                );
                return None;
            }
        };
        let mut turns = Vec::with_capacity(messages.len());
        let mut readable = true;
        for (i, message) in messages.iter().enumerate() {
            match self.message(message, &format!("messages[{i}]"), nova) {
                Some(turn) => turns.push(turn),
                None => readable = false,
            }
        }
        readable.then_some(turns)
    }

    fn message(&mut self, message: &Value, field: &str, nova: bool) -> Option<Turn> {
        let Value::Object(message) = message else {
            self.error(
                FindingKind::Schema,
                Some(field),
                format!(
                    "expected an object with `role` and `content`, found {}",
                    type_name(message)
                ),
            );
            return None;
        };
        let format = if nova {
            Format::BedrockConversation2024
        } else {
            Format::ClaudeConversation
        };
        self.unknown_keys(message.keys(), &["role", "content"], format, Some(field));
        let role_field = format!("{field}.role");
        let role = match message.get("role") {
            Some(Value::String(role)) if role == "user" => Some(Role::User),
            Some(Value::String(role)) if role == "assistant" => Some(Role::Assistant),
            Some(Value::String(role)) => {
                self.error(
                    FindingKind::Schema,
                    Some(&role_field),
                    format!(
                        "unknown role \"{}\"; expected \"user\" or \"assistant\" (the system prompt goes in `system`)",
                        excerpt(role)
                    ),
                );
                None
            }
            None => {
                self.error(
                    FindingKind::Schema,
                    Some(&role_field),
                    "missing; expected \"user\" or \"assistant\"",
                );
                None
            }
            Some(other) => {
                self.error(
                    FindingKind::Schema,
                    Some(&role_field),
                    format!("expected \"user\" or \"assistant\", found {}", type_name(other)),
                );
                None
            }
        };
        let content_field = format!("{field}.content");
        let text = match message.get("content") {
            Some(Value::String(text)) if !nova => Some(text.clone()),
            Some(Value::Array(blocks)) if nova && blocks.is_empty() => {
                self.error(FindingKind::EmptyText, Some(&content_field), "has no content blocks");
                return None;
            }
            Some(Value::Array(blocks)) if nova => self.text_blocks(blocks, &content_field),
            None | Some(Value::Null) => {
                self.error(FindingKind::Schema, Some(&content_field), "missing");
                None
            }
            Some(other) => {
                let expected = if nova {
                    "a list of {\"text\": …} blocks"
                } else {
                    "a string (Claude's format has plain-string content)"
                };
                self.error(
                    FindingKind::Schema,
                    Some(&content_field),
                    format!("expected {expected}, found {}", type_name(other)),
                );
                None
            }
        };
        if let Some(text) = &text {
            if text.trim().is_empty() {
                self.error(
                    FindingKind::EmptyText,
                    Some(&content_field),
                    "is empty or whitespace only",
                );
            }
        }
        Some(Turn {
            role: role?,
            text: text?,
        })
    }

    /// `[{"text": …}, …]` joined by newlines; other block kinds (image, video, document, tool use) are errors, as
    /// bedrock-eval works with text only.
    fn text_blocks(&mut self, blocks: &[Value], field: &str) -> Option<String> {
        let mut texts = Vec::with_capacity(blocks.len());
        let mut readable = true;
        for (i, block) in blocks.iter().enumerate() {
            let block_field = format!("{field}[{i}]");
            let Value::Object(block) = block else {
                self.error(
                    FindingKind::Schema,
                    Some(&block_field),
                    format!("expected a {{\"text\": …}} block, found {}", type_name(block)),
                );
                readable = false;
                continue;
            };
            if let Some(key) = block.keys().find(|k| *k != "text") {
                self.error(
                    FindingKind::Schema,
                    Some(&format!("{block_field}.{key}")),
                    "only text blocks ({\"text\": …}) are supported: bedrock-eval checks text data",
                );
            }
            match block.get("text") {
                Some(Value::String(text)) => texts.push(text.as_str()),
                Some(other) => {
                    self.error(
                        FindingKind::Schema,
                        Some(&format!("{block_field}.text")),
                        format!("expected a string, found {}", type_name(other)),
                    );
                    readable = false;
                }
                None => {
                    if block.is_empty() {
                        self.error(FindingKind::Schema, Some(&block_field), "missing `text`");
                    }
                    readable = false;
                }
            }
        }
        readable.then(|| texts.join("\n"))
    }

    /// User first, then alternating, and (for training data) the assistant last. Reports the first break only.
    fn role_order(&mut self, turns: &[Turn]) {
        let Some(first) = turns.first() else {
            self.error(
                FindingKind::RoleOrder,
                Some("messages"),
                "is empty; expected user and assistant messages",
            );
            return;
        };
        if first.role != Role::User {
            self.error(
                FindingKind::RoleOrder,
                Some("messages[0].role"),
                "the first message must be the user's",
            );
            return;
        }
        if let Some(i) = (1..turns.len()).find(|&i| turns[i].role == turns[i - 1].role) {
            let role = role_name(turns[i].role);
            self.error(
                FindingKind::RoleOrder,
                Some(&format!("messages[{i}].role")),
                format!(
                    "two {role} messages in a row (messages[{}] and messages[{i}]); turns must alternate user, \
                     assistant, user, …",
                    i - 1
                ),
            );
            return;
        }
        if self.purpose.requires_reply() && turns.last().map(|t| t.role) != Some(Role::Assistant) {
            self.error(
                FindingKind::RoleOrder,
                Some(&format!("messages[{}].role", turns.len() - 1)),
                "the last message must be the assistant's: it is the reply the model learns",
            );
        }
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn training(line: &str) -> LineOutcome {
        parse_line(line, 4, Format::Auto, Purpose::Training)
    }

    fn fields(findings: &[Finding]) -> Vec<(FindingKind, Option<&str>)> {
        findings.iter().map(|f| (f.kind, f.field.as_deref())).collect()
    }

    #[test]
    fn clean_records_in_each_format() {
        for line in [
            r#"{"prompt":"Q","completion":"A"}"#,
            r#"{"schemaVersion":"bedrock-conversation-2024","system":[{"text":"S"}],"messages":[{"role":"user","content":[{"text":"Q"}]},{"role":"assistant","content":[{"text":"A"}]}]}"#,
            r#"{"system":"S","messages":[{"role":"user","content":"Q"},{"role":"assistant","content":"A"}]}"#,
        ] {
            let outcome = training(line);
            assert!(outcome.errors.is_empty(), "{line}: {:?}", outcome.errors);
            let record = outcome.record.unwrap();
            assert_eq!((record.input_text().as_str(), record.reference()), ("Q", Some("A")));
            assert_eq!(record.line, 4);
        }
    }

    #[test]
    fn schema_problems_are_all_reported_with_fields() {
        let outcome = training(r#"{"prompt":"Q","completion":3,"id":"x"}"#);
        assert_eq!(fields(&outcome.errors), vec![(FindingKind::Schema, Some("completion"))]);
        assert_eq!(fields(&outcome.warnings), vec![(FindingKind::UnknownKey, Some("id"))]);
        assert!(outcome.record.is_none());
        let outcome = training(
            r#"{"id":"x","messages":[{"role":"user","content":"Q","name":"a"},{"role":"assistant","content":"A"}]}"#,
        );
        assert_eq!(
            fields(&outcome.errors),
            vec![
                (FindingKind::Schema, Some("id")),
                (FindingKind::Schema, Some("messages[0].name"))
            ]
        );
        let outcome = training(r#"{"messages":[{"role":"user","content":[{"image":{}}]}]}"#);
        assert_eq!(
            fields(&outcome.errors)[0],
            (FindingKind::Schema, Some("messages[0].content[0].image"))
        );
    }

    #[test]
    fn extra_keys_are_kept_out_of_the_way_for_held_out_data() {
        let outcome = parse_line(
            r#"{"id":"h1","prompt":"Q","products":["x"]}"#,
            1,
            Format::Auto,
            Purpose::HeldOut,
        );
        assert!(outcome.errors.is_empty());
        assert_eq!(outcome.record.unwrap().reference(), None);
    }

    #[test]
    fn empty_texts_and_role_order() {
        let outcome = training(r#"{"prompt":"Q","completion":"  "}"#);
        assert_eq!(
            fields(&outcome.errors),
            vec![(FindingKind::EmptyText, Some("completion"))]
        );
        let outcome = training(r#"{"messages":[{"role":"user","content":"Q"},{"role":"user","content":"Q2"}]}"#);
        assert_eq!(
            fields(&outcome.errors),
            vec![(FindingKind::RoleOrder, Some("messages[1].role"))]
        );
        let outcome = training(r#"{"messages":[{"role":"assistant","content":"A"},{"role":"user","content":"Q"}]}"#);
        assert_eq!(
            fields(&outcome.errors),
            vec![(FindingKind::RoleOrder, Some("messages[0].role"))]
        );
        let outcome = training(r#"{"messages":[{"role":"user","content":"Q"}]}"#);
        assert_eq!(
            fields(&outcome.errors),
            vec![(FindingKind::RoleOrder, Some("messages[0].role"))]
        );
        assert!(outcome.errors[0].message.contains("last message"));
    }

    #[test]
    fn a_line_in_another_format_is_one_clear_error() {
        let outcome = parse_line(
            r#"{"prompt":"Q","completion":"A"}"#,
            2,
            Format::ClaudeConversation,
            Purpose::Training,
        );
        assert_eq!(fields(&outcome.errors), vec![(FindingKind::WrongFormat, None)]);
        assert!(outcome.errors[0].message.contains("prompt-completion"));
        let outcome = training("{oops");
        assert_eq!(fields(&outcome.errors), vec![(FindingKind::InvalidJson, None)]);
    }
}
