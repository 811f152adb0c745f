//! The failed requests of a run, by kind: what `--max-error-rate` is checked against, and what the message that
//! fails the run says.

use std::collections::BTreeMap;
use std::path::Path;

use super::plan::build_plan;
use super::records::{read_records, Record, RecordStatus};
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
    /// Counts the failed requests of the run in `run_dir` under `suite`'s current plan.
    pub fn of_run(suite: &Suite, run_dir: &Path) -> anyhow::Result<ErrorTally> {
        let plan = build_plan(suite)?;
        let records = read_records(&run_dir.join(RECORDS_FILE))?;
        let latest = records.latest();
        let mut tally = ErrorTally {
            planned: plan.len(),
            ..ErrorTally::default()
        };
        for record in plan.iter().filter_map(|planned| latest.get(&planned.fingerprint)) {
            tally.count_failure(record);
        }
        Ok(tally)
    }

    /// Counts the judge calls of the run in `run_dir` whose latest record is an error, among every judge call
    /// recorded (each fingerprint once): a judge that cannot be reached fails the run as generation would, instead
    /// of leaving every reply without its judge criteria behind an exit code of 0.
    pub fn of_judge_calls(run_dir: &Path) -> anyhow::Result<ErrorTally> {
        let records = read_records(&run_dir.join(super::judging::JUDGEMENTS_FILE))?;
        let mut tally = ErrorTally::default();
        for record in records.latest().values() {
            tally.planned += 1;
            tally.count_failure(record);
        }
        Ok(tally)
    }

    /// Counts `record` when it is a failure, by its error's kind (keeping the first message of each kind).
    fn count_failure(&mut self, record: &Record) {
        let (Some(error), RecordStatus::Error) = (&record.error, record.status) else {
            return;
        };
        self.failed += 1;
        self.by_kind
            .entry(error.kind)
            .or_insert_with(|| (0, error.message.chars().take(EXAMPLE_CHARS).collect()))
            .0 += 1;
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
