//! The failed requests of a run, by kind: what `--max-error-rate` is checked against, and what the message that
//! fails the run says.

use std::collections::BTreeMap;
use std::path::Path;

use super::pending::PendingPlan;
use super::recorded::RecordedIndex;
use super::records::RecordReader;
use super::{allowed_errors, RECORDS_FILE};
use crate::provider::CallErrorKind;
use crate::suite::Suite;

/// Longest example message quoted per error kind.
const EXAMPLE_CHARS: usize = 200;

/// The planned requests of a run whose latest record is an error, counted by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorTally {
    /// Requests the suite plans.
    pub planned: usize,
    /// Of which the latest record is an error.
    pub failed: usize,
    /// Failures per kind, with the first message of each kind.
    pub by_kind: BTreeMap<CallErrorKind, (usize, String)>,
}

impl ErrorTally {
    /// Counts the failed requests of the run in `run_dir` under `suite`'s current plan (a request several plan
    /// positions share counted once), reading the records as a stream.
    pub fn of_run(suite: &Suite, run_dir: &Path) -> anyhow::Result<ErrorTally> {
        let path = run_dir.join(RECORDS_FILE);
        let recorded = RecordedIndex::read(&path)?;
        let pending = PendingPlan::new(suite, &recorded, false)?;
        let mut tally = ErrorTally {
            planned: pending.planned,
            ..ErrorTally::default()
        };
        // The planned requests that failed, by kind, and the line of each kind's first one in plan order, whose
        // message is the example.
        let mut examples: BTreeMap<CallErrorKind, u64> = BTreeMap::new();
        for planned in pending.distinct_requests(suite) {
            let planned = planned?;
            let Some(latest) = recorded.latest(&planned.fingerprint).filter(|l| l.failed()) else {
                continue;
            };
            let Some(kind) = latest.error else { continue };
            tally.failed += 1;
            tally.by_kind.entry(kind).or_default().0 += 1;
            examples.entry(kind).or_insert(latest.offset);
        }
        tally.add_examples(&path, &examples)?;
        Ok(tally)
    }

    /// Counts the judge calls of the run in `run_dir` whose latest record is an error, among every judge call
    /// recorded (each fingerprint once): a judge that cannot be reached fails the run as generation would, instead
    /// of leaving every reply without its judge criteria behind an exit code of 0.
    pub fn of_judge_calls(run_dir: &Path) -> anyhow::Result<ErrorTally> {
        let path = run_dir.join(super::judging::JUDGEMENTS_FILE);
        let recorded = RecordedIndex::read(&path)?;
        let mut tally = ErrorTally::default();
        let mut examples: BTreeMap<CallErrorKind, u64> = BTreeMap::new();
        for latest in recorded.iter() {
            tally.planned += 1;
            let (true, Some(kind)) = (latest.failed(), latest.error) else {
                continue;
            };
            tally.failed += 1;
            tally.by_kind.entry(kind).or_default().0 += 1;
            let offset = examples.entry(kind).or_insert(latest.offset);
            *offset = (*offset).min(latest.offset);
        }
        tally.add_examples(&path, &examples)?;
        Ok(tally)
    }

    /// Fills each kind's example message from the record at its offset in `path`.
    fn add_examples(&mut self, path: &Path, offsets: &BTreeMap<CallErrorKind, u64>) -> anyhow::Result<()> {
        let mut reader = RecordReader::open(path)?;
        for (kind, offset) in offsets {
            let record = reader.read_at(*offset)?;
            if let (Some(error), Some((_, example))) = (record.error.as_ref(), self.by_kind.get_mut(kind)) {
                *example = error.message.chars().take(EXAMPLE_CHARS).collect();
            }
        }
        Ok(())
    }

    /// Whether more requests failed than `max_error_rate` of the planned ones.
    pub fn exceeds(&self, max_error_rate: f64) -> bool {
        self.failed > allowed_errors(max_error_rate, self.planned)
    }

    /// The failures by kind, most frequent first, each with an example: `28 network (request could not be sent:
    /// …); 2 throttling (…)`.
    pub fn by_kind_text(&self) -> String {
        let mut kinds: Vec<_> = self.by_kind.iter().collect();
        kinds.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        kinds
            .iter()
            .map(|(kind, (count, example))| format!("{count} {} ({example})", kind.as_str()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_a_strict_share_of_the_planned_requests() {
        let tally = |failed| ErrorTally {
            planned: 96,
            failed,
            by_kind: BTreeMap::new(),
        };
        // 10% of 96 is 9.6: nine failures are within it, ten are not.
        assert!(!tally(9).exceeds(0.1));
        assert!(tally(10).exceeds(0.1));
        assert!(tally(1).exceeds(0.0));
        assert!(!tally(96).exceeds(1.0));
    }

    #[test]
    fn kinds_are_listed_most_frequent_first_with_an_example() {
        let tally = ErrorTally {
            planned: 10,
            failed: 4,
            by_kind: BTreeMap::from([
                (CallErrorKind::Throttling, (1, "slow down".to_string())),
                (CallErrorKind::Network, (3, "connection refused".to_string())),
            ]),
        };
        assert_eq!(
            tally.by_kind_text(),
            "3 network (connection refused); 1 throttling (slow down)"
        );
    }
}
