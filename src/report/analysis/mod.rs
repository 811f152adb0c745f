//! The decision analysis: per-config quality with intervals, and paired comparisons with tests, effect sizes, Holm
//! adjustment, power and a verdict. Pure: scored replies in, numbers out (see `docs/report-format.md` for each field).
//!
//! The unit is the example: a config's repeats of one example are averaged first, and comparisons pair examples
//! that both configs scored, on the criteria both scored (`score::common_criteria`). Quality is in points
//! (100 × score) throughout. Nothing is dropped silently: examples scored by only one side of a comparison, pairs
//! with no criterion in common, failed calls, unscored replies and criteria that often went unscored are counted.

mod cautions;
mod comparison;
mod replies;

use serde::Serialize;

use super::tally::CriterionOutcomes;
use super::ConfigSummary;
use crate::score::common_criteria::ScoredReply;
use crate::score::Rubric;
use crate::stats::{
    self, minimum_pairs_for_verdict, summarize, wilson_interval, BootstrapCi, BootstrapSettings, Interval, LeftOut,
    McNemar, PairedComparison, Summary, Verdict, VerdictTest,
};
use crate::suite::schema::AnalysisSection;
use crate::suite::Suite;
pub use cautions::{CriterionGap, MAX_MISSING_SHARE};
pub use replies::ExampleReplies;

/// Fewer examples than this and the report warns that intervals are approximate.
pub const SMALL_SAMPLE: usize = 100;

/// How the analysis is run: the suite's `analysis:` settings, and a target difference for the sample-size answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnalysisOptions {
    /// Significance level of the tests; intervals are at 1 − alpha.
    pub alpha: f64,
    /// Practical margin δ in quality points: "better" needs the whole interval above +δ.
    pub margin: f64,
    /// Power for the detectable-difference and sample-size answers.
    pub power: f64,
    /// Bootstrap resamples and seed.
    pub bootstrap: BootstrapSettings,
    /// The difference (quality points) to size a follow-up for; the observed one when absent.
    pub target_difference: Option<f64>,
    /// The fewest matched examples a verdict needs at this α (`stats::minimum_pairs_for_verdict`).
    pub minimum_pairs: usize,
}

impl AnalysisOptions {
    /// From the suite's section, with an optional target difference.
    pub fn new(section: &AnalysisSection, target_difference: Option<f64>) -> Self {
        AnalysisOptions {
            alpha: section.alpha,
            margin: section.margin,
            power: section.power,
            bootstrap: BootstrapSettings {
                resamples: section.bootstrap_resamples,
                seed: section.seed,
                confidence_level: 1.0 - section.alpha,
            },
            target_difference,
            minimum_pairs: minimum_pairs_for_verdict(section.alpha),
        }
    }

    /// The level of every interval, 1 − α.
    pub fn confidence_level(&self) -> f64 {
        self.bootstrap.confidence_level
    }
}

/// One config's quality, per example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigAnalysis {
    /// Config name.
    pub config: String,
    /// Whether it is the baseline.
    pub baseline: bool,
    /// Examples with at least one scored reply (the n of every statistic below).
    pub examples: usize,
    /// Examples planned for it with no scored reply (every call failed, unscored, or not yet made).
    pub examples_without_score: usize,
    /// Repeats per example in the suite.
    pub repeats: u32,
    /// Per-example mean quality (points): n, mean, sd, t interval at 1 − α, median, …
    pub quality: Summary,
    /// BCa bootstrap interval of the mean (points), at 1 − α.
    pub quality_bootstrap: BootstrapCi,
    /// Mean over examples of the standard deviation across its repeats (points); only with repeats.
    pub within_example_sd: Option<f64>,
    /// Fraction of scored replies that passed.
    pub pass_rate: Option<f64>,
    /// Its interval at 1 − α: Wilson over replies without repeats; the t interval of per-example pass rates with
    /// repeats (`pass_rate_method` says which).
    pub pass_rate_interval: Option<Interval>,
    /// `wilson` or `t_per_example`.
    pub pass_rate_method: &'static str,
}

/// A comparison of `candidate` against `baseline` on the examples both scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparisonAnalysis {
    /// The reference side.
    pub baseline: String,
    /// The side compared with it.
    pub candidate: String,
    /// `baseline` (the decision's comparisons, each config against the suite's baseline) or `pairwise` (the other
    /// pairs); Holm's adjustment runs within each family.
    pub family: &'static str,
    /// Examples scored by the baseline side only, left out of the pairing.
    pub baseline_only: usize,
    /// Examples scored by the candidate side only, left out of the pairing.
    pub candidate_only: usize,
    /// Pairs whose qualities were recomputed on the criteria both sides scored (a criterion scored for one only).
    pub pairs_on_common_criteria: usize,
    /// Pairs left out because no criterion was scored on both sides.
    pub pairs_excluded: usize,
    /// The criteria left out of at least one pair, by id.
    pub criteria_left_out: Vec<String>,
    /// Paired statistics on the per-example quality points (candidate − baseline).
    pub paired: PairedComparison,
    /// Paired bootstrap BCa interval of the mean difference (points), at 1 − α.
    pub bootstrap: BootstrapCi,
    /// McNemar's exact test on pass/fail, without repeats (with repeats per-example pass rates are continuous and
    /// the paired t covers them).
    pub mcnemar: Option<McNemar>,
    /// The test whose p-value decides the verdict: the paired t, or the exact sign test when every difference is
    /// the same number; `None` when the comparison is left out of its Holm family.
    pub verdict_test: Option<VerdictTest>,
    /// That test's p-value, Holm-adjusted within the family; `None` when left out.
    pub p_holm: Option<f64>,
    /// Comparisons in its Holm family.
    pub holm_family_size: usize,
    /// Why it is not in its Holm family, when it is not.
    pub left_out_of_holm: Option<LeftOut>,
    /// The verdict at α with the margin, from the adjusted p and the t interval.
    pub verdict: Verdict,
    /// The level the power answers below are computed at: α/m for a family of m, the level Holm's first step
    /// applies (conservative: the verdict faces at most this).
    pub power_alpha: f64,
    /// Power of this n to detect `sized_for` at `power_alpha`, given the spread of the differences.
    pub power: Option<f64>,
    /// Smallest difference (points) this n detects at the chosen power and `power_alpha`.
    pub min_detectable_difference: Option<f64>,
    /// The difference the sample size below is for (points): the user's target, or the observed mean difference.
    pub sized_for: Option<f64>,
    /// Examples needed to detect `sized_for` at the chosen power and `power_alpha`; `None` when it cannot be computed.
    pub examples_needed: Option<usize>,
    /// Why a power answer above is n/a although it was asked for (a routine that did not converge).
    pub not_available: Vec<String>,
    /// The per-example differences (points), in held-out order, for the chart.
    #[serde(skip)]
    pub differences: Vec<f64>,
}

/// The whole analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Settings used.
    pub options: AnalysisOptions,
    /// Per config, in suite order.
    pub configs: Vec<ConfigAnalysis>,
    /// Every config against the baseline, then every other pair, in suite order.
    pub comparisons: Vec<ComparisonAnalysis>,
    /// Criteria left unscored for more than [`MAX_MISSING_SHARE`] of a config's replies, or never scored for it.
    pub criterion_gaps: Vec<CriterionGap>,
    /// Plain-language cautions about the numbers.
    pub warnings: Vec<String>,
}

/// One config's scored replies, by example (index into the held-out set).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigReplies {
    /// Config name.
    pub config: String,
    /// Example index → its scored replies (one per repeat that has a quality).
    pub examples: ExampleReplies,
}

/// What the analysis needs to know of the suite.
#[derive(Debug, Clone, Copy)]
pub struct Design<'a> {
    /// The rubric the replies were scored with.
    pub rubric: &'a Rubric,
    /// The baseline config's name.
    pub baseline: &'a str,
    /// Repeats per example.
    pub repeats: u32,
    /// Held-out examples planned.
    pub held_out: usize,
}

impl Design<'_> {
    /// Whether McNemar's exact test decides the comparisons instead of the paired t: when the rubric is a single
    /// `label` criterion and there are no repeats, so each reply is right or wrong and the quality is 0 or 1.
    pub fn mcnemar_decides(&self) -> bool {
        self.repeats == 1 && self.rubric.criteria.len() == 1 && self.rubric.criteria[0].label().is_some()
    }
}

/// Runs the analysis over the scored replies of a run (`configs`, in suite order) and how each criterion's outcomes
/// went (`outcomes`, per criterion then config).
pub fn analyse(
    suite: &Suite,
    configs: &[ConfigReplies],
    outcomes: &[Vec<CriterionOutcomes>],
    summaries: &[ConfigSummary],
    options: &AnalysisOptions,
) -> Result<Analysis, stats::StatsError> {
    let design = Design {
        rubric: &suite.rubric,
        baseline: &suite.file.baseline,
        repeats: suite.file.repeats,
        held_out: suite.held_out.examples.len(),
    };
    let mut analysis = analyse_replies(&design, configs, summaries, options)?;
    analysis.criterion_gaps = cautions::criterion_gaps(&suite.rubric, &suite.file.configs, outcomes);
    Ok(analysis)
}

/// The analysis of scored replies, whatever produced them (a run, or a simulation of one).
pub fn analyse_replies(
    design: &Design,
    configs: &[ConfigReplies],
    summaries: &[ConfigSummary],
    options: &AnalysisOptions,
) -> Result<Analysis, stats::StatsError> {
    // Each config's intervals on a thread of their own, beside the comparisons' (which share out the other cores).
    let (configs_analysis, comparisons) = std::thread::scope(|scope| {
        let configs_analysis = scope.spawn(|| {
            configs
                .iter()
                .map(|c| config_analysis(c, design, options))
                .collect::<Result<Vec<_>, _>>()
        });
        let comparisons = comparison::compare_all(design, configs, options);
        let configs_analysis = configs_analysis
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (configs_analysis, comparisons)
    });
    let (configs_analysis, comparisons) = (configs_analysis?, comparisons?);
    let warnings = cautions::cautions(&configs_analysis, &comparisons, summaries, design.repeats, options);
    Ok(Analysis {
        options: *options,
        configs: configs_analysis,
        comparisons,
        criterion_gaps: Vec::new(),
        warnings,
    })
}

fn mean_of(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn config_analysis(
    replies: &ConfigReplies,
    design: &Design,
    options: &AnalysisOptions,
) -> Result<ConfigAnalysis, stats::StatsError> {
    let points = |e: &[ScoredReply]| -> Vec<f64> { e.iter().map(|r| r.quality() * 100.0).collect() };
    let passes =
        |e: &[ScoredReply]| -> Vec<bool> { e.iter().map(|r| r.quality() >= design.rubric.pass_threshold).collect() };
    let examples = &replies.examples;
    let quality: Vec<f64> = examples.values().map(|e| mean_of(&points(e))).collect();
    let confidence = options.confidence_level();
    let all_passes: Vec<bool> = examples.values().flat_map(passes).collect();
    let passed = all_passes.iter().filter(|p| **p).count();
    let repeats = design.repeats;
    let (pass_rate_interval, pass_rate_method) = if repeats > 1 {
        let rates: Vec<f64> = examples
            .values()
            .map(|e| {
                let p = passes(e);
                p.iter().filter(|x| **x).count() as f64 / p.len() as f64
            })
            .collect();
        (summarize(&rates, confidence)?.mean_ci, "t_per_example")
    } else {
        (
            wilson_interval(passed as u64, all_passes.len() as u64, confidence)?,
            "wilson",
        )
    };
    let within: Vec<f64> = examples
        .values()
        .filter_map(|e| summarize(&points(e), confidence).ok()?.sd)
        .collect();
    Ok(ConfigAnalysis {
        config: replies.config.clone(),
        baseline: replies.config == design.baseline,
        examples: quality.len(),
        examples_without_score: design.held_out.saturating_sub(quality.len()),
        repeats,
        quality: summarize(&quality, confidence)?,
        quality_bootstrap: stats::bootstrap_mean_bca(&quality, &options.bootstrap)?,
        within_example_sd: (repeats > 1 && !within.is_empty()).then(|| mean_of(&within)),
        pass_rate: (!all_passes.is_empty()).then(|| passed as f64 / all_passes.len() as f64),
        pass_rate_interval,
        pass_rate_method,
    })
}
