//! Scoring outputs against a rubric: per-criterion scores in [0, 1], weighted into one quality score.
//!
//! Deterministic criteria are pure functions of the example and the output. Judge criteria take the verdicts the
//! judge stage collected (`score::judge`); a missing or malformed verdict is a judge error for that criterion, never
//! a silent zero. `command` criteria take the user's program's answers the same way (`score::command`).

pub mod command;
pub mod common_criteria;
pub mod fields;
pub mod judge;
pub mod rubric;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::dataset::Example;
pub use rubric::{Check, Criterion, JudgeSpec, Rubric, Terms};
use rubric::{LengthUnit, ReferenceMethod, TermsMode};

/// One criterion's result for one output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionScore {
    /// The criterion's id.
    pub id: String,
    /// Score in [0, 1]; absent when the criterion does not apply or could not be scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Why it could not be scored (a judge error), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a judge criterion: the median level on its scale, and the judge's reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judged: Option<judge::Judged>,
    /// For a `json_fields` criterion: each field's outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<fields::FieldResult>,
    /// For a `label` criterion: the expected and predicted labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<fields::LabelResult>,
    /// For a `command` criterion: the reason the program gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl CriterionScore {
    fn new(id: &str, score: Option<f64>) -> Self {
        CriterionScore {
            id: id.to_string(),
            score,
            error: None,
            judged: None,
            fields: Vec::new(),
            label: None,
            reason: None,
        }
    }
}

/// An output's scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputScore {
    /// Per criterion, in rubric order.
    pub criteria: Vec<CriterionScore>,
    /// Weighted mean of the scored criteria, zeroed by a failed gate, in [0, 1]; absent when a gate could not be
    /// scored or no criterion could.
    pub quality: Option<f64>,
    /// quality ≥ the rubric's pass threshold.
    pub pass: Option<bool>,
}

/// A judge criterion's outcome for one output: the median level and reasons, or why there is none.
pub type JudgeOutcome = Result<judge::Judged, String>;

/// Scores `output` (the reply to `example`). `judged` gives each judge criterion's outcome by criterion id.
pub fn score_output(
    rubric: &Rubric,
    example: &Example,
    output: &str,
    judged: &dyn Fn(&str) -> Option<JudgeOutcome>,
) -> OutputScore {
    score_output_with(rubric, example, output, judged, &|_| None)
}

/// As [`score_output`], with `commanded` giving each `command` criterion's outcome by criterion id (`None`: not
/// scored).
pub fn score_output_with(
    rubric: &Rubric,
    example: &Example,
    output: &str,
    judged: &dyn Fn(&str) -> Option<JudgeOutcome>,
    commanded: &dyn Fn(&str) -> Option<command::CommandOutcome>,
) -> OutputScore {
    let mut prepared = text::PreparedForms::new(output);
    let criteria: Vec<CriterionScore> = rubric
        .criteria
        .iter()
        .map(|criterion| {
            let id = criterion.id.as_str();
            match &criterion.check {
                Check::Judge(spec) => {
                    scored_elsewhere(id, judged(id), "no judge verdict recorded", |verdict| CriterionScore {
                        judged: Some(verdict.clone()),
                        ..CriterionScore::new(id, Some(spec.normalise(verdict.level)))
                    })
                }
                Check::Command(_) => scored_elsewhere(
                    id,
                    commanded(id),
                    "not scored: the scorer's results are not available here",
                    |verdict| CriterionScore {
                        reason: Some(verdict.reason),
                        ..CriterionScore::new(id, Some(verdict.score))
                    },
                ),
                Check::JsonFields(check) => {
                    let (score, fields) = fields::score_json_fields(check, example, output);
                    CriterionScore {
                        fields,
                        ..CriterionScore::new(id, score)
                    }
                }
                Check::Label(check) => {
                    let (score, label) = fields::score_label(check, example, output);
                    CriterionScore {
                        label,
                        ..CriterionScore::new(id, score)
                    }
                }
                check => CriterionScore::new(id, score_check(check, example, &mut prepared)),
            }
        })
        .collect();
    let quality = weighted_quality(&rubric.criteria, &criteria);
    OutputScore {
        pass: quality.map(|q| q >= rubric.pass_threshold),
        criteria,
        quality,
    }
}

/// A criterion scored outside this function (by a judge, by the user's program): its outcome, or an error for the
/// criterion (`missing` when there is no outcome at all) — never a zero.
fn scored_elsewhere<T>(
    id: &str,
    outcome: Option<Result<T, String>>,
    missing: &str,
    scored: impl FnOnce(T) -> CriterionScore,
) -> CriterionScore {
    match outcome {
        Some(Ok(value)) => scored(value),
        Some(Err(error)) => CriterionScore {
            error: Some(error),
            ..CriterionScore::new(id, None)
        },
        None => CriterionScore {
            error: Some(missing.to_string()),
            ..CriterionScore::new(id, None)
        },
    }
}

/// The weighted mean of the scored criteria; 0 when a gate scored below 1; `None` when a gate has an error or
/// nothing could be scored.
pub fn weighted_quality(criteria: &[Criterion], scores: &[CriterionScore]) -> Option<f64> {
    weigh(
        criteria
            .iter()
            .zip(scores)
            .map(|(criterion, result)| (criterion, result.score, result.error.is_some())),
    )
}

/// The weighted quality over only the criteria `keep` selects, the others counting as not scored: how a paired
/// comparison puts two replies on the same criteria (`score::common_criteria`). `scores` are per criterion, in the
/// rubric's order.
pub fn weighted_quality_where(
    criteria: &[Criterion],
    scores: &[Option<f64>],
    keep: impl Fn(&Criterion) -> bool,
) -> Option<f64> {
    weigh(
        criteria
            .iter()
            .zip(scores)
            .map(|(criterion, score)| (criterion, score.filter(|_| keep(criterion)), false)),
    )
}

/// The weighting itself, over (criterion, score, whether it failed to score).
fn weigh<'c>(results: impl Iterator<Item = (&'c Criterion, Option<f64>, bool)>) -> Option<f64> {
    let mut weighted = 0.0;
    let mut total_weight = 0.0;
    for (criterion, score, failed) in results {
        match score {
            Some(score) => {
                if criterion.gate && score < 1.0 {
                    return Some(0.0);
                }
                weighted += criterion.weight * score;
                total_weight += criterion.weight;
            }
            None if failed && criterion.gate => return None,
            None => {}
        }
    }
    (total_weight > 0.0).then(|| (weighted / total_weight).clamp(0.0, 1.0))
}

/// A deterministic criterion's score; `None` when it does not apply (no terms in the field, no reference, no expected
/// value), and for the criteria scored by a judge or a program.
pub fn deterministic_score(check: &Check, example: &Example, output: &str) -> Option<f64> {
    score_check(check, example, &mut text::PreparedForms::new(output))
}

/// [`deterministic_score`], with the output's prepared forms kept in `prepared` for the rubric's other criteria (a
/// reply is prepared once per matching mode, not once per criterion).
fn score_check(check: &Check, example: &Example, prepared: &mut text::PreparedForms) -> Option<f64> {
    let output = prepared.text();
    match check {
        Check::Terms { mode, terms, matching } => {
            let terms = resolve(terms, example)?;
            let haystack = prepared.get(*matching);
            let found = terms
                .iter()
                .filter(|t| text::contains(haystack, &text::prepare(t, *matching), matching.whole_words))
                .count();
            let n = terms.len() as f64;
            Some(match mode {
                TermsMode::All => found as f64 / n,
                TermsMode::Any => f64::from(u8::from(found > 0)),
                TermsMode::None => (n - found as f64) / n,
            })
        }
        Check::Regex { regex, must_match } => Some(f64::from(u8::from(regex.is_match(output) == *must_match))),
        Check::Json(json) => {
            let Some(value) = text::extract_json(output, json.allow_fenced) else {
                return Some(0.0);
            };
            let mut parts = Vec::new();
            if !json.required_keys.is_empty() {
                let present = json
                    .required_keys
                    .iter()
                    .filter(|k| value.as_object().is_some_and(|o| o.contains_key(*k)))
                    .count();
                parts.push(present as f64 / json.required_keys.len() as f64);
            }
            if let Some(schema) = &json.schema {
                parts.push(f64::from(u8::from(schema.is_valid(&value))));
            }
            Some(if parts.is_empty() {
                1.0
            } else {
                parts.iter().sum::<f64>() / parts.len() as f64
            })
        }
        Check::Length { unit, min, max } => {
            // The bytes bound the length from above: a character takes at least one, and words at least one each
            // with a space between. Within a maximum by that bound alone, a reply is not counted.
            let bytes = output.len() as u64;
            let at_most = match unit {
                LengthUnit::Characters => bytes,
                LengthUnit::Words => bytes.div_ceil(2),
            };
            let within = if min.is_none() && max.is_some_and(|m| at_most <= m) {
                true
            } else {
                let length = match unit {
                    LengthUnit::Characters => output.chars().count(),
                    LengthUnit::Words => text::count_words(output),
                } as u64;
                min.is_none_or(|m| length >= m) && max.is_none_or(|m| length <= m)
            };
            Some(f64::from(u8::from(within)))
        }
        Check::Reference { method } => {
            let reference = example.reference.as_deref()?;
            Some(match method {
                ReferenceMethod::Exact => f64::from(u8::from(output.trim() == reference.trim())),
                ReferenceMethod::NormalizedExact => f64::from(u8::from(
                    text::normalised_tokens(output) == text::normalised_tokens(reference),
                )),
                ReferenceMethod::TokenF1 => {
                    text::token_f1(&text::normalised_tokens(output), &text::normalised_tokens(reference))
                }
                ReferenceMethod::RougeL => {
                    text::rouge_l(&text::normalised_tokens(output), &text::normalised_tokens(reference))
                }
            })
        }
        Check::JsonFields(check) => fields::score_json_fields(check, example, output).0,
        Check::Label(check) => fields::score_label(check, example, output).0,
        Check::Judge(_) | Check::Command(_) => None,
    }
}

/// The terms to look for; `None` when the example's field lists none (the criterion does not apply).
fn resolve(terms: &Terms, example: &Example) -> Option<Vec<String>> {
    let terms = match terms {
        Terms::Literal(terms) => terms.clone(),
        Terms::FromField(field) => example.field_terms(field)?,
    };
    let terms: Vec<String> = terms.into_iter().filter(|t| !t.trim().is_empty()).collect();
    (!terms.is_empty()).then_some(terms)
}

#[cfg(test)]
mod structured_tests;
#[cfg(test)]
mod tests;
