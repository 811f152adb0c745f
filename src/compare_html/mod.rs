//! `compare.html`: per config, the examples that regressed and improved between two runs, with both runs' replies
//! side by side, beside the comparison's verdicts. The same kind of page as `report.html` (`report::html`): our
//! template, style and script around one JSON value, every text from the runs shown as text.

use std::io::Write;

use serde::Serialize;

use crate::compare::{Comparison, ConfigSide, RunSide, SameIds};
use crate::report::html::{page_parts, rounded, script_json};
use crate::report::scoring::RecordReader;
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
    base: RunExample,
    /// The new run's side.
    new: RunExample,
}

/// One run's scores and replies for an example.
#[derive(Debug, Serialize)]
struct RunExample {
    /// Mean quality points over the scored repeats, to two decimals.
    points: f64,
    /// Share of the scored repeats that passed.
    pass: f64,
    /// The scored replies, one per repeat.
    replies: Vec<String>,
}

/// One run's scores for an example whose quality changed, before its replies are read back.
#[derive(Debug, Clone, Copy)]
struct Scores {
    /// The example's index in its run.
    example: usize,
    points: f64,
    pass: f64,
}

impl Scores {
    fn new(example: usize, score: &SideScore) -> Self {
        let passed = score.passes.iter().filter(|p| **p).count();
        Scores {
            example,
            points: rounded(score.quality * 100.0, 2),
            pass: passed as f64 / score.passes.len().max(1) as f64,
        }
    }

    /// With its replies, read back from the run's records.
    fn with_replies(self, side: &ConfigSide, records: &mut RecordReader) -> anyhow::Result<RunExample> {
        let mut replies = Vec::new();
        for &position in side
            .examples
            .span(self.example)
            .map_or(&[][..], |span| &side.positions[span])
        {
            replies.extend(records.read_at(position)?.output);
        }
        Ok(RunExample {
            points: self.points,
            pass: self.pass,
            replies,
        })
    }
}

/// What `compare.html` shows before the examples, as the start of one JSON value; `examples` (per config, in the
/// comparison's order, the examples that regressed, largest drop first, then those that improved, largest gain
/// first) and `texts` (input and reference of each example listed, by id) follow it, written one at a time.
#[derive(Serialize)]
struct ComparePage<'a> {
    /// The suite's name.
    suite: &'a str,
    /// The comparison, as `compare.json` holds it.
    comparison: &'a Comparison,
}

/// Writes `compare.html` for a comparison of `base` and `new` to `out`, reading back from each run's records only
/// the replies it shows, an example at a time.
pub fn write_compare_html(
    out: &mut impl Write,
    comparison: &Comparison,
    base: &RunSide,
    new: &RunSide,
) -> anyhow::Result<()> {
    let page = serde_json::to_string(&ComparePage {
        suite: &new.metadata.suite,
        comparison,
    })?;
    let before_examples = page
        .strip_suffix('}')
        .ok_or_else(|| anyhow::anyhow!("the page's data is not one object"))?;
    let (head, tail) = page_parts("Comparison of two runs", COMPARE_SCRIPT);
    out.write_all(head.as_bytes())?;
    out.write_all(script_json(before_examples).as_bytes())?;
    out.write_all(b",\"examples\":[")?;
    let (base_records, new_records) = (base.records(), new.records());
    let mut base_records = RecordReader::for_lookups(&base_records)?;
    let mut new_records = RecordReader::for_lookups(&new_records)?;
    let same_ids = SameIds::new(base, new);
    let mut listed: Vec<usize> = Vec::new();
    for change in &comparison.configs {
        let (Some(old), Some(now)) = (base.configs.get(&change.config), new.configs.get(&change.config)) else {
            continue;
        };
        let mut changed: Vec<(f64, Scores, Scores)> = same_ids
            .pairs(new, old, now)
            .into_iter()
            .filter_map(|(example, then)| {
                // Both sides on the criteria both were scored on, as the comparison's own pairing does.
                let pairing = pair(
                    Side {
                        rubric: &base.rubric,
                        replies: old.examples.get(then)?,
                    },
                    Side {
                        rubric: &new.rubric,
                        replies: now.examples.get(example)?,
                    },
                );
                let (base_score, new_score) = match pairing {
                    PairOutcome::AsScored(b, n) | PairOutcome::OnCommonCriteria(b, n, _) => (b, n),
                    PairOutcome::Excluded => return None,
                };
                let delta = rounded((new_score.quality - base_score.quality) * 100.0, 2);
                (delta != 0.0).then(|| (delta, Scores::new(then, &base_score), Scores::new(example, &new_score)))
            })
            .collect();
        // Regressions first, the largest drop leading; then improvements, the largest gain leading.
        changed.sort_by(|a, b| {
            (a.0 > 0.0)
                .cmp(&(b.0 > 0.0))
                .then(a.0.abs().total_cmp(&b.0.abs()).reverse())
                .then(new.ids[a.2.example].cmp(&new.ids[b.2.example]))
        });
        for (delta, then, now_scores) in changed {
            let example = ChangedExample {
                config: &change.config,
                id: &new.ids[now_scores.example],
                delta,
                base: then.with_replies(old, &mut base_records)?,
                new: now_scores.with_replies(now, &mut new_records)?,
            };
            if !listed.is_empty() {
                out.write_all(b",")?;
            }
            out.write_all(script_json(&serde_json::to_string(&example)?).as_bytes())?;
            listed.push(now_scores.example);
        }
    }
    out.write_all(b"],\"texts\":{")?;
    listed.sort_unstable_by(|a, b| new.ids[*a].cmp(&new.ids[*b]));
    listed.dedup();
    for (n, (id, text)) in listed
        .iter()
        .filter_map(|&example| Some((&new.ids[example], new.texts.get(example)?)))
        .enumerate()
    {
        if n > 0 {
            out.write_all(b",")?;
        }
        let id = serde_json::to_string(id)?;
        let text = serde_json::to_string(text)?;
        out.write_all(script_json(&format!("{id}:{text}")).as_bytes())?;
    }
    out.write_all(b"}}")?;
    out.write_all(tail.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_script_cannot_end_its_element() {
        let lower = super::COMPARE_SCRIPT.to_ascii_lowercase();
        assert!(!lower.contains("</script") && !lower.contains("<!--") && !lower.contains("{{"));
    }
}
