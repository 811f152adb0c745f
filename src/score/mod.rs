//! Scoring outputs against a rubric: per-criterion scores in [0, 1], weighted into one quality score.
//!
//! Pure functions: an example and an output in, scores out.

pub mod rubric;

use serde::{Deserialize, Serialize};

use crate::dataset::Example;
pub use rubric::{Check, Criterion, Rubric, Terms};

/// One criterion's result for one output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionScore {
    /// The criterion's id.
    pub id: String,
    /// Score in [0, 1]; `None` when the criterion does not apply (e.g. its field lists no terms).
    pub score: Option<f64>,
}

/// An output's scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputScore {
    /// Per criterion, in rubric order.
    pub criteria: Vec<CriterionScore>,
    /// Weighted mean of the applicable criteria, zeroed by a failed gate; in [0, 1].
    pub quality: f64,
    /// quality ≥ the rubric's pass threshold.
    pub pass: bool,
}

/// Scores `output` (the model's reply to `example`) against `rubric`.
pub fn score_output(rubric: &Rubric, example: &Example, output: &str) -> OutputScore {
    let criteria: Vec<CriterionScore> = rubric
        .criteria
        .iter()
        .map(|criterion| CriterionScore {
            id: criterion.id.clone(),
            score: criterion_score(&criterion.check, example, output),
        })
        .collect();
    let quality = weighted_quality(&rubric.criteria, &criteria);
    OutputScore {
        pass: quality >= rubric.pass_threshold,
        criteria,
        quality,
    }
}

/// The weighted mean of the applicable scores; 0 when a gate criterion scored below 1.
pub fn weighted_quality(criteria: &[Criterion], scores: &[CriterionScore]) -> f64 {
    let mut weighted = 0.0;
    let mut total_weight = 0.0;
    for (criterion, result) in criteria.iter().zip(scores) {
        let Some(score) = result.score else { continue };
        if criterion.gate && score < 1.0 {
            return 0.0;
        }
        weighted += criterion.weight * score;
        total_weight += criterion.weight;
    }
    if total_weight > 0.0 {
        (weighted / total_weight).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn criterion_score(check: &Check, example: &Example, output: &str) -> Option<f64> {
    match check {
        Check::ContainsAll {
            terms,
            case_sensitive,
        } => {
            let terms = resolve(terms, example)?;
            let found = terms
                .iter()
                .filter(|t| contains(output, t, *case_sensitive))
                .count();
            Some(found as f64 / terms.len() as f64)
        }
        Check::ContainsAny {
            terms,
            case_sensitive,
        } => {
            let terms = resolve(terms, example)?;
            let any = terms.iter().any(|t| contains(output, t, *case_sensitive));
            Some(if any { 1.0 } else { 0.0 })
        }
        Check::NotContains {
            terms,
            case_sensitive,
        } => {
            let terms = resolve(terms, example)?;
            let absent = terms
                .iter()
                .filter(|t| !contains(output, t, *case_sensitive))
                .count();
            Some(absent as f64 / terms.len() as f64)
        }
        Check::Regex { regex, must_match } => Some(if regex.is_match(output) == *must_match {
            1.0
        } else {
            0.0
        }),
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

fn contains(haystack: &str, needle: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        haystack.contains(needle)
    } else {
        haystack.to_lowercase().contains(&needle.to_lowercase())
    }
}

#[cfg(test)]
mod tests;
