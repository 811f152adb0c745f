//! The report files that hold every reply's text — `examples.csv`, `scores.jsonl` and `report.html`'s examples —
//! written a row at a time as the scoring pass reaches each one, so no more than one example's replies are held.

use std::io::{self, Write};
use std::path::Path;

use super::csv_files::ExamplesCsv;
use super::html::{ExampleViews, ReplyView, Scratch};
use super::scoring::ScoredRow;
use crate::files::PendingFile;
use crate::score::OutputScore;
use crate::suite::Suite;

/// The per-reply files of one report, being written.
pub struct TextFiles<'s> {
    suite: &'s Suite,
    examples: PendingFile,
    scores: PendingFile,
    views: ExampleViews,
}

/// The per-reply files once every row is in: the two files ready to be put in place, and the page's examples.
pub(super) struct WrittenTexts {
    pub examples: PendingFile,
    pub scores: PendingFile,
    pub views: Scratch,
}

/// What the per-reply files take of one row of the scoring pass, made on the thread that scored it
/// ([`RowFormatter::format`]) and taken in by [`TextFiles::add`] in plan order.
pub struct RowTexts {
    example: usize,
    /// The row's line of `examples.csv` (empty for a row without a record).
    csv: Vec<u8>,
    /// The row's line of `scores.jsonl` (empty for a row that is not a scored reply).
    scores: Vec<u8>,
    /// The row on the page, once it has its text ([`RowTexts::take_text`]).
    reply: Option<ReplyView>,
}

impl RowTexts {
    /// Hands the reply's text over to the page, taking it out of the row's record (not copying it): to be called
    /// once nothing else needs the record's text.
    pub fn take_text(&mut self, row: &mut ScoredRow) {
        if let Some(reply) = &mut self.reply {
            reply.text = row.record.as_mut().and_then(|record| record.output.take());
        }
    }
}

/// Formats rows for the per-reply files; one per thread.
pub struct RowFormatter {
    examples: ExamplesCsv,
    /// A line of `scores.jsonl`, reused from line to line.
    line: Vec<u8>,
}

impl RowFormatter {
    pub fn new(suite: &Suite) -> Self {
        RowFormatter {
            examples: ExamplesCsv::new(suite),
            line: Vec::new(),
        }
    }

    /// What the per-reply files take of `row`.
    pub fn format(&mut self, suite: &Suite, row: &ScoredRow) -> io::Result<RowTexts> {
        let outcome = row.outcome();
        self.examples.row(suite, &outcome)?;
        let csv = self.examples.take()?;
        self.line.clear();
        if let (Some(record), Some(score)) = (outcome.record, outcome.score) {
            scores_line(
                &mut self.line,
                &suite.held_out.examples[row.example].id,
                &suite.file.configs[row.config].name,
                row.repeat,
                &record.fingerprint.0,
                score,
            )?;
        }
        Ok(RowTexts {
            example: row.example,
            csv,
            scores: self.line.clone(),
            reply: ExampleViews::reply(suite, &outcome),
        })
    }
}

impl<'s> TextFiles<'s> {
    /// Starts the files in `run_dir` (each under a temporary name until the report is complete).
    pub fn start(suite: &'s Suite, run_dir: &Path) -> io::Result<Self> {
        let mut examples = PendingFile::create(&run_dir.join("examples.csv"))?;
        examples.write_all(&ExamplesCsv::new(suite).header(suite)?)?;
        Ok(TextFiles {
            suite,
            examples,
            scores: PendingFile::create(&run_dir.join("scores.jsonl"))?,
            views: ExampleViews::start(run_dir, suite)?,
        })
    }

    /// Takes in one row of the scoring pass, in plan order.
    pub fn add(&mut self, row: RowTexts) -> io::Result<()> {
        self.examples.write_all(&row.csv)?;
        self.scores.write_all(&row.scores)?;
        self.views.push(self.suite, row.example, row.reply)
    }

    /// Ends the rows: the two files' lines are written out (so that a failing disk names them before the page),
    /// and the page's examples list is closed.
    pub(super) fn finish(mut self) -> io::Result<WrittenTexts> {
        self.examples.flush()?;
        self.scores.flush()?;
        Ok(WrittenTexts {
            examples: self.examples,
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
