//! What a run still has to send: one pass over the plan, checked against the recorded fingerprints, that keeps a bit
//! per plan position (to send or not) instead of the requests themselves. The requests to send are built again, one
//! at a time, as the executor reaches them ([`PendingPlan::requests`]).
//!
//! The same pass finds plan positions whose request is the very request of an earlier position: two held-out
//! examples with the same input share one fingerprint per config and repeat. Such a request is sent (and paid) once;
//! the report scores its one reply against each example.

use super::plan::{plan_keys, plan_len, plan_position, plan_requests, FingerprintKey, PlannedRequest};
use super::recorded::RecordedIndex;
use crate::error::InputError;
use crate::suite::Suite;

/// Most pairs of examples sharing a request named one by one.
pub const SHARED_WARNINGS_SHOWN: usize = 20;

/// The plan against what is recorded.
#[derive(Debug, Default)]
pub struct PendingPlan {
    /// Distinct requests the suite needs (a request several positions share counted once).
    pub planned: usize,
    /// Of which recorded already (and not to be asked again).
    pub already_recorded: usize,
    /// Of `already_recorded`, those whose latest record is an error.
    pub kept_errors: usize,
    /// Requests to send.
    pub to_send: usize,
    /// Positions whose request an earlier position already makes, in plan order.
    pub shared: Vec<SharedRequest>,
    /// One bit per plan position: whether it is sent.
    send: Vec<u64>,
    /// One bit per plan position: whether it is the first to make its request.
    first: Vec<u64>,
}

/// A plan position whose request an earlier position already makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedRequest {
    /// The held-out example (index) whose request is shared.
    pub example: usize,
    /// The earlier held-out example (index) that makes it.
    pub first_example: usize,
    /// The config (index).
    pub config: usize,
}

impl PendingPlan {
    /// Goes through `suite`'s plan once: which requests are recorded in `recorded` (with `retry_errors`, a request
    /// whose latest record is an error is sent again) and which positions share a request. Holds 36 bytes per
    /// position while it runs and one bit per position after.
    pub fn new(suite: &Suite, recorded: &RecordedIndex, retry_errors: bool) -> Result<PendingPlan, InputError> {
        let positions = plan_len(suite);
        let mut keys = plan_keys(suite)?;
        keys.sort_unstable();
        let mut pending = PendingPlan {
            send: vec![0; positions.div_ceil(64)],
            first: vec![0; positions.div_ceil(64)],
            ..PendingPlan::default()
        };
        let mut previous: Option<(FingerprintKey, u32)> = None;
        for &(key, position) in &keys {
            match previous.filter(|(k, _)| *k == key) {
                Some((_, first)) => pending.shared.push(shared(suite, position, first)),
                None => {
                    previous = Some((key, position));
                    pending.count(position, recorded.latest_by_key(&key).map(|l| l.failed()), retry_errors);
                }
            }
        }
        drop(keys);
        pending.shared.sort_by_key(|s| (s.example, s.config, s.first_example));
        Ok(pending)
    }

    /// Counts the first position of a request, recorded (`Some(failed)`) or not.
    fn count(&mut self, position: u32, recorded_failed: Option<bool>, retry_errors: bool) {
        self.planned += 1;
        set(&mut self.first, position as usize);
        match recorded_failed {
            Some(failed) if !(failed && retry_errors) => {
                self.already_recorded += 1;
                self.kept_errors += usize::from(failed);
            }
            _ => {
                self.to_send += 1;
                set(&mut self.send, position as usize);
            }
        }
    }

    /// Whether the request at plan `position` is to be sent.
    pub fn sends(&self, position: usize) -> bool {
        is_set(&self.send, position)
    }

    /// The requests to send, in plan order, each built when it is reached.
    pub fn requests<'a>(&'a self, suite: &'a Suite) -> impl Iterator<Item = Result<PlannedRequest, InputError>> + 'a {
        plan_requests(suite).only(|position| self.sends(position))
    }

    /// Every distinct request of the plan, recorded or not, in plan order (each built when it is reached).
    pub fn distinct_requests<'a>(
        &'a self,
        suite: &'a Suite,
    ) -> impl Iterator<Item = Result<PlannedRequest, InputError>> + 'a {
        plan_requests(suite).only(|position| is_set(&self.first, position))
    }

    /// The examples that share requests, in words: one line per pair of held-out examples, naming both lines (the
    /// first [`SHARED_WARNINGS_SHOWN`], then how many more).
    pub fn shared_warnings(&self, suite: &Suite) -> Vec<String> {
        let mut pairs: Vec<(usize, usize, Vec<&str>)> = Vec::new();
        for shared in &self.shared {
            let config = suite.file.configs[shared.config].name.as_str();
            match pairs.last_mut() {
                Some((example, first, configs)) if *example == shared.example && *first == shared.first_example => {
                    if configs.last() != Some(&config) {
                        configs.push(config);
                    }
                }
                _ => pairs.push((shared.example, shared.first_example, vec![config])),
            }
        }
        let examples = &suite.held_out.examples;
        let more = pairs.len().saturating_sub(SHARED_WARNINGS_SHOWN);
        let mut warnings: Vec<String> = pairs
            .into_iter()
            .take(SHARED_WARNINGS_SHOWN)
            .map(|(example, first, configs)| {
                let (example, first) = (&examples[example], &examples[first]);
                let configs = match configs.len() == suite.file.configs.len() {
                    true => "every config".to_string(),
                    false => format!("config {}", configs.join(", ")),
                };
                format!(
                    "{}:{}: held-out examples `{}` (line {}) and `{}` (line {}) have the same input and share one call \
                     ({configs}); it is made once and its reply scored against each example's own reference",
                    suite.held_out.path.display(),
                    example.line,
                    first.id,
                    first.line,
                    example.id,
                    example.line,
                )
            })
            .collect();
        if more > 0 {
            warnings.push(format!(
                "{}: {more} more pairs of held-out examples share a call the same way",
                suite.held_out.path.display()
            ));
        }
        warnings
    }
}

fn set(bits: &mut [u64], position: usize) {
    bits[position / 64] |= 1 << (position % 64);
}

fn is_set(bits: &[u64], position: usize) -> bool {
    bits.get(position / 64)
        .is_some_and(|word| word & (1 << (position % 64)) != 0)
}

fn shared(suite: &Suite, position: u32, first: u32) -> SharedRequest {
    let (example, config, _) = plan_position(suite, position as usize);
    let (first_example, _, _) = plan_position(suite, first as usize);
    SharedRequest {
        example,
        first_example,
        config,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::batch::output::record_of;
    use crate::provider::{CallError, CallErrorKind, Completion};
    use crate::run::plan::build_plan;
    use crate::run::records::{Record, RecordWriter};

    fn mini_suite() -> Suite {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini/suite.yaml");
        crate::suite::load(&path).unwrap()
    }

    fn record(planned: &PlannedRequest, failed: bool) -> Record {
        let result = match failed {
            true => Err(CallError {
                kind: CallErrorKind::Throttling,
                status: Some(429),
                message: "slow down".into(),
            }),
            false => Ok(Completion {
                text: "a reply".into(),
                stop_reason: "end_turn".into(),
                input_tokens: 1,
                output_tokens: 1,
                cache_read_tokens: 0,
                cache_write_tokens: 0,
                service_latency_ms: None,
            }),
        };
        record_of(planned, result, "2026-01-01T00:00:00Z")
    }

    #[test]
    fn recorded_requests_are_skipped_unbuilt_and_failed_ones_sent_again_on_request() {
        let suite = mini_suite();
        let plan = build_plan(&suite).unwrap();
        assert_eq!(plan.len(), 24);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let mut writer = RecordWriter::open(&path).unwrap();
        // Positions 0 and 5 succeeded; 7 failed; 9 failed, then succeeded on a retry.
        for (position, failed) in [(0, false), (5, false), (7, true), (9, true), (9, false)] {
            writer.append(&record(&plan[position], failed)).unwrap();
        }
        let recorded = RecordedIndex::read(&path).unwrap();
        assert_eq!((recorded.records(), recorded.len()), (5, 4));

        let pending = PendingPlan::new(&suite, &recorded, false).unwrap();
        assert_eq!(
            (
                pending.planned,
                pending.already_recorded,
                pending.kept_errors,
                pending.to_send
            ),
            (24, 4, 1, 20)
        );
        let sent: Vec<_> = pending.requests(&suite).map(|p| p.unwrap().fingerprint).collect();
        let expected: Vec<_> = plan
            .iter()
            .enumerate()
            .filter(|(position, _)| ![0, 5, 7, 9].contains(position))
            .map(|(_, p)| p.fingerprint.clone())
            .collect();
        assert_eq!(sent, expected);

        let retrying = PendingPlan::new(&suite, &recorded, true).unwrap();
        assert_eq!(
            (retrying.already_recorded, retrying.kept_errors, retrying.to_send),
            (3, 0, 21)
        );
        assert!(retrying.sends(7) && !retrying.sends(9));
        assert!(retrying.shared.is_empty());
        let distinct = retrying.distinct_requests(&suite).count();
        assert_eq!(distinct, 24);
    }
}
