//! Rubric files: what a good output looks like, as weighted criteria.
//!
//! A criterion is one flat mapping (`id`, `kind`, `weight`, kind-specific keys), not a tagged enum, so serde can
//! reject unknown keys with their positions; which keys each kind takes is checked here, after parsing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

use crate::error::{InputError, InputErrors};
use crate::yaml_file::read_yaml;

/// A rubric file as written.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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
}

/// One criterion as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionSection {
    /// Unique id; a column in `examples.csv`.
    pub id: String,
    /// What is checked.
    pub kind: CriterionKind,
    /// Relative weight in the quality score (≥ 0).
    #[serde(default = "one")]
    pub weight: f64,
    /// Failing a gate zeroes the example's score.
    #[serde(default)]
    pub gate: bool,
    /// What the criterion is for.
    #[serde(default)]
    pub description: String,
    /// Literal terms (contains_* and not_contains).
    #[serde(default)]
    pub terms: Option<Vec<String>>,
    /// The example field whose value(s) are the terms (contains_* and not_contains).
    #[serde(default)]
    pub terms_from: Option<String>,
    /// Match case exactly (default: Unicode case-insensitive).
    #[serde(default)]
    pub case_sensitive: bool,
    /// The pattern (regex).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Whether the pattern must match (default) or must not (regex).
    #[serde(default = "yes")]
    pub must_match: bool,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// Where a criterion's terms come from.
#[derive(Debug, Clone)]
pub enum Terms {
    /// Written in the rubric.
    Literal(Vec<String>),
    /// Read from a field of each example.
    FromField(String),
}

/// What a criterion checks, validated.
#[derive(Debug, Clone)]
pub enum Check {
    /// Fraction of terms present.
    ContainsAll { terms: Terms, case_sensitive: bool },
    /// 1 if any term is present.
    ContainsAny { terms: Terms, case_sensitive: bool },
    /// Fraction of terms absent.
    NotContains { terms: Terms, case_sensitive: bool },
    /// 1 if the pattern matches (or, with `must_match: false`, does not).
    Regex { regex: Regex, must_match: bool },
}

/// A validated criterion.
#[derive(Debug, Clone)]
pub struct Criterion {
    /// Unique id.
    pub id: String,
    /// Relative weight.
    pub weight: f64,
    /// Whether failing it zeroes the score.
    pub gate: bool,
    /// What it is for.
    pub description: String,
    /// What it checks.
    pub check: Check,
}

impl Criterion {
    /// The example field this criterion reads, if any.
    pub fn field(&self) -> Option<&str> {
        match &self.check {
            Check::ContainsAll { terms, .. }
            | Check::ContainsAny { terms, .. }
            | Check::NotContains { terms, .. } => match terms {
                Terms::FromField(field) => Some(field),
                Terms::Literal(_) => None,
            },
            Check::Regex { .. } => None,
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
            errors.push(at(
                "criteria",
                "a rubric needs at least one criterion".into(),
            ));
        }
        let mut seen = HashSet::new();
        let mut criteria = Vec::new();
        for (i, section) in file.value.criteria.iter().enumerate() {
            let field = |key: &str| format!("criteria[{i}].{key}");
            if section.id.trim().is_empty() {
                errors.push(at(&field("id"), "must not be empty".into()));
            } else if !seen.insert(section.id.as_str()) {
                errors.push(at(
                    &field("id"),
                    format!("duplicate criterion id `{}`", section.id),
                ));
            }
            if !(section.weight.is_finite() && section.weight >= 0.0) {
                errors.push(at(
                    &field("weight"),
                    format!("must be a number ≥ 0, got {}", section.weight),
                ));
            }
            match check(section) {
                Ok(check) => criteria.push(Criterion {
                    id: section.id.clone(),
                    weight: section.weight,
                    gate: section.gate,
                    description: section.description.clone(),
                    check,
                }),
                Err((key, message)) => errors.push(at(&field(key), message)),
            }
        }
        if !criteria.is_empty() && criteria.iter().all(|c| c.weight == 0.0) {
            errors.push(at(
                "criteria",
                "at least one criterion needs a weight above 0".into(),
            ));
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
}

fn check(section: &CriterionSection) -> Result<Check, (&'static str, String)> {
    let uses_terms = section.terms.is_some() || section.terms_from.is_some();
    match section.kind {
        CriterionKind::ContainsAll | CriterionKind::ContainsAny | CriterionKind::NotContains => {
            if section.pattern.is_some() {
                return Err(("pattern", "only `regex` criteria take a pattern".into()));
            }
            let terms = match (&section.terms, &section.terms_from) {
                (Some(_), Some(_)) => {
                    return Err((
                        "terms_from",
                        "give either `terms` or `terms_from`, not both".into(),
                    ))
                }
                (None, None) => return Err(("kind", "needs `terms` or `terms_from`".into())),
                (Some(terms), None) => {
                    if terms.is_empty() || terms.iter().any(|t| t.is_empty()) {
                        return Err((
                            "terms",
                            "needs at least one term, and no empty terms".into(),
                        ));
                    }
                    Terms::Literal(terms.clone())
                }
                (None, Some(field)) => Terms::FromField(field.clone()),
            };
            let case_sensitive = section.case_sensitive;
            Ok(match section.kind {
                CriterionKind::ContainsAll => Check::ContainsAll {
                    terms,
                    case_sensitive,
                },
                CriterionKind::ContainsAny => Check::ContainsAny {
                    terms,
                    case_sensitive,
                },
                _ => Check::NotContains {
                    terms,
                    case_sensitive,
                },
            })
        }
        CriterionKind::Regex => {
            if uses_terms {
                return Err((
                    "terms",
                    "`regex` criteria take a `pattern`, not terms".into(),
                ));
            }
            let pattern = section.pattern.as_deref().ok_or((
                "pattern",
                "a `regex` criterion needs a `pattern`".to_string(),
            ))?;
            let regex = Regex::new(pattern)
                .map_err(|e| ("pattern", format!("invalid regular expression: {e}")))?;
            Ok(Check::Regex {
                regex,
                must_match: section.must_match,
            })
        }
    }
}
