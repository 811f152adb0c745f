//! The report files that hold every reply's text — `examples.csv`, `scores.jsonl` and `report.html`'s examples —
//! written a row at a time as the scoring pass reaches each one, so no more than one example's replies are held.

use std::io::{self, Write};
use std::path::Path;

use super::csv_files::ExamplesCsv;
use super::html::{ExampleViews, Scratch};
use super::scoring::ScoredRow;
use crate::files::PendingFile;
use crate::score::OutputScore;
use crate::suite::Suite;

/// The per-reply files of one report, being written.
pub struct TextFiles<'s> {
    suite: &'s Suite,
    examples: ExamplesCsv<PendingFile>,
    scores: PendingFile,
    /// A line of `scores.jsonl`, reused from line to line.
    line: Vec<u8>,
    views: ExampleViews,
}

/// The per-reply files once every row is in: the two files ready to be put in place, and the page's examples.
pub(super) struct WrittenTexts {
    pub examples: PendingFile,
    pub scores: PendingFile,
    pub views: Scratch,
}

impl<'s> TextFiles<'s> {
    /// Starts the files in `run_dir` (each under a temporary name until the report is complete).
    pub fn start(suite: &'s Suite, run_dir: &Path) -> io::Result<Self> {
        Ok(TextFiles {
            suite,
            examples: ExamplesCsv::start(suite, PendingFile::create(&run_dir.join("examples.csv"))?)?,
            scores: PendingFile::create(&run_dir.join("scores.jsonl"))?,
            line: Vec::new(),
            views: ExampleViews::start(run_dir, suite)?,
        })
    }

    /// Takes in one row of the scoring pass (its reply's text is handed on to the page, not copied).
    pub fn add(&mut self, mut row: ScoredRow) -> io::Result<()> {
        let outcome = row.outcome();
        self.examples.row(self.suite, &outcome)?;
        if let (Some(record), Some(score)) = (outcome.record, outcome.score) {
            self.line.clear();
            scores_line(
                &mut self.line,
                &self.suite.held_out.examples[row.example].id,
                &self.suite.file.configs[row.config].name,
                row.repeat,
                &record.fingerprint.0,
                score,
            )?;
            self.scores.write_all(&self.line)?;
        }
        let text = row.record.as_mut().and_then(|record| record.output.take());
        self.views.add(self.suite, &row.outcome(), text)
    }

    pub(super) fn finish(self) -> io::Result<WrittenTexts> {
        Ok(WrittenTexts {
            examples: self.examples.finish()?,
            scores: self.scores,
            views: self.views.finish(self.suite)?,
        })
    }
}

/// One line of `scores.jsonl`: a scored reply's per-criterion results (score, judge level and reasons, errors).
fn scores_line(
    out: &mut impl Write,
    example_id: &str,
    config: &str,
    repeat: u32,
    fingerprint: &str,
    score: &OutputScore,
) -> io::Result<()> {
    serde_json::to_writer(
        &mut *out,
        &ScoresLine::new(example_id, config, repeat, fingerprint, score),
    )
    .map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// A line of `scores.jsonl`: the row's identity, then [`OutputScore`]'s fields in its order (as `#[serde(flatten)]`
/// would write them, without the map it goes through).
#[derive(serde::Serialize)]
struct ScoresLine<'a> {
    example_id: &'a str,
    config: &'a str,
    repeat: u32,
    fingerprint: &'a str,
    criteria: &'a [crate::score::CriterionScore],
    quality: Option<f64>,
    pass: Option<bool>,
}

impl<'a> ScoresLine<'a> {
    fn new(example_id: &'a str, config: &'a str, repeat: u32, fingerprint: &'a str, score: &'a OutputScore) -> Self {
        let OutputScore {
            criteria,
            quality,
            pass,
        } = score;
        ScoresLine {
            example_id,
            config,
            repeat,
            fingerprint,
            criteria,
            quality: *quality,
            pass: *pass,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::CriterionScore;

    #[test]
    fn a_scores_line_is_the_row_with_its_score_flattened() {
        #[derive(serde::Serialize)]
        struct Flattened<'a> {
            example_id: &'a str,
            config: &'a str,
            repeat: u32,
            fingerprint: &'a str,
            #[serde(flatten)]
            score: &'a OutputScore,
        }
        let scored: OutputScore = serde_json::from_value(serde_json::json!({
            "criteria": [
                {"id": "tone", "score": 0.75, "judged": {"level": 4, "reasons": ["fine \"quote\" \u{2028}", "</script>"]}},
                {"id": "names", "error": "no judge verdict recorded"},
                {"id": "json", "score": 0.5, "fields": [], "label": null, "reason": "ok\n"}
            ],
            "quality": 0.6,
            "pass": true
        }))
        .unwrap();
        let unscored = OutputScore {
            criteria: vec![],
            quality: None,
            pass: None,
        };
        let odd = OutputScore {
            criteria: vec![CriterionScore {
                score: Some(1e-300),
                ..serde_json::from_value(serde_json::json!({"id": "x\u{0}y"})).unwrap()
            }],
            quality: Some(0.1 + 0.2),
            pass: Some(false),
        };
        for score in [&scored, &unscored, &odd] {
            let mut line = Vec::new();
            scores_line(&mut line, "ex \"1\"", "c—0", 7, "ab", score).unwrap();
            let mut expected = serde_json::to_vec(&Flattened {
                example_id: "ex \"1\"",
                config: "c—0",
                repeat: 7,
                fingerprint: "ab",
                score,
            })
            .unwrap();
            expected.push(b'\n');
            assert_eq!(String::from_utf8(line).unwrap(), String::from_utf8(expected).unwrap());
        }
    }
}
