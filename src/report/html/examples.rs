//! The per-example part of `report.html`: each held-out example with every config's replies, scores and the judge's
//! reasons, in the compact shape the page's script reads (see `docs/report-format.md`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{rounded, script_json};
use crate::report::scoring::RowOutcome;
use crate::suite::Suite;

/// One held-out example and everything recorded for it.
#[derive(Debug, Serialize)]
struct ExampleView<'a> {
    /// The example's id.
    id: &'a str,
    /// Earlier turns of a multi-turn example, as "role: text" lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<String>,
    /// What the model had to answer.
    input: &'a str,
    /// The reference reply, if the data has one.
    reference: Option<&'a str>,
    /// Per config (suite order): mean quality points over its scored repeats, to two decimals.
    points: Vec<Option<f64>>,
    /// Every recorded request for the example, in plan order (config, then repeat).
    replies: Vec<ReplyView>,
}

/// One recorded request: the reply or the error, and its scores.
#[derive(Debug, Serialize)]
struct ReplyView {
    /// Index of the config in the suite's list.
    config: usize,
    /// Repeat index, from 0.
    repeat: u32,
    /// The reply, when the call succeeded.
    text: Option<String>,
    /// Why there is no reply ("kind: message"), when the call failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Quality points (100 × the rubric's score), to two decimals (the score's four, as in `examples.csv`).
    points: Option<f64>,
    /// Whether it reached the rubric's pass threshold.
    pass: Option<bool>,
    /// Per criterion (rubric order): the score in [0, 1] to four decimals, or null when it does not apply or could
    /// not be scored.
    scores: Vec<Option<f64>>,
    /// Per criterion: the judge's reasons (samples joined by " | "); absent when no criterion has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    reasons: Option<Vec<Option<String>>>,
    /// Criteria that could not be scored (a judge error), by index, with why.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    unscored: BTreeMap<usize, String>,
}

/// The page's list of examples in held-out order, each with its replies, written as the scoring pass reaches each
/// row (plan order is example-major, so one example's replies are held at a time) to a scratch file beside the page,
/// already escaped for the page's `<script>` element.
pub(crate) struct ExampleViews {
    scratch: Scratch,
    /// The example being gathered (every earlier one is written).
    next: usize,
    replies: Vec<ReplyView>,
}

impl ExampleViews {
    /// Starts the list in a scratch file in `dir`.
    pub(crate) fn start(dir: &Path) -> io::Result<Self> {
        let mut scratch = Scratch::create(
            &dir.join(format!(".report-examples.{}.tmp", std::process::id())),
            &dir.join(super::REPORT_FILE),
        )?;
        scratch.write(b"[")?;
        Ok(ExampleViews {
            scratch,
            next: 0,
            replies: Vec::new(),
        })
    }

    /// Takes in one row of the scoring pass.
    pub(crate) fn add(&mut self, suite: &Suite, row: &RowOutcome) -> io::Result<()> {
        while self.next < row.example {
            self.write_example(suite)?;
        }
        let Some(record) = row.record else { return Ok(()) };
        let criteria = row.score.map_or(&[][..], |s| &s.criteria[..]);
        let reasons: Vec<Option<String>> = criteria
            .iter()
            .map(|c| c.judged.as_ref().map(|j| j.reasons.join(" | ")))
            .collect();
        let unscored = criteria
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, c.error.clone()?)))
            .collect();
        self.replies.push(ReplyView {
            config: row.config,
            repeat: row.repeat,
            text: record.output.clone(),
            error: record.error.as_ref().map(ToString::to_string),
            points: row.score.and_then(|s| s.quality).map(|q| rounded(q * 100.0, 2)),
            pass: row.score.and_then(|s| s.pass),
            scores: (0..suite.rubric.criteria.len())
                .map(|i| criteria.get(i).and_then(|c| c.score).map(|s| rounded(s, 4)))
                .collect(),
            reasons: reasons.iter().any(Option::is_some).then_some(reasons),
            unscored,
        });
        Ok(())
    }

    /// Writes the remaining examples and ends the list; the scratch file then holds it, whole.
    pub(crate) fn finish(mut self, suite: &Suite) -> io::Result<Scratch> {
        while self.next < suite.held_out.examples.len() {
            self.write_example(suite)?;
        }
        self.scratch.write(b"]")?;
        Ok(self.scratch)
    }

    /// Writes example `next` with the replies gathered for it.
    fn write_example(&mut self, suite: &Suite) -> io::Result<()> {
        let example = &suite.held_out.examples[self.next];
        let replies = std::mem::take(&mut self.replies);
        let points = (0..suite.file.configs.len())
            .map(|c| {
                let scored: Vec<f64> = replies
                    .iter()
                    .filter(|r| r.config == c)
                    .filter_map(|r| r.points)
                    .collect();
                crate::report::mean(&scored).map(|p| rounded(p, 2))
            })
            .collect();
        let view = ExampleView {
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
        };
        if self.next > 0 {
            self.scratch.write(b",")?;
        }
        let json = serde_json::to_string(&view).map_err(io::Error::other)?;
        self.scratch.write(script_json(&json).as_bytes())?;
        self.next += 1;
        Ok(())
    }
}

/// A file the page is assembled from, removed when dropped.
pub(crate) struct Scratch {
    path: PathBuf,
    /// The file it is for, which its errors name.
    page: PathBuf,
    writer: BufWriter<File>,
}

impl Scratch {
    fn create(path: &Path, page: &Path) -> io::Result<Self> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| crate::files::with_path("write", page, e))?;
        Ok(Scratch {
            path: path.to_path_buf(),
            page: page.to_path_buf(),
            writer: BufWriter::with_capacity(1 << 16, file),
        })
    }

    /// Appends `bytes`.
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer
            .write_all(bytes)
            .map_err(|e| crate::files::with_path("write", &self.page, e))
    }

    /// Copies the whole file to `out`.
    pub(crate) fn copy_to(&mut self, out: &mut impl Write) -> io::Result<u64> {
        self.writer
            .flush()
            .map_err(|e| crate::files::with_path("write", &self.page, e))?;
        let file = self.writer.get_mut();
        file.seek(SeekFrom::Start(0))?;
        io::copy(file, out)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn role_name(role: crate::dataset::Role) -> &'static str {
    match role {
        crate::dataset::Role::User => "user",
        crate::dataset::Role::Assistant => "assistant",
    }
}
