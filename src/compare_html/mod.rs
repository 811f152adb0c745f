//! `compare.html`: per config, the examples that regressed and improved between two runs, with both runs' replies
//! side by side, beside the comparison's verdicts. The same kind of page as `report.html` (`report::html`): our
//! template, style and script around one JSON value, every text from the runs shown as text.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::compare::{Comparison, ExampleText, RunSide};
use crate::report::html::{page_html, rounded};
use crate::score::common_criteria::{pair, PairOutcome, Side, SideScore};

/// The file the comparison page is written to.
pub const COMPARE_FILE: &str = "compare.html";

const COMPARE_SCRIPT: &str = include_str!("compare.js");

/// One config's example whose quality changed between the runs.
#[derive(Debug, Serialize)]
struct ChangedExample<'a> {
    /// The config.
    config: &'a str,
    /// The example's id.
    id: &'a str,
    /// New − base, in quality points (means over repeats), to two decimals.
    delta: f64,
    /// The base run's side.
    base: RunExample<'a>,
    /// The new run's side.
    new: RunExample<'a>,
}

/// One run's scores and replies for an example.
#[derive(Debug, Serialize)]
struct RunExample<'a> {
    /// Mean quality points over the scored repeats, to two decimals.
    points: f64,
    /// Share of the scored repeats that passed.
    pass: f64,
    /// The scored replies, one per repeat.
    replies: &'a [String],
}

impl<'a> RunExample<'a> {
    fn new(score: &SideScore, replies: Option<&'a Vec<String>>) -> Self {
        let passed = score.passes.iter().filter(|p| **p).count();
        RunExample {
            points: rounded(score.quality * 100.0, 2),
            pass: passed as f64 / score.passes.len().max(1) as f64,
            replies: replies.map_or(&[], Vec::as_slice),
        }
    }
}

/// Everything `compare.html` shows, as one JSON value.
#[derive(Serialize)]
struct ComparePage<'a> {
    /// The suite's name.
    suite: &'a str,
    /// The comparison, as `compare.json` holds it.
    comparison: &'a Comparison,
    /// Per config (the comparison's order), the examples that regressed (largest drop first), then those that
    /// improved (largest gain first).
    examples: Vec<ChangedExample<'a>>,
    /// Input and reference of each example listed.
    texts: BTreeMap<&'a str, &'a ExampleText>,
}

/// `compare.html` for a comparison of `base` and `new`.
pub fn compare_html(comparison: &Comparison, base: &RunSide, new: &RunSide) -> std::io::Result<String> {
    let mut examples = Vec::new();
    for change in &comparison.configs {
        let (Some(old), Some(now)) = (base.configs.get(&change.config), new.configs.get(&change.config)) else {
            continue;
        };
        let mut changed: Vec<ChangedExample> = now
            .examples
            .iter()
            .filter_map(|(id, now_replies)| {
                // Both sides on the criteria both were scored on, as the comparison's own pairing does.
                let pairing = pair(
                    Side {
                        rubric: &base.rubric,
                        replies: old.examples.get(id)?,
                    },
                    Side {
                        rubric: &new.rubric,
                        replies: now_replies,
                    },
                );
                let (base_score, new_score) = match pairing {
                    PairOutcome::AsScored(b, n) | PairOutcome::OnCommonCriteria(b, n, _) => (b, n),
                    PairOutcome::Excluded => return None,
                };
                let delta = rounded((new_score.quality - base_score.quality) * 100.0, 2);
                (delta != 0.0).then(|| ChangedExample {
                    config: &change.config,
                    id,
                    delta,
                    base: RunExample::new(&base_score, old.replies.get(id)),
                    new: RunExample::new(&new_score, now.replies.get(id)),
                })
            })
            .collect();
        // Regressions first, the largest drop leading; then improvements, the largest gain leading.
        changed.sort_by(|a, b| {
            (a.delta > 0.0)
                .cmp(&(b.delta > 0.0))
                .then(a.delta.abs().total_cmp(&b.delta.abs()).reverse())
                .then(a.id.cmp(b.id))
        });
        examples.extend(changed);
    }
    let texts = examples
        .iter()
        .filter_map(|e| Some((e.id, new.texts.get(e.id).or_else(|| base.texts.get(e.id))?)))
        .collect();
    let page = ComparePage {
        suite: &new.metadata.suite,
        comparison,
        examples,
        texts,
    };
    page_html("Comparison of two runs", COMPARE_SCRIPT, &page)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_script_cannot_end_its_element() {
        let lower = super::COMPARE_SCRIPT.to_ascii_lowercase();
        assert!(!lower.contains("</script") && !lower.contains("<!--") && !lower.contains("{{"));
    }
}
