//! Structured replies: paths into a JSON reply, the comparisons of `json_fields`, and the label a `label` criterion
//! extracts. Pure functions; the checks themselves are validated in `rubric::structured`.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use super::rubric::{FieldComparison, FieldSpec, JsonFieldsCheck, LabelCheck, LabelExtractor};
use super::text::extract_json;
use crate::dataset::Example;

/// One step of a [`JsonPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// A key of an object.
    Key(String),
    /// An item of a list.
    Index(usize),
}

/// Where a value is in a JSON document: keys joined by dots, list items by `[index]` (`items[0].sku`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<PathStep>,
}

impl JsonPath {
    /// Parses a path; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let mut steps = Vec::new();
        for part in text.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(at) => (&part[..at], &part[at..]),
                None => (part, ""),
            };
            if key.is_empty() && (steps.is_empty() || rest.is_empty()) {
                return Err(format!(
                    "`{text}` has an empty key; write keys joined by dots and list items as `[0]`, e.g. `items[0].sku`"
                ));
            }
            if !key.is_empty() {
                steps.push(PathStep::Key(key.to_string()));
            }
            while !rest.is_empty() {
                let index = rest
                    .strip_prefix('[')
                    .and_then(|r| r.split_once(']'))
                    .and_then(|(digits, after)| Some((digits.parse::<usize>().ok()?, after)));
                let Some((index, after)) = index else {
                    return Err(format!(
                        "`{text}`: a list item is written `[index]` with a whole number, e.g. `items[0]`"
                    ));
                };
                steps.push(PathStep::Index(index));
                rest = after;
            }
        }
        Ok(JsonPath {
            text: text.to_string(),
            steps,
        })
    }

    /// The value at this path in `value`, if there is one (JSON `null` counts as none).
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        let mut current = value;
        for step in &self.steps {
            current = match step {
                PathStep::Key(key) => current.as_object()?.get(key)?,
                PathStep::Index(index) => current.as_array()?.get(*index)?,
            };
        }
        (!current.is_null()).then_some(current)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Text for comparisons that ignore case and spacing: NFKC, full case folding, white space collapsed and trimmed.
pub fn folded_text(text: &str) -> String {
    let folded = caseless::default_case_fold_str(&text.nfkc().collect::<String>());
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A JSON value as text: strings as they are, anything else as JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    }
}

/// Equal JSON values, numbers compared by value (so `3` equals `3.0`).
fn exactly_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| exactly_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| exactly_equal(v, w)))
        }
        _ => a == b,
    }
}

/// The items of a list as folded text, sorted and without repeats (a single value is a list of one).
fn text_set(value: &Value) -> Vec<String> {
    let mut items: Vec<String> = match value {
        Value::Array(items) => items.iter().map(|v| folded_text(&value_text(v))).collect(),
        other => vec![folded_text(&value_text(other))],
    };
    items.sort();
    items.dedup();
    items
}

/// One field of a `json_fields` criterion for one reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldResult {
    /// The field's path in the reply.
    pub path: String,
    /// Whether the reply's value matched; absent when the example has no expected value for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct: Option<bool>,
}

/// Whether the reply's value (if any) matches the expected one under `spec`.
fn field_matches(spec: &FieldSpec, reply: Option<&Value>, expected: &Value) -> bool {
    let Some(reply) = reply else { return false };
    match spec.compare {
        FieldComparison::Exact => exactly_equal(reply, expected),
        FieldComparison::Text => folded_text(&value_text(reply)) == folded_text(&value_text(expected)),
        FieldComparison::Number => match (as_number(reply), as_number(expected)) {
            (Some(a), Some(b)) => (a - b).abs() <= spec.tolerance,
            _ => false,
        },
        FieldComparison::Set => reply.is_array() && text_set(reply) == text_set(expected),
        FieldComparison::OneOf => text_set(expected).contains(&folded_text(&value_text(reply))),
    }
}

/// The expected value of a field for `example`: the rubric's accepted values (`one_of`), else the example's field.
fn expected_value(spec: &FieldSpec, example: &Example) -> Option<Value> {
    if let Some(accepted) = &spec.accepted {
        return Some(Value::Array(accepted.clone()));
    }
    example.fields.get(&spec.field).filter(|v| !v.is_null()).cloned()
}

/// Scores a reply's fields: the fraction right among the fields the example has a value for, each field's
/// outcome, or `None` (not applicable) when the example has none of them. Invalid or missing JSON scores 0.
pub fn score_json_fields(check: &JsonFieldsCheck, example: &Example, output: &str) -> (Option<f64>, Vec<FieldResult>) {
    let reply = extract_json(output, check.allow_fenced);
    let results: Vec<FieldResult> = check
        .fields
        .iter()
        .map(|spec| FieldResult {
            path: spec.path.to_string(),
            correct: expected_value(spec, example).map(|expected| {
                let value = reply.as_ref().and_then(|r| spec.path.get(r));
                field_matches(spec, value, &expected)
            }),
        })
        .collect();
    let applicable: Vec<bool> = results.iter().filter_map(|r| r.correct).collect();
    let score =
        (!applicable.is_empty()).then(|| applicable.iter().filter(|c| **c).count() as f64 / applicable.len() as f64);
    (score, results)
}

/// A `label` criterion's outcome for one reply: the expected label and the one extracted, both canonical.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelResult {
    /// The example's label (folded, synonyms resolved).
    pub expected: String,
    /// The reply's label (folded, synonyms resolved); absent when none could be extracted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted: Option<String>,
}

impl LabelCheck {
    /// A label in canonical form: folded, then mapped to its canonical label when it is a synonym.
    pub fn canonical(&self, label: &str) -> String {
        let folded = folded_text(label);
        self.synonyms.get(&folded).cloned().unwrap_or(folded)
    }

    /// The label the reply gives, if one can be extracted.
    pub fn extract(&self, output: &str) -> Option<String> {
        let raw = match &self.source {
            LabelExtractor::Reply => Some(output.to_string()),
            LabelExtractor::Regex { regex, group } => {
                let captures = regex.captures(output)?;
                let found = match group {
                    super::rubric::GroupRef::Index(i) => captures.get(*i),
                    super::rubric::GroupRef::Name(name) => captures.name(name),
                };
                Some(found?.as_str().to_string())
            }
            LabelExtractor::Json { path, allow_fenced } => {
                let value = extract_json(output, *allow_fenced)?;
                let found = path.get(&value)?;
                (!found.is_array() && !found.is_object()).then(|| value_text(found))
            }
        }?;
        let label = self.canonical(&raw);
        (!label.is_empty()).then_some(label)
    }
}

/// Scores a reply's label: 1 when it equals the example's (its field, or its reference reply for `field:
/// reference`), else 0; `None` when the example has no label.
pub fn score_label(check: &LabelCheck, example: &Example, output: &str) -> (Option<f64>, Option<LabelResult>) {
    let expected = match check.field.as_str() {
        "reference" => example.reference.clone(),
        field => example.fields.get(field).filter(|v| !v.is_null()).map(value_text),
    };
    let Some(expected) = expected.map(|e| check.canonical(&e)).filter(|e| !e.is_empty()) else {
        return (None, None);
    };
    let predicted = check.extract(output);
    let score = f64::from(u8::from(predicted.as_deref() == Some(expected.as_str())));
    (Some(score), Some(LabelResult { expected, predicted }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_read_keys_and_list_items() {
        let value = json!({"a": {"b": [10, {"c": "x"}]}, "n": null});
        let get = |p: &str| JsonPath::parse(p).unwrap().get(&value).cloned();
        assert_eq!(get("a.b[0]"), Some(json!(10)));
        assert_eq!(get("a.b[1].c"), Some(json!("x")));
        assert_eq!(get("a.b[2]"), None);
        assert_eq!(get("n"), None, "null is no value");
        assert_eq!(get("a.x"), None);
        for bad in ["", "a..b", "a[x]", "a[1", ".a"] {
            assert!(JsonPath::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    fn spec(compare: FieldComparison, tolerance: f64) -> FieldSpec {
        FieldSpec {
            path: JsonPath::parse("v").unwrap(),
            field: "v".into(),
            compare,
            tolerance,
            accepted: None,
        }
    }

    #[test]
    fn each_comparison() {
        let check = |compare, tolerance, reply: Value, expected: Value| {
            field_matches(&spec(compare, tolerance), Some(&reply), &expected)
        };
        use FieldComparison::*;
        assert!(check(Exact, 0.0, json!(3), json!(3.0)));
        assert!(!check(Exact, 0.0, json!("Billing"), json!("billing")));
        assert!(check(Text, 0.0, json!("  BILLING  issue"), json!("billing issue")));
        assert!(check(Text, 0.0, json!(3), json!("3")));
        assert!(check(Number, 0.5, json!("2.6"), json!(3)));
        assert!(!check(Number, 0.5, json!(2.4), json!(3)));
        assert!(!check(Number, 0.5, json!("n/a"), json!(3)));
        assert!(check(Set, 0.0, json!(["B", "a", "a"]), json!(["a", "b"])));
        assert!(!check(Set, 0.0, json!("a"), json!(["a"])), "a set needs a list");
        assert!(!check(Set, 0.0, json!(["a"]), json!(["a", "b"])));
        assert!(check(
            OneOf,
            0.0,
            json!("Lock Pro"),
            json!(["Kestrel Lock Pro", "lock pro"])
        ));
        assert!(!check(
            OneOf,
            0.0,
            json!("Lock"),
            json!(["Kestrel Lock Pro", "lock pro"])
        ));
    }
}
