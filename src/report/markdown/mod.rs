//! `report.md`: what a reviewer reads first.

mod cost;
mod structured;

pub use cost::money;
use cost::{cost_section, cost_sentence, run_cost_section};

use super::analysis::{ComparisonAnalysis, ConfigAnalysis};
use super::table::{markdown_cell, markdown_table, number};
use super::ReportData;
use crate::cost::Serving;
use crate::stats::{Interval, Verdict};

/// What a statistic that cannot be computed shows as (too few values, no spread).
pub(super) const NOT_ENOUGH: &str = "n/a";

/// The longest excerpt of a reply shown in the report.
const EXCERPT_CHARS: usize = 160;

/// Examples shown per config among the lowest-scoring.
const LOWEST_SHOWN: usize = 3;

/// The Markdown report.
pub fn report_md(data: &ReportData) -> String {
    let suite = data.suite;
    let metadata = data.metadata;
    let mut out = format!("# {}\n\n", markdown_cell(&suite.file.name));
    if !suite.file.description.trim().is_empty() {
        out.push_str(&format!("{}\n\n", suite.file.description.trim()));
    }
    if metadata.endpoint.is_simulated() {
        out.push_str(
            "> **Simulated run.** Every reply came from bedrock-eval's embedded endpoint, whose models are \
             deterministic simulations: the numbers show the harness working, not how real models compare.\n\n",
        );
    }
    out.push_str(&verdict_section(data));
    out.push_str(&configs_section(data));
    out.push_str(&comparisons_section(data));
    out.push_str(&cost_section(data));
    out.push_str("\n## Criteria\n\nMean score (0–1) of each criterion over the replies it applies to.\n\n");
    let mut header = vec!["criterion".to_string(), "weight".to_string()];
    header.extend(data.summaries.iter().map(|s| markdown_cell(&s.config)));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = suite
        .rubric
        .criteria
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let id = if c.gate {
                format!("{} (gate)", c.id)
            } else {
                c.id.clone()
            };
            let mut row = vec![markdown_cell(&id), number(Some(c.weight), 1)];
            row.extend(data.summaries.iter().map(|s| number(s.criteria_means[i], 3)));
            row
        })
        .collect();
    out.push_str(&markdown_table(&header, &rows));
    let configs: Vec<String> = data.summaries.iter().map(|s| s.config.clone()).collect();
    out.push_str(&structured::structured_sections(&data.structured, &configs));
    out.push_str(&structured::scorers_section(data));
    out.push_str(&lowest_section(data));

    if let (Some(usage), Some(judge)) = (&data.judge, &suite.file.judge) {
        out.push_str("\n## Judge\n\n");
        out.push_str(&format!(
            "Judge criteria were scored by `{}` (temperature {}, median of each criterion's samples). Its calls are \
             the evaluation's own cost, not any config's: {} calls ({} failed), {} input and {} output tokens.\n",
            markdown_cell(&judge.model),
            judge.temperature,
            usage.calls,
            usage.failed_calls,
            usage.input_tokens,
            usage.output_tokens
        ));
        if usage.criterion_errors > 0 {
            out.push_str(&format!(
                "\n{} criterion verdicts could not be judged (a failed call, or malformed after every re-ask); those \
                 criteria are left out of the affected examples' scores, never counted as zero. `examples.csv` \
                 lists each in `criterion_errors`.\n",
                usage.criterion_errors
            ));
        }
    }

    if !data.calibration.is_empty() {
        out.push_str(
            "\n## Judge calibration\n\nAgreement of the judge's level with human labels on the same replies \
             (Spearman's ρ on average ranks; Cohen's kappa with quadratic and linear weights; mean absolute \
             difference in levels).\n\n",
        );
        let rows: Vec<Vec<String>> = data
            .calibration
            .iter()
            .map(|c| {
                let a = &c.agreement;
                vec![
                    markdown_cell(&c.criterion),
                    format!("`{}`", markdown_cell(&c.field)),
                    a.n.to_string(),
                    number(a.spearman.rho, 3),
                    number(a.kappa_quadratic, 3),
                    number(a.kappa_linear, 3),
                    number(a.mean_absolute_difference, 2),
                    c.unjudged.to_string(),
                ]
            })
            .collect();
        out.push_str(&markdown_table(
            &[
                "criterion",
                "labels",
                "pairs",
                "Spearman ρ",
                "κ quadratic",
                "κ linear",
                "mean |Δ| levels",
                "labelled but unjudged",
            ],
            &rows,
        ));
    }

    let failures: Vec<Vec<String>> = data
        .summaries
        .iter()
        .flat_map(|s| {
            s.errors_by_kind
                .iter()
                .map(move |(kind, count)| vec![markdown_cell(&s.config), kind.as_str().to_string(), count.to_string()])
        })
        .collect();
    let missing: usize = data.summaries.iter().map(|s| s.missing).sum();
    if !failures.is_empty() || missing > 0 {
        out.push_str("\n## Failed and missing requests\n\n");
        if !failures.is_empty() {
            out.push_str("Requests that ended in an error after every retry; they are counted, not scored.\n\n");
            out.push_str(&markdown_table(&["config", "error", "requests"], &failures));
        }
        if missing > 0 {
            out.push_str(&format!(
                "\n{missing} planned requests have no record yet (the run was interrupted); resume it to complete them.\n"
            ));
        }
    }
    out.push_str(&run_cost_section(data));
    out.push_str(&methods_section(data));
    let retries: usize = data.summaries.iter().map(|s| s.retries).sum();
    out.push_str("\n## Run\n\n");
    let endpoint = match &metadata.endpoint {
        crate::run::EndpointInfo::Simulated { .. } => "embedded endpoint (simulated models)".to_string(),
        crate::run::EndpointInfo::Bedrock { endpoint_url, region } => format!(
            "Amazon Bedrock{}{}",
            region.as_ref().map_or(String::new(), |r| format!(", {r}")),
            endpoint_url
                .as_ref()
                .map_or(String::new(), |u| format!(", endpoint {u}"))
        ),
    };
    let facts = [
        ("run", metadata.run_id.clone()),
        ("endpoint", endpoint),
        (
            "mode",
            match metadata.mode {
                crate::run::RunMode::Live => "live (on-demand calls)".to_string(),
                crate::run::RunMode::Batch => "batch inference (the run's cost at batch prices)".to_string(),
            },
        ),
        ("started", metadata.started_at.clone()),
        (
            "finished",
            metadata.finished_at.clone().unwrap_or_else(|| "not finished".into()),
        ),
        (
            "suite",
            format!("{} (sha256 {})", metadata.suite_path.display(), metadata.suite_sha256),
        ),
        ("rubric sha256", suite.rubric.sha256.clone()),
        ("held-out sha256", metadata.held_out_sha256.clone()),
        (
            "models",
            metadata
                .models
                .iter()
                .map(|(config, model)| format!("{config}: {model}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ("held-out examples", suite.held_out.examples.len().to_string()),
        ("repeats", suite.file.repeats.to_string()),
        ("retries", retries.to_string()),
        ("harness", format!("bedrock-eval {}", metadata.harness_version)),
    ];
    for (name, value) in facts {
        out.push_str(&format!("- {name}: {}\n", markdown_cell(&value)));
    }
    if data.stale_records > 0 {
        out.push_str(&format!(
            "- {} records belong to requests the suite no longer makes (it changed since); they are not reported\n",
            data.stale_records
        ));
    }
    out
}

/// "1 loss", "2 losses".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn points(value: Option<f64>) -> String {
    value.map_or_else(|| NOT_ENOUGH.to_string(), |v| format!("{v:.1}"))
}

fn signed_points(value: Option<f64>) -> String {
    value.map_or_else(|| NOT_ENOUGH.to_string(), |v| format!("{v:+.1}"))
}

fn interval(value: Option<Interval>, signed: bool) -> String {
    match value {
        Some(i) if signed => format!("{:+.1} to {:+.1}", i.lower, i.upper),
        Some(i) => format!("{:.1} to {:.1}", i.lower, i.upper),
        None => NOT_ENOUGH.to_string(),
    }
}

fn percent_interval(value: Option<Interval>) -> String {
    value.map_or_else(
        || NOT_ENOUGH.to_string(),
        |i| format!("{:.1} to {:.1}", i.lower * 100.0, i.upper * 100.0),
    )
}

/// A p-value as reviewers read it: "< 0.001" below that, three decimals otherwise.
pub fn p_value(value: Option<f64>) -> String {
    match value {
        Some(p) if p < 0.001 => "< 0.001".to_string(),
        Some(p) => format!("{p:.3}"),
        None => NOT_ENOUGH.to_string(),
    }
}

fn baseline_comparisons<'d>(data: &'d ReportData) -> impl Iterator<Item = &'d ComparisonAnalysis> {
    data.analysis.comparisons.iter().filter(|c| c.family == "baseline")
}

/// The decision, in words: one sentence per config against the baseline, then the cautions.
fn verdict_section(data: &ReportData) -> String {
    let analysis = &data.analysis;
    let options = &analysis.options;
    let baseline = analysis.configs.iter().find(|c| c.baseline);
    let mut out = String::from("## Verdict\n\n");
    out.push_str(&format!(
        "Against the baseline **{}** ({} examples), at α = {} with Holm-adjusted p-values across the comparisons \
         and a practical margin of {} quality points; intervals are {:.0}%:\n\n",
        markdown_cell(&data.suite.file.baseline),
        baseline.map_or(0, |b| b.examples),
        options.alpha,
        options.margin,
        options.bootstrap.confidence_level * 100.0
    ));
    for c in baseline_comparisons(data) {
        let p = &c.paired;
        let sentence = if p.n < 2 {
            format!("not enough data ({} matched examples)", p.n)
        } else if p.all_differences_zero {
            "no difference observed: every matched example scored the same".to_string()
        } else {
            let detail = format!(
                "{} quality points (95% CI {}; adjusted p {}; {}, {}, {})",
                signed_points(p.mean_difference),
                interval(p.t_test.confidence_interval, true),
                p_value(c.p_holm),
                count(p.wins, "win", "wins"),
                count(p.ties, "tie", "ties"),
                count(p.losses, "loss", "losses")
            );
            match c.verdict {
                Verdict::NoDetectableDifference => format!(
                    "**no detectable difference**: {detail}. With this many examples only differences of about {} \
                     points or more are detectable at {:.0}% power{}",
                    points(c.min_detectable_difference),
                    options.power * 100.0,
                    c.examples_needed.map_or(String::new(), |n| format!(
                        "; detecting {} points would take about {n} examples",
                        signed_points(c.sized_for)
                    ))
                ),
                verdict => format!("**{}**: {detail}", verdict.label()),
            }
        };
        out.push_str(&format!("- **{}** — {sentence}.\n", markdown_cell(&c.candidate)));
    }
    if let Some(cost) = &data.cost {
        out.push_str(&cost_sentence(cost));
    }
    if !analysis.warnings.is_empty() {
        out.push_str("\nRead with care:\n\n");
        for warning in &analysis.warnings {
            out.push_str(&format!("- {}\n", markdown_cell(warning)));
        }
    }
    out
}

fn config_row(c: &ConfigAnalysis, data: &ReportData) -> Vec<String> {
    let summary = data.summaries.iter().find(|s| s.config == c.config);
    let name = if c.baseline {
        format!("{} (baseline)", markdown_cell(&c.config))
    } else {
        markdown_cell(&c.config)
    };
    vec![
        name,
        summary.map_or(String::new(), |s| s.kind.as_str().to_string()),
        c.examples.to_string(),
        points(c.quality.mean),
        interval(c.quality.mean_ci, false),
        interval(c.quality_bootstrap.interval, false),
        points(c.quality.sd),
        c.pass_rate
            .map_or_else(|| NOT_ENOUGH.to_string(), |r| format!("{:.1}", r * 100.0)),
        percent_interval(c.pass_rate_interval),
        summary.map_or(String::new(), |s| (s.errors + s.missing).to_string()),
        summary.map_or(String::new(), |s| format!("{} / {}", s.input_tokens, s.output_tokens)),
        summary.map_or(String::new(), |s| {
            format!("{} / {}", number(s.latency_p50_ms, 0), number(s.latency_p95_ms, 0))
        }),
    ]
}

fn configs_section(data: &ReportData) -> String {
    let mut out = String::from("\n## Configs\n\n");
    let mut rows: Vec<Vec<String>> = data.analysis.configs.iter().map(|c| config_row(c, data)).collect();
    let mut header = vec![
        "config",
        "kind",
        "examples",
        "quality (points)",
        "95% CI (t)",
        "95% CI (BCa)",
        "SD",
        "pass rate %",
        "pass 95% CI",
        "errors",
        "tokens in / out",
        "latency p50 / p95 ms",
    ];
    // Cost columns once the suite is costed (at its main volume); never placeholders.
    if let Some(cost) = &data.cost {
        header.extend(["cost / 1,000 requests", "cost / quality point"]);
        for (row, c) in rows.iter_mut().zip(&cost.configs) {
            let missing = if matches!(c.serving, Serving::Unpriced { .. }) {
                "unpriced"
            } else {
                NOT_ENOUGH
            };
            let per_thousand = c.at_volumes.first().map(|a| money(&cost.currency, a.per_thousand));
            row.push(per_thousand.unwrap_or_else(|| missing.to_string()));
            row.push(
                c.per_quality_point
                    .map_or_else(|| missing.to_string(), |v| money(&cost.currency, v)),
            );
        }
    }
    out.push_str(&markdown_table(&header, &rows));
    let repeats = data.suite.file.repeats;
    out.push_str(&format!(
        "\nQuality points are 100 × the rubric's weighted score, averaged per example{}; an example passes at {} \
         points or more. The pass-rate interval is {}. {NOT_ENOUGH}: not enough data to compute.\n",
        if repeats > 1 {
            format!(" over its {repeats} repeats")
        } else {
            String::new()
        },
        number(Some(data.suite.rubric.pass_threshold * 100.0), 0),
        if repeats > 1 {
            "the t interval of per-example pass rates"
        } else {
            "Wilson's"
        }
    ));
    if let Some(sds) = data
        .analysis
        .configs
        .iter()
        .map(|c| {
            c.within_example_sd
                .map(|sd| format!("{} {sd:.1}", markdown_cell(&c.config)))
        })
        .collect::<Option<Vec<_>>>()
    {
        out.push_str(&format!(
            "\nWithin-example SD across repeats (points): {}.\n",
            sds.join(", ")
        ));
    }
    out.push_str("\n![Mean quality per config with 95% confidence intervals](quality.svg)\n");
    out
}

fn comparison_row(c: &ComparisonAnalysis) -> Vec<String> {
    let p = &c.paired;
    vec![
        format!("{} vs {}", markdown_cell(&c.candidate), markdown_cell(&c.baseline)),
        p.n.to_string(),
        signed_points(p.mean_difference),
        interval(p.t_test.confidence_interval, true),
        interval(c.bootstrap.interval, true),
        p_value(p.t_test.p_value),
        p_value(c.p_holm),
        p_value(p.wilcoxon.p_value),
        p_value(p.sign_test.p_value),
        c.mcnemar
            .as_ref()
            .map_or_else(|| "—".to_string(), |m| p_value(Some(m.p_value))),
        p.effect_size_dz
            .map_or_else(|| NOT_ENOUGH.to_string(), |d| format!("{d:.2}")),
        format!("{} / {} / {}", p.wins, p.ties, p.losses),
        c.verdict.label().to_string(),
        points(c.min_detectable_difference),
        c.examples_needed
            .map_or_else(|| NOT_ENOUGH.to_string(), |n| n.to_string()),
    ]
}

const COMPARISON_HEADER: [&str; 15] = [
    "comparison",
    "n",
    "mean Δ",
    "95% CI (t)",
    "95% CI (bootstrap)",
    "p (t)",
    "p (Holm)",
    "p (Wilcoxon)",
    "p (sign)",
    "p (McNemar)",
    "d_z",
    "wins / ties / losses",
    "verdict",
    "detectable Δ",
    "n needed",
];

fn comparisons_section(data: &ReportData) -> String {
    let mut out = String::from("\n## Comparisons\n\n");
    let decided_by = if data
        .analysis
        .comparisons
        .iter()
        .any(|c| c.primary_test == super::analysis::PrimaryTest::McnemarExact)
    {
        "The rubric is a single `label` criterion, so quality is right (100) or wrong (0): the verdict comes from \
         McNemar's exact test on correctness, Holm-adjusted, with the paired t interval of the difference in \
         accuracy points; the t, Wilcoxon and sign tests are shown as checks."
    } else {
        "The verdict comes from the paired t-test's Holm-adjusted p and its interval; Wilcoxon, sign and McNemar \
         tests are shown as checks."
    };
    out.push_str(&format!(
        "Each config against the baseline on the examples both scored (Δ = candidate − baseline, in quality \
         points). {decided_by} *Detectable Δ* is the smallest difference this many examples detect at the chosen \
         power; *n needed* is the examples needed to detect the observed difference (or `--target-diff`).\n\n",
    ));
    let rows: Vec<Vec<String>> = baseline_comparisons(data).map(comparison_row).collect();
    out.push_str(&markdown_table(&COMPARISON_HEADER, &rows));
    let pairwise: Vec<Vec<String>> = data
        .analysis
        .comparisons
        .iter()
        .filter(|c| c.family == "pairwise")
        .map(comparison_row)
        .collect();
    if !pairwise.is_empty() {
        out.push_str("\nThe other pairs (Holm-adjusted among themselves):\n\n");
        out.push_str(&markdown_table(&COMPARISON_HEADER, &pairwise));
    }
    if !rows.is_empty() {
        out.push_str("\n![Per-example differences from the baseline](differences.svg)\n");
    }
    out
}

/// A reply's first characters on one line.
fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = flat.chars().take(EXCERPT_CHARS).collect();
    if flat.chars().count() > EXCERPT_CHARS {
        cut.push('…');
    }
    cut
}

fn lowest_section(data: &ReportData) -> String {
    let mut out = format!(
        "\n## Lowest-scoring examples\n\nThe {LOWEST_SHOWN} lowest-scoring replies of each config, with the start \
         of the reply; `examples.csv` has every reply in full.\n\n"
    );
    let mut rows = Vec::new();
    for config in &data.suite.file.configs {
        let mut scored: Vec<_> = data
            .rows
            .iter()
            .filter(|r| r.record.config == config.name)
            .filter_map(|r| Some((r.quality?, r)))
            .collect();
        scored.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then_with(|| a.1.record.example_id.cmp(&b.1.record.example_id))
        });
        for (quality, row) in scored.into_iter().take(LOWEST_SHOWN) {
            rows.push(vec![
                markdown_cell(&config.name),
                markdown_cell(&row.record.example_id),
                format!("{:.1}", quality * 100.0),
                markdown_cell(&excerpt(row.record.output.as_deref().unwrap_or(""))),
            ]);
        }
    }
    out.push_str(&markdown_table(
        &["config", "example", "quality", "reply (start)"],
        &rows,
    ));
    out
}

fn methods_section(data: &ReportData) -> String {
    let options = &data.analysis.options;
    let mcnemar_decides = data
        .analysis
        .comparisons
        .iter()
        .any(|c| c.primary_test == super::analysis::PrimaryTest::McnemarExact);
    let t_role = if mcnemar_decides {
        "the interval of the verdict; McNemar's exact test decides it, the rubric being one label criterion"
    } else {
        "the verdict's test"
    };
    format!(
        "\n## Methods\n\nThe unit is the example (repeats averaged first). Per config: mean with a Student t interval \
         and a bootstrap BCa interval ({} resamples, seed {}); pass rate with a Wilson interval. Per comparison, on \
         matched examples: paired t-test and its interval ({t_role}), paired bootstrap BCa interval of the \
         mean difference, Wilcoxon signed-rank as scipy computes it (zeros dropped; exact null without ties up to 50 \
         examples, otherwise the normal approximation with the tie-corrected variance and no continuity correction), \
         exact sign test, McNemar's exact test on pass/fail (without repeats), effect size d_z; Holm's adjustment \
         within the baseline comparisons and within the other pairs. Power from the noncentral t at {:.0}%. Every \
         statistic is checked against scipy and statsmodels; see `docs/report-format.md`.\n",
        options.bootstrap.resamples,
        options.bootstrap.seed,
        options.power * 100.0
    )
}
