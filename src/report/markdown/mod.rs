//! `report.md`: what a reviewer reads first.

mod cost;
mod recommendation;
mod statistics;
mod structured;

use crate::report::tally::LOWEST_SHOWN;
pub use cost::money;
use cost::{cost_section, run_cost_section};
use recommendation::recommendation_lines;
pub(crate) use recommendation::{recommendation_text, Prose};
use statistics::{ci_label, comparisons_section, methods_section, verdict_section};

use super::analysis::{ComparisonAnalysis, ConfigAnalysis};
use super::table::{markdown_cell, markdown_code, markdown_code_cell, markdown_paragraphs, markdown_table, number};
use super::ReportData;
use crate::cost::Serving;
use crate::stats::Interval;

/// What a statistic that cannot be computed shows as (too few values, no spread).
pub(super) const NOT_ENOUGH: &str = "n/a";

/// The longest excerpt of a reply shown in the report.
const EXCERPT_CHARS: usize = 160;

/// The Markdown report.
pub fn report_md(data: &ReportData) -> String {
    let suite = data.suite;
    let metadata = data.metadata;
    let mut out = format!("# {}\n\n", markdown_cell(&suite.file.name));
    out.push_str(&recommendation_lines(data));
    if !suite.file.description.trim().is_empty() {
        out.push_str(&format!("{}\n\n", markdown_paragraphs(&suite.file.description)));
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
            "Judge criteria were scored by {} (temperature {}, median of each criterion's samples). Its calls are \
             the evaluation's own cost, not any config's: {} calls ({} failed), {} input and {} output tokens.\n",
            markdown_code(&judge.model),
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
                    markdown_code_cell(&c.field),
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
    let facts = [
        ("run", metadata.run_id.clone()),
        ("endpoint", metadata.endpoint_description()),
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
    let ci = ci_label(data);
    let (ci_t, ci_bca, ci_pass) = (format!("{ci} (t)"), format!("{ci} (BCa)"), format!("pass {ci}"));
    let mut header = vec![
        "config",
        "kind",
        "examples",
        "quality (points)",
        &ci_t,
        &ci_bca,
        "SD",
        "pass rate %",
        &ci_pass,
        "errors",
        "tokens in / out",
        "latency p50 / p95 ms",
    ];
    // Cost columns at the main volume: "unpriced" (never a zero) for what the catalogue and suite cannot price.
    {
        let cost = &data.cost;
        header.extend(["cost / 1,000 requests", "cost / quality point"]);
        for (row, c) in rows.iter_mut().zip(&cost.configs) {
            let missing = if matches!(c.serving, Serving::Unpriced { .. }) {
                "unpriced"
            } else {
                NOT_ENOUGH
            };
            let per_thousand = c.main().map(|a| money(&cost.currency, a.per_thousand));
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
    out.push_str(&format!(
        "\n![Mean quality per config with {} intervals](quality.svg)\n",
        ci_label(data)
    ));
    out
}

/// A reply's first characters on one line.
pub(in crate::report) fn excerpt(text: &str) -> String {
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
    for (config, lowest) in data.suite.file.configs.iter().zip(&data.lowest) {
        for reply in lowest {
            rows.push(vec![
                markdown_cell(&config.name),
                markdown_cell(&reply.example_id),
                format!("{:.1}", reply.quality * 100.0),
                markdown_cell(&reply.excerpt),
            ]);
        }
    }
    out.push_str(&markdown_table(
        &["config", "example", "quality", "reply (start)"],
        &rows,
    ));
    out
}
