//! What the report's numbers need from the scored rows, gathered as the scoring pass hands each one on: per config
//! its totals, each example's scored replies for the analysis, per criterion and config how its outcomes went, the
//! judge's levels beside human labels, field and label outcomes, and the few lowest-scoring replies. Nothing here
//! keeps a reply's text beyond the lowest few.

use std::collections::{BTreeMap, HashMap};

use super::analysis::{ConfigReplies, ExampleReplies};
use super::scoring::RowOutcome;
use super::{quantile_sorted, Calibration, ConfigSummary};
use crate::provider::CallErrorKind;
use crate::score::common_criteria::ScoredReply;
use crate::score::rubric::Check;
use crate::suite::Suite;

/// How many lowest-scoring replies of each config `report.md` shows.
pub const LOWEST_SHOWN: usize = 3;

/// One of a config's lowest-scoring replies.
#[derive(Debug, Clone, PartialEq)]
pub struct LowReply {
    /// The example's id.
    pub example_id: String,
    /// Its quality in [0, 1].
    pub quality: f64,
    /// The reply's first characters on one line.
    pub excerpt: String,
}

/// How one criterion's outcomes went in one config, over the rows with a scored reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CriterionOutcomes {
    /// Scored replies (the criterion applied or not).
    pub replies: usize,
    /// Of which the criterion has a score.
    pub with_score: usize,
    /// Of which the criterion could not be scored (an error instead of a score).
    pub errors: usize,
    /// The first such error, in plan order.
    pub first_error: Option<String>,
}

/// One config's totals as the rows arrive.
#[derive(Debug, Default)]
struct ConfigTotals {
    recorded: usize,
    missing: usize,
    replies: usize,
    quality_sum: f64,
    passed: usize,
    criterion_sums: Vec<(f64, usize)>,
    input_tokens: u64,
    output_tokens: u64,
    cache_read_tokens: u64,
    cache_write_tokens: u64,
    latencies_ms: Vec<u64>,
    retries: usize,
    errors_by_kind: HashMap<CallErrorKind, usize>,
}

/// A judge criterion with human labels: the labelled replies' (human, judge) levels.
#[derive(Debug)]
struct CalibrationPairs {
    criterion: usize,
    field: String,
    human: Vec<f64>,
    judge: Vec<f64>,
    unjudged: usize,
}

/// Per example id (so in id order), its repeats' (expected, predicted) labels.
type LabelsById<'s> = BTreeMap<&'s str, Vec<(String, Option<String>)>>;

/// Everything gathered from the rows.
pub struct Tally<'s> {
    suite: &'s Suite,
    totals: Vec<ConfigTotals>,
    replies: Vec<ConfigReplies>,
    /// Per criterion (rubric order), per config (suite order).
    outcomes: Vec<Vec<CriterionOutcomes>>,
    calibration: Vec<CalibrationPairs>,
    /// Per `json_fields` criterion, per field, per config: (replies where it applied, of which correct).
    fields: BTreeMap<(usize, usize, usize), (usize, usize)>,
    /// Per `label` criterion and config: per example id, its repeats' (expected, predicted) labels.
    labels: BTreeMap<(usize, usize), LabelsById<'s>>,
    lowest: Vec<Vec<(LowReply, usize)>>,
    rows_seen: usize,
    shared: SharedScores,
}

impl<'s> Tally<'s> {
    /// An empty tally for `suite`'s configs and rubric.
    pub fn new(suite: &'s Suite) -> Self {
        let configs = suite.file.configs.len();
        let criteria = suite.rubric.criteria.len();
        Tally {
            suite,
            totals: (0..configs)
                .map(|_| ConfigTotals {
                    criterion_sums: vec![(0.0, 0); criteria],
                    ..ConfigTotals::default()
                })
                .collect(),
            replies: suite
                .file
                .configs
                .iter()
                .map(|c| ConfigReplies {
                    config: c.name.clone(),
                    examples: ExampleReplies::with_capacity(suite.held_out.examples.len(), suite.file.repeats as usize),
                })
                .collect(),
            outcomes: vec![vec![CriterionOutcomes::default(); configs]; criteria],
            calibration: suite
                .rubric
                .criteria
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    Some(CalibrationPairs {
                        criterion: i,
                        field: c.judge()?.human_score_field.clone()?,
                        human: Vec::new(),
                        judge: Vec::new(),
                        unjudged: 0,
                    })
                })
                .collect(),
            fields: BTreeMap::new(),
            labels: BTreeMap::new(),
            lowest: vec![Vec::new(); configs],
            rows_seen: 0,
            shared: SharedScores::default(),
        }
    }

    /// Takes in one row of the scoring pass.
    pub fn add(&mut self, row: &RowOutcome) {
        self.rows_seen += 1;
        let suite = self.suite;
        let example = &suite.held_out.examples[row.example];
        let totals = &mut self.totals[row.config];
        let Some(record) = row.record else {
            totals.missing += 1;
            return;
        };
        totals.recorded += 1;
        totals.retries += record.attempts.saturating_sub(1) as usize;
        if let Some(error) = &record.error {
            *totals.errors_by_kind.entry(error.kind).or_default() += 1;
        }
        let config_name = &suite.file.configs[row.config].name;
        for pairs in &mut self.calibration {
            let label = example
                .fields
                .get(&pairs.field)
                .and_then(|labels| labels.get(config_name))
                .and_then(serde_json::Value::as_f64);
            let Some(label) = label else { continue };
            match row.score.and_then(|s| s.criteria[pairs.criterion].judged.as_ref()) {
                Some(judged) => {
                    pairs.human.push(label);
                    pairs.judge.push(judged.level);
                }
                None => pairs.unjudged += 1,
            }
        }
        let Some(score) = row.score else { return };
        for (i, result) in score.criteria.iter().enumerate() {
            let outcomes = &mut self.outcomes[i][row.config];
            outcomes.replies += 1;
            outcomes.with_score += usize::from(result.score.is_some());
            if let Some(error) = &result.error {
                outcomes.errors += 1;
                outcomes.first_error.get_or_insert_with(|| error.clone());
            }
            for (f, field) in result.fields.iter().enumerate() {
                if let Some(correct) = field.correct {
                    let counts = self.fields.entry((i, f, row.config)).or_default();
                    counts.0 += 1;
                    counts.1 += usize::from(correct);
                }
            }
            if let Some(label) = &result.label {
                self.labels
                    .entry((i, row.config))
                    .or_default()
                    .entry(example.id.as_str())
                    .or_default()
                    .push((label.expected.clone(), label.predicted.clone()));
            }
        }
        let Some(quality) = score.quality else { return };
        totals.replies += 1;
        totals.quality_sum += quality;
        totals.passed += usize::from(score.pass == Some(true));
        let criteria: Vec<Option<f64>> = score.criteria.iter().map(|c| c.score).collect();
        for (sum, value) in totals.criterion_sums.iter_mut().zip(&criteria) {
            if let Some(value) = value {
                sum.0 += value;
                sum.1 += 1;
            }
        }
        totals.input_tokens += record.input_tokens;
        totals.output_tokens += record.output_tokens;
        totals.cache_read_tokens += record.cache_read_input_tokens;
        totals.cache_write_tokens += record.cache_write_input_tokens;
        totals.latencies_ms.push(record.latency_ms);
        let reply = self.shared.share(criteria, quality);
        self.replies[row.config].examples.push(row.example, reply);
        let output = record.output.as_deref().unwrap_or("");
        keep_lowest(
            &mut self.lowest[row.config],
            &example.id,
            quality,
            output,
            self.rows_seen,
        );
    }

    /// One summary per config, in suite order.
    pub fn summaries(&self) -> Vec<ConfigSummary> {
        self.suite
            .file
            .configs
            .iter()
            .zip(&self.totals)
            .map(|(config, t)| {
                let mut latencies = t.latencies_ms.clone();
                latencies.sort_unstable();
                let latencies: Vec<f64> = latencies.into_iter().map(|l| l as f64).collect();
                let mut errors_by_kind: Vec<_> = t.errors_by_kind.iter().map(|(k, n)| (*k, *n)).collect();
                errors_by_kind.sort();
                let share = |sum: f64, n: usize| (n > 0).then(|| sum / n as f64);
                ConfigSummary {
                    config: config.name.clone(),
                    kind: config.kind,
                    model: config.model.clone(),
                    planned: t.recorded + t.missing,
                    ok: t.replies,
                    errors: t.recorded - t.replies,
                    missing: t.missing,
                    mean_quality: share(t.quality_sum, t.replies),
                    pass_rate: share(t.passed as f64, t.replies),
                    criteria_means: t.criterion_sums.iter().map(|(sum, n)| share(*sum, *n)).collect(),
                    input_tokens: t.input_tokens,
                    output_tokens: t.output_tokens,
                    cache_read_tokens: t.cache_read_tokens,
                    cache_write_tokens: t.cache_write_tokens,
                    latency_p50_ms: quantile_sorted(&latencies, 0.5),
                    latency_p95_ms: quantile_sorted(&latencies, 0.95),
                    retries: t.retries,
                    errors_by_kind,
                }
            })
            .collect()
    }

    /// Each config's scored replies by example, for the analysis (handed over: the tally no longer needs them).
    pub fn take_replies(&mut self) -> Vec<ConfigReplies> {
        std::mem::take(&mut self.replies)
    }

    /// Per criterion (rubric order), per config (suite order), how its outcomes went.
    pub fn outcomes(&self) -> &[Vec<CriterionOutcomes>] {
        &self.outcomes
    }

    /// Per config (suite order), its [`LOWEST_SHOWN`] lowest-scoring replies, lowest first (ties by example id,
    /// then plan order).
    pub fn lowest(&self) -> Vec<Vec<LowReply>> {
        self.lowest
            .iter()
            .map(|kept| kept.iter().map(|(reply, _)| reply.clone()).collect())
            .collect()
    }

    /// The judge's agreement with human labels, per judge criterion that has them.
    pub fn calibration(&self) -> anyhow::Result<Vec<Calibration>> {
        let mut calibrations = Vec::new();
        for pairs in &self.calibration {
            calibrations.push(Calibration {
                criterion: self.suite.rubric.criteria[pairs.criterion].id.clone(),
                field: pairs.field.clone(),
                unjudged: pairs.unjudged,
                agreement: crate::stats::agreement(&pairs.human, &pairs.judge)?,
            });
        }
        Ok(calibrations)
    }

    /// Field accuracies and label metrics, in rubric then config order; the bootstrap uses `settings`.
    pub fn structured(
        &self,
        settings: &crate::stats::BootstrapSettings,
    ) -> Result<super::classification::StructuredResults, crate::stats::StatsError> {
        use super::classification::{FieldAccuracy, LabelMetrics};
        let suite = self.suite;
        let mut results = super::classification::StructuredResults::default();
        for (i, criterion) in suite.rubric.criteria.iter().enumerate() {
            match &criterion.check {
                Check::JsonFields(check) => {
                    for (f, field) in check.fields.iter().enumerate() {
                        for (c, config) in suite.file.configs.iter().enumerate() {
                            let (replies, correct) = self.fields.get(&(i, f, c)).copied().unwrap_or_default();
                            results.fields.push(FieldAccuracy {
                                criterion: criterion.id.clone(),
                                path: field.path.to_string(),
                                config: config.name.clone(),
                                replies,
                                correct,
                                accuracy: (replies > 0).then(|| correct as f64 / replies as f64),
                            });
                        }
                    }
                }
                Check::Label(_) => {
                    for (c, config) in suite.file.configs.iter().enumerate() {
                        let examples: Vec<_> = self
                            .labels
                            .get(&(i, c))
                            .map(|by_id| by_id.values().cloned().collect())
                            .unwrap_or_default();
                        results.labels.push(LabelMetrics {
                            criterion: criterion.id.clone(),
                            config: config.name.clone(),
                            metrics: crate::stats::classification::classification(
                                &examples,
                                suite.file.repeats,
                                settings,
                            )?,
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(results)
    }
}

/// At most this many distinct per-criterion score lists are shared; beyond it (scores that are nearly all distinct)
/// each reply keeps its own, and the table stops growing.
const MAX_SHARED: usize = 1 << 16;

/// Scored replies, one copy of each (per-criterion scores and quality): replies scored alike (most of a large run,
/// where criteria take a few values) share it.
#[derive(Default)]
struct SharedScores {
    lists: HashMap<Vec<u64>, ScoredReply>,
}

impl SharedScores {
    fn share(&mut self, scores: Vec<Option<f64>>, quality: f64) -> ScoredReply {
        // A score's bits, and for no score a NaN no score ever is; the quality's bits last.
        let key: Vec<u64> = scores
            .iter()
            .map(|s| s.map_or(u64::MAX, f64::to_bits))
            .chain([quality.to_bits()])
            .collect();
        if let Some(shared) = self.lists.get(&key) {
            return shared.clone();
        }
        let reply = ScoredReply::new(scores, quality);
        if self.lists.len() < MAX_SHARED {
            self.lists.insert(key, reply.clone());
        }
        reply
    }
}

/// Keeps `kept` the [`LOWEST_SHOWN`] lowest (quality, example id, arrival) replies, computing an excerpt only for a
/// reply that gets in.
fn keep_lowest(kept: &mut Vec<(LowReply, usize)>, example_id: &str, quality: f64, output: &str, arrival: usize) {
    let below = |(reply, seen): &(LowReply, usize)| {
        quality
            .total_cmp(&reply.quality)
            .then_with(|| example_id.cmp(&reply.example_id))
            .then_with(|| arrival.cmp(seen))
            .is_lt()
    };
    if kept.len() == LOWEST_SHOWN && !kept.last().is_some_and(below) {
        return;
    }
    let at = kept.iter().position(below).unwrap_or(kept.len());
    let reply = LowReply {
        example_id: example_id.to_string(),
        quality,
        excerpt: super::markdown::excerpt(output),
    };
    kept.insert(at, (reply, arrival));
    kept.truncate(LOWEST_SHOWN);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_scored_alike_share_one_copy_and_any_difference_makes_another() {
        let mut shared = SharedScores::default();
        let first = shared.share(vec![Some(1.0), None, Some(0.5)], 0.75);
        let alike = shared.share(vec![Some(1.0), None, Some(0.5)], 0.75);
        assert!(first.shares_scores_with(&alike));
        // A missing score is not a zero, nor is a different quality the same reply.
        for (scores, quality) in [
            (vec![Some(1.0), Some(0.0), Some(0.5)], 0.75),
            (vec![Some(1.0), None, Some(0.5)], 0.5),
            (vec![Some(1.0), None], 0.75),
        ] {
            let other = shared.share(scores.clone(), quality);
            assert!(!first.shares_scores_with(&other), "{scores:?} {quality}");
            assert_eq!((other.criteria(), other.quality()), (&scores[..], quality));
        }
        assert_eq!(
            (first.criteria(), first.quality()),
            (&[Some(1.0), None, Some(0.5)][..], 0.75)
        );
    }

    #[test]
    fn the_lowest_kept_are_the_lowest_by_quality_then_id_then_arrival() {
        let mut kept = Vec::new();
        let rows = [
            (0.5, "b"),
            (0.2, "z"),
            (0.9, "a"),
            (0.2, "a"),
            (0.5, "a"),
            (0.2, "a"),
            (0.1, "q"),
        ];
        for (arrival, (quality, id)) in rows.iter().enumerate() {
            keep_lowest(&mut kept, id, *quality, id, arrival);
        }
        let got: Vec<(f64, &str, usize)> = kept
            .iter()
            .map(|(r, seen)| (r.quality, r.example_id.as_str(), *seen))
            .collect();
        assert_eq!(got, [(0.1, "q", 6), (0.2, "a", 3), (0.2, "a", 5)]);
    }
}
