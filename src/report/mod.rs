//! Reports derived from a run's records: scored rows, per-config summaries, and one writer per format.
//!
//! Nothing here calls a model; `bedrock-eval report RUN_DIR` rebuilds every file from `records.jsonl`.

pub mod analysis;
pub mod charts;
pub mod classification;
pub mod cost_charts;
pub mod costs;
mod csv_files;
pub mod html;
pub mod leakage;
mod markdown;
pub mod scoring;
mod streamed;
pub mod table;
pub mod tally;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::provider::CallErrorKind;
use crate::run;
use crate::run::RunMetadata;
use crate::suite::schema::ConfigKind;
use crate::suite::Suite;
use streamed::WrittenTexts;
pub use streamed::{RowFormatter, RowTexts, TextFiles};

/// What the judge cost: the evaluation's own spend, kept apart from the configs'.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JudgeUsage {
    /// Judge calls recorded (re-asks included).
    pub calls: usize,
    /// Of which ended in an error.
    pub failed_calls: usize,
    /// Input tokens over all judge calls.
    pub input_tokens: u64,
    /// Output tokens over all judge calls.
    pub output_tokens: u64,
    /// Criterion verdicts that could not be had (failed calls, malformed after every re-ask, never asked).
    pub criterion_errors: usize,
}

/// One config's totals.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigSummary {
    /// Config name.
    pub config: String,
    /// Its kind.
    pub kind: ConfigKind,
    /// Its model.
    pub model: String,
    /// Requests planned for it.
    pub planned: usize,
    /// Replies recorded.
    pub ok: usize,
    /// Requests that ended in an error.
    pub errors: usize,
    /// Requests planned but not recorded (an interrupted run).
    pub missing: usize,
    /// Mean quality over replies.
    pub mean_quality: Option<f64>,
    /// Fraction of replies that passed.
    pub pass_rate: Option<f64>,
    /// Mean of each criterion over the replies it applied to.
    pub criteria_means: Vec<Option<f64>>,
    /// Input tokens over all replies.
    pub input_tokens: u64,
    /// Output tokens over all replies.
    pub output_tokens: u64,
    /// Input tokens read from the prompt cache over all replies.
    pub cache_read_tokens: u64,
    /// Input tokens written to the prompt cache over all replies.
    pub cache_write_tokens: u64,
    /// Median latency of replies (ms).
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile latency of replies (ms).
    pub latency_p95_ms: Option<f64>,
    /// Retries made (attempts beyond the first), over all records.
    pub retries: usize,
    /// Errors by kind.
    pub errors_by_kind: Vec<(CallErrorKind, usize)>,
}

/// Everything the writers need.
pub struct ReportData<'a> {
    /// The suite.
    pub suite: &'a Suite,
    /// The run's metadata.
    pub metadata: &'a RunMetadata,
    /// Per criterion (rubric order), per config (suite order): how its outcomes went over the scored replies.
    pub outcomes: Vec<Vec<tally::CriterionOutcomes>>,
    /// Per config (suite order): its lowest-scoring replies, lowest first.
    pub lowest: Vec<Vec<tally::LowReply>>,
    /// One summary per config, in suite order.
    pub summaries: Vec<ConfigSummary>,
    /// Records whose request is not in the current plan (the suite changed since they were made).
    pub stale_records: usize,
    /// The judge's usage, when the rubric has judge criteria.
    pub judge: Option<JudgeUsage>,
    /// Agreement of the judge with human labels, per judge criterion that has them.
    pub calibration: Vec<Calibration>,
    /// Intervals, paired comparisons and verdicts.
    pub analysis: analysis::Analysis,
    /// Cost per config, per quality point, serving options, break-even volumes and the recommendation (with the
    /// suite's `cost:` section or its defaults).
    pub cost: costs::CostReport,
    /// What this run itself cost.
    pub run_cost: crate::cost::RunCost,
    /// Per-field accuracy and classification metrics, for `json_fields` and `label` criteria.
    pub structured: classification::StructuredResults,
    /// Held-out examples that also appear in the training pool, when the suite has one.
    pub leakage: Option<crate::data::LeakageReport>,
}

/// How well the judge agrees with human labels on one criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The criterion's id.
    pub criterion: String,
    /// The example field holding the labels.
    pub field: String,
    /// Labelled replies the judge could not score (left out of the agreement).
    pub unjudged: usize,
    /// Spearman, weighted kappas and mean absolute difference over the labelled, judged replies.
    pub agreement: crate::stats::Agreement,
}

/// Summarises per config, and compares, the tally of the scoring pass over the run's records (see [`scoring`]): the
/// rows of the suite's current plan, and what the pass found beside them.
fn summarise<'a>(
    suite: &'a Suite,
    metadata: &'a RunMetadata,
    target_difference: Option<f64>,
    mut tally: tally::Tally,
    totals: scoring::ScoringTotals,
) -> anyhow::Result<ReportData<'a>> {
    let summaries = tally.summaries();
    let calibration = tally.calibration()?;
    let options = analysis::AnalysisOptions::new(&suite.file.analysis, target_difference);
    let outcomes = tally.outcomes().to_vec();
    let mut analysis = analysis::analyse(suite, &tally.take_replies(), &outcomes, &summaries, &options)?;
    let leakage = leakage::suite_leakage(suite)?;
    analysis
        .warnings
        .extend(leakage.as_ref().and_then(leakage::leak_warning));
    let structured = tally.structured(&options.bootstrap)?;
    let judge = suite.rubric.has_judge().then(|| JudgeUsage {
        calls: totals.judge.calls,
        failed_calls: totals.judge.failed,
        input_tokens: totals.judge.input_tokens,
        output_tokens: totals.judge.output_tokens,
        criterion_errors: suite
            .rubric
            .criteria
            .iter()
            .zip(&outcomes)
            .filter(|(criterion, _)| criterion.judge().is_some())
            .flat_map(|(_, per_config)| per_config.iter().map(|o| o.errors))
            .sum(),
    });
    let cost = costs::cost_report(suite, &summaries, &analysis);
    let run_cost = costs::run_cost(suite, &summaries, judge.as_ref(), metadata.mode == run::RunMode::Batch);
    Ok(ReportData {
        cost,
        run_cost,
        suite,
        metadata,
        outcomes,
        lowest: tally.lowest(),
        summaries,
        stale_records: totals.stale_records,
        judge,
        calibration,
        analysis,
        structured,
        leakage,
    })
}

/// Arithmetic mean; `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// A unit enum's JSON name (`exact_permutation`, `sign_test`), so that CSV and JSON say the same words.
pub fn snake_case(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A confidence level as every label prints it, a percentage without trailing zeros: 95, 90, 97.5.
pub fn level_percent(confidence_level: f64) -> String {
    let text = format!("{:.4}", confidence_level * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Linear-interpolation quantile (numpy's default, "type 7") of sorted values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = q.clamp(0.0, 1.0) * last as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    Some(sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower as f64))
}

/// Scores the records of the run in `run_dir` that belong to the suite's current plan, in one pass over them (see
/// [`scoring`]), summarises and compares them per config, then writes every report file into `run_dir`; returns the
/// report's data and the paths written.
///
/// The pass parses, scores and formats each row's lines of the per-reply files ([`TextFiles`]) on every core; a
/// thread of its own tallies the rows and writes those lines, in plan order, as they come.
pub fn build_and_write<'a>(
    suite: &'a Suite,
    metadata: &'a RunMetadata,
    run_dir: &Path,
    target_difference: Option<f64>,
) -> anyhow::Result<(ReportData<'a>, Vec<PathBuf>)> {
    /// Rows in flight between the scoring and the writer: enough to keep both busy, few enough to hold little.
    const ROWS_IN_FLIGHT: usize = 2 * scoring::BATCH;
    let texts = TextFiles::start(suite, run_dir)?;
    let (totals, tally, texts) = std::thread::scope(|scope| -> anyhow::Result<_> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<(scoring::ScoredRow, RowTexts)>(ROWS_IN_FLIGHT);
        let writer = scope.spawn(move || -> std::io::Result<_> {
            let (mut tally, mut texts) = (tally::Tally::new(suite), texts);
            for (mut row, mut lines) in receiver {
                tally.add(&row.outcome());
                lines.take_text(&mut row);
                texts.add(lines)?;
            }
            Ok((tally, texts.finish()?))
        });
        let totals = scoring::score_rows(
            suite,
            run_dir,
            || RowFormatter::new(suite),
            |formatter, row| Ok(formatter.format(suite, row)?),
            &mut |row, lines| {
                // A send fails only when the writer stopped on an error, which its join below reports.
                let _ = sender.send((row, lines));
                Ok(())
            },
        );
        drop(sender);
        let (tally, texts) = writer
            .join()
            .map_err(|_| anyhow::anyhow!("the report writer stopped unexpectedly"))??;
        Ok((totals?, tally, texts))
    })?;
    // The per-reply files are the report's bulk (hundreds of megabytes for a million rows): they go to disk while the
    // statistics are worked out, rather than after.
    let (data, texts) = std::thread::scope(|scope| {
        let mut texts = texts;
        let syncing = scope.spawn(move || -> std::io::Result<_> {
            texts.examples.sync()?;
            texts.scores.sync()?;
            Ok(texts)
        });
        let data = summarise(suite, metadata, target_difference, tally, totals);
        let texts = syncing
            .join()
            .map_err(|_| anyhow::anyhow!("the report writer stopped unexpectedly"));
        (data, texts)
    });
    let (data, texts) = (data?, texts??);
    let written = write_all(run_dir, &data, texts)?;
    Ok((data, written))
}

/// Report files written only when the rubric asks for them: a report that no longer writes one removes the copy an
/// earlier report left, so the folder never shows results of another rubric.
const OPTIONAL_FILES: [&str; 4] = ["fields.csv", "classification.csv", "classes.csv", "confusion.csv"];

/// Writes every report file into `run_dir` (`texts`: the per-reply files the scoring pass wrote for `data`), and
/// removes the optional files this report does not have; returns the paths written.
fn write_all(run_dir: &Path, data: &ReportData, texts: WrittenTexts) -> std::io::Result<Vec<PathBuf>> {
    let mut files = vec![
        ("summary.csv", csv_files::summary_csv(data)?),
        ("comparisons.csv", csv_files::comparisons_csv(data)?),
        ("report.md", markdown::report_md(data).into_bytes()),
        ("report.json", report_json(data)?),
        (
            "quality.svg",
            charts::quality_chart(&quality_bars(data), data.analysis.options.confidence_level())?.into_bytes(),
        ),
        (
            "differences.svg",
            charts::differences_chart(&difference_strips(data), data.analysis.options.confidence_level())?.into_bytes(),
        ),
    ];
    files.extend(classification::csv_files(data)?);
    files.push((
        "cost-volume.svg",
        cost_charts::cost_volume_chart(&cost_charts::cost_lines(&data.cost))?.into_bytes(),
    ));
    files.push((
        "cost-quality.svg",
        cost_charts::cost_quality_chart(&cost_charts::cost_points(&data.cost, &data.analysis))?.into_bytes(),
    ));
    let mut page = crate::files::PendingFile::create(&run_dir.join(html::REPORT_FILE))?;
    let mut views = texts.views;
    html::write_report_html(&mut page, data, &files, &mut views)?;
    let mut written = vec![texts.examples.path().to_path_buf()];
    texts.examples.finish()?;
    let mut scores = Some(texts.scores);
    for (name, bytes) in files {
        let path = run_dir.join(name);
        crate::files::write_atomically(&path, &bytes)?;
        written.push(path);
        if let Some(scores) = scores.take_if(|_| name == "report.json") {
            written.push(scores.path().to_path_buf());
            scores.finish()?;
        }
    }
    written.push(page.path().to_path_buf());
    page.finish()?;
    for name in OPTIONAL_FILES {
        let path = run_dir.join(name);
        if !written.contains(&path) {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(crate::files::with_path("remove", &path, e))
                }
                _ => {}
            }
        }
    }
    Ok(written)
}

fn quality_bars(data: &ReportData) -> Vec<charts::QualityBar> {
    data.analysis
        .configs
        .iter()
        .filter_map(|c| {
            Some(charts::QualityBar {
                config: c.config.clone(),
                mean: c.quality.mean?,
                interval: c.quality.mean_ci.map(|i| (i.lower, i.upper)),
                baseline: c.baseline,
            })
        })
        .collect()
}

fn difference_strips(data: &ReportData) -> Vec<charts::DifferenceStrip> {
    data.analysis
        .comparisons
        .iter()
        .filter(|c| c.family == "baseline")
        .filter_map(|c| {
            Some(charts::DifferenceStrip {
                label: format!("{} vs {}", c.candidate, c.baseline),
                differences: c.differences.clone(),
                mean: c.paired.mean_difference?,
                interval: c.paired.t_test.confidence_interval.map(|i| (i.lower, i.upper)),
            })
        })
        .collect()
}

/// The recommendation as `report.json` gives it: its fields, and `summary`, the sentence `report.md` leads with.
fn recommendation_json(data: &ReportData) -> std::io::Result<serde_json::Value> {
    let Some(recommendation) = &data.cost.recommendation else {
        return Ok(serde_json::Value::Null);
    };
    let mut value = serde_json::to_value(recommendation).map_err(std::io::Error::other)?;
    value["summary"] = markdown::recommendation_text(data, markdown::Prose::Plain).into();
    Ok(value)
}

/// `report.json`: everything the other reports show, as one document (see `docs/report-format.md`).
fn report_json(data: &ReportData) -> std::io::Result<Vec<u8>> {
    let suite = data.suite;
    let configs: Vec<serde_json::Value> = data
        .summaries
        .iter()
        .zip(&data.analysis.configs)
        .map(|(s, a)| {
            serde_json::json!({
                "config": s.config,
                "kind": s.kind.as_str(),
                "model": s.model,
                "baseline": a.baseline,
                "requests": {
                    "planned": s.planned, "ok": s.ok, "errors": s.errors, "missing": s.missing, "retries": s.retries,
                    "errors_by_kind": s.errors_by_kind.iter().map(|(k, n)| (k.as_str(), *n)).collect::<BTreeMap<_, _>>(),
                },
                "tokens": {"input": s.input_tokens, "output": s.output_tokens},
                "latency_ms": {"p50": s.latency_p50_ms, "p95": s.latency_p95_ms},
                "criteria": suite.rubric.criteria.iter().zip(&s.criteria_means)
                    .map(|(c, m)| (c.id.as_str(), *m)).collect::<BTreeMap<_, _>>(),
                "statistics": a,
            })
        })
        .collect();
    let document = serde_json::json!({
        "format": "bedrock-eval report 1",
        "suite": {"name": suite.file.name, "description": suite.file.description, "baseline": suite.file.baseline,
                  "repeats": suite.file.repeats, "held_out_examples": suite.held_out.examples.len()},
        "rubric": {
            "path": suite.rubric.path, "sha256": suite.rubric.sha256, "pass_threshold": suite.rubric.pass_threshold,
            "criteria": suite.rubric.criteria.iter().map(|c| serde_json::json!({
                "id": c.id, "weight": c.weight, "gate": c.gate, "judge": c.judge().is_some(),
            })).collect::<Vec<_>>(),
        },
        // The run's cost is reported under `run_cost` (derived here), not from run.json's copy of it.
        "run": run::RunMetadata { run_cost: None, ..data.metadata.clone() },
        "simulated": data.metadata.endpoint.is_simulated(),
        "options": data.analysis.options,
        "configs": configs,
        "comparisons": data.analysis.comparisons,
        "criterion_gaps": data.analysis.criterion_gaps,
        "warnings": data.analysis.warnings,
        "judge": data.judge.map(|u| serde_json::json!({
            "model": suite.file.judge.as_ref().map(|j| j.model.clone()),
            "calls": u.calls, "failed_calls": u.failed_calls, "input_tokens": u.input_tokens,
            "output_tokens": u.output_tokens, "criterion_errors": u.criterion_errors,
        })),
        "calibration": data.calibration.iter().map(|c| serde_json::json!({
            "criterion": c.criterion, "field": c.field, "unjudged": c.unjudged, "agreement": c.agreement,
        })).collect::<Vec<_>>(),
        "leakage": data.leakage,
        "fields": data.structured.fields,
        "classification": data.structured.labels,
        "stale_records": data.stale_records,
        "recommendation": recommendation_json(data)?,
        "cost": data.cost,
        "run_cost": data.run_cost,
    });
    let mut bytes = serde_json::to_vec_pretty(&document).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_print_without_trailing_zeros() {
        assert_eq!(level_percent(0.95), "95");
        assert_eq!(level_percent(1.0 - 0.1), "90");
        assert_eq!(level_percent(0.975), "97.5");
        assert_eq!(level_percent(0.999), "99.9");
    }

    #[test]
    fn type_7_quantiles() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&sorted, 0.5), Some(2.5));
        assert!((quantile_sorted(&sorted, 0.95).unwrap() - 3.85).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[7.0], 0.95), Some(7.0));
        assert_eq!(quantile_sorted(&[], 0.5), None);
    }
}
