//! Reading a YAML file into a schema type, with errors that name file, line, column and field.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::de::DeserializeOwned;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::Marker;

use crate::error::InputError;
use crate::input_file::{is_plain_name, read_text};
use crate::yaml_positions::YamlPositions;

/// The deepest nesting of mappings and sequences a YAML file may have. Suites and rubrics need a handful of levels;
/// the cap stops a broken or hostile file (thousands of `[` or `{`) before serde_yaml sees it, whose parser slows
/// down with the square of flow nesting (200,000 levels took minutes), and it sits below serde_yaml's own recursion
/// limit (128), so this is the message a user reads.
pub const MAX_YAML_DEPTH: usize = 100;

/// A parsed YAML file: the typed value, the position index for later checks, and the file's hash.
pub struct YamlFile<T> {
    /// The typed content.
    pub value: T,
    /// Positions of every node, for errors found after parsing.
    pub positions: YamlPositions,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

/// Reads and deserialises `path`.
pub fn read_yaml<T: DeserializeOwned>(path: &Path, what: &str) -> Result<YamlFile<T>, InputError> {
    let file = read_text(path, what)?;
    let value = parse_yaml(path, &file.text)?;
    Ok(YamlFile {
        value,
        positions: YamlPositions::index(&file.text),
        sha256: file.sha256,
    })
}

/// Deserialises YAML `text` read from `path`, after checking its nesting depth.
pub fn parse_yaml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, InputError> {
    check_depth(path, text)?;
    serde_yaml::from_str(text).map_err(|error| {
        let position = error.location().map(|l| (l.line(), l.column()));
        let full = without_file_content(&error.to_string());
        // serde_yaml renders "<path>: <message> at line L column C"; keep the path as the field and drop the
        // position, which we print in the file:line:column prefix.
        let without_position = match full.rfind(" at line ") {
            Some(cut) => full[..cut].to_string(),
            None => full,
        };
        let (field, message) = match without_position.split_once(": ") {
            Some((field, message)) if looks_like_path(field) => (Some(field.to_string()), message.to_string()),
            _ => (None, without_position),
        };
        let error = InputError::in_file(path, message).position(position);
        match field {
            Some(field) => error.field(field),
            None => error,
        }
    })
}

/// Refuses `text` when mappings and sequences nest deeper than [`MAX_YAML_DEPTH`], reading events one at a time
/// (yaml-rust2's streaming parser: no recursion, and it stops at the first level too deep). A file that parser
/// refuses is left to serde_yaml, which reports the syntax error in its own words.
fn check_depth(path: &Path, text: &str) -> Result<(), InputError> {
    let too_deep = |mark: Marker| {
        InputError::in_file(
            path,
            format!(
                "mappings and sequences are nested more than {MAX_YAML_DEPTH} levels deep here; a suite or rubric \
                 needs only a few levels: is this the right file?"
            ),
        )
        .position(Some((mark.line(), mark.col() + 1)))
    };
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => return Ok(()),
            // The scanner reads ahead of the events and stops at 255 levels of `[` and `{` by itself.
            Err(error) if error.info().contains("recursion limit") => return Err(too_deep(*error.marker())),
            Err(_) => return Ok(()),
            Ok((Event::MappingStart(..) | Event::SequenceStart(..), mark)) => {
                depth += 1;
                if depth > MAX_YAML_DEPTH {
                    return Err(too_deep(mark));
                }
            }
            Ok((Event::MappingEnd | Event::SequenceEnd, _)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
        }
    }
}

/// serde's message with the file's content it quotes cut down: a value of the wrong type is not quoted at all (a
/// file that is not YAML at all, such as a `.env`, is one long string), and other quoted values only when they are
/// short names (an unknown key or variant), so an error never prints what a file holds.
fn without_file_content(message: &str) -> String {
    static QUOTED_STRING: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"string "((?:[^"\\]|\\.)*)""#).expect("valid"));
    static QUOTED_NAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(unknown field|unknown variant|duplicate field) `([^`]*)`").expect("valid"));
    let wrong_type = message.contains("invalid type: ");
    let message = QUOTED_STRING.replace_all(message, |c: &regex::Captures| match &c[1] {
        value if !wrong_type && is_plain_name(value) => format!("string \"{value}\""),
        _ => "string".to_string(),
    });
    QUOTED_NAME
        .replace_all(&message, |c: &regex::Captures| match &c[2] {
            name if is_plain_name(name) => format!("{} `{name}`", &c[1]),
            _ => format!("{} (not a plain name, so not quoted)", &c[1]),
        })
        .into_owned()
}

fn looks_like_path(text: &str) -> bool {
    !text.is_empty()
        && !text.contains(' ')
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[allow(dead_code)]
        items: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[allow(dead_code)]
        k: u32,
    }

    #[test]
    fn unknown_key_names_field_line_and_column() {
        let error = parse_yaml::<Outer>(Path::new("s.yaml"), "items:\n  - k: 1\n  - k: 2\n    q: 3\n").unwrap_err();
        assert_eq!(error.line, Some(4));
        assert_eq!(error.field.as_deref(), Some("items[1]"));
        assert!(error.message.contains("unknown field `q`"), "{}", error.message);
    }

    #[test]
    fn wrong_type_names_field() {
        let error = parse_yaml::<Outer>(Path::new("s.yaml"), "items:\n  - k: many\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert_eq!(error.field.as_deref(), Some("items[0].k"));
        assert!(error.to_string().starts_with("s.yaml:2:"), "{error}");
    }

    #[test]
    fn deep_nesting_is_refused_before_serde_yaml_parses_it() {
        for text in [
            format!("items: {}{}\n", "[".repeat(200_000), "]".repeat(200_000)),
            format!("items: {}1{}\n", "{a: ".repeat(200_000), "}".repeat(200_000)),
            format!("items:\n{}k: 1\n", "- ".repeat(200_000)),
        ] {
            let error = parse_yaml::<Outer>(Path::new("s.yaml"), &text).unwrap_err();
            assert!(
                error.message.contains("nested more than 100 levels"),
                "{}",
                error.message
            );
            assert_eq!(error.line, Some(if text.starts_with("items:\n") { 2 } else { 1 }));
        }
        // As deep as allowed still parses as far as the schema goes.
        let text = format!("items: [{}{}]\n", "[".repeat(98), "]".repeat(98));
        let error = parse_yaml::<Outer>(Path::new("s.yaml"), &text).unwrap_err();
        assert!(error.message.contains("invalid type: sequence"), "{}", error.message);
    }

    #[test]
    fn values_from_the_file_are_not_quoted_back() {
        let env = "OPENAI_API_KEY=sk-live-0123456789abcdef\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\n";
        let error = parse_yaml::<Outer>(Path::new(".env"), env).unwrap_err();
        assert_eq!(error.message, "invalid type: string, expected struct Outer");
        let error = parse_yaml::<Outer>(Path::new("s.yaml"), "items:\n  - k: \"sk-live-0123\"\n").unwrap_err();
        assert_eq!(error.message, "invalid type: string, expected u32");
        // A short key is a name worth quoting; a key that is not a plain name is not quoted.
        let error = parse_yaml::<Outer>(Path::new("s.yaml"), "itemz: []\n").unwrap_err();
        assert!(error.message.starts_with("unknown field `itemz`"), "{}", error.message);
        let error = parse_yaml::<Outer>(Path::new("s.yaml"), "TOKEN=abc: 1\n").unwrap_err();
        assert!(
            error.message.starts_with("unknown field (not a plain name"),
            "{}",
            error.message
        );
        assert!(!error.message.contains("abc"), "{}", error.message);
    }
}
