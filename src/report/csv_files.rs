//! `examples.csv` (one row per example × config × repeat) and `summary.csv` (one row per config).
//!
//! Column names are stable; see `docs/report-format.md`.

use super::table::{csv_text, number};
use super::ReportData;

fn finish(writer: csv::Writer<Vec<u8>>) -> std::io::Result<Vec<u8>> {
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// `examples.csv`.
pub fn examples_csv(data: &ReportData) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["example_id", "config", "repeat", "status", "quality", "pass"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(data.suite.rubric.criteria.iter().map(|c| format!("criterion:{}", c.id)));
    let judged: Vec<usize> = data
        .suite
        .rubric
        .criteria
        .iter()
        .enumerate()
        .filter(|(_, c)| c.judge().is_some())
        .map(|(i, _)| i)
        .collect();
    header.extend(
        judged
            .iter()
            .map(|&i| format!("reason:{}", data.suite.rubric.criteria[i].id)),
    );
    header.push("criterion_errors".to_string());
    header.extend(
        [
            "input_tokens",
            "output_tokens",
            "latency_ms",
            "attempts",
            "stop_reason",
            "error_kind",
            "error",
            "output",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    writer.write_record(&header)?;
    for row in &data.rows {
        let record = row.record;
        let mut cells = vec![
            csv_text(&record.example_id),
            csv_text(&record.config),
            record.repeat.to_string(),
            format!("{:?}", record.status).to_lowercase(),
            number(row.quality, 4),
            row.pass.map_or_else(String::new, |p| p.to_string()),
        ];
        cells.extend(row.criteria.iter().map(|c| number(*c, 4)));
        let criteria = row.score.as_ref().map_or(&[][..], |s| s.criteria.as_slice());
        cells.extend(judged.iter().map(|&i| {
            let reasons = criteria
                .get(i)
                .and_then(|c| c.judged.as_ref())
                .map(|j| j.reasons.join(" | "));
            csv_text(reasons.as_deref().unwrap_or(""))
        }));
        let errors: Vec<String> = criteria
            .iter()
            .filter_map(|c| Some(format!("{}: {}", c.id, c.error.as_ref()?)))
            .collect();
        cells.push(csv_text(&errors.join("; ")));
        cells.extend([
            record.input_tokens.to_string(),
            record.output_tokens.to_string(),
            record.latency_ms.to_string(),
            record.attempts.to_string(),
            csv_text(record.stop_reason.as_deref().unwrap_or("")),
            record
                .error
                .as_ref()
                .map_or_else(String::new, |e| e.kind.as_str().to_string()),
            csv_text(record.error.as_ref().map_or("", |e| e.message.as_str())),
            csv_text(record.output.as_deref().unwrap_or("")),
        ]);
        writer.write_record(&cells)?;
    }
    finish(writer)
}

/// `summary.csv`.
pub fn summary_csv(data: &ReportData) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "config",
        "kind",
        "model",
        "baseline",
        "planned",
        "ok",
        "errors",
        "missing",
        "mean_quality",
        "pass_rate",
        "input_tokens",
        "output_tokens",
        "latency_p50_ms",
        "latency_p95_ms",
        "retries",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(data.suite.rubric.criteria.iter().map(|c| format!("criterion:{}", c.id)));
    writer.write_record(&header)?;
    for summary in &data.summaries {
        let mut cells = vec![
            csv_text(&summary.config),
            summary.kind.as_str().to_string(),
            csv_text(&summary.model),
            (summary.config == data.suite.file.baseline).to_string(),
            summary.planned.to_string(),
            summary.ok.to_string(),
            summary.errors.to_string(),
            summary.missing.to_string(),
            number(summary.mean_quality, 4),
            number(summary.pass_rate, 4),
            summary.input_tokens.to_string(),
            summary.output_tokens.to_string(),
            number(summary.latency_p50_ms, 1),
            number(summary.latency_p95_ms, 1),
            summary.retries.to_string(),
        ];
        cells.extend(summary.criteria_means.iter().map(|m| number(*m, 4)));
        writer.write_record(&cells)?;
    }
    finish(writer)
}
