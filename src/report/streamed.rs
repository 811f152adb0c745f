//! The report files that hold every reply's text — `examples.csv`, `scores.jsonl` and `report.html`'s examples —
//! written a row at a time as the scoring pass reaches each one, so no more than one example's replies are held.

use std::io::{self, Write};
use std::path::Path;

use super::csv_files::ExamplesCsv;
use super::html::{ExampleViews, Scratch};
use super::scoring::RowOutcome;
use crate::files::PendingFile;
use crate::score::OutputScore;
use crate::suite::Suite;

/// The per-reply files of one report, being written.
pub struct TextFiles<'s> {
    suite: &'s Suite,
    examples: ExamplesCsv<PendingFile>,
    scores: PendingFile,
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
            views: ExampleViews::start(run_dir, suite)?,
        })
    }

    /// Takes in one row of the scoring pass.
    pub fn add(&mut self, row: &RowOutcome) -> io::Result<()> {
        self.examples.row(self.suite, row)?;
        if let (Some(record), Some(score)) = (row.record, row.score) {
            scores_line(
                &mut self.scores,
                &self.suite.held_out.examples[row.example].id,
                &self.suite.file.configs[row.config].name,
                row.repeat,
                &record.fingerprint.0,
                score,
            )?;
        }
        self.views.add(self.suite, row)
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
    #[derive(serde::Serialize)]
    struct Line<'a> {
        example_id: &'a str,
        config: &'a str,
        repeat: u32,
        fingerprint: &'a str,
        #[serde(flatten)]
        score: &'a OutputScore,
    }
    let line = Line {
        example_id,
        config,
        repeat,
        fingerprint,
        score,
    };
    serde_json::to_writer(&mut *out, &line).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
