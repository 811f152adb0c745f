//! The decision analysis: per-config quality with intervals, and paired comparisons with tests, effect sizes, Holm
//! adjustment, power and a verdict. Pure: scored rows in, numbers out (see `docs/report-format.md` for each field).
//!
//! The unit is the example: a config's repeats of one example are averaged first, and comparisons pair examples
//! that both configs scored. Quality is in points (100 × score) throughout. Nothing is dropped silently: examples
//! scored by only one side of a comparison, failed calls and unscored replies are counted.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{ConfigSummary, ScoredRow};
use crate::stats::{
    self, compare_paired, holm_adjust, mcnemar_exact, min_detectable_difference, paired_bootstrap_mean_difference,
    required_sample_size, summarize, wilson_interval, BootstrapCi, BootstrapSettings, Interval, McNemar,
    PairedComparison, Summary, Verdict,
};
use crate::suite::schema::AnalysisSection;
use crate::suite::Suite;

/// Fewer examples than this and the report warns that intervals are approximate.
pub const SMALL_SAMPLE: usize = 100;

/// How the analysis is run: the suite's `analysis:` settings, and a target difference for the sample-size answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnalysisOptions {
    /// Significance level of the tests.
    pub alpha: f64,
    /// Practical margin δ in quality points: "better" needs the whole interval above +δ.
    pub margin: f64,
    /// Power for the detectable-difference and sample-size answers.
    pub power: f64,
    /// Bootstrap resamples and seed.
    pub bootstrap: BootstrapSettings,
    /// The difference (quality points) to size a follow-up for; the observed one when absent.
    pub target_difference: Option<f64>,
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
        }
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
    /// Per-example mean quality (points): n, mean, sd, t interval, median, …
    pub quality: Summary,
    /// BCa bootstrap interval of the mean (points).
    pub quality_bootstrap: BootstrapCi,
    /// Mean over examples of the standard deviation across its repeats (points); only with repeats.
    pub within_example_sd: Option<f64>,
    /// Fraction of scored replies that passed.
    pub pass_rate: Option<f64>,
    /// Its interval: Wilson over replies without repeats; the t interval of per-example pass rates with repeats.
    pub pass_rate_interval: Option<Interval>,
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
    /// Paired statistics on the per-example quality points (candidate − baseline).
    pub paired: PairedComparison,
    /// Paired bootstrap BCa interval of the mean difference (points).
    pub bootstrap: BootstrapCi,
    /// McNemar's exact test on pass/fail, without repeats (with repeats per-example pass rates are continuous and
    /// the paired t covers them).
    pub mcnemar: Option<McNemar>,
    /// The test whose Holm-adjusted p decides the verdict.
    pub primary_test: PrimaryTest,
    /// Holm-adjusted p-value of the primary test within the family.
    pub p_holm: Option<f64>,
    /// The verdict at α with the margin, from the adjusted p and the t interval.
    pub verdict: Verdict,
    /// Smallest difference (points) this n detects at the chosen power, given the spread of the differences.
    pub min_detectable_difference: Option<f64>,
    /// The difference the sample size below is for (points): the user's target, or the observed mean difference.
    pub sized_for: Option<f64>,
    /// Examples needed to detect `sized_for` at the chosen power; `None` when it cannot be computed.
    pub examples_needed: Option<usize>,
    /// The per-example differences (points), in held-out order, for the chart.
    #[serde(skip)]
    pub differences: Vec<f64>,
}

/// The test that decides a comparison's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrimaryTest {
    /// The paired t-test on per-example quality (the default).
    PairedT,
    /// McNemar's exact test on per-example correctness: when the rubric is one `label` criterion and there are no
    /// repeats, so quality is 0 or 1 (right or wrong).
    McnemarExact,
}

impl PrimaryTest {
    /// For `suite`'s rubric and repeats.
    pub fn for_suite(suite: &Suite) -> Self {
        let criteria = &suite.rubric.criteria;
        if suite.file.repeats == 1 && criteria.len() == 1 && criteria[0].label().is_some() {
            PrimaryTest::McnemarExact
        } else {
            PrimaryTest::PairedT
        }
    }

    /// Its raw p-value in `comparison`.
    fn p_value(self, comparison: &ComparisonAnalysis) -> Option<f64> {
        match self {
            PrimaryTest::PairedT => comparison.paired.t_test.p_value,
            PrimaryTest::McnemarExact => comparison.mcnemar.as_ref().map(|m| m.p_value),
        }
    }
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
    /// Plain-language cautions about the numbers.
    pub warnings: Vec<String>,
}

/// Per-example aggregates of one config: mean quality points, pass fraction, spread over repeats.
#[derive(Debug, Default)]
struct ExampleScores {
    quality: Vec<f64>,
    passes: Vec<bool>,
}

/// Runs the analysis over the scored rows.
pub fn analyse(
    suite: &Suite,
    rows: &[ScoredRow],
    summaries: &[ConfigSummary],
    options: &AnalysisOptions,
) -> Result<Analysis, stats::StatsError> {
    let order: HashMap<&str, usize> = suite
        .held_out
        .examples
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    // config → example index → its scored replies.
    let mut per_config: HashMap<&str, BTreeMap<usize, ExampleScores>> = HashMap::new();
    for row in rows {
        let (Some(quality), Some(&index)) = (row.quality, order.get(row.record.example_id.as_str())) else {
            continue;
        };
        let scores = per_config
            .entry(row.record.config.as_str())
            .or_default()
            .entry(index)
            .or_default();
        scores.quality.push(quality * 100.0);
        scores.passes.push(row.pass == Some(true));
    }
    let empty = BTreeMap::new();
    let repeats = suite.file.repeats;
    let mut warnings = Vec::new();
    let mut configs = Vec::new();
    for config in &suite.file.configs {
        let examples = per_config.get(config.name.as_str()).unwrap_or(&empty);
        configs.push(config_analysis(
            &config.name,
            config.name == suite.file.baseline,
            examples,
            suite,
            options,
        )?);
    }
    let baseline = &suite.file.baseline;
    let mut pairs: Vec<(&str, &str, &'static str)> = suite
        .file
        .configs
        .iter()
        .filter(|c| &c.name != baseline)
        .map(|c| (baseline.as_str(), c.name.as_str(), "baseline"))
        .collect();
    let others: Vec<&str> = suite
        .file
        .configs
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| n != baseline)
        .collect();
    for (i, a) in others.iter().enumerate() {
        for b in &others[i + 1..] {
            pairs.push((a, b, "pairwise"));
        }
    }
    let mut comparisons = Vec::new();
    for (a, b, family) in pairs {
        let left = per_config.get(a).unwrap_or(&empty);
        let right = per_config.get(b).unwrap_or(&empty);
        let mut comparison = compare(a, b, family, left, right, repeats, options)?;
        comparison.primary_test = PrimaryTest::for_suite(suite);
        comparisons.push(comparison);
    }
    for family in ["baseline", "pairwise"] {
        adjust_family(&mut comparisons, family, options)?;
    }
    warnings.extend(cautions(&configs, &comparisons, summaries, repeats));
    Ok(Analysis {
        options: *options,
        configs,
        comparisons,
        warnings,
    })
}

fn mean_of(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn config_analysis(
    name: &str,
    baseline: bool,
    examples: &BTreeMap<usize, ExampleScores>,
    suite: &Suite,
    options: &AnalysisOptions,
) -> Result<ConfigAnalysis, stats::StatsError> {
    let quality: Vec<f64> = examples.values().map(|e| mean_of(&e.quality)).collect();
    let confidence = options.bootstrap.confidence_level;
    let replies: Vec<bool> = examples.values().flat_map(|e| e.passes.iter().copied()).collect();
    let passed = replies.iter().filter(|p| **p).count();
    let repeats = suite.file.repeats;
    let pass_rate_interval = if repeats > 1 {
        let rates: Vec<f64> = examples
            .values()
            .map(|e| e.passes.iter().filter(|p| **p).count() as f64 / e.passes.len() as f64)
            .collect();
        summarize(&rates, confidence)?.mean_ci
    } else {
        wilson_interval(passed as u64, replies.len() as u64, confidence)?
    };
    let within: Vec<f64> = examples
        .values()
        .filter_map(|e| stats::summarize(&e.quality, confidence).ok()?.sd)
        .collect();
    Ok(ConfigAnalysis {
        config: name.to_string(),
        baseline,
        examples: quality.len(),
        examples_without_score: suite.held_out.examples.len().saturating_sub(quality.len()),
        repeats,
        quality: summarize(&quality, confidence)?,
        quality_bootstrap: stats::bootstrap_mean_bca(&quality, &options.bootstrap)?,
        within_example_sd: (repeats > 1 && !within.is_empty()).then(|| mean_of(&within)),
        pass_rate: (!replies.is_empty()).then(|| passed as f64 / replies.len() as f64),
        pass_rate_interval,
    })
}

fn compare(
    baseline: &str,
    candidate: &str,
    family: &'static str,
    left: &BTreeMap<usize, ExampleScores>,
    right: &BTreeMap<usize, ExampleScores>,
    repeats: u32,
    options: &AnalysisOptions,
) -> Result<ComparisonAnalysis, stats::StatsError> {
    let matched: Vec<(&ExampleScores, &ExampleScores)> =
        left.iter().filter_map(|(i, l)| Some((l, right.get(i)?))).collect();
    let a: Vec<f64> = matched.iter().map(|(l, _)| mean_of(&l.quality)).collect();
    let b: Vec<f64> = matched.iter().map(|(_, r)| mean_of(&r.quality)).collect();
    let confidence = options.bootstrap.confidence_level;
    let paired = compare_paired(&a, &b, confidence)?;
    let bootstrap = paired_bootstrap_mean_difference(&a, &b, &options.bootstrap)?;
    let mcnemar = if repeats == 1 && !matched.is_empty() {
        let pass_a: Vec<bool> = matched.iter().map(|(l, _)| l.passes[0]).collect();
        let pass_b: Vec<bool> = matched.iter().map(|(_, r)| r.passes[0]).collect();
        Some(mcnemar_exact(&pass_a, &pass_b)?)
    } else {
        None
    };
    let sd = paired.sd_difference.unwrap_or(0.0);
    let min_detectable = min_detectable_difference(paired.n, sd, options.alpha, options.power)?;
    let sized_for = options
        .target_difference
        .or(paired.mean_difference)
        .filter(|d| *d != 0.0);
    let examples_needed = match sized_for {
        Some(d) => required_sample_size(d, sd, options.alpha, options.power)?.map(|r| r.n),
        None => None,
    };
    Ok(ComparisonAnalysis {
        baseline: baseline.to_string(),
        candidate: candidate.to_string(),
        family,
        baseline_only: left.keys().filter(|i| !right.contains_key(i)).count(),
        candidate_only: right.keys().filter(|i| !left.contains_key(i)).count(),
        paired,
        bootstrap,
        mcnemar,
        primary_test: PrimaryTest::PairedT,
        p_holm: None,
        verdict: Verdict::NoDetectableDifference,
        min_detectable_difference: min_detectable,
        sized_for,
        examples_needed,
        differences: a.iter().zip(&b).map(|(x, y)| y - x).collect(),
    })
}

/// Holm within one family on each comparison's primary test (comparisons without its p-value are left out of
/// it), then the verdicts.
fn adjust_family(
    comparisons: &mut [ComparisonAnalysis],
    family: &str,
    options: &AnalysisOptions,
) -> Result<(), stats::StatsError> {
    let members: Vec<usize> = comparisons
        .iter()
        .enumerate()
        .filter(|(_, c)| c.family == family && c.primary_test.p_value(c).is_some())
        .map(|(i, _)| i)
        .collect();
    let raw: Vec<f64> = members
        .iter()
        .filter_map(|&i| comparisons[i].primary_test.p_value(&comparisons[i]))
        .collect();
    for (&i, p) in members.iter().zip(holm_adjust(&raw)?) {
        comparisons[i].p_holm = Some(p);
    }
    for comparison in comparisons.iter_mut().filter(|c| c.family == family) {
        comparison.verdict = stats::verdict(
            comparison.p_holm,
            comparison.paired.t_test.confidence_interval,
            options.alpha,
            options.margin,
        );
    }
    Ok(())
}

fn cautions(
    configs: &[ConfigAnalysis],
    comparisons: &[ComparisonAnalysis],
    summaries: &[ConfigSummary],
    repeats: u32,
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
        if c.paired.all_differences_zero {
            warnings.push(format!(
                "{name}: every example scored the same on both sides; no difference observed."
            ));
        } else if c.paired.n > 0 && c.paired.ties * 2 > c.paired.n {
            warnings.push(format!(
                "{name}: {} of {} examples tie; the Wilcoxon and sign tests rest on the {} that differ.",
                c.paired.ties,
                c.paired.n,
                c.paired.n - c.paired.ties
            ));
        }
        if let Some(m) = &c.mcnemar {
            if m.baseline_only + m.candidate_only == 0 {
                warnings.push(format!(
                    "{name}: no example passes on one side only, so McNemar's test has nothing to weigh (p = 1)."
                ));
            }
        }
        if c.paired.n < 2 {
            warnings.push(format!(
                "{name}: fewer than two matched examples; not enough data for a test."
            ));
        }
    }
    warnings
}
