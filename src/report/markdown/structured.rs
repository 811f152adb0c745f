//! `report.md`'s sections for replies beyond free text: per-field accuracy of `json_fields` criteria, for each
//! `label` criterion the classification metrics and a confusion matrix per config, and what the `command` criteria's
//! programs could not score.

use super::super::classification::{LabelMetrics, StructuredResults};
use super::super::table::{markdown_cell, markdown_table, number};
use super::{percent_interval, NOT_ENOUGH};
use crate::report::{level_percent, ReportData};

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| NOT_ENOUGH.to_string(), |v| format!("{:.1}", v * 100.0))
}

/// The "Fields" and "Classification" sections; empty when the rubric has neither kind.
pub(super) fn structured_sections(results: &StructuredResults, configs: &[String]) -> String {
    let mut out = String::new();
    if !results.fields.is_empty() {
        out.push_str(
            "\n## Fields\n\nAccuracy (%) of each field of the JSON replies, per config, over the replies whose \
             example has a value for it (right / compared).\n\n",
        );
        let mut header = vec!["criterion".to_string(), "field".to_string()];
        header.extend(configs.iter().map(|c| markdown_cell(c)));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut rows: Vec<Vec<String>> = Vec::new();
        for chunk in results.fields.chunks(configs.len().max(1)) {
            let mut row = vec![
                markdown_cell(&chunk[0].criterion),
                format!("`{}`", markdown_cell(&chunk[0].path)),
            ];
            row.extend(
                chunk
                    .iter()
                    .map(|f| format!("{} ({}/{})", percent(f.accuracy), f.correct, f.replies)),
            );
            rows.push(row);
        }
        out.push_str(&markdown_table(&header, &rows));
    }
    let mut criteria: Vec<&str> = results.labels.iter().map(|l| l.criterion.as_str()).collect();
    criteria.dedup();
    for criterion in criteria {
        let metrics: Vec<&LabelMetrics> = results.labels.iter().filter(|l| l.criterion == criterion).collect();
        out.push_str(&label_section(criterion, &metrics));
    }
    out
}

fn label_section(criterion: &str, metrics: &[&LabelMetrics]) -> String {
    let mut out = format!("\n## Classification: {}\n\n", markdown_cell(criterion));
    // The analysis' level, 1 − α, which every metric of the section was computed at.
    let level = metrics
        .first()
        .map_or_else(String::new, |m| level_percent(m.metrics.bootstrap.confidence_level));
    out.push_str(&format!(
        "Accuracy with Wilson's {level}% interval (a bootstrap percentile interval with repeats), and macro-F1 \
         (the mean of the classes' F1) with a bootstrap percentile interval over examples ({} resamples, seed {}). \
         Precision, recall and F1 are 0 where their denominator is 0.\n\n",
        metrics.first().map_or(0, |m| m.metrics.bootstrap.resamples),
        metrics.first().map_or(0, |m| m.metrics.bootstrap.seed),
    ));
    let rows: Vec<Vec<String>> = metrics
        .iter()
        .map(|l| {
            let m = &l.metrics;
            vec![
                markdown_cell(&l.config),
                m.replies.to_string(),
                percent(m.accuracy),
                percent_interval(m.accuracy_interval),
                number(m.macro_f1, 3),
                m.macro_f1_interval.map_or_else(
                    || NOT_ENOUGH.to_string(),
                    |i| format!("{:.3} to {:.3}", i.lower, i.upper),
                ),
            ]
        })
        .collect();
    out.push_str(&markdown_table(
        &[
            "config",
            "replies",
            "accuracy %",
            &format!("{level}% CI"),
            "macro-F1",
            &format!("{level}% CI (bootstrap)"),
        ],
        &rows,
    ));

    // Per class: F1, with precision and recall, one column per config.
    let mut classes: Vec<&str> = metrics
        .iter()
        .flat_map(|l| l.metrics.classes.iter().map(|c| c.label.as_str()))
        .collect();
    classes.sort_unstable();
    classes.dedup();
    let mut header = vec!["class".to_string()];
    header.extend(
        metrics
            .iter()
            .map(|l| format!("{} F1 (P / R)", markdown_cell(&l.config))),
    );
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = classes
        .iter()
        .map(|class| {
            let mut row = vec![markdown_cell(class)];
            row.extend(metrics.iter().map(|l| {
                l.metrics.classes.iter().find(|c| c.label == *class).map_or_else(
                    || NOT_ENOUGH.to_string(),
                    |c| format!("{:.2} ({:.2} / {:.2}; n {})", c.f1, c.precision, c.recall, c.support),
                )
            }));
            row
        })
        .collect();
    out.push_str("\nPer class (n: replies whose expected label it is):\n\n");
    out.push_str(&markdown_table(&header, &rows));

    for l in metrics {
        let matrix = &l.metrics.confusion;
        out.push_str(&format!(
            "\nConfusion matrix, **{}** (rows: expected; columns: predicted):\n\n",
            markdown_cell(&l.config)
        ));
        let mut header = vec!["expected \\ predicted".to_string()];
        header.extend(matrix.predicted.iter().map(|p| markdown_cell(p)));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows: Vec<Vec<String>> = matrix
            .expected
            .iter()
            .zip(&matrix.counts)
            .map(|(expected, counts)| {
                let mut row = vec![markdown_cell(expected)];
                row.extend(counts.iter().map(ToString::to_string));
                row
            })
            .collect();
        out.push_str(&markdown_table(&header, &rows));
    }
    out
}

/// The "Scorers" section: per `command` criterion and config, the replies its program scored and those it could
/// not (crash, timeout, unreadable answer); empty without `command` criteria.
pub(super) fn scorers_section(data: &ReportData) -> String {
    let criteria: Vec<(usize, &crate::score::Criterion)> = data
        .suite
        .rubric
        .criteria
        .iter()
        .enumerate()
        .filter(|(_, c)| c.command().is_some())
        .collect();
    if criteria.is_empty() {
        return String::new();
    }
    let mut rows = Vec::new();
    let mut first_errors = Vec::new();
    for (i, criterion) in &criteria {
        for (summary, outcomes) in data.summaries.iter().zip(&data.outcomes[*i]) {
            if let Some(first) = &outcomes.first_error {
                first_errors.push(format!("`{}` ({}): {first}", criterion.id, summary.config));
            }
            rows.push(vec![
                markdown_cell(&criterion.id),
                markdown_cell(&summary.config),
                (outcomes.replies - outcomes.errors).to_string(),
                outcomes.errors.to_string(),
            ]);
        }
    }
    let mut out = String::from(
        "\n## Scorers\n\n`command` criteria are scored by your programs (each call kept in `commands.jsonl`). A reply \
         a program could not score — it crashed, ran past its timeout, or did not print `{\"score\": …}` — is a \
         criterion error: left out of that example's score, never counted as zero, and listed in `examples.csv`'s \
         `criterion_errors`.\n\n",
    );
    out.push_str(&markdown_table(&["criterion", "config", "scored", "errors"], &rows));
    if !first_errors.is_empty() {
        out.push_str("\nFirst error of each:\n\n");
        for error in first_errors {
            out.push_str(&format!("- {}\n", markdown_cell(&error)));
        }
    }
    out
}
