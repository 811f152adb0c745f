//! `data leakage`: held-out examples that the model may have seen in training.
//!
//! Inputs (the prompt, or every turn before the reply) are compared: equal after normalisation is an exact leak,
//! Jaccard ≥ threshold over word shingles a near one (found with the MinHash index, verified exactly). A held-out
//! reference equal (after normalisation) to a training reply is a leak too — the model was taught the very answer it
//! is scored against — but only when that reply is **distinctive**: taught by fewer than [`SHARED_REPLY_ROWS`]
//! training rows. A label or a stock answer shared by several rows (a class of a classifier, a `{"category": …}`
//! object whose every value recurs) is what fine-tuning is meant to teach, not a leak.

use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::InputError;

use super::record::{load_records, Record};
use super::similarity::{jaccard, normalise, shingle_sets, LshIndex, Threshold};

/// A training reply taught by this many rows or more is shared (a label, a stock answer), not distinctive: a held-out
/// reference equal to it is not a leak. For a reply that is a JSON object, each of its values counts the same way:
/// the reply is distinctive only if it, and at least one of its leaf values, are taught by fewer rows than this.
pub const SHARED_REPLY_ROWS: usize = 3;

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

/// The leaves of a JSON object reply as `path=value` keys (values normalised), or nothing for any other reply.
fn json_leaves(reply: &str) -> Vec<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    walk(&format!("{prefix}.{key}"), value, out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, value) in items.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), value, out);
                }
            }
            serde_json::Value::String(s) => out.push(format!("{prefix}={}", normalise(s))),
            other => out.push(format!("{prefix}={other}")),
        }
    }
    let mut leaves = Vec::new();
    if let Ok(value @ serde_json::Value::Object(_)) = serde_json::from_str::<serde_json::Value>(reply.trim()) {
        walk("", &value, &mut leaves);
    }
    leaves
}

/// Which training replies are distinctive (see [`SHARED_REPLY_ROWS`]), from how many rows teach each reply and each
/// JSON leaf value.
struct ReplyCounts {
    leaves: HashMap<String, usize>,
}

impl ReplyCounts {
    fn new(train: &[Record]) -> Self {
        let mut leaves: HashMap<String, usize> = HashMap::new();
        for reply in train.iter().filter_map(Record::reference) {
            let mut distinct = json_leaves(reply);
            distinct.sort();
            distinct.dedup();
            for leaf in distinct {
                *leaves.entry(leaf).or_default() += 1;
            }
        }
        ReplyCounts { leaves }
    }

    /// Whether `reply`, taught by `rows` training rows, is distinctive.
    fn distinctive(&self, reply: &str, rows: usize) -> bool {
        if rows >= SHARED_REPLY_ROWS {
            return false;
        }
        let leaves = json_leaves(reply);
        leaves.is_empty()
            || leaves
                .iter()
                .any(|leaf| self.leaves.get(leaf).copied().unwrap_or(0) < SHARED_REPLY_ROWS)
    }
}

/// Every leak between `train` and `held_out`, at most one per held-out line and kind, ordered by held-out line, then
/// kind. A training line whose input matches exactly is not counted again among the near matches.
pub fn find_leakage(train: &[Record], held_out: &[Record], threshold: Threshold) -> Vec<Leak> {
    find_leakage_counting_shared(train, held_out, threshold).0
}

/// As [`find_leakage`], also counting the held-out references equal to a shared (not distinctive) training reply.
fn find_leakage_counting_shared(train: &[Record], held_out: &[Record], threshold: Threshold) -> (Vec<Leak>, usize) {
    let train_inputs: Vec<String> = train.iter().map(|r| normalise(&r.input_text())).collect();
    let lines_by_input = index_by_normalised(train.iter().zip(&train_inputs).map(|(r, t)| (r.line, t.clone())));
    let lines_by_reply = index_by_normalised(train.iter().filter_map(|r| Some((r.line, normalise(r.reference()?)))));
    let counts = ReplyCounts::new(train);
    let mut shared_references = 0;
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
        let reference = record.reference();
        if let Some((reference, lines)) = reference.and_then(|r| Some((r, lines_by_reply.get(&normalise(r))?))) {
            if counts.distinctive(reference, lines.len()) {
                leaks.push(leak(LeakKind::ReferenceIsTrainingReply, lines[0], 1.0, lines.len() - 1));
            } else {
                shared_references += 1;
            }
        }
    }
    (leaks, shared_references)
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
    /// Held-out references equal to a training reply that several rows share (a label, a stock answer): not leaks.
    pub shared_references: usize,
}

impl LeakageReport {
    /// A sentence on the references that equal a shared training reply and are therefore not counted.
    pub fn shared_references_note(&self) -> String {
        format!(
            "{} held-out references equal a label or answer that {SHARED_REPLY_ROWS} or more training rows share; \
             not counted as leaks",
            self.shared_references
        )
    }

    /// The number of held-out examples with each kind of leak, in kind order.
    pub fn leaked_by_kind(&self) -> Vec<(LeakKind, usize)> {
        let mut counts: std::collections::BTreeMap<LeakKind, usize> = std::collections::BTreeMap::new();
        for leak in &self.leaks {
            *counts.entry(leak.kind).or_default() += 1;
        }
        counts.into_iter().collect()
    }

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
    let (leaks, shared_references) = find_leakage_counting_shared(&train, &held_out, threshold);
    Ok(LeakageReport {
        train_path: train_path.to_path_buf(),
        held_out_path: held_out_path.to_path_buf(),
        train_records: train.len(),
        held_out_records: held_out.len(),
        leaks,
        shared_references,
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

    #[test]
    fn a_reference_shared_by_several_training_rows_is_a_label_not_a_leak() {
        let train = vec![
            record(1, "I was charged twice this month", Some("billing")),
            record(2, "Refund the duplicate payment please", Some("billing")),
            record(3, "My invoice shows the wrong address", Some("Billing")),
            record(4, "The hub is offline since last night", Some("outage")),
            record(5, "No video from any camera", Some("outage")),
            record(
                6,
                "Which plan includes cloud storage?",
                Some("Plan B includes 30 days of clips."),
            ),
        ];
        let held_out = vec![
            record(1, "Why was my card billed two times", Some("billing")),
            record(2, "Everything went dark after the storm", Some("outage")),
            record(
                3,
                "How long are clips kept on my plan?",
                Some("Plan B includes 30 days of clips."),
            ),
        ];
        let (leaks, shared) = find_leakage_counting_shared(&train, &held_out, Threshold::DEFAULT);
        let found: Vec<_> = leaks.iter().map(|l| (l.kind, l.held_out_line, l.train_line)).collect();
        // "billing" is taught by 3 rows (shared); "outage" by 2 (distinctive, so still a leak); the sentence by 1.
        assert_eq!(
            found,
            vec![
                (LeakKind::ReferenceIsTrainingReply, 2, 4),
                (LeakKind::ReferenceIsTrainingReply, 3, 6),
            ]
        );
        assert_eq!(shared, 1);
    }

    #[test]
    fn a_json_reply_leaks_only_through_a_value_few_rows_share() {
        let json = |category: &str, urgency: &str| format!(r#"{{"category": "{category}", "urgency": "{urgency}"}}"#);
        let summary = r#"{"category": "billing", "summary": "charged twice for the March plan"}"#;
        let train = vec![
            record(1, "a", Some(&json("billing", "high"))),
            record(2, "b", Some(&json("billing", "low"))),
            record(3, "c", Some(&json("billing", "low"))),
            record(4, "d", Some(&json("outage", "high"))),
            record(5, "e", Some(&json("outage", "high"))),
            record(6, "f", Some(&json("login", "low"))),
            record(7, "g", Some(summary)),
        ];
        let held_out = vec![
            // Taught once, but every value recurs: a combination of labels, not an answer given away.
            record(1, "x", Some(&json("billing", "high"))),
            // Taught once, and `login` is taught once: distinctive.
            record(2, "y", Some(&json("login", "low"))),
            // The free-text value is the giveaway.
            record(3, "z", Some(summary)),
        ];
        let (leaks, shared) = find_leakage_counting_shared(&train, &held_out, Threshold::DEFAULT);
        let lines: Vec<usize> = leaks.iter().map(|l| l.held_out_line).collect();
        assert_eq!(lines, [2, 3]);
        assert_eq!(shared, 1);
    }
}
