//! `data leakage`: held-out examples that the model may have seen in training.
//!
//! Inputs (the prompt, or every turn before the reply) are compared: equal after normalisation is an exact leak,
//! Jaccard ≥ threshold over word shingles a near one (found with the MinHash index, verified exactly). A held-out reference equal (after normalisation) to a training
//! reply is reported too: the model was taught the very answer it is scored against.

use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::InputError;

use super::record::{load_records, Record};
use super::similarity::{jaccard, normalise, shingle_sets, LshIndex, Threshold};

/// How a held-out example leaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeakKind {
    /// The same input, after normalisation.
    ExactInput,
    /// Inputs whose word shingles overlap at or above the threshold.
    NearInput,
    /// The held-out reference is a training reply, after normalisation.
    ReferenceIsTrainingReply,
}

/// One leak: a held-out line and the training line it matches best, with how many other training lines match it
/// the same way (so a held-out example repeated across a templated training file is one entry, not thousands).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leak {
    /// How it leaks.
    pub kind: LeakKind,
    /// Line in the training file: the first match (exact kinds) or the most similar one (near; the first on ties).
    pub train_line: usize,
    /// Line in the held-out file.
    pub held_out_line: usize,
    /// Jaccard similarity of the compared inputs' shingles (1 for exact matches).
    pub jaccard: f64,
    /// Other training lines matching this held-out line the same way, not listed.
    pub also_matches: usize,
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (held_out, train) = (self.held_out_line, self.train_line);
        match self.kind {
            LeakKind::ExactInput => write!(f, "held-out line {held_out}: same input as training line {train}")?,
            LeakKind::NearInput => write!(
                f,
                "held-out line {held_out}: input is a near duplicate of training line {train} (Jaccard {:.2})",
                self.jaccard
            )?,
            LeakKind::ReferenceIsTrainingReply => write!(
                f,
                "held-out line {held_out}: reference is the reply of training line {train}"
            )?,
        }
        match self.also_matches {
            0 => Ok(()),
            1 => write!(f, " (and 1 more training line)"),
            n => write!(f, " (and {n} more training lines)"),
        }
    }
}

/// Every leak between `train` and `held_out`, at most one per held-out line and kind, ordered by held-out line, then
/// kind. A training line whose input matches exactly is not counted again among the near matches.
pub fn find_leakage(train: &[Record], held_out: &[Record], threshold: Threshold) -> Vec<Leak> {
    let train_inputs: Vec<String> = train.iter().map(|r| normalise(&r.input_text())).collect();
    let lines_by_input = index_by_normalised(train.iter().zip(&train_inputs).map(|(r, t)| (r.line, t.clone())));
    let lines_by_reply = index_by_normalised(train.iter().filter_map(|r| Some((r.line, normalise(r.reference()?)))));
    // One collection, so boilerplate is judged over both files.
    let inputs: Vec<String> = train.iter().chain(held_out).map(Record::input_text).collect();
    let mut sets = shingle_sets(&inputs.iter().map(String::as_str).collect::<Vec<_>>());
    let held_out_sets = sets.split_off(train.len());
    let train_sets = sets;
    let mut index = LshIndex::new(threshold);
    for (i, set) in train_sets.iter().enumerate() {
        let keys = index.band_keys(set);
        index.insert(i, &keys);
    }
    let mut leaks = Vec::new();
    for (record, set) in held_out.iter().zip(&held_out_sets) {
        let input = normalise(&record.input_text());
        let leak = |kind, train_line, jaccard, also_matches| Leak {
            kind,
            train_line,
            held_out_line: record.line,
            jaccard,
            also_matches,
        };
        if let Some(lines) = lines_by_input.get(&input) {
            leaks.push(leak(LeakKind::ExactInput, lines[0], 1.0, lines.len() - 1));
        }
        let keys = index.band_keys(set);
        let (mut best, mut count): (Option<(f64, usize)>, usize) = (None, 0);
        index.for_each_candidate(&keys, |j| {
            let similarity = jaccard(&train_sets[j], set);
            if similarity >= threshold.value() && train_inputs[j] != input {
                count += 1;
                let better = best.is_none_or(|(s, b)| similarity > s || (similarity == s && j < b));
                if better {
                    best = Some((similarity, j));
                }
            }
            ControlFlow::Continue(())
        });
        if let Some((similarity, j)) = best {
            leaks.push(leak(LeakKind::NearInput, train[j].line, similarity, count - 1));
        }
        let reply = record.reference().map(normalise);
        if let Some(lines) = reply.and_then(|r| lines_by_reply.get(&r)) {
            leaks.push(leak(LeakKind::ReferenceIsTrainingReply, lines[0], 1.0, lines.len() - 1));
        }
    }
    leaks
}

/// Training lines by normalised text; blank texts are left out (an empty reply is a data error, not a leak).
fn index_by_normalised(texts: impl Iterator<Item = (usize, String)>) -> HashMap<String, Vec<usize>> {
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (line, normalised) in texts {
        if !normalised.is_empty() {
            index.entry(normalised).or_default().push(line);
        }
    }
    index
}

/// The leaks between two files, with their record counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeakageReport {
    /// The training file.
    pub train_path: PathBuf,
    /// The held-out file.
    pub held_out_path: PathBuf,
    /// Records read from the training file.
    pub train_records: usize,
    /// Records read from the held-out file.
    pub held_out_records: usize,
    /// Every leak found.
    pub leaks: Vec<Leak>,
}

impl LeakageReport {
    /// Held-out lines with at least one leak, in order.
    pub fn leaked_held_out_lines(&self) -> Vec<usize> {
        let mut lines: Vec<usize> = self.leaks.iter().map(|l| l.held_out_line).collect();
        lines.dedup();
        lines
    }
}

/// Reads both files (any of the three formats, each detected per line) and finds the leaks between them.
pub fn find_leakage_in_files(
    train_path: &Path,
    held_out_path: &Path,
    threshold: Threshold,
) -> Result<LeakageReport, InputError> {
    let train = load_records(train_path)?;
    let held_out = load_records(held_out_path)?;
    Ok(LeakageReport {
        train_path: train_path.to_path_buf(),
        held_out_path: held_out_path.to_path_buf(),
        train_records: train.len(),
        held_out_records: held_out.len(),
        leaks: find_leakage(&train, &held_out, threshold),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::record::Format;
    use crate::dataset::{Role, Turn};

    fn record(line: usize, prompt: &str, reply: Option<&str>) -> Record {
        let mut turns = vec![Turn {
            role: Role::User,
            text: prompt.into(),
        }];
        if let Some(reply) = reply {
            turns.push(Turn {
                role: Role::Assistant,
                text: reply.into(),
            });
        }
        Record {
            line,
            format: Format::PromptCompletion,
            system: None,
            turns,
            raw: String::new(),
        }
    }

    #[test]
    fn exact_near_and_reference_leaks_with_counts_of_further_matches() {
        let long = "after the firmware update my kestrel camera keeps dropping off the wifi every night";
        let train = vec![
            record(1, "Reset the lock", Some("Hold the button for five seconds.")),
            record(2, long, Some("Move it closer to the router.")),
            record(3, "Unrelated question about billing", Some("See your invoice.")),
            record(4, &format!("{long} please"), Some("Try another channel.")),
            record(5, "reset the lock", Some("Hold the button for five seconds.")),
        ];
        let held_out = vec![
            record(1, "reset  THE lock", Some("Call support.")),
            record(2, &format!("{long}, why?"), None),
            record(3, "How long do I hold it?", Some("hold the button for five seconds.")),
        ];
        let leaks: Vec<_> = find_leakage(&train, &held_out, Threshold::DEFAULT)
            .into_iter()
            .map(|l| (l.kind, l.train_line, l.held_out_line, l.also_matches))
            .collect();
        assert_eq!(
            leaks,
            vec![
                (LeakKind::ExactInput, 1, 1, 1),
                (LeakKind::NearInput, 2, 2, 1),
                (LeakKind::ReferenceIsTrainingReply, 1, 3, 1),
            ]
        );
    }
}
