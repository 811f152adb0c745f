//! `compare.html`: per config, the examples that regressed and improved between two runs, with both runs' replies
//! side by side, beside the comparison's verdicts. The same kind of page as `report.html` (`report::html`): our
//! template, style and script around one JSON value, every text from the runs shown as text.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::compare::{Comparison, ExampleText, RunSide};
use crate::report::html::{page_html, rounded};

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
    fn new(points: f64, pass: f64, replies: Option<&'a Vec<String>>) -> Self {
        RunExample {
            points: rounded(points, 2),
            pass,
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
            .filter_map(|(id, &(new_points, new_pass))| {
                let &(base_points, base_pass) = old.examples.get(id)?;
                let delta = rounded(new_points - base_points, 2);
                (delta != 0.0).then(|| ChangedExample {
                    config: &change.config,
                    id,
                    delta,
                    base: RunExample::new(base_points, base_pass, old.replies.get(id)),
                    new: RunExample::new(new_points, new_pass, now.replies.get(id)),
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
