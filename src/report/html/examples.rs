//! The per-example part of `report.html`: each held-out example with every config's replies, scores and the judge's
//! reasons, in the compact shape the page's script reads (see `docs/report-format.md`).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::rounded;
use crate::report::ReportData;

/// One held-out example and everything recorded for it.
#[derive(Debug, Serialize)]
pub(crate) struct ExampleView<'a> {
    /// The example's id.
    pub id: &'a str,
    /// Earlier turns of a multi-turn example, as "role: text" lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// What the model had to answer.
    pub input: &'a str,
    /// The reference reply, if the data has one.
    pub reference: Option<&'a str>,
    /// Per config (suite order): mean quality points over its scored repeats, to two decimals.
    pub points: Vec<Option<f64>>,
    /// Every recorded request for the example, in plan order (config, then repeat).
    pub replies: Vec<ReplyView<'a>>,
}

/// One recorded request: the reply or the error, and its scores.
#[derive(Debug, Serialize)]
pub(crate) struct ReplyView<'a> {
    /// Index of the config in the suite's list.
    pub config: usize,
    /// Repeat index, from 0.
    pub repeat: u32,
    /// The reply, when the call succeeded.
    pub text: Option<&'a str>,
    /// Why there is no reply ("kind: message"), when the call failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Quality points (100 × the rubric's score), to two decimals (the score's four, as in `examples.csv`).
    pub points: Option<f64>,
    /// Whether it reached the rubric's pass threshold.
    pub pass: Option<bool>,
    /// Per criterion (rubric order): the score in [0, 1] to four decimals, or null when it does not apply or could
    /// not be scored.
    pub scores: Vec<Option<f64>>,
    /// Per criterion: the judge's reasons (samples joined by " | "); absent when no criterion has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<Option<String>>>,
    /// Criteria that could not be scored (a judge error), by index, with why.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub unscored: BTreeMap<usize, String>,
}

/// The examples in held-out order, each with its rows from the report.
pub(crate) fn example_views<'a>(data: &'a ReportData) -> Vec<ExampleView<'a>> {
    let config_index: HashMap<&str, usize> = data
        .suite
        .file
        .configs
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    let mut by_example: HashMap<&str, Vec<ReplyView<'a>>> = HashMap::new();
    for row in &data.rows {
        let Some(&config) = config_index.get(row.record.config.as_str()) else {
            continue;
        };
        let criteria = row.score.as_ref().map_or(&[][..], |s| &s.criteria[..]);
        let reasons: Vec<Option<String>> = criteria
            .iter()
            .map(|c| c.judged.as_ref().map(|j| j.reasons.join(" | ")))
            .collect();
        let unscored = criteria
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, c.error.clone()?)))
            .collect();
        by_example.entry(&row.record.example_id).or_default().push(ReplyView {
            config,
            repeat: row.record.repeat,
            text: row.record.output.as_deref(),
            error: row.record.error.as_ref().map(ToString::to_string),
            points: row.quality.map(|q| rounded(q * 100.0, 2)),
            pass: row.pass,
            scores: row.criteria.iter().map(|s| s.map(|s| rounded(s, 4))).collect(),
            reasons: reasons.iter().any(Option::is_some).then_some(reasons),
            unscored,
        });
    }
    let configs = data.suite.file.configs.len();
    data.suite
        .held_out
        .examples
        .iter()
        .map(|example| {
            let replies = by_example.remove(example.id.as_str()).unwrap_or_default();
            let points = (0..configs)
                .map(|c| {
                    let scored: Vec<f64> = replies
                        .iter()
                        .filter(|r| r.config == c)
                        .filter_map(|r| r.points)
                        .collect();
                    crate::report::mean(&scored).map(|p| rounded(p, 2))
                })
                .collect();
            ExampleView {
                id: &example.id,
                history: (!example.history.is_empty()).then(|| {
                    example
                        .history
                        .iter()
                        .map(|turn| format!("{}: {}", role_name(turn.role), turn.text))
                        .collect::<Vec<_>>()
                        .join("\n\n")
                }),
                input: &example.input,
                reference: example.reference.as_deref(),
                points,
                replies,
            }
        })
        .collect()
}

fn role_name(role: crate::dataset::Role) -> &'static str {
    match role {
        crate::dataset::Role::User => "user",
        crate::dataset::Role::Assistant => "assistant",
    }
}
