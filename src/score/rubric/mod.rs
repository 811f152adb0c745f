//! Rubrics: what a good output looks like, as weighted criteria, loaded and validated.

mod file;
mod kinds;
mod structured;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;

use crate::error::{InputError, InputErrors};
use crate::yaml_file::read_yaml;
pub use file::{
    CriterionKind, CriterionSection, FieldComparison, GroupRef, JsonFieldSection, LabelSource, LengthUnit,
    ReferenceMethod, RubricFile,
};
pub use structured::{
    CommandCheck, FieldSpec, JsonFieldsCheck, LabelCheck, LabelExtractor, DEFAULT_COMMAND_CONCURRENCY,
    DEFAULT_COMMAND_TIMEOUT_MS,
};

/// Where a criterion's terms come from.
#[derive(Debug, Clone)]
pub enum Terms {
    /// Written in the rubric.
    Literal(Vec<String>),
    /// Read from a field of each example (a string, or a list of strings).
    FromField(String),
}

/// How terms are matched against an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matching {
    /// Match case exactly; otherwise both sides are fully Unicode case-folded (ß matches SS).
    pub case_sensitive: bool,
    /// Normalise both sides to NFKC first (ﬁ matches fi, full-width letters match ASCII).
    pub normalize_unicode: bool,
    /// A term matches only where it is not joined to letters or digits on either side.
    pub whole_words: bool,
}

/// How a terms criterion is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermsMode {
    /// Fraction of terms present.
    All,
    /// 1 if any term is present.
    Any,
    /// Fraction of terms absent.
    None,
}

/// The `json` check.
#[derive(Clone)]
pub struct JsonCheck {
    /// Accept JSON inside a Markdown code fence.
    pub allow_fenced: bool,
    /// Keys the top-level object must have.
    pub required_keys: Vec<String>,
    /// A compiled JSON Schema the output must satisfy.
    pub schema: Option<Arc<jsonschema::Validator>>,
}

impl std::fmt::Debug for JsonCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonCheck")
            .field("allow_fenced", &self.allow_fenced)
            .field("required_keys", &self.required_keys)
            .field("schema", &self.schema.is_some())
            .finish()
    }
}

/// An LLM-judge criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeSpec {
    /// What the judge assesses.
    pub instructions: String,
    /// Consecutive integer levels, each with what it means.
    pub scale: BTreeMap<i64, String>,
    /// Whether the judge sees the reference reply.
    pub sees_reference: bool,
    /// How many verdicts to ask for; their median is the score.
    pub samples: u32,
    /// The example field holding a human's score on the same scale, if any.
    pub human_score_field: Option<String>,
}

impl JudgeSpec {
    /// Lowest level.
    pub fn min_level(&self) -> i64 {
        self.scale.keys().next().copied().unwrap_or(0)
    }

    /// Highest level.
    pub fn max_level(&self) -> i64 {
        self.scale.keys().next_back().copied().unwrap_or(1)
    }

    /// A level mapped onto [0, 1].
    pub fn normalise(&self, level: f64) -> f64 {
        let (low, high) = (self.min_level() as f64, self.max_level() as f64);
        ((level - low) / (high - low)).clamp(0.0, 1.0)
    }
}

/// What a criterion checks, validated.
#[derive(Debug, Clone)]
pub enum Check {
    /// contains_all, contains_any, not_contains.
    Terms {
        /// How the terms are scored.
        mode: TermsMode,
        /// The terms.
        terms: Terms,
        /// How they are matched.
        matching: Matching,
    },
    /// 1 if the pattern matches (or, with `must_match: false`, does not).
    Regex {
        /// The pattern.
        regex: Regex,
        /// Whether it must match.
        must_match: bool,
    },
    /// Valid JSON, required keys, schema.
    Json(JsonCheck),
    /// 1 within the bounds.
    Length {
        /// Characters or words.
        unit: LengthUnit,
        /// Least.
        min: Option<u64>,
        /// Greatest.
        max: Option<u64>,
    },
    /// Against the reference reply.
    Reference {
        /// How.
        method: ReferenceMethod,
    },
    /// An LLM judge.
    Judge(JudgeSpec),
    /// Fields of the JSON reply against the example's fields.
    JsonFields(JsonFieldsCheck),
    /// The reply's label against the example's.
    Label(LabelCheck),
    /// The user's program.
    Command(CommandCheck),
}

/// A validated criterion.
#[derive(Debug, Clone)]
pub struct Criterion {
    /// Unique id.
    pub id: String,
    /// Relative weight.
    pub weight: f64,
    /// Whether scoring below 1 zeroes the example's score.
    pub gate: bool,
    /// What it is for.
    pub description: String,
    /// What it checks.
    pub check: Check,
}

impl Criterion {
    /// The example field this criterion reads terms from, if any.
    pub fn field(&self) -> Option<&str> {
        match &self.check {
            Check::Terms {
                terms: Terms::FromField(field),
                ..
            } => Some(field),
            _ => None,
        }
    }

    /// Every example field this criterion reads its expected values from (terms, `json_fields`, `label`), in the
    /// order written; `reference` (the reference reply) is not a field and is left out.
    pub fn example_fields(&self) -> Vec<&str> {
        match &self.check {
            Check::JsonFields(check) => check
                .fields
                .iter()
                .filter(|f| f.accepted.is_none())
                .map(|f| f.field.as_str())
                .collect(),
            Check::Label(check) if check.field != "reference" => vec![check.field.as_str()],
            _ => self.field().into_iter().collect(),
        }
    }

    /// The label settings, for `label` criteria.
    pub fn label(&self) -> Option<&LabelCheck> {
        match &self.check {
            Check::Label(check) => Some(check),
            _ => None,
        }
    }

    /// The program settings, for `command` criteria.
    pub fn command(&self) -> Option<&CommandCheck> {
        match &self.check {
            Check::Command(check) => Some(check),
            _ => None,
        }
    }

    /// The judge settings, for judge criteria.
    pub fn judge(&self) -> Option<&JudgeSpec> {
        match &self.check {
            Check::Judge(spec) => Some(spec),
            _ => None,
        }
    }
}

/// A validated rubric.
#[derive(Debug, Clone)]
pub struct Rubric {
    /// Where it was read from.
    pub path: PathBuf,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Its name.
    pub name: String,
    /// Pass threshold in [0, 1].
    pub pass_threshold: f64,
    /// The criteria, in file order.
    pub criteria: Vec<Criterion>,
}

impl Rubric {
    /// Reads and validates a rubric file; every problem is reported with its position.
    pub fn load(path: &Path) -> Result<Rubric, InputErrors> {
        let file = read_yaml::<RubricFile>(path, "rubric")?;
        let at = |field: &str, message: String| {
            InputError::in_file(path, message)
                .field(field)
                .position(file.positions.find(field))
        };
        let mut errors = Vec::new();
        let threshold = file.value.pass_threshold;
        if !(0.0..=1.0).contains(&threshold) {
            errors.push(at(
                "pass_threshold",
                format!("must be between 0 and 1, got {threshold}"),
            ));
        }
        if file.value.criteria.is_empty() {
            errors.push(at("criteria", "a rubric needs at least one criterion".into()));
        }
        let rubric_dir = path.parent().unwrap_or(Path::new("."));
        let mut seen = HashSet::new();
        let mut criteria = Vec::new();
        for (i, section) in file.value.criteria.iter().enumerate() {
            let field = |key: &str| format!("criteria[{i}].{key}");
            if section.id.trim().is_empty() {
                errors.push(at(&field("id"), "must not be empty".into()));
            } else if !seen.insert(section.id.as_str()) {
                errors.push(at(&field("id"), format!("duplicate criterion id `{}`", section.id)));
            }
            let weight = section.weight.unwrap_or(1.0);
            if !(weight.is_finite() && weight >= 0.0) {
                errors.push(at(&field("weight"), format!("must be a number ≥ 0, got {weight}")));
            }
            match kinds::check(section, rubric_dir) {
                Ok(check) => criteria.push(Criterion {
                    id: section.id.clone(),
                    weight,
                    gate: section.gate,
                    description: section.description.clone(),
                    check,
                }),
                Err((key, message)) => errors.push(at(&field(&key), message)),
            }
        }
        if !criteria.is_empty() && criteria.iter().all(|c| c.weight == 0.0) {
            errors.push(at("criteria", "at least one criterion needs a weight above 0".into()));
        }
        if !errors.is_empty() {
            return Err(InputErrors(errors));
        }
        Ok(Rubric {
            path: path.to_path_buf(),
            sha256: file.sha256,
            name: file.value.name,
            pass_threshold: threshold,
            criteria,
        })
    }

    /// Whether any criterion needs an LLM judge.
    pub fn has_judge(&self) -> bool {
        self.judge_criteria().next().is_some()
    }

    /// The criteria scored by the LLM judge, in rubric order.
    pub fn judge_criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|c| c.judge().is_some())
    }

    /// The criteria scored by the user's programs, in rubric order.
    pub fn command_criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|c| c.command().is_some())
    }
}
