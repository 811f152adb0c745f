//! The rubric file's YAML schema, as written.
//!
//! A criterion is one flat mapping (`id`, `kind`, `weight`, then the keys of its kind), not a tagged enum, so serde
//! can reject unknown keys with their positions; `kinds.rs` checks which keys each kind takes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// A rubric file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricFile {
    /// Short name.
    #[serde(default)]
    pub name: String,
    /// What the rubric rewards.
    #[serde(default)]
    pub description: String,
    /// An example passes when its quality score is at least this (0 to 1).
    pub pass_threshold: f64,
    /// The criteria.
    pub criteria: Vec<CriterionSection>,
}

/// The criterion kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    /// Every term must appear; scored as the fraction that do.
    ContainsAll,
    /// At least one term must appear.
    ContainsAny,
    /// No term may appear; scored as the fraction absent.
    NotContains,
    /// A regular expression must (or must not) match.
    Regex,
    /// The output is JSON, with required keys, valid against a JSON Schema.
    Json,
    /// The output's length in characters or words is within bounds.
    Length,
    /// The output against the example's reference reply.
    Reference,
    /// An LLM judge grades the output on a scale.
    Judge,
    /// Fields of the JSON reply compared with the example's fields; scored as the fraction right.
    JsonFields,
    /// A predicted label extracted from the reply, compared with the example's label.
    Label,
    /// The user's own program scores the reply.
    Command,
}

impl CriterionKind {
    /// The name used in rubric files.
    pub fn as_str(self) -> &'static str {
        match self {
            CriterionKind::ContainsAll => "contains_all",
            CriterionKind::ContainsAny => "contains_any",
            CriterionKind::NotContains => "not_contains",
            CriterionKind::Regex => "regex",
            CriterionKind::Json => "json",
            CriterionKind::Length => "length",
            CriterionKind::Reference => "reference",
            CriterionKind::Judge => "judge",
            CriterionKind::JsonFields => "json_fields",
            CriterionKind::Label => "label",
            CriterionKind::Command => "command",
        }
    }
}

/// Units for `length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LengthUnit {
    /// Unicode scalar values.
    Characters,
    /// White-space separated words.
    Words,
}

/// Comparison methods for `reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceMethod {
    /// Byte-for-byte equal (surrounding white space ignored).
    Exact,
    /// Equal after case folding, removing punctuation and collapsing white space.
    NormalizedExact,
    /// F1 of the normalised token bags (SQuAD style).
    TokenF1,
    /// ROUGE-L F-measure (longest common subsequence of normalised tokens).
    RougeL,
}

/// One criterion as written; which keys apply depends on `kind`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionSection {
    /// Unique id; a column in `examples.csv`.
    pub id: String,
    /// What is checked.
    pub kind: CriterionKind,
    /// Relative weight in the quality score (≥ 0; default 1).
    #[serde(default)]
    pub weight: Option<f64>,
    /// Failing a gate (scoring below 1) zeroes the example's score.
    #[serde(default)]
    pub gate: bool,
    /// What the criterion is for.
    #[serde(default)]
    pub description: String,

    /// Literal terms (contains_all, contains_any, not_contains).
    #[serde(default)]
    pub terms: Option<Vec<String>>,
    /// The example field whose value(s) are the terms.
    #[serde(default)]
    pub terms_from: Option<String>,
    /// Match case exactly (default: full Unicode case folding).
    #[serde(default)]
    pub case_sensitive: Option<bool>,
    /// Apply Unicode NFKC normalisation before matching (default: yes).
    #[serde(default)]
    pub normalize_unicode: Option<bool>,
    /// Terms match only as whole words (default: anywhere).
    #[serde(default)]
    pub whole_words: Option<bool>,

    /// The pattern (regex).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Whether the pattern must match (default) or must not.
    #[serde(default)]
    pub must_match: Option<bool>,

    /// Accept JSON inside a Markdown code fence (json; default: yes).
    #[serde(default)]
    pub allow_fenced: Option<bool>,
    /// Keys the top-level JSON object must have (json).
    #[serde(default)]
    pub required_keys: Option<Vec<String>>,
    /// A JSON Schema file the output must validate against (json; relative to the rubric).
    #[serde(default)]
    pub schema: Option<PathBuf>,

    /// Characters or words (length).
    #[serde(default)]
    pub unit: Option<LengthUnit>,
    /// Least length (length).
    #[serde(default)]
    pub min: Option<u64>,
    /// Greatest length (length).
    #[serde(default)]
    pub max: Option<u64>,

    /// How to compare with the reference (reference).
    #[serde(default)]
    pub method: Option<ReferenceMethod>,

    /// What the judge is asked to assess (judge).
    #[serde(default)]
    pub instructions: Option<String>,
    /// The judge's scale: each integer level with what it means (judge).
    #[serde(default)]
    pub scale: Option<BTreeMap<i64, String>>,
    /// Whether the judge sees the example's reference reply (judge; default: no).
    #[serde(default)]
    pub sees_reference: Option<bool>,
    /// Ask the judge this many times and take the median (judge; default 1).
    #[serde(default)]
    pub samples: Option<u32>,
    /// The example field with a human's score on the same scale, for calibration (judge).
    #[serde(default)]
    pub human_score_field: Option<String>,

    /// The reply's JSON fields to compare with the example's (json_fields).
    #[serde(default)]
    pub fields: Option<Vec<JsonFieldSection>>,

    /// Where the predicted label comes from (label): the whole reply, a regex group, or a JSON path.
    #[serde(default)]
    pub from: Option<LabelSource>,
    /// The capture group holding the label (label with `from: regex`): its number or name.
    #[serde(default)]
    pub group: Option<GroupRef>,
    /// The JSON path of the label in the reply (label with `from: json`), e.g. `triage.category`.
    #[serde(default)]
    pub path: Option<String>,
    /// The example field holding the expected label (label; default `label`).
    #[serde(default)]
    pub field: Option<String>,
    /// Canonical label → other spellings counted as it (label).
    #[serde(default)]
    pub synonyms: Option<BTreeMap<String, Vec<String>>>,

    /// The program and its arguments, run without a shell (command; paths relative to the rubric).
    #[serde(default)]
    pub argv: Option<Vec<String>>,
    /// Longest a call may take before the program is killed (command; default 10,000 ms).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Most calls of the program running at once (command; default 4).
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Parameters handed to the program with every reply (command).
    #[serde(default)]
    pub params: Option<serde_json::Value>,
}

/// One field of a `json_fields` criterion, as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonFieldSection {
    /// Where the value is in the reply: keys joined by dots, list items by `[index]` (`items[0].sku`).
    pub path: String,
    /// The example field holding the expected value (default: the path itself).
    #[serde(default)]
    pub field: Option<String>,
    /// How the two values are compared (default `exact`).
    #[serde(default)]
    pub compare: FieldComparison,
    /// Largest difference counted as equal (`number`; default 0).
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// The values accepted for every example (`one_of`; otherwise the example's field lists them).
    #[serde(default)]
    pub accepted: Option<Vec<serde_json::Value>>,
}

/// How a `json_fields` field is compared with the example's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldComparison {
    /// Equal JSON values (numbers by value).
    #[default]
    Exact,
    /// Equal text after case folding, NFKC and collapsing white space.
    Text,
    /// Numbers within `tolerance`.
    Number,
    /// Lists with the same elements (as text), in any order.
    Set,
    /// The reply's value is one of the accepted values (as text).
    OneOf,
}

impl FieldComparison {
    /// The name used in rubric files.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldComparison::Exact => "exact",
            FieldComparison::Text => "text",
            FieldComparison::Number => "number",
            FieldComparison::Set => "set",
            FieldComparison::OneOf => "one_of",
        }
    }
}

/// Where a `label` criterion finds the predicted label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    /// The whole reply, trimmed.
    Reply,
    /// A capture group of `pattern`.
    Regex,
    /// The value at `path` in the JSON reply.
    Json,
}

/// A regex capture group, by number or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    /// `group: 1`.
    Index(usize),
    /// `group: label`.
    Name(String),
}

impl<'de> Deserialize<'de> for GroupRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = GroupRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a capture group number or name")
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<GroupRef, E> {
                usize::try_from(value)
                    .map(GroupRef::Index)
                    .map_err(|_| E::custom("group number too large"))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<GroupRef, E> {
                usize::try_from(value)
                    .map(GroupRef::Index)
                    .map_err(|_| E::custom(format!("a group number must be 0 or more, got {value}")))
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<GroupRef, E> {
                Ok(GroupRef::Name(value.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl schemars::JsonSchema for GroupRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GroupRef".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A capture group of `pattern`: its number (0 is the whole match) or its name.",
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "minLength": 1}
            ]
        })
    }
}
