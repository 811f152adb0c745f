//! `bedrock-eval compare BASE_RUN NEW_RUN`: did anything regress between two runs?
//!
//! Examples are paired by id within each config (repeats averaged first). A config *regressed* when its mean quality
//! fell significantly (paired t-test, Holm-adjusted across the configs compared, at α) **and** by more than the
//! tolerance `max_drop` in quality points; *improved* symmetrically; otherwise *unchanged*. Nothing here calls a
//! model: both runs are read from their records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::InputError;
use crate::report;
use crate::run::records::read_records;
use crate::run::{self, RunMetadata};
use crate::stats::{self, BootstrapSettings, Interval, PairedComparison};
use crate::suite;

/// One run, reduced to what a comparison needs.
#[derive(Debug, Clone)]
pub struct RunSide {
    /// The run directory.
    pub dir: PathBuf,
    /// Its `run.json`.
    pub metadata: RunMetadata,
    /// SHA-256 of the rubric it is scored with.
    pub rubric_sha256: String,
    /// Per config.
    pub configs: BTreeMap<String, ConfigSide>,
    /// Example id → its input and reference reply, for `compare.html`.
    pub texts: BTreeMap<String, ExampleText>,
}

/// What a held-out example asked, and the reference reply.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExampleText {
    /// The final user turn.
    pub input: String,
    /// The reference reply, if any.
    pub reference: Option<String>,
}

/// An example's (mean quality points, pass fraction) in one run.
type Scores = (f64, f64);

/// One config of a run.
#[derive(Debug, Clone, Default)]
pub struct ConfigSide {
    /// Its model.
    pub model: String,
    /// Example id → (mean quality points over repeats, pass fraction).
    pub examples: BTreeMap<String, (f64, f64)>,
    /// Cost per 1,000 requests at the suite's main volume, when costed.
    pub per_thousand: Option<f64>,
    /// Mean input + output tokens per reply.
    pub tokens_per_request: Option<f64>,
    /// Example id → its scored replies, one per repeat, for `compare.html`.
    pub replies: BTreeMap<String, Vec<String>>,
}

/// The outcome for one config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Significantly lower, by more than the tolerance.
    Regressed,
    /// Significantly higher, by more than the tolerance.
    Improved,
    /// Neither.
    Unchanged,
    /// No example could be paired (or the config is in one run only).
    NotCompared,
}

impl Change {
    /// The word for reports.
    pub fn label(self) -> &'static str {
        match self {
            Change::Regressed => "regressed",
            Change::Improved => "improved",
            Change::Unchanged => "unchanged",
            Change::NotCompared => "not compared",
        }
    }
}

/// One config's change from the base run to the new run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigChange {
    /// Config name.
    pub config: String,
    /// Examples paired.
    pub pairs: usize,
    /// Examples scored in the base run only.
    pub base_only: usize,
    /// Examples scored in the new run only.
    pub new_only: usize,
    /// Mean quality points on the paired examples, base and new.
    pub base_mean: Option<f64>,
    /// New run's mean on the paired examples.
    pub new_mean: Option<f64>,
    /// Paired statistics of new − base (points).
    pub paired: Option<PairedComparison>,
    /// Paired bootstrap interval of the mean change.
    pub bootstrap: Option<Interval>,
    /// Holm-adjusted p across the configs compared.
    pub p_holm: Option<f64>,
    /// Pass rate on the paired examples, base and new.
    pub pass_rate_base: Option<f64>,
    /// New run's pass rate.
    pub pass_rate_new: Option<f64>,
    /// Cost per 1,000 requests, base and new, when both runs were costed.
    pub cost_base: Option<f64>,
    /// New run's cost per 1,000 requests.
    pub cost_new: Option<f64>,
    /// Mean tokens per reply, base and new.
    pub tokens_base: Option<f64>,
    /// New run's tokens per reply.
    pub tokens_new: Option<f64>,
    /// The verdict.
    pub change: Change,
    /// Why, in words.
    pub reason: String,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Base run directory.
    pub base_run: PathBuf,
    /// New run directory.
    pub new_run: PathBuf,
    /// Significance level.
    pub alpha: f64,
    /// Tolerance in quality points.
    pub max_drop: f64,
    /// Differences between the runs' inputs, in words.
    pub warnings: Vec<String>,
    /// Per config, in the new run's order.
    pub configs: Vec<ConfigChange>,
}

impl Comparison {
    /// Whether any config regressed.
    pub fn regressed(&self) -> bool {
        self.configs.iter().any(|c| c.change == Change::Regressed)
    }
}

/// Reads a run: its metadata, its suite (as it is now, with any rubric override) and its scored records.
pub fn load_run(dir: &Path) -> anyhow::Result<RunSide> {
    let metadata = run::read_metadata(dir)?;
    let rubric = metadata.rubric_override.as_ref().map(|o| o.path.clone());
    let suite = suite::load_with_rubric(&metadata.suite_path, rubric.as_deref())?;
    let records = read_records(&dir.join(run::RECORDS_FILE))?.records;
    let judgements = read_records(&dir.join(run::judging::JUDGEMENTS_FILE))?.records;
    let data = report::build(&suite, &metadata, &records, &judgements, None)?;
    let mut configs: BTreeMap<String, ConfigSide> = BTreeMap::new();
    let mut grouped: BTreeMap<(String, String), Vec<(f64, bool)>> = BTreeMap::new();
    for row in &data.rows {
        if let Some(quality) = row.quality {
            grouped
                .entry((row.record.config.clone(), row.record.example_id.clone()))
                .or_default()
                .push((quality * 100.0, row.pass == Some(true)));
            if let Some(reply) = &row.record.output {
                configs
                    .entry(row.record.config.clone())
                    .or_default()
                    .replies
                    .entry(row.record.example_id.clone())
                    .or_default()
                    .push(reply.clone());
            }
        }
    }
    for ((config, example), scores) in grouped {
        let n = scores.len() as f64;
        let mean = scores.iter().map(|s| s.0).sum::<f64>() / n;
        let passed = scores.iter().filter(|s| s.1).count() as f64 / n;
        configs
            .entry(config)
            .or_default()
            .examples
            .insert(example, (mean, passed));
    }
    for (i, summary) in data.summaries.iter().enumerate() {
        let side = configs.entry(summary.config.clone()).or_default();
        side.model = summary.model.clone();
        side.tokens_per_request =
            (summary.ok > 0).then(|| (summary.input_tokens + summary.output_tokens) as f64 / summary.ok as f64);
        side.per_thousand = data
            .cost
            .as_ref()
            .and_then(|c| c.configs.get(i))
            .and_then(|c| c.at_volumes.first())
            .map(|a| a.per_thousand);
    }
    let texts = suite
        .held_out
        .examples
        .iter()
        .map(|e| {
            let text = ExampleText {
                input: e.input.clone(),
                reference: e.reference.clone(),
            };
            (e.id.clone(), text)
        })
        .collect();
    Ok(RunSide {
        dir: dir.to_path_buf(),
        rubric_sha256: suite.rubric.sha256.clone(),
        metadata,
        configs,
        texts,
    })
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let values: Vec<f64> = values.collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// What differs between the runs' inputs.
pub fn input_warnings(base: &RunSide, new: &RunSide) -> Vec<String> {
    let (a, b) = (&base.metadata, &new.metadata);
    let mut warnings = Vec::new();
    let mut differ = |what: &str, x: &str, y: &str| {
        if x != y {
            warnings.push(format!(
                "The runs used different {what} ({} … vs {} …).",
                short(x),
                short(y)
            ));
        }
    };
    differ("suite files", &a.suite_sha256, &b.suite_sha256);
    differ("rubrics", &base.rubric_sha256, &new.rubric_sha256);
    differ("held-out data", &a.held_out_sha256, &b.held_out_sha256);
    differ(
        "training data",
        a.training_sha256.as_deref().unwrap_or("none"),
        b.training_sha256.as_deref().unwrap_or("none"),
    );
    for (config, side) in &new.configs {
        if let Some(old) = base.configs.get(config) {
            if old.model != side.model && !old.model.is_empty() {
                warnings.push(format!(
                    "{config} used model {} in the base run and {} in the new one.",
                    old.model, side.model
                ));
            }
        }
    }
    if a.endpoint.is_simulated() != b.endpoint.is_simulated() {
        warnings.push("One run was simulated (embedded endpoint) and the other was not.".to_string());
    }
    warnings
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// Compares two runs config by config; an error when no example pairs in any config.
pub fn compare(base: &RunSide, new: &RunSide, alpha: f64, max_drop: f64, seed: u64) -> anyhow::Result<Comparison> {
    let mut warnings = input_warnings(base, new);
    let mut configs = Vec::new();
    for (config, side) in &new.configs {
        let Some(old) = base.configs.get(config) else {
            warnings.push(format!("{config} is not in the base run; it is not compared."));
            continue;
        };
        let paired: Vec<(&String, Scores, Scores)> = side
            .examples
            .iter()
            .filter_map(|(id, now)| Some((id, *old.examples.get(id)?, *now)))
            .collect();
        let a: Vec<f64> = paired.iter().map(|p| p.1 .0).collect();
        let b: Vec<f64> = paired.iter().map(|p| p.2 .0).collect();
        let stats = (!paired.is_empty())
            .then(|| stats::compare_paired(&a, &b, 1.0 - alpha))
            .transpose()?;
        let bootstrap = if paired.len() >= 2 {
            let settings = BootstrapSettings {
                confidence_level: 1.0 - alpha,
                ..BootstrapSettings::with_seed(seed)
            };
            stats::paired_bootstrap_mean_difference(&a, &b, &settings)?.interval
        } else {
            None
        };
        configs.push(ConfigChange {
            config: config.clone(),
            pairs: paired.len(),
            base_only: old
                .examples
                .keys()
                .filter(|id| !side.examples.contains_key(*id))
                .count(),
            new_only: side
                .examples
                .keys()
                .filter(|id| !old.examples.contains_key(*id))
                .count(),
            base_mean: mean(a.iter().copied()),
            new_mean: mean(b.iter().copied()),
            paired: stats,
            bootstrap,
            p_holm: None,
            pass_rate_base: mean(paired.iter().map(|p| p.1 .1)),
            pass_rate_new: mean(paired.iter().map(|p| p.2 .1)),
            cost_base: old.per_thousand,
            cost_new: side.per_thousand,
            tokens_base: old.tokens_per_request,
            tokens_new: side.tokens_per_request,
            change: Change::NotCompared,
            reason: String::new(),
        });
    }
    for config in base.configs.keys().filter(|c| !new.configs.contains_key(*c)) {
        warnings.push(format!("{config} is in the base run only; it is not compared."));
    }
    if configs.iter().all(|c| c.pairs == 0) {
        return Err(InputError::in_file(
            &new.dir,
            format!(
                "no example pairs between {} and {}: the runs share no scored example in any config",
                base.dir.display(),
                new.dir.display()
            ),
        )
        .into());
    }
    let tested: Vec<usize> = configs
        .iter()
        .enumerate()
        .filter(|(_, c)| c.paired.as_ref().and_then(|p| p.t_test.p_value).is_some())
        .map(|(i, _)| i)
        .collect();
    let raw: Vec<f64> = tested
        .iter()
        .filter_map(|&i| configs[i].paired.as_ref()?.t_test.p_value)
        .collect();
    for (&i, p) in tested.iter().zip(stats::holm_adjust(&raw)?) {
        configs[i].p_holm = Some(p);
    }
    for c in &mut configs {
        (c.change, c.reason) = decide(c, alpha, max_drop);
    }
    Ok(Comparison {
        base_run: base.dir.clone(),
        new_run: new.dir.clone(),
        alpha,
        max_drop,
        warnings,
        configs,
    })
}

fn decide(c: &ConfigChange, alpha: f64, max_drop: f64) -> (Change, String) {
    let Some(paired) = &c.paired else {
        return (Change::NotCompared, "no example scored in both runs".to_string());
    };
    let Some(delta) = paired.mean_difference else {
        return (Change::NotCompared, "no example scored in both runs".to_string());
    };
    let p = c.p_holm;
    let significant = p.is_some_and(|p| p < alpha);
    let p_text = p.map_or("n/a".to_string(), |p| format!("{p:.4}"));
    let change = if significant && delta < -max_drop {
        Change::Regressed
    } else if significant && delta > max_drop {
        Change::Improved
    } else {
        Change::Unchanged
    };
    let reason = match change {
        Change::Regressed | Change::Improved => format!(
            "{delta:+.1} quality points on {} examples (adjusted p {p_text} < {alpha}; beyond the {max_drop}-point tolerance)",
            paired.n
        ),
        _ if !significant => format!("{delta:+.1} quality points, not significant (adjusted p {p_text} ≥ {alpha})"),
        _ => format!("{delta:+.1} quality points, significant but within the {max_drop}-point tolerance"),
    };
    (change, reason)
}

fn number(value: Option<f64>, decimals: usize) -> String {
    report::table::number(value, decimals)
}

/// `compare.md`: the verdict per config first.
pub fn compare_md(c: &Comparison) -> String {
    use report::table::{markdown_cell, markdown_code, markdown_table};
    let mut out = format!(
        "# Comparison\n\nBase run {} → new run {}. A config **regressed** when its mean quality fell by more than \
         {} quality points with a Holm-adjusted paired t-test p below {}.\n\n",
        markdown_code(&c.base_run.display().to_string()),
        markdown_code(&c.new_run.display().to_string()),
        c.max_drop,
        c.alpha
    );
    let regressed: Vec<&str> = c
        .configs
        .iter()
        .filter(|x| x.change == Change::Regressed)
        .map(|x| x.config.as_str())
        .collect();
    out.push_str(&if regressed.is_empty() {
        "**Nothing regressed.**\n".to_string()
    } else {
        format!(
            "**Regressed: {}.**\n",
            regressed
                .iter()
                .map(|r| markdown_cell(r))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    out.push_str(&format!(
        "\nEvery example that regressed or improved, with both runs' replies side by side: [{0}]({0}).\n",
        crate::compare_html::COMPARE_FILE
    ));
    if !c.warnings.is_empty() {
        out.push_str("\nWarnings:\n\n");
        for w in &c.warnings {
            out.push_str(&format!("- {}\n", markdown_cell(w)));
        }
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = c
        .configs
        .iter()
        .map(|x| {
            let p = x.paired.as_ref();
            vec![
                markdown_cell(&x.config),
                x.change.label().to_string(),
                x.pairs.to_string(),
                number(x.base_mean, 1),
                number(x.new_mean, 1),
                p.and_then(|p| p.mean_difference)
                    .map_or_else(String::new, |d| format!("{d:+.1}")),
                p.and_then(|p| p.t_test.confidence_interval)
                    .map_or_else(String::new, |i| format!("{:+.1} to {:+.1}", i.lower, i.upper)),
                x.p_holm.map_or_else(String::new, |p| {
                    if p < 0.001 {
                        "< 0.001".into()
                    } else {
                        format!("{p:.3}")
                    }
                }),
                match (x.pass_rate_base, x.pass_rate_new) {
                    (Some(a), Some(b)) => format!("{:.1} → {:.1}", a * 100.0, b * 100.0),
                    _ => String::new(),
                },
                match (x.cost_base, x.cost_new) {
                    (Some(a), Some(b)) => format!("{a:.4} → {b:.4}"),
                    _ => String::new(),
                },
                markdown_cell(&x.reason),
            ]
        })
        .collect();
    out.push_str(&markdown_table(
        &[
            "config",
            "verdict",
            "pairs",
            "base",
            "new",
            "Δ points",
            "95% CI",
            "p (Holm)",
            "pass rate %",
            "cost / 1,000 req",
            "why",
        ],
        &rows,
    ));
    out
}

/// `compare.csv`: one row per config.
pub fn compare_csv(c: &Comparison) -> std::io::Result<Vec<u8>> {
    use report::table::csv_text;
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "config",
        "change",
        "pairs",
        "base_only",
        "new_only",
        "base_mean",
        "new_mean",
        "mean_change",
        "ci_low",
        "ci_high",
        "ci_bootstrap_low",
        "ci_bootstrap_high",
        "p_t",
        "p_holm",
        "pass_rate_base",
        "pass_rate_new",
        "cost_per_1000_base",
        "cost_per_1000_new",
        "tokens_per_request_base",
        "tokens_per_request_new",
        "reason",
    ])?;
    for x in &c.configs {
        let p = x.paired.as_ref();
        writer.write_record([
            csv_text(&x.config),
            x.change.label().to_string(),
            x.pairs.to_string(),
            x.base_only.to_string(),
            x.new_only.to_string(),
            number(x.base_mean, 4),
            number(x.new_mean, 4),
            number(p.and_then(|p| p.mean_difference), 4),
            number(p.and_then(|p| p.t_test.confidence_interval).map(|i| i.lower), 4),
            number(p.and_then(|p| p.t_test.confidence_interval).map(|i| i.upper), 4),
            number(x.bootstrap.map(|i| i.lower), 4),
            number(x.bootstrap.map(|i| i.upper), 4),
            p.and_then(|p| p.t_test.p_value)
                .map_or_else(String::new, |v| format!("{v:e}")),
            x.p_holm.map_or_else(String::new, |v| format!("{v:e}")),
            number(x.pass_rate_base, 4),
            number(x.pass_rate_new, 4),
            number(x.cost_base, 6),
            number(x.cost_new, 6),
            number(x.tokens_base, 1),
            number(x.tokens_new, 1),
            csv_text(&x.reason),
        ])?;
    }
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: one test case per config; a regression is a failure carrying the numbers.
pub fn junit_xml(c: &Comparison, suite: &str) -> String {
    let failures = c.configs.iter().filter(|x| x.change == Change::Regressed).count();
    let skipped = c.configs.iter().filter(|x| x.change == Change::NotCompared).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"bedrock-eval compare\" tests=\"{n}\" \
         failures=\"{failures}\">\n  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" \
         skipped=\"{skipped}\">\n",
        xml(suite),
        n = c.configs.len()
    );
    for x in &c.configs {
        out.push_str(&format!(
            "    <testcase classname=\"bedrock-eval.{}\" name=\"{}\"",
            xml(suite),
            xml(&x.config)
        ));
        match x.change {
            Change::Regressed => out.push_str(&format!(
                ">\n      <failure message=\"{} regressed: {}\" type=\"regression\">{}</failure>\n    </testcase>\n",
                xml(&x.config),
                xml(&x.reason),
                xml(&format!(
                    "base mean {} → new mean {} quality points over {} paired examples; adjusted p {}; tolerance {} points",
                    number(x.base_mean, 2),
                    number(x.new_mean, 2),
                    x.pairs,
                    x.p_holm.map_or("n/a".to_string(), |p| format!("{p:e}")),
                    c.max_drop
                ))
            )),
            Change::NotCompared => out.push_str(&format!(
                ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                xml(&x.reason)
            )),
            _ => out.push_str(&format!(">\n      <system-out>{}: {}</system-out>\n    </testcase>\n", x.change.label(), xml(&x.reason))),
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Writes `compare.md`, `compare.csv`, `compare.json`, `compare-junit.xml` and `compare.html` (which shows the
/// two runs' replies) into `dir`.
pub fn write_outputs(c: &Comparison, base: &RunSide, new: &RunSide, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let suite = &new.metadata.suite;
    let mut json = serde_json::to_vec_pretty(c)?;
    json.push(b'\n');
    let files = [
        ("compare.md", compare_md(c).into_bytes()),
        ("compare.csv", compare_csv(c)?),
        ("compare.json", json),
        ("compare-junit.xml", junit_xml(c, suite).into_bytes()),
        (
            crate::compare_html::COMPARE_FILE,
            crate::compare_html::compare_html(c, base, new)?.into_bytes(),
        ),
    ];
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(delta: f64, p: Option<f64>) -> ConfigChange {
        let base = vec![50.0, 60.0, 70.0, 55.0];
        let new: Vec<f64> = base
            .iter()
            .enumerate()
            .map(|(i, v)| v + delta + (i as f64 - 1.5) * 0.1)
            .collect();
        ConfigChange {
            config: "c".into(),
            pairs: 4,
            base_only: 0,
            new_only: 0,
            base_mean: None,
            new_mean: None,
            paired: Some(stats::compare_paired(&base, &new, 0.95).unwrap()),
            bootstrap: None,
            p_holm: p,
            pass_rate_base: None,
            pass_rate_new: None,
            cost_base: None,
            cost_new: None,
            tokens_base: None,
            tokens_new: None,
            change: Change::NotCompared,
            reason: String::new(),
        }
    }

    #[test]
    fn regression_needs_significance_and_a_drop_beyond_the_tolerance() {
        assert_eq!(decide(&change(-10.0, Some(0.001)), 0.05, 2.0).0, Change::Regressed);
        assert_eq!(decide(&change(-10.0, Some(0.2)), 0.05, 2.0).0, Change::Unchanged);
        assert_eq!(decide(&change(-1.0, Some(0.001)), 0.05, 2.0).0, Change::Unchanged);
        assert!(decide(&change(-1.0, Some(0.001)), 0.05, 2.0)
            .1
            .contains("within the 2-point tolerance"));
        assert_eq!(decide(&change(5.0, Some(0.001)), 0.05, 2.0).0, Change::Improved);
        assert_eq!(decide(&change(0.0, None), 0.05, 2.0).0, Change::Unchanged);
    }
}
