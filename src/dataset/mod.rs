//! Held-out and training examples, read from Bedrock's fine-tuning JSONL formats.
//!
//! Accepted per line: prompt/completion (`{"prompt", "completion"}`, Titan, Cohere, Llama) and the conversation
//! formats: `bedrock-conversation-2024` (Nova: `system: [{text}]`, content blocks) and Claude 3 Haiku's
//! (`system` string, plain-string content). A conversation alternates user/assistant turns starting with the user;
//! a final assistant turn is the reference reply. Every other field on a line is kept for rubrics and templates.

mod fields;
mod parse;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::InputError;

pub use fields::Fields;
pub use parse::parse_line;

/// Who speaks a turn of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The customer, or whoever asks.
    User,
    /// The model.
    Assistant,
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Turn {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub text: String,
}

/// One example: a conversation ending in a user turn, with an optional reference reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Stable id: the line's `id` field, else derived from its content.
    pub id: String,
    /// 1-based line in its file.
    pub line: usize,
    /// System prompt carried by the example (conversation formats), if any.
    pub system: Option<String>,
    /// Earlier turns of a multi-turn example, before the final user turn.
    pub history: Vec<Turn>,
    /// The final user turn: what the model must answer.
    pub input: String,
    /// The reference reply (completion, or final assistant turn), if any.
    pub reference: Option<String>,
    /// Every other field of the line, kept for rubrics and templates.
    pub fields: Fields,
}

impl Example {
    /// A field's text for templates and rubrics: strings as they are, lists joined by ", ", numbers printed.
    pub fn field_text(&self, name: &str) -> Option<String> {
        match name {
            "input" => Some(self.input.clone()),
            "reference" => self.reference.clone(),
            "id" => Some(self.id.clone()),
            _ => self.fields.get(name).map(value_text),
        }
    }

    /// A field as a list of terms (a string is one term, a list is its string items).
    pub fn field_terms(&self, name: &str) -> Option<Vec<String>> {
        match self.fields.get(name)? {
            serde_json::Value::Array(items) => Some(items.iter().map(value_text).collect()),
            serde_json::Value::Null => None,
            other => Some(vec![value_text(other)]),
        }
    }
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A loaded JSONL file of examples.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its examples, in file order.
    pub examples: Vec<Example>,
    /// SHA-256 of the file's bytes, for run metadata.
    pub sha256: String,
    /// Lines without an `id` that repeat an earlier line exactly (same system prompt, turns and reply), each with
    /// the line it repeats: they are read once, and warned about.
    pub repeated_lines: Vec<RepeatedLine>,
}

/// A line left out because it repeats an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RepeatedLine {
    /// The repeating line (1-based).
    pub line: usize,
    /// The earlier line it repeats.
    pub first_line: usize,
}

impl Dataset {
    /// One warning per repeated line, naming both lines; `what` says what the examples are for ("training
    /// example", "held-out example").
    pub fn repeat_warnings(&self, what: &str) -> Vec<String> {
        self.repeated_lines
            .iter()
            .map(|r| {
                format!(
                    "{}:{}: this {what} repeats line {} exactly (same prompt and reply); it is used once",
                    self.path.display(),
                    r.line,
                    r.first_line
                )
            })
            .collect()
    }
}

impl Dataset {
    /// Reads and checks a JSONL file (a regular file, UTF-8 with an optional byte-order mark, no line over
    /// [`crate::input_file::MAX_LINE_BYTES`]); the first bad line is an error naming the file and line.
    ///
    /// The file is parsed as it is read, a batch of lines at a time, so loading holds the examples and one batch,
    /// never the file's whole text beside them (at 200,000 examples with references that text was 148 MB).
    pub fn load(path: &Path) -> Result<Dataset, InputError> {
        let mut loader = Loader::new(path);
        match crate::input_file::for_each_line(path, "dataset", |number, line| loader.push(number, line)) {
            Ok(sha256) => loader.finish(sha256),
            // A line the reader refused (not UTF-8, too long) comes after every line still waiting in the batch:
            // their problems are reported first, as if every line were read before any was parsed.
            Err(error) => {
                loader.flush()?;
                Err(error)
            }
        }
    }

    /// Parses JSONL text already read from `path`, whose bytes hash to `sha256`.
    #[cfg(test)]
    fn parse(path: &Path, text: &str, sha256: String) -> Result<Dataset, InputError> {
        let mut loader = Loader::new(path);
        for (index, line) in text.lines().enumerate() {
            loader.push(index + 1, line)?;
        }
        loader.finish(sha256)
    }
}

/// Lines below which a batch is parsed on one thread: starting threads would cost more than they save.
const LINES_PER_THREAD: usize = 8192;

/// The most bytes of lines a batch holds before it is parsed (a single longer line is a batch of its own).
const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Examples gathered from lines as they are read: lines wait in a batch, which is parsed on every core once it is
/// full, then taken in file order, so the first bad line or repeated id is the one reported, as when lines were
/// parsed one by one.
struct Loader<'p> {
    path: &'p Path,
    /// Lines of the batch, back to back, without their breaks.
    text: String,
    /// Each waiting line: its 1-based number and where it lies in `text`.
    lines: Vec<(usize, std::ops::Range<usize>)>,
    /// The most lines a batch holds: enough to give every core a share.
    batch_lines: usize,
    examples: Vec<Example>,
    first_line_of_id: HashMap<String, usize>,
    repeated_lines: Vec<RepeatedLine>,
}

impl<'p> Loader<'p> {
    fn new(path: &'p Path) -> Loader<'p> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Loader {
            path,
            text: String::new(),
            lines: Vec::new(),
            batch_lines: LINES_PER_THREAD * cores,
            examples: Vec::new(),
            first_line_of_id: HashMap::new(),
            repeated_lines: Vec::new(),
        }
    }

    /// Takes line `number` (with or without its line break); blank lines are skipped.
    fn push(&mut self, number: usize, line: &str) -> Result<(), InputError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return Ok(());
        }
        let start = self.text.len();
        self.text.push_str(line);
        self.lines.push((number, start..self.text.len()));
        if self.lines.len() >= self.batch_lines || self.text.len() >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Parses the waiting lines and adds their examples, in file order. The batch is emptied even when a line in
    /// it is bad, so a second flush after an error does nothing.
    fn flush(&mut self) -> Result<(), InputError> {
        let text = std::mem::take(&mut self.text);
        let lines: Vec<(usize, &str)> = std::mem::take(&mut self.lines)
            .into_iter()
            .map(|(number, range)| (number, &text[range]))
            .collect();
        let shares = parse_lines(&lines);
        self.examples.reserve(lines.len());
        for (line_number, parsed) in shares.into_iter().flatten() {
            let example = parsed.map_err(|(field, message)| {
                let error = InputError::at_line(self.path, line_number, message);
                match field {
                    Some(field) => error.field(field),
                    None => error,
                }
            })?;
            if let Some(&first) = self.first_line_of_id.get(&example.id) {
                // An id derived from the content repeats only when the whole example does: a repeated line, not a
                // clash of ids the user chose.
                let derived = derived_id(
                    example.system.as_deref(),
                    &example.history,
                    &example.input,
                    example.reference.as_deref(),
                );
                if example.id == derived {
                    self.repeated_lines.push(RepeatedLine {
                        line: line_number,
                        first_line: first,
                    });
                    continue;
                }
                return Err(InputError::at_line(
                    self.path,
                    line_number,
                    format!(
                        "duplicate example id `{}` (first on line {first}); ids must be unique within a file",
                        crate::input_file::excerpt(&example.id)
                    ),
                )
                .field("id"));
            }
            self.first_line_of_id.insert(example.id.clone(), line_number);
            self.examples.push(example);
        }
        Ok(())
    }

    fn finish(mut self, sha256: String) -> Result<Dataset, InputError> {
        self.flush()?;
        if self.examples.is_empty() {
            return Err(InputError::in_file(self.path, "dataset has no examples"));
        }
        self.examples.shrink_to_fit();
        Ok(Dataset {
            path: self.path.to_path_buf(),
            examples: self.examples,
            sha256,
            repeated_lines: self.repeated_lines,
        })
    }
}

/// Each of `lines` (1-based number and text) parsed, in order, in contiguous shares: as many as there are cores for
/// a large batch (loading 200,000 examples took 0.7 s on one).
fn parse_lines(lines: &[(usize, &str)]) -> Vec<Vec<(usize, Result<Example, parse::LineError>)>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(lines.len().div_ceil(LINES_PER_THREAD))
        .max(1);
    let share = lines.len().div_ceil(threads).max(1);
    let parse_share = |share: &[(usize, &str)]| -> Vec<(usize, Result<Example, parse::LineError>)> {
        share
            .iter()
            .map(|&(number, line)| (number, parse_line(line, number)))
            .collect()
    };
    if threads == 1 {
        vec![parse_share(lines)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = lines
                .chunks(share)
                .map(|share| scope.spawn(move || parse_share(share)))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        })
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `bytes` in lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Two digits a byte from a table: a `format!` per byte was a tenth of planning a large run's requests.
    let mut hex = String::with_capacity(2 * bytes.len());
    for &byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    hex
}

/// The id of an example without an `id` field: a hash of what it asks and its reference, so it is stable across
/// reorderings of the file and changes only when the example does.
pub fn derived_id(system: Option<&str>, history: &[Turn], input: &str, reference: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    for part in [system.unwrap_or(""), input, reference.unwrap_or("")] {
        hasher.update(part.len().to_le_bytes());
        hasher.update(part.as_bytes());
    }
    for turn in history {
        hasher.update(turn.text.len().to_le_bytes());
        hasher.update(turn.text.as_bytes());
    }
    let digest = hasher.finalize();
    format!("ex-{}", hex(&digest[..6]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 20,000 lines (parsed in shares on a machine with more than one core), line n with id `e{n}`, but for the
    /// lines given, which are replaced.
    fn large_file(replaced: &[(usize, &str)]) -> String {
        (1..=20_000)
            .map(|n| match replaced.iter().find(|(line, _)| *line == n) {
                Some((_, text)) => format!("{text}\n"),
                None => format!("{{\"id\": \"e{n}\", \"prompt\": \"question {n}\"}}\n"),
            })
            .collect()
    }

    fn parse_large(replaced: &[(usize, &str)]) -> Result<Dataset, InputError> {
        Dataset::parse(Path::new("held-out.jsonl"), &large_file(replaced), String::new())
    }

    #[test]
    fn a_large_file_keeps_its_order_and_repeats_across_shares() {
        let repeated = r#"{"prompt": "asked twice"}"#;
        let dataset = parse_large(&[(2, repeated), (7, ""), (19_999, repeated)]).unwrap();
        assert_eq!(dataset.examples.len(), 20_000 - 2);
        for example in &dataset.examples {
            if example.line != 2 {
                assert_eq!(example.id, format!("e{}", example.line));
            }
        }
        assert!(dataset.examples.windows(2).all(|w| w[0].line < w[1].line));
        assert_eq!(
            dataset.repeated_lines,
            [RepeatedLine {
                line: 19_999,
                first_line: 2
            }]
        );
    }

    #[test]
    fn a_large_file_reports_its_first_bad_line_whichever_share_holds_it() {
        let clash = r#"{"id": "e3", "prompt": "another"}"#;
        for (replaced, line, field) in [
            (vec![(15_000, "{not json"), (12_000, clash)], 12_000, Some("id")),
            (vec![(18_000, clash), (5, r#"{"prompt": 1}"#)], 5, Some("prompt")),
            (vec![(19_000, "[]"), (11_000, "{not json")], 11_000, None),
        ] {
            let error = parse_large(&replaced).unwrap_err();
            assert_eq!(error.line, Some(line), "{error}");
            assert_eq!(error.field.as_deref(), field, "{error}");
        }
    }

    /// 20,000 CRLF lines of about 1 KB after a byte-order mark: more than one batch by lines and by bytes.
    fn streamed_file(replaced: &[(usize, &[u8])]) -> Vec<u8> {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        let padding = "p".repeat(1000);
        for n in 1..=20_000 {
            match replaced.iter().find(|(line, _)| *line == n) {
                Some((_, text)) => bytes.extend_from_slice(text),
                None => bytes.extend(format!("{{\"id\": \"e{n}\", \"prompt\": \"q {n} {padding}\"}}").bytes()),
            }
            bytes.extend(b"\r\n");
        }
        bytes
    }

    #[test]
    fn a_file_is_loaded_as_it_streams_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("held-out.jsonl");
        let bytes = streamed_file(&[(17_000, b"   ")]);
        std::fs::write(&path, &bytes).unwrap();
        let dataset = Dataset::load(&path).unwrap();
        assert_eq!(dataset.examples.len(), 19_999);
        assert_eq!(dataset.sha256, sha256_hex(&bytes));
        assert_eq!(dataset.examples[0].id, "e1");
        assert!(dataset
            .examples
            .iter()
            .all(|e| e.id == format!("e{}", e.line) && !e.input.ends_with('\r')));
        assert!(dataset.examples.windows(2).all(|w| w[0].line < w[1].line));
    }

    #[test]
    fn a_streamed_file_reports_its_first_problem_even_when_a_later_line_is_not_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("held-out.jsonl");
        std::fs::write(
            &path,
            streamed_file(&[(18_000, b"{not json"), (19_500, b"\"caf\xE9\"")]),
        )
        .unwrap();
        let error = Dataset::load(&path).unwrap_err();
        assert_eq!(error.line, Some(18_000), "{error}");
        assert!(error.message.contains("invalid JSON"), "{error}");
        std::fs::write(&path, streamed_file(&[(19_500, b"\"caf\xE9\"")])).unwrap();
        let error = Dataset::load(&path).unwrap_err();
        assert_eq!(error.line, Some(19_500), "{error}");
        assert!(error.message.contains("not UTF-8"), "{error}");
        // A bad line found while the file is still being read ends the load with its own error.
        std::fs::write(&path, streamed_file(&[(5, br#"{"id": "e3", "prompt": "again"}"#)])).unwrap();
        let error = Dataset::load(&path).unwrap_err();
        assert_eq!((error.line, error.field.as_deref()), (Some(5), Some("id")), "{error}");
        assert!(error.message.contains("first on line 3"), "{error}");
    }

    #[test]
    fn sha256_hex_is_the_lowercase_digest() {
        // FIPS 180-2's "abc" and empty-message vectors.
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
