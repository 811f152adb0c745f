//! Paired comparisons: pairing examples on the criteria both sides scored, the paired statistics, each family's
//! Holm adjustment and verdicts, and the power answers at the level the verdict faces.

use super::{AnalysisOptions, ComparisonAnalysis, ConfigReplies, Design};
use crate::score::common_criteria::{pair_all, SideScore};
use crate::stats::{
    self, compare_paired, decide_family_by, mcnemar_exact, min_detectable_difference, paired_bootstrap_mean_difference,
    paired_t_power, required_sample_size, StatsError, Verdict,
};

/// Every config against the baseline (family `baseline`), then every other pair (family `pairwise`), in suite
/// order, each family decided together.
pub(super) fn compare_all(
    design: &Design,
    configs: &[ConfigReplies],
    options: &AnalysisOptions,
) -> Result<Vec<ComparisonAnalysis>, StatsError> {
    let baseline = configs.iter().find(|c| c.config == design.baseline);
    let others: Vec<&ConfigReplies> = configs.iter().filter(|c| c.config != design.baseline).collect();
    let mut pairs: Vec<(&ConfigReplies, &ConfigReplies, &'static str)> = Vec::new();
    if let Some(baseline) = baseline {
        pairs.extend(others.iter().map(|c| (baseline, *c, "baseline")));
    }
    for (i, a) in others.iter().enumerate() {
        for b in &others[i + 1..] {
            pairs.push((a, b, "pairwise"));
        }
    }
    // Each comparison stands alone (its bootstrap seeded on its own), so they are worked out side by side on the
    // machine's cores and kept in order: the same numbers, sooner, for a run of many examples.
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(pairs.len())
        .max(1);
    let chunk = pairs.len().div_ceil(threads).max(1);
    let mut comparisons = std::thread::scope(|scope| {
        let workers: Vec<_> = pairs
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(a, b, family)| compare(design, a, b, family, options))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect::<Result<Vec<_>, _>>()
    })?;
    for family in ["baseline", "pairwise"] {
        decide(&mut comparisons, family, design, options)?;
    }
    Ok(comparisons)
}

fn compare(
    design: &Design,
    left: &ConfigReplies,
    right: &ConfigReplies,
    family: &'static str,
    options: &AnalysisOptions,
) -> Result<ComparisonAnalysis, StatsError> {
    let matched = left
        .examples
        .iter()
        .filter_map(|(i, l)| Some((l, right.examples.get(i)?)));
    let pairs = pair_all(design.rubric, design.rubric, matched);
    let (a, b) = &pairs.points();
    let paired = compare_paired(a, b, options.confidence_level())?;
    let bootstrap = paired_bootstrap_mean_difference(a, b, &options.bootstrap)?;
    let mcnemar = if design.repeats == 1 && !a.is_empty() {
        let first = |sides: &[SideScore]| -> Vec<bool> { sides.iter().map(|s| s.passes[0]).collect() };
        Some(mcnemar_exact(&first(&pairs.baseline), &first(&pairs.candidate))?)
    } else {
        None
    };
    let sized_for = options
        .target_difference
        .or(paired.mean_difference)
        .filter(|d| *d != 0.0);
    Ok(ComparisonAnalysis {
        baseline: left.config.clone(),
        candidate: right.config.clone(),
        family,
        baseline_only: left
            .examples
            .keys()
            .filter(|i| !right.examples.contains_key(*i))
            .count(),
        candidate_only: right
            .examples
            .keys()
            .filter(|i| !left.examples.contains_key(*i))
            .count(),
        pairs_on_common_criteria: pairs.on_common_criteria,
        pairs_excluded: pairs.excluded,
        criteria_left_out: pairs.left_out.into_iter().collect(),
        differences: stats::paired_differences(a, b)?,
        paired,
        bootstrap,
        mcnemar,
        verdict_test: None,
        p_holm: None,
        holm_family_size: 0,
        left_out_of_holm: None,
        verdict: Verdict::NotEnoughData,
        power_alpha: options.alpha,
        power: None,
        min_detectable_difference: None,
        sized_for,
        examples_needed: None,
        not_available: Vec::new(),
    })
}

/// Holm within one family, the verdicts, and then each comparison's power answers at its family's level.
fn decide(
    comparisons: &mut [ComparisonAnalysis],
    family: &str,
    design: &Design,
    options: &AnalysisOptions,
) -> Result<(), StatsError> {
    let members: Vec<usize> = (0..comparisons.len())
        .filter(|&i| comparisons[i].family == family)
        .collect();
    let paired: Vec<&stats::PairedComparison> = members.iter().map(|&i| &comparisons[i].paired).collect();
    // Right-or-wrong scores are decided by the test made for them (see `Design::mcnemar_decides`).
    let mcnemar_p: Option<Vec<Option<f64>>> = design.mcnemar_decides().then(|| {
        members
            .iter()
            .map(|&i| comparisons[i].mcnemar.as_ref().map(|m| m.p_value))
            .collect()
    });
    let decisions = decide_family_by(&paired, mcnemar_p.as_deref(), options.alpha, options.margin)?;
    for (&i, decision) in members.iter().zip(decisions) {
        let c = &mut comparisons[i];
        c.verdict_test = decision.test;
        c.p_holm = decision.p_holm;
        c.holm_family_size = decision.family_size;
        c.left_out_of_holm = decision.left_out;
        c.verdict = decision.verdict;
        c.power_alpha = decision.power_alpha;
        power_answers(c, options)?;
    }
    Ok(())
}

/// Power, detectable difference and examples needed, at the comparison's `power_alpha`. A routine that reaches its
/// iteration cap leaves its answer n/a and says why in `not_available`; other errors are bugs and propagate.
fn power_answers(c: &mut ComparisonAnalysis, options: &AnalysisOptions) -> Result<(), StatsError> {
    let n = c.paired.n;
    let sd = c.paired.sd_difference.unwrap_or(0.0);
    let alpha = c.power_alpha;
    let mut reasons = Vec::new();
    let mut available = |result: Result<Option<f64>, StatsError>| match result {
        Ok(value) => Ok(value),
        Err(e) if e.is_not_available() => {
            reasons.push(e.to_string());
            Ok(None)
        }
        Err(e) => Err(e),
    };
    c.min_detectable_difference = available(min_detectable_difference(n, sd, alpha, options.power))?;
    let dz = c.sized_for.filter(|_| sd > 0.0).map(|d| d.abs() / sd);
    c.power = match dz {
        Some(dz) if dz.is_finite() => available(paired_t_power(dz, n, alpha))?,
        _ => None,
    };
    c.examples_needed = match c.sized_for {
        Some(d) => available(required_sample_size(d, sd, alpha, options.power).map(|r| r.map(|r| r.n as f64)))?
            .map(|n| n as usize),
        None => None,
    };
    c.not_available = reasons;
    Ok(())
}
