//! What the report must say alongside the numbers: small samples, repeats, failed requests, unpaired examples,
//! pairs rescored on common criteria, ties — and criteria that a config's replies often went without.

use serde::Serialize;

use super::{AnalysisOptions, ComparisonAnalysis, ConfigAnalysis, SMALL_SAMPLE};
use crate::report::tally::CriterionOutcomes;
use crate::report::ConfigSummary;
use crate::score::Rubric;
use crate::stats::Verdict;
use crate::suite::schema::ConfigSection;

/// A criterion unscored for more than this share of a config's replies is a warning at the top of the verdict.
pub const MAX_MISSING_SHARE: f64 = 0.1;

/// A criterion that a config's replies often could not be scored on (a judge verdict that failed or was never
/// asked): its comparisons then rest on the other criteria only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionGap {
    /// The config.
    pub config: String,
    /// The criterion's id.
    pub criterion: String,
    /// The config's replies (successful calls).
    pub replies: usize,
    /// Of which the criterion could not be scored for (an error, not "does not apply").
    pub missing: usize,
    /// Whether no reply of the config was scored on it at all.
    pub no_scores: bool,
    /// The warning, in words.
    pub warning: String,
}

impl CriterionGap {
    fn new(config: &str, criterion: &str, replies: usize, missing: usize, no_scores: bool) -> Self {
        let how = if no_scores {
            format!("none of its {replies} replies has a score for it")
        } else {
            format!(
                "{missing} of its {replies} replies ({:.0}%) have no score for it",
                100.0 * missing as f64 / replies as f64
            )
        };
        CriterionGap {
            config: config.to_string(),
            criterion: criterion.to_string(),
            replies,
            missing,
            no_scores,
            warning: format!(
                "{config}: criterion {criterion} could not be scored — {how} (a judge verdict that failed or was                  never asked). Its comparisons use only the criteria scored on both sides."
            ),
        }
    }
}

/// The criteria each config's replies went without too often (more than [`MAX_MISSING_SHARE`], or always).
pub(super) fn criterion_gaps(
    rubric: &Rubric,
    configs: &[ConfigSection],
    outcomes: &[Vec<CriterionOutcomes>],
) -> Vec<CriterionGap> {
    let mut gaps = Vec::new();
    for (c, config) in configs.iter().enumerate() {
        for (criterion, outcomes) in rubric.criteria.iter().zip(outcomes) {
            let Some(outcome) = outcomes.get(c) else { continue };
            let (scored, with_score, missing) = (outcome.replies, outcome.with_score, outcome.errors);
            let share = missing as f64 / scored.max(1) as f64;
            if missing > 0 && (share > MAX_MISSING_SHARE || with_score == 0) {
                gaps.push(CriterionGap::new(
                    &config.name,
                    &criterion.id,
                    scored,
                    missing,
                    with_score == 0,
                ));
            }
        }
    }
    gaps
}

pub(super) fn cautions(
    configs: &[ConfigAnalysis],
    comparisons: &[ComparisonAnalysis],
    summaries: &[ConfigSummary],
    repeats: u32,
    options: &AnalysisOptions,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let smallest = configs.iter().map(|c| c.examples).min().unwrap_or(0);
    if smallest < SMALL_SAMPLE {
        warnings.push(format!(
            "Small sample: {smallest} examples for the smallest config. Intervals at this size are approximate; the \
             t interval, Wilson interval and exact tests are the ones to read."
        ));
    }
    if repeats > 1 {
        warnings.push(format!(
            "Each example was asked {repeats} times; repeats are averaged per example before any statistic, and their \
             spread is shown as the within-example SD."
        ));
    }
    for summary in summaries {
        let failed = summary.errors + summary.missing;
        if failed > 0 {
            warnings.push(format!(
                "{}: {} of {} requests have no reply ({} failed after retries, {} not made); their examples are \
                 left out of its statistics.",
                summary.config, failed, summary.planned, summary.errors, summary.missing
            ));
        }
    }
    for c in comparisons.iter().filter(|c| c.family == "baseline") {
        warnings.extend(comparison_cautions(c, options));
    }
    warnings
}

fn comparison_cautions(c: &ComparisonAnalysis, options: &AnalysisOptions) -> Vec<String> {
    let mut warnings = Vec::new();
    let name = format!("{} vs {}", c.candidate, c.baseline);
    if c.baseline_only + c.candidate_only > 0 {
        warnings.push(format!(
            "{name}: {} examples scored by only one side were left out of the pairing ({} by {}, {} by {}).",
            c.baseline_only + c.candidate_only,
            c.baseline_only,
            c.baseline,
            c.candidate_only,
            c.candidate
        ));
    }
    if c.pairs_on_common_criteria + c.pairs_excluded > 0 {
        warnings.push(format!(
            "{name}: {} pairs were compared on the criteria both sides scored (left out: {}); {} pairs with no \
             criterion in common were excluded.",
            c.pairs_on_common_criteria,
            c.criteria_left_out.join(", "),
            c.pairs_excluded
        ));
    }
    let p = &c.paired;
    if c.verdict == Verdict::NotEnoughData {
        warnings.push(format!(
            "{name}: {} matched examples; a verdict needs at least {} (the fewest with which an exact sign test can \
             reach α = {}).",
            p.n, options.minimum_pairs, options.alpha
        ));
    }
    if p.all_differences_zero {
        warnings.push(format!(
            "{name}: every example scored the same on both sides; no difference observed."
        ));
    } else if p.n > 0 && p.ties * 2 > p.n {
        warnings.push(format!(
            "{name}: {} of {} examples tie; the Wilcoxon and sign tests rest on the {} that differ.",
            p.ties,
            p.n,
            p.n - p.ties
        ));
    }
    if let Some(m) = &c.mcnemar {
        if m.baseline_only + m.candidate_only == 0 {
            warnings.push(format!(
                "{name}: no example passes on one side only, so McNemar's test has nothing to weigh (p = 1)."
            ));
        }
    }
    for reason in &c.not_available {
        warnings.push(format!("{name}: a power answer is {reason}."));
    }
    warnings
}
