//! The per-example part of `report.html`: each held-out example with every config's replies, scores and the judge's
//! reasons, in the compact shape the page's script reads (see `docs/report-format.md`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
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
pub(crate) struct ReplyView {
    /// Index of the config in the suite's list.
    config: usize,
    /// Repeat index, from 0.
    repeat: u32,
    /// The reply, when the call succeeded (set by the pass's consumer, which takes it out of the record).
    pub(crate) text: Option<String>,
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

/// Above this many held-out examples the page holds only this many, the most telling (see [`ExampleViews`]): a
/// page of every example of a 200,000-example run would be hundreds of megabytes, more than a browser opens.
pub(crate) const PAGE_EXAMPLES: usize = 5_000;

/// The page's list of examples in held-out order, each with its replies, written as the scoring pass reaches each
/// row (plan order is example-major, so one example's replies are held at a time) to a scratch file beside the page,
/// already escaped for the page's `<script>` element.
///
/// A run of more than [`PAGE_EXAMPLES`] examples keeps that many in a bounded heap, ranked by how much they tell:
/// first those with a failed call, then those whose quality differs most from the baseline's (either way), then
/// the earliest; an example that would not enter the heap is never serialised. `examples.csv` and `scores.jsonl`
/// keep every example.
pub(crate) struct ExampleViews {
    scratch: Scratch,
    /// The example being gathered (every earlier one is written or ranked).
    next: usize,
    replies: Vec<ReplyView>,
    /// The baseline's index among the configs.
    baseline: Option<usize>,
    /// The examples kept so far, when there are more than the page holds; the heap's top is the least telling.
    kept: Option<BinaryHeap<Kept>>,
}

/// An example kept for the page: its rank and its JSON, escaped for the page.
struct Kept {
    rank: Rank,
    json: String,
}

/// How telling an example is; a greater rank is less telling (so a max-heap's top is the first to go).
#[derive(Debug, Clone, Copy)]
struct Rank {
    failed: bool,
    /// The largest difference in quality points from the baseline, either way (0 when none can be taken).
    spread: f64,
    index: usize,
}

impl Ord for Rank {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .failed
            .cmp(&self.failed)
            .then(other.spread.total_cmp(&self.spread))
            .then(self.index.cmp(&other.index))
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Rank {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Rank {}

impl Ord for Kept {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank.cmp(&other.rank)
    }
}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.rank == other.rank
    }
}

impl Eq for Kept {}

impl ExampleViews {
    /// Starts the list in a scratch file in `dir`.
    pub(crate) fn start(dir: &Path, suite: &Suite) -> io::Result<Self> {
        let mut scratch = Scratch::create(
            &dir.join(format!(".report-examples.{}.tmp", std::process::id())),
            &dir.join(super::REPORT_FILE),
        )?;
        scratch.write(b"[")?;
        Ok(ExampleViews {
            scratch,
            next: 0,
            replies: Vec::new(),
            baseline: suite.file.configs.iter().position(|c| c.name == suite.file.baseline),
            kept: (suite.held_out.examples.len() > PAGE_EXAMPLES).then(BinaryHeap::new),
        })
    }

    /// A recorded row of the scoring pass as the page shows it, without its reply's text (see [`ReplyView::text`]);
    /// `None` for a row without a record. Made on any thread; [`ExampleViews::push`] then takes it in.
    pub(crate) fn reply(suite: &Suite, row: &RowOutcome) -> Option<ReplyView> {
        let record = row.record?;
        let criteria = row.score.map_or(&[][..], |s| &s.criteria[..]);
        // Made only when some criterion has reasons: most rubrics have no judge.
        let reasons = criteria.iter().any(|c| c.judged.is_some()).then(|| {
            criteria
                .iter()
                .map(|c| c.judged.as_ref().map(|j| j.reasons.join(" | ")))
                .collect::<Vec<_>>()
        });
        let unscored = criteria
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, c.error.clone()?)))
            .collect();
        Some(ReplyView {
            config: row.config,
            repeat: row.repeat,
            text: None,
            error: record.error.as_ref().map(ToString::to_string),
            points: row.score.and_then(|s| s.quality).map(|q| rounded(q * 100.0, 2)),
            pass: row.score.and_then(|s| s.pass),
            scores: (0..suite.rubric.criteria.len())
                .map(|i| criteria.get(i).and_then(|c| c.score).map(|s| rounded(s, 4)))
                .collect(),
            reasons,
            unscored,
        })
    }

    /// Takes in one row of the scoring pass, in plan order: the row's `example` and its [`ExampleViews::reply`].
    pub(crate) fn push(&mut self, suite: &Suite, example: usize, reply: Option<ReplyView>) -> io::Result<()> {
        while self.next < example {
            self.write_example(suite)?;
        }
        self.replies.extend(reply);
        Ok(())
    }

    /// Writes the remaining examples and ends the list; the scratch file then holds it, whole.
    pub(crate) fn finish(mut self, suite: &Suite) -> io::Result<Scratch> {
        let total = suite.held_out.examples.len();
        while self.next < total {
            self.write_example(suite)?;
        }
        if let Some(kept) = self.kept.take() {
            let mut kept = kept.into_vec();
            kept.sort_by_key(|k| k.rank.index);
            self.scratch.shown = Some((kept.len(), total));
            for (i, example) in kept.iter().enumerate() {
                if i > 0 {
                    self.scratch.write(b",")?;
                }
                self.scratch.write(example.json.as_bytes())?;
            }
        }
        self.scratch.write(b"]")?;
        Ok(self.scratch)
    }

    /// Writes example `next` with the replies gathered for it (or ranks it, when the page holds only some).
    fn write_example(&mut self, suite: &Suite) -> io::Result<()> {
        let index = self.next;
        self.next += 1;
        let example = &suite.held_out.examples[index];
        let replies = std::mem::take(&mut self.replies);
        let points: Vec<Option<f64>> = (0..suite.file.configs.len())
            .map(|c| {
                let scored: Vec<f64> = replies
                    .iter()
                    .filter(|r| r.config == c)
                    .filter_map(|r| r.points)
                    .collect();
                crate::report::mean(&scored).map(|p| rounded(p, 2))
            })
            .collect();
        let rank = self.kept.as_ref().map(|_| Rank {
            failed: replies.iter().any(|r| r.error.is_some()),
            spread: self.baseline.and_then(|b| points[b]).map_or(0.0, |base| {
                points.iter().flatten().map(|p| (p - base).abs()).fold(0.0, f64::max)
            }),
            index,
        });
        if let (Some(kept), Some(rank)) = (&self.kept, rank) {
            let enters = kept.len() < PAGE_EXAMPLES || kept.peek().is_some_and(|least| rank < least.rank);
            if !enters {
                return Ok(());
            }
        }
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
        let json = script_json(&serde_json::to_string(&view).map_err(io::Error::other)?);
        if let (Some(kept), Some(rank)) = (&mut self.kept, rank) {
            if kept.len() == PAGE_EXAMPLES {
                kept.pop();
            }
            kept.push(Kept { rank, json });
            return Ok(());
        }
        if index > 0 {
            self.scratch.write(b",")?;
        }
        self.scratch.write(json.as_bytes())
    }
}

/// A file the page is assembled from, removed when dropped.
pub(crate) struct Scratch {
    path: PathBuf,
    /// The file it is for, which its errors name.
    page: PathBuf,
    writer: BufWriter<File>,
    /// When the list holds only some of the examples: (how many it holds, how many there are).
    pub(crate) shown: Option<(usize, usize)>,
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
            shown: None,
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
