//! `bedrock-eval plan`: what a run will cost before it is paid for.

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::cost::estimate;
use bedrock_eval::{report, suite};

use crate::commands::output::{out, outln};

pub(crate) fn plan(path: &Path, latency_ms: u64, json: bool) -> anyhow::Result<ExitCode> {
    let suite = suite::load(path)?;
    let estimate = estimate::estimate(&suite, &report::costs::catalogue(&suite), latency_ms)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&estimate)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = estimate
        .parts
        .iter()
        .map(|p| {
            vec![
                report::table::markdown_cell(&p.part),
                report::table::markdown_cell(&p.model),
                p.requests.to_string(),
                p.input_tokens.to_string(),
                p.output_tokens.to_string(),
                p.cost.map_or_else(|| "unpriced".to_string(), |c| format!("${c:.4}")),
                report::table::markdown_cell(p.note.as_deref().unwrap_or_default()),
            ]
        })
        .collect();
    out!(
        "{}",
        report::table::markdown_table(
            &[
                "part",
                "model",
                "requests",
                "input tokens",
                "output tokens (est.)",
                "cost (est.)",
                "note"
            ],
            &rows
        )
    );
    outln!(
        "\n{} requests, {} model calls (judge included)",
        estimate.total_requests,
        estimate.total_calls
    );
    for part in &estimate.parts {
        if let Some(minimum) = &part.minimum {
            outln!(
                "{}: minimum serving commitment ${:.2}: {}",
                part.part,
                minimum.cost,
                minimum.description
            );
        }
    }
    outln!(
        "estimated cost ${:.4}{}; estimated duration {:.0} s at the suite's limits and concurrency, assuming {} ms a call",
        estimate.total_cost,
        if estimate.has_unpriced { " (unpriced parts left out)" } else { "" },
        estimate.duration_seconds,
        estimate.assumed_latency_ms
    );
    outln!("output tokens are estimated from each example's reference reply (capped at max_tokens); see docs/cost-model.md");
    Ok(ExitCode::SUCCESS)
}
