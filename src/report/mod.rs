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
pub mod table;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::provider::CallErrorKind;
use crate::run;
use crate::run::plan::build_plan;
use crate::run::plan::RequestFingerprint;
use crate::run::records::{Record, RecordStatus};
use crate::run::RunMetadata;
use crate::score::command::command_outcome;
use crate::score::judge::criterion_outcome;
use crate::score::{score_output_with, OutputScore};
use crate::suite::schema::ConfigKind;
use crate::suite::Suite;

/// One (example, config, repeat) row: the outcome and, when there is a reply, its scores.
#[derive(Debug, Clone)]
pub struct ScoredRow<'a> {
    /// The record.
    pub record: &'a Record,
    /// The quality score in [0, 1], for replies.
    pub quality: Option<f64>,
    /// Whether it passed the rubric's threshold, for replies.
    pub pass: Option<bool>,
    /// Per-criterion scores in rubric order (`None`: not applicable, or no reply).
    pub criteria: Vec<Option<f64>>,
    /// The full scoring of the reply (judge levels, reasons and errors included), for replies.
    pub score: Option<OutputScore>,
}

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
    /// Rows in plan order (example, then config, then repeat).
    pub rows: Vec<ScoredRow<'a>>,
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

/// Scores the records that belong to the suite's current plan and summarises them per config.
pub fn build<'a>(
    suite: &'a Suite,
    metadata: &'a RunMetadata,
    records: &'a [Record],
    judgements: &[Record],
    target_difference: Option<f64>,
) -> anyhow::Result<ReportData<'a>> {
    build_with_commands(suite, metadata, records, judgements, &[], target_difference)
}

/// As [`build`], with the calls of the rubric's `command` criteria (`commands.jsonl`) to score them from.
pub fn build_with_commands<'a>(
    suite: &'a Suite,
    metadata: &'a RunMetadata,
    records: &'a [Record],
    judgements: &[Record],
    commands: &[Record],
    target_difference: Option<f64>,
) -> anyhow::Result<ReportData<'a>> {
    let plan = build_plan(suite)?;
    let mut latest: HashMap<&str, &Record> = HashMap::new();
    for record in records {
        latest.insert(&record.fingerprint.0, record);
    }
    let judged: HashMap<&RequestFingerprint, &Record> = judgements.iter().map(|r| (&r.fingerprint, r)).collect();
    let lookup = |fp: &RequestFingerprint| judged.get(fp).copied();
    let commanded: HashMap<&RequestFingerprint, &Record> = commands.iter().map(|r| (&r.fingerprint, r)).collect();
    let command_lookup = |fp: &RequestFingerprint| commanded.get(fp).copied();
    let judge_settings = suite.file.judge.as_ref();
    let examples: HashMap<&str, &crate::dataset::Example> =
        suite.held_out.examples.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut rows = Vec::with_capacity(plan.len());
    let mut missing: HashMap<&str, usize> = HashMap::new();
    let mut in_plan = 0usize;
    for planned in &plan {
        let Some(record) = latest.get(planned.fingerprint.0.as_str()) else {
            *missing.entry(planned.config.as_str()).or_default() += 1;
            continue;
        };
        in_plan += 1;
        let scores = match (&record.output, examples.get(record.example_id.as_str())) {
            (Some(output), Some(example)) if record.status == RecordStatus::Ok => {
                let judge_outcome = |id: &str| {
                    let spec = suite.rubric.criteria.iter().find(|c| c.id == id)?.judge()?;
                    Some(criterion_outcome(judge_settings?, spec, example, output, &lookup))
                };
                let scorer_outcome = |id: &str| {
                    let check = suite.rubric.criteria.iter().find(|c| c.id == id)?.command()?;
                    Some(command_outcome(id, check, example, output, &command_lookup))
                };
                Some(score_output_with(
                    &suite.rubric,
                    example,
                    output,
                    &judge_outcome,
                    &scorer_outcome,
                ))
            }
            _ => None,
        };
        rows.push(ScoredRow {
            record,
            quality: scores.as_ref().and_then(|s| s.quality),
            pass: scores.as_ref().and_then(|s| s.pass),
            criteria: match &scores {
                Some(s) => s.criteria.iter().map(|c| c.score).collect(),
                None => vec![None; suite.rubric.criteria.len()],
            },
            score: scores,
        });
    }
    let summaries: Vec<ConfigSummary> = suite
        .file
        .configs
        .iter()
        .map(|config| {
            let config_rows: Vec<&ScoredRow> = rows.iter().filter(|r| r.record.config == config.name).collect();
            summarise(
                config.name.clone(),
                config.kind,
                config.model.clone(),
                &config_rows,
                missing.get(config.name.as_str()).copied().unwrap_or(0),
                suite.rubric.criteria.len(),
            )
        })
        .collect();
    let calibration = calibrate(suite, &examples, &rows)?;
    let options = analysis::AnalysisOptions::new(&suite.file.analysis, target_difference);
    let mut analysis = analysis::analyse(suite, &rows, &summaries, &options)?;
    let leakage = leakage::suite_leakage(suite)?;
    analysis
        .warnings
        .extend(leakage.as_ref().and_then(leakage::leak_warning));
    let structured = classification::structured_results(suite, &rows, &options.bootstrap)?;
    let judge = suite.rubric.has_judge().then(|| JudgeUsage {
        calls: judgements.len(),
        failed_calls: judgements.iter().filter(|r| r.status == RecordStatus::Error).count(),
        input_tokens: judgements.iter().map(|r| r.input_tokens).sum(),
        output_tokens: judgements.iter().map(|r| r.output_tokens).sum(),
        criterion_errors: rows
            .iter()
            .filter_map(|r| r.score.as_ref())
            .flat_map(|s| s.criteria.iter().zip(&suite.rubric.criteria))
            .filter(|(c, criterion)| c.error.is_some() && criterion.judge().is_some())
            .count(),
    });
    let cost = costs::cost_report(suite, &summaries, &analysis);
    let run_cost = costs::run_cost(suite, &summaries, judge.as_ref(), metadata.mode == run::RunMode::Batch);
    Ok(ReportData {
        cost,
        run_cost,
        suite,
        metadata,
        rows,
        summaries,
        stale_records: latest.len() - in_plan,
        judge,
        calibration,
        analysis,
        structured,
        leakage,
    })
}

/// Pairs each human-labelled reply with the judge's level for it, per judge criterion with a `human_score_field`.
fn calibrate(
    suite: &Suite,
    examples: &HashMap<&str, &crate::dataset::Example>,
    rows: &[ScoredRow],
) -> anyhow::Result<Vec<Calibration>> {
    let mut calibrations = Vec::new();
    for (i, criterion) in suite.rubric.criteria.iter().enumerate() {
        let Some(field) = criterion.judge().and_then(|s| s.human_score_field.as_deref()) else {
            continue;
        };
        let (mut human, mut judge, mut unjudged) = (Vec::new(), Vec::new(), 0);
        for row in rows {
            let label = examples
                .get(row.record.example_id.as_str())
                .and_then(|e| e.fields.get(field))
                .and_then(|labels| labels.get(&row.record.config))
                .and_then(serde_json::Value::as_f64);
            let Some(label) = label else { continue };
            match row.score.as_ref().and_then(|s| s.criteria[i].judged.as_ref()) {
                Some(judged) => {
                    human.push(label);
                    judge.push(judged.level);
                }
                None => unjudged += 1,
            }
        }
        calibrations.push(Calibration {
            criterion: criterion.id.clone(),
            field: field.to_string(),
            unjudged,
            agreement: crate::stats::agreement(&human, &judge)?,
        });
    }
    Ok(calibrations)
}

fn summarise(
    config: String,
    kind: ConfigKind,
    model: String,
    rows: &[&ScoredRow],
    missing: usize,
    criteria: usize,
) -> ConfigSummary {
    let replies: Vec<&&ScoredRow> = rows.iter().filter(|r| r.quality.is_some()).collect();
    let qualities: Vec<f64> = replies.iter().filter_map(|r| r.quality).collect();
    let mut latencies: Vec<f64> = replies.iter().map(|r| r.record.latency_ms as f64).collect();
    latencies.sort_by(f64::total_cmp);
    let mut errors_by_kind: HashMap<CallErrorKind, usize> = HashMap::new();
    for row in rows {
        if let Some(error) = &row.record.error {
            *errors_by_kind.entry(error.kind).or_default() += 1;
        }
    }
    let mut errors_by_kind: Vec<_> = errors_by_kind.into_iter().collect();
    errors_by_kind.sort();
    ConfigSummary {
        config,
        kind,
        model,
        planned: rows.len() + missing,
        ok: replies.len(),
        errors: rows.len() - replies.len(),
        missing,
        mean_quality: mean(&qualities),
        pass_rate: mean(
            &replies
                .iter()
                .map(|r| if r.pass == Some(true) { 1.0 } else { 0.0 })
                .collect::<Vec<_>>(),
        ),
        criteria_means: (0..criteria)
            .map(|i| mean(&replies.iter().filter_map(|r| r.criteria[i]).collect::<Vec<_>>()))
            .collect(),
        input_tokens: replies.iter().map(|r| r.record.input_tokens).sum(),
        output_tokens: replies.iter().map(|r| r.record.output_tokens).sum(),
        cache_read_tokens: replies.iter().map(|r| r.record.cache_read_input_tokens).sum(),
        cache_write_tokens: replies.iter().map(|r| r.record.cache_write_input_tokens).sum(),
        latency_p50_ms: quantile_sorted(&latencies, 0.5),
        latency_p95_ms: quantile_sorted(&latencies, 0.95),
        retries: rows.iter().map(|r| r.record.attempts.saturating_sub(1) as usize).sum(),
        errors_by_kind,
    }
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

/// Writes every report file into `run_dir`; returns the paths written.
pub fn write_all(run_dir: &Path, data: &ReportData) -> std::io::Result<Vec<PathBuf>> {
    let files = [
        ("examples.csv", csv_files::examples_csv(data)?),
        ("summary.csv", csv_files::summary_csv(data)?),
        ("comparisons.csv", csv_files::comparisons_csv(data)?),
        ("report.md", markdown::report_md(data).into_bytes()),
        ("report.json", report_json(data)?),
        ("scores.jsonl", scores_jsonl(data)?),
        (
            "quality.svg",
            charts::quality_chart(&quality_bars(data), data.analysis.options.confidence_level())?.into_bytes(),
        ),
        (
            "differences.svg",
            charts::differences_chart(&difference_strips(data), data.analysis.options.confidence_level())?.into_bytes(),
        ),
    ];
    let mut files = files.to_vec();
    files.extend(classification::csv_files(data)?);
    files.push((
        "cost-volume.svg",
        cost_charts::cost_volume_chart(&cost_charts::cost_lines(&data.cost))?.into_bytes(),
    ));
    files.push((
        "cost-quality.svg",
        cost_charts::cost_quality_chart(&cost_charts::cost_points(&data.cost, &data.analysis))?.into_bytes(),
    ));
    files.push((html::REPORT_FILE, html::report_html(data, &files)?));
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = run_dir.join(name);
        crate::files::write_atomically(&path, &bytes)?;
        written.push(path);
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

/// `scores.jsonl`: every scored reply's per-criterion results (score, judge level and reasons, errors), in plan
/// order. Derived from the records like every report, so re-scoring rewrites it and never touches the records.
fn scores_jsonl(data: &ReportData) -> std::io::Result<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        example_id: &'a str,
        config: &'a str,
        repeat: u32,
        fingerprint: &'a str,
        #[serde(flatten)]
        score: &'a OutputScore,
    }
    let mut out = Vec::new();
    for row in &data.rows {
        let Some(score) = &row.score else { continue };
        let line = Line {
            example_id: &row.record.example_id,
            config: &row.record.config,
            repeat: row.record.repeat,
            fingerprint: &row.record.fingerprint.0,
            score,
        };
        serde_json::to_writer(&mut out, &line).map_err(std::io::Error::other)?;
        out.push(b'\n');
    }
    Ok(out)
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
