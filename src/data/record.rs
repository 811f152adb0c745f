//! Fine-tuning records: the three Bedrock JSONL formats, what a file is for, and one parsed line.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::dataset::{Role, Turn};
use crate::error::InputError;

use super::parse::parse_line;

/// A Bedrock fine-tuning JSONL format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Detect the format from the file's first valid line.
    Auto,
    /// `{"prompt": "…", "completion": "…"}` (Titan, Cohere, Llama 3.1).
    PromptCompletion,
    /// `{"schemaVersion": "bedrock-conversation-2024", "system": [{"text"}], "messages": [{"role", "content":
    /// [{"text"}]}]}` (Nova).
    BedrockConversation2024,
    /// `{"system": "…", "messages": [{"role", "content": "…"}]}` with plain-string content (Claude 3 Haiku).
    ClaudeConversation,
}

impl Format {
    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::PromptCompletion => "prompt-completion",
            Format::BedrockConversation2024 => "bedrock-conversation-2024",
            Format::ClaudeConversation => "claude-conversation",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Format::Auto),
            "prompt-completion" => Ok(Format::PromptCompletion),
            "bedrock-conversation-2024" | "conversation-2024" => Ok(Format::BedrockConversation2024),
            "claude-conversation" | "claude" => Ok(Format::ClaudeConversation),
            other => Err(format!(
                "unknown format `{other}`; expected auto, prompt-completion, bedrock-conversation-2024 or \
                 claude-conversation"
            )),
        }
    }
}

/// What a file is for: it decides which record limits apply and whether a record must end with a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// A customization job's training file: every record ends with the reply to learn; unknown keys are reported.
    #[default]
    Training,
    /// A customization job's validation file: as training, with the validation record limits.
    Validation,
    /// Held-out examples for `bedrock-eval run`: the reply is optional and extra keys (ids, rubric fields) are kept.
    HeldOut,
}

impl Purpose {
    /// Whether records must end with an assistant turn (or carry a completion).
    pub fn requires_reply(self) -> bool {
        self != Purpose::HeldOut
    }

    /// Whether keys outside the format are reported (errors in Claude's format, warnings in the others).
    pub fn checks_unknown_keys(self) -> bool {
        self != Purpose::HeldOut
    }
}

impl FromStr for Purpose {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "training" | "train" => Ok(Purpose::Training),
            "validation" => Ok(Purpose::Validation),
            "held-out" | "heldout" | "test" => Ok(Purpose::HeldOut),
            other => Err(format!(
                "unknown purpose `{other}`; expected training, validation or held-out"
            )),
        }
    }
}

/// One record of a fine-tuning file: its turns as text, and the line it came from, verbatim.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based line in its file.
    pub line: usize,
    /// The line's format (never `Auto`).
    pub format: Format,
    /// The system prompt, if any (blocks joined by newlines).
    pub system: Option<String>,
    /// Every turn in order; a prompt/completion record is a user turn and, if present, an assistant turn.
    pub turns: Vec<Turn>,
    /// The line exactly as read (without its newline), for splitting files without rewriting them.
    pub raw: String,
}

impl Record {
    /// The index of the reply: the final turn, when it is the assistant's.
    fn reply_index(&self) -> Option<usize> {
        match self.turns.last() {
            Some(turn) if turn.role == Role::Assistant => Some(self.turns.len() - 1),
            _ => None,
        }
    }

    /// The reply the model learns or is scored against: the final assistant turn (or the completion).
    pub fn reference(&self) -> Option<&str> {
        self.reply_index().map(|i| self.turns[i].text.as_str())
    }

    /// What the model is asked: every turn before the reply, joined by newlines (the system prompt is left out, as it
    /// is usually shared by every record and would make unrelated records look alike).
    pub fn input_text(&self) -> String {
        let end = self.reply_index().unwrap_or(self.turns.len());
        join_turns(&self.turns[..end])
    }

    /// The whole exchange, input and reply, without the system prompt.
    pub fn exchange_text(&self) -> String {
        join_turns(&self.turns)
    }
}

fn join_turns(turns: &[Turn]) -> String {
    turns.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join("\n")
}

/// The format a JSON line is written in, judged from its keys and the shape of its content; `None` when the line
/// does not say (no `prompt`, no `messages`, or no content to look at).
pub fn detect_format(object: &Map<String, Value>) -> Option<Format> {
    if let Some(messages) = object.get("messages") {
        if object.contains_key("schemaVersion") {
            return Some(Format::BedrockConversation2024);
        }
        match object.get("system") {
            Some(Value::Array(_)) => return Some(Format::BedrockConversation2024),
            Some(Value::String(_)) => return Some(Format::ClaudeConversation),
            _ => {}
        }
        let first_content = messages.as_array()?.iter().find_map(|m| m.get("content"))?;
        return match first_content {
            Value::Array(_) => Some(Format::BedrockConversation2024),
            Value::String(_) => Some(Format::ClaudeConversation),
            _ => None,
        };
    }
    if object.contains_key("prompt") || object.contains_key("completion") {
        return Some(Format::PromptCompletion);
    }
    None
}

/// Reads the records of a JSONL file for splitting or leakage checks. Each line is read in its own format, extra
/// keys are kept out of the way and a missing reply is allowed; a line whose text cannot be read at all (invalid
/// JSON, wrong types, no prompt or messages) is an error naming the file and line. Blank lines are skipped.
pub fn load_records(path: &Path) -> Result<Vec<Record>, InputError> {
    let text = crate::input_file::read_text(path, "data file")?.text;
    let mut records = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let outcome = parse_line(line, index + 1, Format::Auto, Purpose::HeldOut);
        match outcome.record {
            Some(record) => records.push(record),
            None => {
                let first = outcome.errors.first().map(|f| f.to_input_error(path));
                return Err(first.unwrap_or_else(|| InputError::at_line(path, index + 1, "cannot read this record")));
            }
        }
    }
    if records.is_empty() {
        return Err(InputError::in_file(path, "data file has no records"));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn formats_are_detected_from_keys_and_content_shape() {
        assert_eq!(
            detect_format(&object(r#"{"prompt":"q","completion":"a"}"#)),
            Some(Format::PromptCompletion)
        );
        assert_eq!(
            detect_format(&object(r#"{"messages":[{"role":"user","content":[{"text":"q"}]}]}"#)),
            Some(Format::BedrockConversation2024)
        );
        assert_eq!(
            detect_format(&object(r#"{"messages":[{"role":"user","content":"q"}]}"#)),
            Some(Format::ClaudeConversation)
        );
        assert_eq!(
            detect_format(&object(r#"{"schemaVersion":"x","messages":[]}"#)),
            Some(Format::BedrockConversation2024)
        );
        assert_eq!(detect_format(&object(r#"{"messages":[]}"#)), None);
        assert_eq!(detect_format(&object(r#"{"question":"q"}"#)), None);
    }

    #[test]
    fn input_and_reference_of_a_multi_turn_record() {
        let record = Record {
            line: 1,
            format: Format::ClaudeConversation,
            system: Some("S".into()),
            turns: vec![
                Turn {
                    role: Role::User,
                    text: "Q1".into(),
                },
                Turn {
                    role: Role::Assistant,
                    text: "A1".into(),
                },
                Turn {
                    role: Role::User,
                    text: "Q2".into(),
                },
                Turn {
                    role: Role::Assistant,
                    text: "A2".into(),
                },
            ],
            raw: String::new(),
        };
        assert_eq!(record.input_text(), "Q1\nA1\nQ2");
        assert_eq!(record.reference(), Some("A2"));
        assert_eq!(record.exchange_text(), "Q1\nA1\nQ2\nA2");
    }

    #[test]
    fn names_round_trip() {
        for format in [
            Format::Auto,
            Format::PromptCompletion,
            Format::BedrockConversation2024,
            Format::ClaudeConversation,
        ] {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
        }
        assert!("jsonl".parse::<Format>().unwrap_err().contains("unknown format"));
    }
}
