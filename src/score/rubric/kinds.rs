//! From a criterion as written to a validated `Check`: which keys each kind takes, and what each key must be.

use std::path::Path;
use std::sync::Arc;

use regex::Regex;

use super::file::{CriterionKind, CriterionSection, ReferenceMethod};
use super::structured::{command_check, json_fields_check, label_check};
use super::{Check, JsonCheck, JudgeSpec, Matching, Terms, TermsMode};

/// A problem with one key of a criterion: the key (a path below the criterion, such as `fields[1].compare`), and
/// what is wrong.
pub type KeyError = (String, String);

/// A [`KeyError`].
pub fn key_error(key: impl Into<String>, message: impl Into<String>) -> KeyError {
    (key.into(), message.into())
}

/// The kind-specific keys a section has set.
fn keys_set(section: &CriterionSection) -> Vec<&'static str> {
    let present = [
        ("terms", section.terms.is_some()),
        ("terms_from", section.terms_from.is_some()),
        ("case_sensitive", section.case_sensitive.is_some()),
        ("normalize_unicode", section.normalize_unicode.is_some()),
        ("whole_words", section.whole_words.is_some()),
        ("pattern", section.pattern.is_some()),
        ("must_match", section.must_match.is_some()),
        ("allow_fenced", section.allow_fenced.is_some()),
        ("required_keys", section.required_keys.is_some()),
        ("schema", section.schema.is_some()),
        ("unit", section.unit.is_some()),
        ("min", section.min.is_some()),
        ("max", section.max.is_some()),
        ("method", section.method.is_some()),
        ("instructions", section.instructions.is_some()),
        ("scale", section.scale.is_some()),
        ("sees_reference", section.sees_reference.is_some()),
        ("samples", section.samples.is_some()),
        ("human_score_field", section.human_score_field.is_some()),
        ("fields", section.fields.is_some()),
        ("from", section.from.is_some()),
        ("group", section.group.is_some()),
        ("path", section.path.is_some()),
        ("field", section.field.is_some()),
        ("synonyms", section.synonyms.is_some()),
        ("argv", section.argv.is_some()),
        ("timeout_ms", section.timeout_ms.is_some()),
        ("concurrency", section.concurrency.is_some()),
        ("params", section.params.is_some()),
    ];
    present.iter().filter(|(_, set)| *set).map(|(key, _)| *key).collect()
}

fn allowed_keys(kind: CriterionKind) -> &'static [&'static str] {
    match kind {
        CriterionKind::ContainsAll | CriterionKind::ContainsAny | CriterionKind::NotContains => &[
            "terms",
            "terms_from",
            "case_sensitive",
            "normalize_unicode",
            "whole_words",
        ],
        CriterionKind::Regex => &["pattern", "must_match"],
        CriterionKind::Json => &["allow_fenced", "required_keys", "schema"],
        CriterionKind::Length => &["unit", "min", "max"],
        CriterionKind::Reference => &["method"],
        CriterionKind::Judge => &[
            "instructions",
            "scale",
            "sees_reference",
            "samples",
            "human_score_field",
        ],
        CriterionKind::JsonFields => &["fields", "allow_fenced"],
        CriterionKind::Label => &["from", "pattern", "group", "path", "allow_fenced", "field", "synonyms"],
        CriterionKind::Command => &["argv", "timeout_ms", "concurrency", "params"],
    }
}

/// Validates a section into its check; `rubric_dir` resolves schema paths.
pub fn check(section: &CriterionSection, rubric_dir: &Path) -> Result<Check, KeyError> {
    let allowed = allowed_keys(section.kind);
    if let Some(key) = keys_set(section).into_iter().find(|k| !allowed.contains(k)) {
        return Err(key_error(
            key,
            format!(
                "`{key}` does not apply to `{}` criteria (they take: {})",
                section.kind.as_str(),
                allowed.join(", ")
            ),
        ));
    }
    match section.kind {
        CriterionKind::ContainsAll | CriterionKind::ContainsAny | CriterionKind::NotContains => terms_check(section),
        CriterionKind::Regex => {
            let pattern = section
                .pattern
                .as_deref()
                .ok_or_else(|| key_error("kind", "a `regex` criterion needs a `pattern`".to_string()))?;
            let regex =
                Regex::new(pattern).map_err(|e| key_error("pattern", format!("invalid regular expression: {e}")))?;
            Ok(Check::Regex {
                regex,
                must_match: section.must_match.unwrap_or(true),
            })
        }
        CriterionKind::Json => json_check(section, rubric_dir),
        CriterionKind::Length => {
            let unit = section.unit.ok_or_else(|| {
                key_error(
                    "kind",
                    "a `length` criterion needs a `unit` (characters or words)".to_string(),
                )
            })?;
            if section.min.is_none() && section.max.is_none() {
                return Err(key_error("kind", "a `length` criterion needs `min`, `max` or both"));
            }
            if let (Some(min), Some(max)) = (section.min, section.max) {
                if min > max {
                    return Err(key_error("min", format!("min ({min}) is above max ({max})")));
                }
            }
            Ok(Check::Length {
                unit,
                min: section.min,
                max: section.max,
            })
        }
        CriterionKind::Reference => {
            let method: ReferenceMethod = section.method.ok_or_else(|| {
                key_error(
                    "kind",
                    "a `reference` criterion needs a `method` (exact, normalized_exact, token_f1, rouge_l)".to_string(),
                )
            })?;
            Ok(Check::Reference { method })
        }
        CriterionKind::Judge => judge_check(section),
        CriterionKind::JsonFields => json_fields_check(section),
        CriterionKind::Label => label_check(section),
        CriterionKind::Command => command_check(section, rubric_dir),
    }
}

fn terms_check(section: &CriterionSection) -> Result<Check, KeyError> {
    let terms = match (&section.terms, &section.terms_from) {
        (Some(_), Some(_)) => return Err(key_error("terms_from", "give either `terms` or `terms_from`, not both")),
        (None, None) => return Err(key_error("kind", "needs `terms` or `terms_from`")),
        (Some(terms), None) => {
            if terms.is_empty() || terms.iter().any(|t| t.trim().is_empty()) {
                return Err(key_error("terms", "needs at least one term, and no empty terms"));
            }
            Terms::Literal(terms.clone())
        }
        (None, Some(field)) if field.trim().is_empty() => return Err(key_error("terms_from", "must name a field")),
        (None, Some(field)) => Terms::FromField(field.clone()),
    };
    let mode = match section.kind {
        CriterionKind::ContainsAll => TermsMode::All,
        CriterionKind::ContainsAny => TermsMode::Any,
        _ => TermsMode::None,
    };
    Ok(Check::Terms {
        mode,
        terms,
        matching: Matching {
            case_sensitive: section.case_sensitive.unwrap_or(false),
            normalize_unicode: section.normalize_unicode.unwrap_or(true),
            whole_words: section.whole_words.unwrap_or(false),
        },
    })
}

fn json_check(section: &CriterionSection, rubric_dir: &Path) -> Result<Check, KeyError> {
    let schema = match &section.schema {
        None => None,
        Some(relative) => {
            let path = rubric_dir.join(relative);
            let text = crate::input_file::read_text(&path, "JSON Schema")
                .map_err(|e| key_error("schema", e.to_string()))?
                .text;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| key_error("schema", format!("{} is not JSON: {e}", path.display())))?;
            let validator = jsonschema::validator_for(&value).map_err(|e| {
                key_error(
                    "schema",
                    format!("{} is not a valid JSON Schema: {}", path.display(), schema_problem(&e)),
                )
            })?;
            Some(Arc::new(validator))
        }
    };
    let required_keys = section.required_keys.clone().unwrap_or_default();
    if required_keys.iter().any(|k| k.is_empty()) {
        return Err(key_error("required_keys", "must not contain an empty key"));
    }
    Ok(Check::Json(JsonCheck {
        allow_fenced: section.allow_fenced.unwrap_or(true),
        required_keys,
        schema,
    }))
}

/// What is wrong with a JSON Schema, with the offending value named by its place in the file rather than quoted
/// (numbers, booleans and null excepted), as serde errors are for YAML: a file given as a schema by mistake, such
/// as a credentials JSON, is not printed.
fn schema_problem(error: &jsonschema::ValidationError<'_>) -> String {
    let message = error.to_string();
    if matches!(
        error.instance.as_ref(),
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) | serde_json::Value::Null
    ) {
        return message;
    }
    let place = match error.instance_path.as_str() {
        "" => "the top level".to_string(),
        path => format!("`{path}`"),
    };
    message.replace(&error.instance.to_string(), &format!("the value at {place}"))
}

fn judge_check(section: &CriterionSection) -> Result<Check, KeyError> {
    let instructions = section
        .instructions
        .clone()
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| key_error("kind", "a `judge` criterion needs `instructions`".to_string()))?;
    let scale = section.scale.clone().ok_or_else(|| {
        key_error(
            "kind",
            "a `judge` criterion needs a `scale` (each level with what it means)".to_string(),
        )
    })?;
    if scale.len() < 2 {
        return Err(key_error("scale", "needs at least two levels"));
    }
    let levels: Vec<i64> = scale.keys().copied().collect();
    if levels.windows(2).any(|w| w[1] != w[0] + 1) {
        return Err(key_error(
            "scale",
            format!("levels must be consecutive integers, got {levels:?}"),
        ));
    }
    if let Some((level, _)) = scale.iter().find(|(_, meaning)| meaning.trim().is_empty()) {
        return Err(key_error("scale", format!("level {level} needs a description")));
    }
    let samples = section.samples.unwrap_or(1);
    if !(1..=15).contains(&samples) {
        return Err(key_error("samples", format!("must be between 1 and 15, got {samples}")));
    }
    Ok(Check::Judge(JudgeSpec {
        instructions,
        scale,
        sees_reference: section.sees_reference.unwrap_or(false),
        samples,
        human_score_field: section.human_score_field.clone(),
    }))
}
