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
}
