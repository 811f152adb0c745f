//! The two sides of a paired comparison, scored on the same criteria.
//!
//! A reply's quality is the weighted mean of the criteria scored for it, so a criterion that could not be scored
//! (a judge verdict malformed after every re-ask, or a judge phase cut short) simply leaves that reply's mean. Fine
//! for one config's average; wrong for a pair: a baseline scored on 8 criteria against a candidate scored on 7
//! compares different things, and a weight-2 judge criterion can then count against one side only. So each pair
//! is compared on the criteria scored for every reply of both sides: both qualities are recomputed on those, and a
//! pair with none in common is excluded. Nothing changes when both sides scored the same criteria.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{weighted_quality_where, Rubric};

/// One scored reply, as pairing needs it: one pointer, to scores that the many replies of a large run that scored
/// alike share (a reply's quality is a function of its per-criterion scores, so it is shared with them).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredReply(Arc<ReplyScores>);

#[derive(Debug, PartialEq)]
struct ReplyScores {
    quality: f64,
    criteria: Box<[Option<f64>]>,
}

impl ScoredReply {
    /// A reply scored `criteria` (per criterion, in the rubric's order; `None`: not applicable, or could not be
    /// scored), of quality `quality` (in [0, 1]).
    pub fn new(criteria: impl Into<Box<[Option<f64>]>>, quality: f64) -> Self {
        ScoredReply(Arc::new(ReplyScores {
            quality,
            criteria: criteria.into(),
        }))
    }

    /// Its quality as scored, in [0, 1].
    pub fn quality(&self) -> f64 {
        self.0.quality
    }

    /// Its per-criterion scores, in the rubric's order.
    pub fn criteria(&self) -> &[Option<f64>] {
        &self.0.criteria
    }

    /// Whether both are the one shared copy.
    #[cfg(test)]
    pub(crate) fn shares_scores_with(&self, other: &ScoredReply) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// One side of a pair: the rubric its replies were scored with, and its scored replies to the example (one per
/// repeat that has a score).
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// The rubric (weights, gates, pass threshold).
    pub rubric: &'a Rubric,
    /// The replies.
    pub replies: &'a [ScoredReply],
}

/// One side's result for a pair.
#[derive(Debug, Clone, PartialEq)]
pub struct SideScore {
    /// Mean quality over its replies, in [0, 1].
    pub quality: f64,
    /// Whether each reply passed the rubric's threshold.
    pub passes: Vec<bool>,
}

/// How a pair was scored.
#[derive(Debug, Clone, PartialEq)]
pub enum PairOutcome {
    /// Every reply of both sides was scored on the same criteria: the qualities as scored.
    AsScored(SideScore, SideScore),
    /// Some criterion was scored for one side only: both recomputed on the criteria common to every reply; the
    /// ids of the criteria left out.
    OnCommonCriteria(SideScore, SideScore, Vec<String>),
    /// No criterion was scored for every reply of both sides (or a side has no reply): left out of the comparison.
    Excluded,
}

/// Scores a pair on the criteria both sides scored (see the module's documentation).
pub fn pair(baseline: Side, candidate: Side) -> PairOutcome {
    if baseline.replies.is_empty() || candidate.replies.is_empty() {
        return PairOutcome::Excluded;
    }
    if scored_alike(baseline, candidate) {
        return PairOutcome::AsScored(as_scored(baseline), as_scored(candidate));
    }
    let scored_sets: Vec<BTreeSet<&str>> = [baseline, candidate]
        .iter()
        .flat_map(|side| side.replies.iter().map(move |reply| scored_ids(side.rubric, reply)))
        .collect();
    let union: BTreeSet<&str> = scored_sets.iter().flatten().copied().collect();
    let common: BTreeSet<&str> = union
        .iter()
        .copied()
        .filter(|id| scored_sets.iter().all(|set| set.contains(id)))
        .collect();
    if common == union {
        return PairOutcome::AsScored(as_scored(baseline), as_scored(candidate));
    }
    match (rescored(baseline, &common), rescored(candidate, &common)) {
        (Some(b), Some(c)) => {
            let left_out = union.difference(&common).map(|id| id.to_string()).collect();
            PairOutcome::OnCommonCriteria(b, c, left_out)
        }
        _ => PairOutcome::Excluded,
    }
}

/// Every pair of a comparison scored by [`pair`]: the usable pairs' scores, in order, and what was rescored or
/// excluded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairs {
    /// The baseline side of each usable pair.
    pub baseline: Vec<SideScore>,
    /// The candidate side of each usable pair.
    pub candidate: Vec<SideScore>,
    /// Pairs recomputed on their common criteria.
    pub on_common_criteria: usize,
    /// Pairs excluded for having no criterion in common.
    pub excluded: usize,
    /// The criteria left out of at least one pair, by id.
    pub left_out: BTreeSet<String>,
}

impl Pairs {
    /// Each usable pair's (baseline, candidate) quality in points (100 × score).
    pub fn points(&self) -> (Vec<f64>, Vec<f64>) {
        let points = |sides: &[SideScore]| sides.iter().map(|s| s.quality * 100.0).collect();
        (points(&self.baseline), points(&self.candidate))
    }
}

/// Scores every matched example of a comparison (baseline replies, candidate replies), each side with its rubric.
pub fn pair_all<'a>(
    baseline: &'a Rubric,
    candidate: &'a Rubric,
    examples: impl IntoIterator<Item = (&'a [ScoredReply], &'a [ScoredReply])>,
) -> Pairs {
    let mut pairs = Pairs::default();
    for (b, c) in examples {
        let (b, c) = match pair(
            Side {
                rubric: baseline,
                replies: b,
            },
            Side {
                rubric: candidate,
                replies: c,
            },
        ) {
            PairOutcome::AsScored(b, c) => (b, c),
            PairOutcome::OnCommonCriteria(b, c, left_out) => {
                pairs.on_common_criteria += 1;
                pairs.left_out.extend(left_out);
                (b, c)
            }
            PairOutcome::Excluded => {
                pairs.excluded += 1;
                continue;
            }
        };
        pairs.baseline.push(b);
        pairs.candidate.push(c);
    }
    pairs
}

/// Whether every reply of both sides was scored on the same criteria, told without building their sets: the rubrics
/// list the same criteria and each reply has a score at the same positions (the common case, and a large run's
/// pairing would otherwise spend its time on the sets).
fn scored_alike(baseline: Side, candidate: Side) -> bool {
    fn ids(rubric: &Rubric) -> impl Iterator<Item = &str> {
        rubric.criteria.iter().map(|c| c.id.as_str())
    }
    let same_criteria =
        std::ptr::eq(baseline.rubric, candidate.rubric) || ids(baseline.rubric).eq(ids(candidate.rubric));
    let Some(first) = baseline.replies.first() else {
        return false;
    };
    same_criteria
        && baseline.replies.iter().chain(candidate.replies).all(|reply| {
            reply.criteria().len() == first.criteria().len()
                && reply
                    .criteria()
                    .iter()
                    .zip(first.criteria())
                    .all(|(a, b)| a.is_some() == b.is_some())
        })
}

fn scored_ids<'r>(rubric: &'r Rubric, reply: &ScoredReply) -> BTreeSet<&'r str> {
    rubric
        .criteria
        .iter()
        .zip(reply.criteria())
        .filter(|(_, score)| score.is_some())
        .map(|(criterion, _)| criterion.id.as_str())
        .collect()
}

fn side_score(rubric: &Rubric, qualities: &[f64]) -> SideScore {
    SideScore {
        quality: qualities.iter().sum::<f64>() / qualities.len() as f64,
        passes: qualities.iter().map(|q| *q >= rubric.pass_threshold).collect(),
    }
}

fn as_scored(side: Side) -> SideScore {
    let qualities: Vec<f64> = side.replies.iter().map(ScoredReply::quality).collect();
    side_score(side.rubric, &qualities)
}

/// The side's replies re-weighted on `common`; `None` when a reply has no criterion left.
fn rescored(side: Side, common: &BTreeSet<&str>) -> Option<SideScore> {
    let qualities: Option<Vec<f64>> = side
        .replies
        .iter()
        .map(|reply| {
            weighted_quality_where(&side.rubric.criteria, reply.criteria(), |c| {
                common.contains(c.id.as_str())
            })
        })
        .collect();
    Some(side_score(side.rubric, &qualities?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::rubric::LengthUnit;
    use crate::score::{Check, Criterion};

    fn rubric() -> Rubric {
        let criterion = |id: &str, weight: f64, gate: bool| Criterion {
            id: id.to_string(),
            weight,
            gate,
            description: String::new(),
            check: Check::Length {
                unit: LengthUnit::Words,
                min: None,
                max: None,
            },
        };
        Rubric {
            path: "rubric.yaml".into(),
            sha256: String::new(),
            name: "test".into(),
            pass_threshold: 0.5,
            criteria: vec![
                criterion("fix", 3.0, false),
                criterion("helpful", 2.0, false),
                criterion("safe", 1.0, true),
            ],
        }
    }

    fn pair_of(r: &Rubric, baseline: &[ScoredReply], candidate: &[ScoredReply]) -> PairOutcome {
        pair(
            Side {
                rubric: r,
                replies: baseline,
            },
            Side {
                rubric: r,
                replies: candidate,
            },
        )
    }

    fn reply(criteria: [Option<f64>; 3], quality: f64) -> ScoredReply {
        ScoredReply::new(criteria, quality)
    }

    #[test]
    fn the_same_criteria_keep_the_qualities_as_scored() {
        let r = rubric();
        let a = [reply([Some(1.0), Some(0.5), Some(1.0)], 0.8)];
        let b = [reply([Some(0.0), Some(1.0), Some(1.0)], 0.4)];
        let outcome = pair_of(&r, &a, &b);
        let PairOutcome::AsScored(x, y) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!((x.quality, y.quality), (0.8, 0.4));
        assert_eq!((x.passes, y.passes), (vec![true], vec![false]));
    }

    #[test]
    fn a_criterion_missing_on_one_side_is_left_out_of_both() {
        // The candidate's judge verdict for `helpful` failed: scored as is, the baseline's weight-2 helpful = 0
        // counts against it alone (0.5 vs 0.75); on the common criteria both are 1.0.
        let r = rubric();
        let baseline = [reply([Some(1.0), Some(0.0), Some(1.0)], 0.5)];
        let candidate = [reply([Some(1.0), None, Some(1.0)], 1.0)];
        let outcome = pair_of(&r, &baseline, &candidate);
        let PairOutcome::OnCommonCriteria(b, c, left_out) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!((b.quality, c.quality), (1.0, 1.0));
        assert_eq!(left_out, vec!["helpful".to_string()]);
    }

    #[test]
    fn repeats_count_only_criteria_scored_in_every_reply() {
        let r = rubric();
        let baseline = [
            reply([Some(1.0), Some(1.0), Some(1.0)], 1.0),
            reply([Some(0.0), None, Some(1.0)], 0.25),
        ];
        let candidate = [reply([Some(1.0), Some(1.0), Some(1.0)], 1.0)];
        let outcome = pair_of(&r, &baseline, &candidate);
        let PairOutcome::OnCommonCriteria(b, _, _) = outcome else {
            panic!("{outcome:?}")
        };
        // fix and safe: (3·1 + 1)/4 = 1 and (3·0 + 1)/4 = 0.25 → mean 0.625.
        assert_eq!(b.quality, 0.625);
        assert_eq!(b.passes, vec![true, false]);
    }

    #[test]
    fn nothing_in_common_excludes_the_pair() {
        let r = rubric();
        let baseline = [reply([Some(1.0), None, None], 1.0)];
        let candidate = [reply([None, Some(1.0), None], 1.0)];
        let outcome = pair_of(&r, &baseline, &candidate);
        assert_eq!(outcome, PairOutcome::Excluded);
        assert_eq!(pair_of(&r, &[], &candidate), PairOutcome::Excluded);
    }
}
