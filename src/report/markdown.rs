//! `report.md`: what a reviewer reads first.

use super::table::{markdown_cell, markdown_table, number};
use super::ReportData;

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
    out.push_str("## Configs\n\n");
    let rows: Vec<Vec<String>> = data
        .summaries
        .iter()
        .map(|s| {
            let name = if s.config == suite.file.baseline {
                format!("{} (baseline)", markdown_cell(&s.config))
            } else {
                markdown_cell(&s.config)
            };
            vec![
                name,
                s.kind.as_str().to_string(),
                format!("`{}`", markdown_cell(&s.model)),
                s.ok.to_string(),
                number(s.mean_quality.map(|q| q * 100.0), 1),
                number(s.pass_rate.map(|p| p * 100.0), 1),
                (s.errors + s.missing).to_string(),
                format!("{} / {}", s.input_tokens, s.output_tokens),
                format!("{} / {}", number(s.latency_p50_ms, 0), number(s.latency_p95_ms, 0)),
            ]
        })
        .collect();
    out.push_str(&markdown_table(
        &[
            "config",
            "kind",
            "model",
            "replies",
            "mean quality (points)",
            "pass rate %",
            "errors",
            "tokens in / out",
            "latency p50 / p95 ms",
        ],
        &rows,
    ));
    out.push_str(&format!(
        "\nQuality points are 100 × the rubric's weighted score; an example passes at {} points or more.\n",
        number(Some(suite.rubric.pass_threshold * 100.0), 0)
    ));

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
        ("started", metadata.started_at.clone()),
        (
            "finished",
            metadata.finished_at.clone().unwrap_or_else(|| "not finished".into()),
        ),
        ("suite sha256", metadata.suite_sha256.clone()),
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
