//! `examples.csv` (one row per example × config × repeat) and `summary.csv` (one row per config).
//!
//! Column names are stable; see `docs/report-format.md`.

use super::scoring::RowOutcome;
use super::snake_case;
use super::table::{csv_text, number, push_csv_text, push_integer, push_number};
use super::ReportData;
use crate::suite::Suite;

pub(super) fn finish(writer: csv::Writer<Vec<u8>>) -> std::io::Result<Vec<u8>> {
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// `examples.csv`'s rows, formatted one at a time as the scoring pass reaches each recorded row (see `streamed`),
/// on whichever thread scored it: [`ExamplesCsv::row`] then [`ExamplesCsv::take`] gives a row's bytes.
pub(super) struct ExamplesCsv {
    writer: csv::Writer<Taken>,
    /// Indices of the rubric's judge criteria, whose reasons get a column each.
    judged: Vec<usize>,
    /// A cell's text, reused from cell to cell.
    cell: String,
}

impl ExamplesCsv {
    /// A formatter of `suite`'s rows.
    pub(super) fn new(suite: &Suite) -> Self {
        let judged: Vec<usize> = suite
            .rubric
            .criteria
            .iter()
            .enumerate()
            .filter(|(_, c)| c.judge().is_some())
            .map(|(i, _)| i)
            .collect();
        ExamplesCsv {
            writer: csv::Writer::from_writer(Taken::default()),
            judged,
            cell: String::new(),
        }
    }

    /// The file's header line.
    pub(super) fn header(&mut self, suite: &Suite) -> std::io::Result<Vec<u8>> {
        let mut header: Vec<String> = ["example_id", "config", "repeat", "status", "quality", "pass"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        header.extend(suite.rubric.criteria.iter().map(|c| format!("criterion:{}", c.id)));
        header.extend(
            self.judged
                .iter()
                .map(|&i| format!("reason:{}", suite.rubric.criteria[i].id)),
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
        self.writer.write_record(&header)?;
        self.take()
    }

    /// What was formatted since the last call.
    pub(super) fn take(&mut self) -> std::io::Result<Vec<u8>> {
        self.writer.flush()?;
        Ok(self.writer.get_ref().0.take())
    }

    /// Adds a row, if it has a record. Cells are written one at a time from a reused buffer: the file has a row per
    /// reply, and a large run writes millions.
    pub(super) fn row(&mut self, suite: &Suite, row: &RowOutcome) -> std::io::Result<()> {
        let Some(record) = row.record else { return Ok(()) };
        let criteria = row.score.map_or(&[][..], |s| s.criteria.as_slice());
        let mut cell = std::mem::take(&mut self.cell);
        let mut put = |writer: &mut csv::Writer<Taken>, fill: &dyn Fn(&mut String)| {
            cell.clear();
            fill(&mut cell);
            writer.write_field(cell.as_bytes())
        };
        let w = &mut self.writer;
        put(w, &|c| push_csv_text(c, &suite.held_out.examples[row.example].id))?;
        put(w, &|c| push_csv_text(c, &suite.file.configs[row.config].name))?;
        put(w, &|c| push_integer(c, row.repeat))?;
        put(w, &|c| c.push_str(record.status.as_str()))?;
        put(w, &|c| push_number(c, row.score.and_then(|s| s.quality), 4))?;
        put(w, &|c| {
            if let Some(pass) = row.score.and_then(|s| s.pass) {
                c.push_str(if pass { "true" } else { "false" });
            }
        })?;
        for i in 0..suite.rubric.criteria.len() {
            put(w, &|c| push_number(c, criteria.get(i).and_then(|c| c.score), 4))?;
        }
        for &i in &self.judged {
            put(w, &|c| {
                let reasons = criteria
                    .get(i)
                    .and_then(|c| c.judged.as_ref())
                    .map(|j| j.reasons.join(" | "));
                push_csv_text(c, reasons.as_deref().unwrap_or(""));
            })?;
        }
        put(w, &|c| {
            let errors: Vec<String> = criteria
                .iter()
                .filter_map(|c| Some(format!("{}: {}", c.id, c.error.as_ref()?)))
                .collect();
            push_csv_text(c, &errors.join("; "));
        })?;
        for count in [record.input_tokens, record.output_tokens, record.latency_ms] {
            put(w, &|c| push_integer(c, count))?;
        }
        put(w, &|c| push_integer(c, record.attempts))?;
        put(w, &|c| push_csv_text(c, record.stop_reason.as_deref().unwrap_or("")))?;
        put(w, &|c| {
            c.push_str(record.error.as_ref().map_or("", |e| e.kind.as_str()))
        })?;
        put(w, &|c| {
            push_csv_text(c, record.error.as_ref().map_or("", |e| e.message.as_str()))
        })?;
        put(w, &|c| push_csv_text(c, record.output.as_deref().unwrap_or("")))?;
        w.write_record(None::<&[u8]>)?;
        self.cell = cell;
        Ok(())
    }
}

/// Bytes written that can be taken out through a shared reference, which is all `csv::Writer` lends of what it
/// writes on.
#[derive(Default)]
struct Taken(std::cell::RefCell<Vec<u8>>);

impl std::io::Write for Taken {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.get_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `summary.csv`: one row per config.
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
        "examples",
        "mean_quality",
        "quality_points",
        "quality_ci_t_low",
        "quality_ci_t_high",
        "quality_ci_bca_low",
        "quality_ci_bca_high",
        "quality_sd",
        "within_example_sd",
        "pass_rate",
        "pass_rate_ci_low",
        "pass_rate_ci_high",
        "input_tokens",
        "output_tokens",
        "latency_p50_ms",
        "latency_p95_ms",
        "retries",
        "pass_rate_method",
        "confidence_level",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(data.suite.rubric.criteria.iter().map(|c| format!("criterion:{}", c.id)));
    // Cost columns always (the suite's volume or the default one); empty for an unpriced config, never zero.
    {
        header.extend(
            [
                "billing",
                "monthly_requests",
                "cost_per_request",
                "cost_per_1000",
                "monthly_cost",
                "cost_per_quality_point",
                "cost_per_quality_point_low",
                "cost_per_quality_point_high",
                "incremental_cost_per_point",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
    }
    writer.write_record(&header)?;
    for (i, (summary, stats)) in data.summaries.iter().zip(&data.analysis.configs).enumerate() {
        let q = &stats.quality;
        let mut cells = vec![
            csv_text(&summary.config),
            summary.kind.as_str().to_string(),
            csv_text(&summary.model),
            stats.baseline.to_string(),
            summary.planned.to_string(),
            summary.ok.to_string(),
            summary.errors.to_string(),
            summary.missing.to_string(),
            stats.examples.to_string(),
            number(q.mean.map(|m| m / 100.0), 4),
            number(q.mean, 2),
            number(q.mean_ci.map(|i| i.lower), 2),
            number(q.mean_ci.map(|i| i.upper), 2),
            number(stats.quality_bootstrap.interval.map(|i| i.lower), 2),
            number(stats.quality_bootstrap.interval.map(|i| i.upper), 2),
            number(q.sd, 2),
            number(stats.within_example_sd, 2),
            number(stats.pass_rate, 4),
            number(stats.pass_rate_interval.map(|i| i.lower), 4),
            number(stats.pass_rate_interval.map(|i| i.upper), 4),
            summary.input_tokens.to_string(),
            summary.output_tokens.to_string(),
            number(summary.latency_p50_ms, 1),
            number(summary.latency_p95_ms, 1),
            summary.retries.to_string(),
            stats.pass_rate_method.to_string(),
            data.analysis.options.confidence_level().to_string(),
        ];
        cells.extend(summary.criteria_means.iter().map(|m| number(*m, 4)));
        if let Some(cost) = data.cost.configs.get(i) {
            let at = cost.main();
            let billing = match &cost.serving {
                crate::cost::Serving::PerToken { .. } => "per_token",
                crate::cost::Serving::Provisioned { .. } => "provisioned",
                crate::cost::Serving::Imported { .. } => "imported",
                crate::cost::Serving::Unpriced { .. } => "unpriced",
            };
            cells.extend([
                billing.to_string(),
                data.cost.volumes.first().map_or_else(String::new, |v| v.to_string()),
                number(at.map(|a| a.per_request), 8),
                number(at.map(|a| a.per_thousand), 6),
                number(at.map(|a| a.monthly_cost), 2),
                number(cost.per_quality_point, 8),
                number(cost.per_quality_point_interval.map(|i| i.lower), 8),
                number(cost.per_quality_point_interval.map(|i| i.upper), 8),
                number(cost.incremental_per_point, 8),
            ]);
        }
        writer.write_record(&cells)?;
    }
    finish(writer)
}

/// `comparisons.csv`: every config against the baseline, then every other pair.
pub fn comparisons_csv(data: &ReportData) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "family",
        "baseline",
        "candidate",
        "n",
        "baseline_only",
        "candidate_only",
        "mean_difference",
        "sd_difference",
        "ci_t_low",
        "ci_t_high",
        "ci_bootstrap_low",
        "ci_bootstrap_high",
        "t",
        "df",
        "p_t",
        "p_holm",
        "wilcoxon_statistic",
        "wilcoxon_method",
        "p_wilcoxon",
        "p_sign",
        "mcnemar_b",
        "mcnemar_c",
        "p_mcnemar",
        "p_mcnemar_mid",
        "d_z",
        "hedges_g_z",
        "rank_biserial",
        "wins",
        "ties",
        "losses",
        "verdict",
        "min_detectable_difference",
        "sized_for",
        "examples_needed",
        "verdict_test",
        "holm_family_size",
        "left_out_of_holm",
        "power_alpha",
        "power",
        "pairs_on_common_criteria",
        "pairs_excluded",
        "criteria_left_out",
        "confidence_level",
    ])?;
    for c in &data.analysis.comparisons {
        let p = &c.paired;
        writer.write_record([
            c.family.to_string(),
            csv_text(&c.baseline),
            csv_text(&c.candidate),
            p.n.to_string(),
            c.baseline_only.to_string(),
            c.candidate_only.to_string(),
            number(p.mean_difference, 4),
            number(p.sd_difference, 4),
            number(p.t_test.confidence_interval.map(|i| i.lower), 4),
            number(p.t_test.confidence_interval.map(|i| i.upper), 4),
            number(c.bootstrap.interval.map(|i| i.lower), 4),
            number(c.bootstrap.interval.map(|i| i.upper), 4),
            number(p.t_test.t_statistic, 6),
            p.t_test.df.map_or_else(String::new, |d| d.to_string()),
            exact(p.t_test.p_value),
            exact(c.p_holm),
            number(p.wilcoxon.statistic, 1),
            if p.wilcoxon.p_value.is_some() {
                snake_case(&p.wilcoxon.method)
            } else {
                String::new()
            },
            exact(p.wilcoxon.p_value),
            exact(p.sign_test.p_value),
            c.mcnemar
                .as_ref()
                .map_or_else(String::new, |m| m.baseline_only.to_string()),
            c.mcnemar
                .as_ref()
                .map_or_else(String::new, |m| m.candidate_only.to_string()),
            exact(c.mcnemar.as_ref().map(|m| m.p_value)),
            exact(c.mcnemar.as_ref().map(|m| m.mid_p_value)),
            number(p.effect_size_dz, 4),
            number(p.hedges_gz, 4),
            number(p.wilcoxon.rank_biserial, 4),
            p.wins.to_string(),
            p.ties.to_string(),
            p.losses.to_string(),
            c.verdict.label().to_string(),
            number(c.min_detectable_difference, 4),
            number(c.sized_for, 4),
            c.examples_needed.map_or_else(String::new, |n| n.to_string()),
            c.verdict_test.as_ref().map_or_else(String::new, snake_case),
            c.holm_family_size.to_string(),
            c.left_out_of_holm.as_ref().map_or_else(String::new, snake_case),
            c.power_alpha.to_string(),
            number(c.power, 4),
            c.pairs_on_common_criteria.to_string(),
            c.pairs_excluded.to_string(),
            csv_text(&c.criteria_left_out.join(";")),
            data.analysis.options.confidence_level().to_string(),
        ])?;
    }
    finish(writer)
}

/// A p-value in full precision (the shortest form that reads back exactly; scientific notation below 10⁻⁴),
/// empty when there is none.
fn exact(value: Option<f64>) -> String {
    match value {
        Some(v) if v != 0.0 && v.abs() < 1e-4 => format!("{v:e}"),
        Some(v) => format!("{v}"),
        None => String::new(),
    }
}
