//! The statistical sections of `report.md`: the verdict, the comparisons table and the methods, every label at the
//! analysis's own confidence level (1 − α), every branch named as it was used.

use std::collections::BTreeSet;

use super::super::analysis::ComparisonAnalysis;
use super::super::level_percent;
use super::super::table::{markdown_cell, markdown_message, markdown_table};
use super::super::ReportData;
use super::cost::cost_sentence;
use super::{baseline_comparisons, count, interval, p_value, points, signed_points, NOT_ENOUGH};
use crate::stats::{Verdict, VerdictTest, WilcoxonMethod};

/// "95% CI" at the analysis's level.
pub(super) fn ci_label(data: &ReportData) -> String {
    format!("{}% CI", level_percent(data.analysis.options.confidence_level()))
}

/// The decision, in words: criterion gaps first, then one sentence per config against the baseline, then the
/// cautions.
pub(super) fn verdict_section(data: &ReportData) -> String {
    let analysis = &data.analysis;
    let options = &analysis.options;
    let baseline = analysis.configs.iter().find(|c| c.baseline);
    let mut out = String::from("## Verdict\n\n");
    for gap in &analysis.criterion_gaps {
        out.push_str(&format!("> **Warning:** {}\n>\n", markdown_cell(&gap.warning)));
    }
    if !analysis.criterion_gaps.is_empty() {
        out.truncate(out.len() - 2);
        out.push('\n');
    }
    let family = baseline_comparisons(data).count();
    out.push_str(&format!(
        "Against the baseline **{}** ({} examples), at α = {} with Holm-adjusted p-values across the {} and a \
         practical margin of {} quality points; intervals are {}%. A verdict needs at least {} matched examples.\n\n",
        markdown_cell(&data.suite.file.baseline),
        baseline.map_or(0, |b| b.examples),
        options.alpha,
        count(family, "comparison", "comparisons"),
        options.margin,
        level_percent(options.confidence_level()),
        options.minimum_pairs
    ));
    for c in baseline_comparisons(data) {
        let sentence = verdict_sentence(c, data);
        out.push_str(&format!("- **{}** — {sentence}.\n", markdown_cell(&c.candidate)));
    }
    out.push_str(&cost_sentence(&data.cost));
    if !analysis.warnings.is_empty() {
        out.push_str("\nRead with care:\n\n");
        for warning in &analysis.warnings {
            out.push_str(&format!("- {}\n", markdown_message(warning)));
        }
    }
    out
}

fn verdict_sentence(c: &ComparisonAnalysis, data: &ReportData) -> String {
    let options = &data.analysis.options;
    let p = &c.paired;
    let label = c.verdict.label();
    let tally = format!(
        "{}, {}, {}",
        count(p.wins, "win", "wins"),
        count(p.ties, "tie", "ties"),
        count(p.losses, "loss", "losses")
    );
    match c.verdict {
        Verdict::NotEnoughData => format!(
            "**{label}**: {}; a verdict needs at least {}",
            count(p.n, "matched example", "matched examples"),
            options.minimum_pairs
        ),
        Verdict::NoDifferenceObserved => format!("**{label}**: every matched example scored the same"),
        _ if c.verdict_test == Some(VerdictTest::SignTest) => format!(
            "**{label}**: every one of the {} matched examples differs by {} quality points (no spread, so the exact \
             sign test decides: adjusted p {}; {tally})",
            p.n,
            signed_points(p.mean_difference),
            p_value(c.p_holm)
        ),
        verdict => {
            let detail = format!(
                "{} quality points ({} {}; adjusted p {}; {tally})",
                signed_points(p.mean_difference),
                ci_label(data),
                interval(p.t_test.confidence_interval, true),
                p_value(c.p_holm),
            );
            if verdict != Verdict::NoDetectableDifference {
                return format!("**{label}**: {detail}");
            }
            format!(
                "**{label}**: {detail}. With this many examples only differences of about {} points or more are \
                 detectable at {:.0}% power at the level this verdict faces (α/{} = {}){}",
                points(c.min_detectable_difference),
                options.power * 100.0,
                c.holm_family_size.max(1),
                c.power_alpha,
                c.examples_needed.map_or(String::new(), |n| format!(
                    "; detecting {} points would take about {n} examples",
                    signed_points(c.sized_for)
                ))
            )
        }
    }
}

fn comparison_row(c: &ComparisonAnalysis) -> Vec<String> {
    let p = &c.paired;
    let holm = match (c.left_out_of_holm, c.verdict_test) {
        (Some(reason), _) => format!("left out: {}", reason.label()),
        (None, Some(VerdictTest::SignTest)) => format!("{} (sign test)", p_value(c.p_holm)),
        _ => p_value(c.p_holm),
    };
    vec![
        format!("{} vs {}", markdown_cell(&c.candidate), markdown_cell(&c.baseline)),
        p.n.to_string(),
        signed_points(p.mean_difference),
        interval(p.t_test.confidence_interval, true),
        interval(c.bootstrap.interval, true),
        p_value(p.t_test.p_value),
        holm,
        p_value(p.wilcoxon.p_value),
        p_value(p.sign_test.p_value),
        c.mcnemar
            .as_ref()
            .map_or_else(|| "—".to_string(), |m| p_value(Some(m.p_value))),
        p.effect_size_dz
            .map_or_else(|| NOT_ENOUGH.to_string(), |d| format!("{d:.2}")),
        format!("{} / {} / {}", p.wins, p.ties, p.losses),
        c.verdict.label().to_string(),
        c.power
            .map_or_else(|| NOT_ENOUGH.to_string(), |p| format!("{:.0}%", p * 100.0)),
        points(c.min_detectable_difference),
        c.examples_needed
            .map_or_else(|| NOT_ENOUGH.to_string(), |n| n.to_string()),
    ]
}

fn comparison_header(data: &ReportData) -> Vec<String> {
    let ci = ci_label(data);
    [
        "comparison",
        "n",
        "mean Δ",
        &format!("{ci} (t)"),
        &format!("{ci} (bootstrap)"),
        "p (t)",
        "p (Holm)",
        "p (Wilcoxon)",
        "p (sign)",
        "p (McNemar)",
        "d_z",
        "wins / ties / losses",
        "verdict",
        "power",
        "detectable Δ",
        "n needed",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

pub(super) fn comparisons_section(data: &ReportData) -> String {
    let mut out = String::from("\n## Comparisons\n\n");
    let decided_by = if mcnemar_decides(data) {
        "The rubric is a single `label` criterion, so quality is right (100) or wrong (0): the verdict comes from \
         McNemar's exact test on correctness, Holm-adjusted, with the paired t interval of the difference in \
         accuracy points; the t, Wilcoxon and sign tests are shown as checks."
    } else {
        "The verdict comes from the paired t-test's Holm-adjusted p and its interval (the exact sign test's p when \
         every difference is the same number); Wilcoxon, sign and McNemar tests are shown as checks."
    };
    out.push_str(&format!(
        "Each config against the baseline on the examples both scored (Δ = candidate − baseline, in quality \
         points), each pair on the criteria both replies were scored on. {decided_by} *Power* is the chance this many examples detect the \
         observed difference (or `--target-diff`), *detectable Δ* the smallest difference they detect at {:.0}% \
         power, and *n needed* the examples needed for the observed difference: all at the level the verdict faces, \
         α/m for a Holm family of m comparisons.\n\n",
        data.analysis.options.power * 100.0
    ));
    let header = comparison_header(data);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = baseline_comparisons(data).map(comparison_row).collect();
    out.push_str(&markdown_table(&header, &rows));
    let pairwise: Vec<Vec<String>> = data
        .analysis
        .comparisons
        .iter()
        .filter(|c| c.family == "pairwise")
        .map(comparison_row)
        .collect();
    if !pairwise.is_empty() {
        out.push_str("\nThe other pairs (Holm-adjusted among themselves):\n\n");
        out.push_str(&markdown_table(&header, &pairwise));
    }
    if !rows.is_empty() {
        out.push_str("\n![Per-example differences from the baseline](differences.svg)\n");
    }
    out
}

/// Whether McNemar's exact test decided the comparisons (a single `label` criterion without repeats).
fn mcnemar_decides(data: &ReportData) -> bool {
    data.analysis
        .comparisons
        .iter()
        .any(|c| c.verdict_test == Some(VerdictTest::McnemarExact))
}

/// What was computed, naming each branch actually taken.
pub(super) fn methods_section(data: &ReportData) -> String {
    let analysis = &data.analysis;
    let options = &analysis.options;
    let level = level_percent(options.confidence_level());
    let pass_rate = if data.suite.file.repeats > 1 {
        "pass rate with the t interval of per-example pass rates (with repeats a pass rate per example is a \
         continuous score)"
    } else {
        "pass rate with a Wilson interval"
    };
    let compared: Vec<&ComparisonAnalysis> = analysis.comparisons.iter().collect();
    let wilcoxon: BTreeSet<&str> = compared
        .iter()
        .filter(|c| c.paired.wilcoxon.p_value.is_some())
        .map(|c| match c.paired.wilcoxon.method {
            WilcoxonMethod::Exact => "the exact null distribution (no ties or zeros, up to 50 examples)",
            WilcoxonMethod::ExactPermutation => {
                "an exhaustive sign-flip permutation (ties or zeros, up to 13 examples)"
            }
            WilcoxonMethod::NormalApproximation => {
                "the normal approximation with the tie-corrected variance and no continuity correction"
            }
        })
        .collect();
    let wilcoxon = if wilcoxon.is_empty() {
        "Wilcoxon signed-rank was not computed (no comparison has a non-zero difference)".to_string()
    } else {
        format!(
            "Wilcoxon signed-rank as scipy computes it (zeros dropped), here by {}",
            wilcoxon.into_iter().collect::<Vec<_>>().join("; and by ")
        )
    };
    let sign_decided = compared.iter().any(|c| c.verdict_test == Some(VerdictTest::SignTest));
    let verdict_test = if mcnemar_decides(data) {
        "paired t-test and its interval (the verdict's interval; McNemar's exact test on correctness decides it, \
         the rubric being one label criterion)"
    } else if sign_decided {
        "paired t-test and its interval (the verdict's test), and for comparisons whose differences have no spread \
         the exact sign test instead (a t of ±∞ says nothing about how many examples back it)"
    } else {
        "paired t-test and its interval (the verdict's test)"
    };
    format!(
        "\n## Methods\n\nThe unit is the example (repeats averaged first). Every interval is {level}% (1 − α, \
         α = {}). Per config: mean with a Student t interval and a bootstrap BCa interval ({} resamples, seed {}); \
         {pass_rate}. Per comparison, on matched examples scored on the same criteria: {verdict_test}, paired \
         bootstrap BCa interval of the mean difference, {wilcoxon}, exact sign test, McNemar's exact test on \
         pass/fail (without repeats), effect size d_z; Holm's adjustment within the baseline comparisons and within \
         the other pairs. No verdict below {} matched examples, the fewest with which an exact sign test can reach \
         α. Differences within rounding of the scores (16 ulps) count as ties, and a spread that is only rounding \
         as none. Power from the noncentral t at {:.0}%, at α/m for a Holm family of m. Every statistic is checked \
         against scipy and statsmodels; see `docs/report-format.md`.\n",
        options.alpha,
        options.bootstrap.resamples,
        options.bootstrap.seed,
        options.minimum_pairs,
        options.power * 100.0
    )
}
