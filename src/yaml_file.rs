//! Reading a YAML file into a schema type, with errors that name file, line, column and field.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::InputError;
use crate::yaml_positions::YamlPositions;

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
    let text =
        std::fs::read_to_string(path).map_err(|e| InputError::in_file(path, format!("cannot read {what}: {e}")))?;
    let value = parse_yaml(path, &text)?;
    Ok(YamlFile {
        value,
        positions: YamlPositions::index(&text),
        sha256: crate::dataset::sha256_hex(text.as_bytes()),
    })
}

/// Deserialises YAML `text` read from `path`.
pub fn parse_yaml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, InputError> {
    serde_yaml::from_str(text).map_err(|error| {
        let position = error.location().map(|l| (l.line(), l.column()));
        let full = error.to_string();
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
}
