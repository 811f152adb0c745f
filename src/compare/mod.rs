//! `bedrock-eval compare BASE_RUN NEW_RUN`: did anything regress between two runs?
//!
//! Examples are paired by id within each config (repeats averaged first), each pair on the criteria scored in both
//! runs (`score::common_criteria`). A config *regressed* when its mean quality fell significantly (the paired t-test,
//! or the exact sign test when every change is the same number; Holm-adjusted across the configs compared, at α)
//! **and** by more than the tolerance `max_drop` in quality points; *improved* symmetrically; otherwise *unchanged*.
//! Fewer pairs than a verdict needs (`stats::minimum_pairs_for_verdict`) is *not compared*. Nothing here calls a
//! model: both runs are read from their records.

mod outputs;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::InputError;
use crate::report;
use crate::report::analysis::ExampleReplies;
use crate::run::{self, RunMetadata};
use crate::score::common_criteria::{pair_all, SideScore};
use crate::score::Rubric;
use crate::stats::{self, BootstrapSettings, Interval, LeftOut, PairedComparison, VerdictTest};
use crate::suite;
pub use outputs::{compare_csv, compare_md, junit_xml, write_outputs};

/// One run, reduced to what a comparison needs: per config its scores by example index, and where each scored reply
/// is recorded, so that only the replies `compare.html` shows are read back.
#[derive(Debug, Clone)]
pub struct RunSide {
    /// The run directory.
    pub dir: PathBuf,
    /// Its `run.json`.
    pub metadata: RunMetadata,
    /// The rubric it is scored with.
    pub rubric: Rubric,
    /// Example index → its id, in the held-out set's order.
    pub ids: Vec<String>,
    /// Per config.
    pub configs: BTreeMap<String, ConfigSide>,
    /// Example index → its input and reference reply, for `compare.html` (which shows the new run's); empty when
    /// not asked for.
    pub texts: Vec<ExampleText>,
}

/// What a held-out example asked, and the reference reply.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExampleText {
    /// The final user turn.
    pub input: String,
    /// The reference reply, if any.
    pub reference: Option<String>,
}

/// One config of a run.
#[derive(Debug, Clone, Default)]
pub struct ConfigSide {
    /// Its model.
    pub model: String,
    /// Example index → its scored replies (one per repeat with a score).
    pub examples: ExampleReplies,
    /// Where each scored reply's record starts in the run's `records.jsonl`, beside `examples`' replies (an
    /// example's are at [`ExampleReplies::span`]).
    pub positions: Vec<u64>,
    /// Cost per 1,000 requests at the suite's main volume, when costed.
    pub per_thousand: Option<f64>,
    /// Mean input + output tokens per reply.
    pub tokens_per_request: Option<f64>,
}

impl RunSide {
    /// Where the run's records are.
    pub fn records(&self) -> PathBuf {
        self.dir.join(run::RECORDS_FILE)
    }

    /// The examples `side` (one of this run's configs) has replies for, in id order: the order examples are paired
    /// in.
    pub fn in_id_order(&self, side: &ConfigSide) -> Vec<usize> {
        let mut examples: Vec<usize> = side.examples.keys().collect();
        examples.sort_unstable_by(|a, b| self.ids[*a].cmp(&self.ids[*b]));
        examples
    }
}

/// The base run's example with the same id as a new run's example.
pub struct SameIds<'a> {
    /// Base id → example index, unless both runs hold the same ids in the same order.
    base: Option<HashMap<&'a str, usize>>,
}

impl<'a> SameIds<'a> {
    /// Matches `new`'s examples to `base`'s.
    pub fn new(base: &'a RunSide, new: &RunSide) -> Self {
        let base = (base.ids != new.ids).then(|| base.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect());
        SameIds { base }
    }

    /// The index in the base run of `new`'s example `example`.
    pub fn base_of(&self, new: &RunSide, example: usize) -> Option<usize> {
        match &self.base {
            None => Some(example),
            Some(base) => base.get(new.ids[example].as_str()).copied(),
        }
    }

    /// The examples of config `now` (in run `new`) that the base run's config `old` also has replies for, in id
    /// order: (new index, base index).
    pub fn pairs(&self, new: &RunSide, old: &ConfigSide, now: &ConfigSide) -> Vec<(usize, usize)> {
        new.in_id_order(now)
            .into_iter()
            .filter_map(|i| Some((i, self.base_of(new, i).filter(|b| old.examples.contains_key(*b))?)))
            .collect()
    }
}

/// The outcome for one config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Significantly lower, by more than the tolerance.
    Regressed,
    /// Significantly higher, by more than the tolerance.
    Improved,
    /// Neither.
    Unchanged,
    /// No example could be paired (or the config is in one run only).
    NotCompared,
}

impl Change {
    /// The word for reports.
    pub fn label(self) -> &'static str {
        match self {
            Change::Regressed => "regressed",
            Change::Improved => "improved",
            Change::Unchanged => "unchanged",
            Change::NotCompared => "not compared",
        }
    }
}

/// One config's change from the base run to the new run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigChange {
    /// Config name.
    pub config: String,
    /// Examples paired.
    pub pairs: usize,
    /// Pairs whose qualities were recomputed on the criteria scored in both runs.
    pub pairs_on_common_criteria: usize,
    /// Examples scored in both runs but on no criterion in common, left out.
    pub pairs_excluded: usize,
    /// Examples scored in the base run only.
    pub base_only: usize,
    /// Examples scored in the new run only.
    pub new_only: usize,
    /// Mean quality points on the paired examples, base and new.
    pub base_mean: Option<f64>,
    /// New run's mean on the paired examples.
    pub new_mean: Option<f64>,
    /// Paired statistics of new − base (points).
    pub paired: Option<PairedComparison>,
    /// Paired bootstrap interval of the mean change.
    pub bootstrap: Option<Interval>,
    /// The test whose p-value decides: the paired t, or the exact sign test when every change is the same number.
    pub verdict_test: Option<VerdictTest>,
    /// Holm-adjusted p across the configs compared.
    pub p_holm: Option<f64>,
    /// Why the config is not in the Holm adjustment, when it is not.
    pub left_out_of_holm: Option<LeftOut>,
    /// Pass rate on the paired examples, base and new.
    pub pass_rate_base: Option<f64>,
    /// New run's pass rate.
    pub pass_rate_new: Option<f64>,
    /// Cost per 1,000 requests, base and new, when both runs were costed.
    pub cost_base: Option<f64>,
    /// New run's cost per 1,000 requests.
    pub cost_new: Option<f64>,
    /// Mean tokens per reply, base and new.
    pub tokens_base: Option<f64>,
    /// New run's tokens per reply.
    pub tokens_new: Option<f64>,
    /// The verdict.
    pub change: Change,
    /// Why, in words.
    pub reason: String,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Base run directory.
    pub base_run: PathBuf,
    /// New run directory.
    pub new_run: PathBuf,
    /// Significance level.
    pub alpha: f64,
    /// Tolerance in quality points.
    pub max_drop: f64,
    /// Differences between the runs' inputs, in words.
    pub warnings: Vec<String>,
    /// Per config, in the new run's order.
    pub configs: Vec<ConfigChange>,
}

impl Comparison {
    /// Whether any config regressed.
    pub fn regressed(&self) -> bool {
        self.configs.iter().any(|c| c.change == Change::Regressed)
    }
}

/// Reads a run: its metadata, its suite (as it is now, with any rubric override) and its scored records, scored in
/// one pass over them (see `report::scoring`); no reply's text is kept, and its examples' inputs and references
/// only with `texts`.
pub fn load_run(dir: &Path, texts: bool) -> anyhow::Result<RunSide> {
    let metadata = run::read_metadata(dir)?;
    let rubric = metadata.rubric_override.as_ref().map(|o| o.path.clone());
    let suite = suite::load_with_rubric(&metadata.suite_path, rubric.as_deref())?;
    let replies = suite.held_out.examples.len() * suite.file.repeats as usize;
    let mut positions: Vec<Vec<u64>> = suite.file.configs.iter().map(|_| Vec::with_capacity(replies)).collect();
    let mut tally = report::tally::Tally::new(&suite);
    report::scoring::score_rows(&suite, dir, || (), |_, _| Ok(()), &mut |row, ()| {
        let outcome = row.outcome();
        tally.add(&outcome);
        // The tally keeps a reply's scores on the same condition, in the same (example) order.
        if let (Some(position), Some(_)) = (row.position, outcome.score.and_then(|s| s.quality)) {
            positions[row.config].push(position);
        }
        Ok(())
    })?;
    let summaries = tally.summaries();
    let per_thousand = report::costs::per_thousand(&suite, &summaries);
    let mut configs = BTreeMap::new();
    for (((summary, replies), positions), per_thousand) in summaries
        .iter()
        .zip(tally.take_replies())
        .zip(positions)
        .zip(per_thousand)
    {
        let side = ConfigSide {
            model: summary.model.clone(),
            examples: replies.examples,
            positions,
            per_thousand,
            tokens_per_request: (summary.ok > 0)
                .then(|| (summary.input_tokens + summary.output_tokens) as f64 / summary.ok as f64),
        };
        configs.insert(summary.config.clone(), side);
    }
    drop(tally);
    let rubric = suite.rubric;
    let examples = suite.held_out.examples;
    let mut ids = Vec::with_capacity(examples.len());
    let mut example_texts = Vec::with_capacity(if texts { examples.len() } else { 0 });
    for example in examples {
        ids.push(example.id);
        if texts {
            example_texts.push(ExampleText {
                input: example.input,
                reference: example.reference,
            });
        }
    }
    Ok(RunSide {
        dir: dir.to_path_buf(),
        rubric,
        metadata,
        ids,
        configs,
        texts: example_texts,
    })
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let values: Vec<f64> = values.collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// What differs between the runs' inputs.
pub fn input_warnings(base: &RunSide, new: &RunSide) -> Vec<String> {
    let (a, b) = (&base.metadata, &new.metadata);
    let mut warnings = Vec::new();
    let mut differ = |what: &str, x: &str, y: &str| {
        if x != y {
            warnings.push(format!(
                "The runs used different {what} ({} … vs {} …).",
                short(x),
                short(y)
            ));
        }
    };
    differ("suite files", &a.suite_sha256, &b.suite_sha256);
    differ("rubrics", &base.rubric.sha256, &new.rubric.sha256);
    differ("held-out data", &a.held_out_sha256, &b.held_out_sha256);
    differ(
        "training data",
        a.training_sha256.as_deref().unwrap_or("none"),
        b.training_sha256.as_deref().unwrap_or("none"),
    );
    for (config, side) in &new.configs {
        if let Some(old) = base.configs.get(config) {
            if old.model != side.model && !old.model.is_empty() {
                warnings.push(format!(
                    "{config} used model {} in the base run and {} in the new one.",
                    old.model, side.model
                ));
            }
        }
    }
    if a.endpoint.is_simulated() != b.endpoint.is_simulated() {
        warnings.push("One run was simulated (embedded endpoint) and the other was not.".to_string());
    }
    warnings
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// Compares two runs config by config; an error when no example pairs in any config.
pub fn compare(base: &RunSide, new: &RunSide, alpha: f64, max_drop: f64, seed: u64) -> anyhow::Result<Comparison> {
    let mut warnings = input_warnings(base, new);
    let mut configs = Vec::new();
    let same_ids = SameIds::new(base, new);
    for (config, side) in &new.configs {
        let Some(old) = base.configs.get(config) else {
            warnings.push(format!("{config} is not in the base run; it is not compared."));
            continue;
        };
        let matched = same_ids.pairs(new, old, side);
        let pairing = pair_all(
            &base.rubric,
            &new.rubric,
            matched
                .iter()
                .filter_map(|&(now, then)| Some((old.examples.get(then)?, side.examples.get(now)?))),
        );
        if pairing.on_common_criteria + pairing.excluded > 0 {
            warnings.push(format!(
                "{config}: {} pairs were compared on the criteria scored in both runs; {} with no criterion in \
                 common were excluded.",
                pairing.on_common_criteria, pairing.excluded
            ));
        }
        let pass_rates = |sides: &[SideScore]| -> Vec<f64> {
            sides
                .iter()
                .map(|s| s.passes.iter().filter(|p| **p).count() as f64 / s.passes.len() as f64)
                .collect()
        };
        let (a, b) = &pairing.points();
        let stats = (!a.is_empty())
            .then(|| stats::compare_paired(a, b, 1.0 - alpha))
            .transpose()?;
        let bootstrap = if a.len() >= 2 {
            let settings = BootstrapSettings {
                confidence_level: 1.0 - alpha,
                ..BootstrapSettings::with_seed(seed)
            };
            stats::paired_bootstrap_mean_difference(a, b, &settings)?.interval
        } else {
            None
        };
        configs.push(ConfigChange {
            config: config.clone(),
            pairs: a.len(),
            pairs_on_common_criteria: pairing.on_common_criteria,
            pairs_excluded: pairing.excluded,
            base_only: old.examples.len() - matched.len(),
            new_only: side.examples.len() - matched.len(),
            base_mean: mean(a.iter().copied()),
            new_mean: mean(b.iter().copied()),
            paired: stats,
            bootstrap,
            verdict_test: None,
            p_holm: None,
            left_out_of_holm: None,
            pass_rate_base: mean(pass_rates(&pairing.baseline).into_iter()),
            pass_rate_new: mean(pass_rates(&pairing.candidate).into_iter()),
            cost_base: old.per_thousand,
            cost_new: side.per_thousand,
            tokens_base: old.tokens_per_request,
            tokens_new: side.tokens_per_request,
            change: Change::NotCompared,
            reason: String::new(),
        });
    }
    for config in base.configs.keys().filter(|c| !new.configs.contains_key(*c)) {
        warnings.push(format!("{config} is in the base run only; it is not compared."));
    }
    if configs.iter().all(|c| c.pairs == 0) {
        return Err(InputError::in_file(
            &new.dir,
            format!(
                "no example pairs between {} and {}: the runs share no scored example in any config",
                base.dir.display(),
                new.dir.display()
            ),
        )
        .into());
    }
    let tested: Vec<usize> = (0..configs.len()).filter(|&i| configs[i].paired.is_some()).collect();
    let paired: Vec<&PairedComparison> = tested.iter().filter_map(|&i| configs[i].paired.as_ref()).collect();
    let decisions = stats::decide_family(&paired, alpha, max_drop)?;
    for (&i, decision) in tested.iter().zip(decisions) {
        let c = &mut configs[i];
        c.verdict_test = decision.test;
        c.p_holm = decision.p_holm;
        c.left_out_of_holm = decision.left_out;
    }
    let minimum = stats::minimum_pairs_for_verdict(alpha);
    for c in &mut configs {
        (c.change, c.reason) = decide(c, alpha, max_drop, minimum);
    }
    Ok(Comparison {
        base_run: base.dir.clone(),
        new_run: new.dir.clone(),
        alpha,
        max_drop,
        warnings,
        configs,
    })
}

fn decide(c: &ConfigChange, alpha: f64, max_drop: f64, minimum_pairs: usize) -> (Change, String) {
    let Some(paired) = &c.paired else {
        return (Change::NotCompared, "no example scored in both runs".to_string());
    };
    let Some(delta) = paired.mean_difference else {
        return (Change::NotCompared, "no example scored in both runs".to_string());
    };
    match c.left_out_of_holm {
        Some(LeftOut::TooFewPairs) => {
            return (
                Change::NotCompared,
                format!(
                    "{} paired examples; a verdict needs at least {minimum_pairs} (the fewest with which an exact \
                     sign test can reach α = {alpha})",
                    paired.n
                ),
            )
        }
        Some(LeftOut::NoDifferenceObserved) => {
            return (
                Change::Unchanged,
                "no difference observed: every paired example scored the same in both runs".to_string(),
            )
        }
        _ => {}
    }
    let p = c.p_holm;
    let significant = p.is_some_and(|p| p < alpha);
    let p_text = p.map_or("n/a".to_string(), |p| format!("{p:.4}"));
    let test = if c.verdict_test == Some(VerdictTest::SignTest) {
        "; every change is the same, so the exact sign test decides"
    } else {
        ""
    };
    let change = if significant && delta < -max_drop {
        Change::Regressed
    } else if significant && delta > max_drop {
        Change::Improved
    } else {
        Change::Unchanged
    };
    let reason = match change {
        Change::Regressed | Change::Improved => format!(
            "{delta:+.1} quality points on {} examples (adjusted p {p_text} < {alpha}; beyond the {max_drop}-point tolerance{test})",
            paired.n
        ),
        _ if !significant => format!("{delta:+.1} quality points, not significant (adjusted p {p_text} ≥ {alpha}{test})"),
        _ => format!("{delta:+.1} quality points, significant but within the {max_drop}-point tolerance"),
    };
    (change, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(delta: f64, p: Option<f64>) -> ConfigChange {
        let base = vec![50.0, 60.0, 70.0, 55.0];
        let new: Vec<f64> = base
            .iter()
            .enumerate()
            .map(|(i, v)| v + delta + (i as f64 - 1.5) * 0.1)
            .collect();
        ConfigChange {
            config: "c".into(),
            pairs: 4,
            pairs_on_common_criteria: 0,
            pairs_excluded: 0,
            base_only: 0,
            new_only: 0,
            base_mean: None,
            new_mean: None,
            paired: Some(stats::compare_paired(&base, &new, 0.95).unwrap()),
            bootstrap: None,
            verdict_test: Some(VerdictTest::PairedT),
            p_holm: p,
            left_out_of_holm: None,
            pass_rate_base: None,
            pass_rate_new: None,
            cost_base: None,
            cost_new: None,
            tokens_base: None,
            tokens_new: None,
            change: Change::NotCompared,
            reason: String::new(),
        }
    }

    fn decide_at(c: &ConfigChange, alpha: f64, max_drop: f64) -> (Change, String) {
        decide(c, alpha, max_drop, 6)
    }

    #[test]
    fn regression_needs_significance_and_a_drop_beyond_the_tolerance() {
        assert_eq!(decide_at(&change(-10.0, Some(0.001)), 0.05, 2.0).0, Change::Regressed);
        assert_eq!(decide_at(&change(-10.0, Some(0.2)), 0.05, 2.0).0, Change::Unchanged);
        assert_eq!(decide_at(&change(-1.0, Some(0.001)), 0.05, 2.0).0, Change::Unchanged);
        assert!(decide_at(&change(-1.0, Some(0.001)), 0.05, 2.0)
            .1
            .contains("within the 2-point tolerance"));
        assert_eq!(decide_at(&change(5.0, Some(0.001)), 0.05, 2.0).0, Change::Improved);
        assert_eq!(decide_at(&change(0.0, None), 0.05, 2.0).0, Change::Unchanged);
    }

    #[test]
    fn too_few_pairs_are_not_compared() {
        let mut few = change(-10.0, None);
        few.left_out_of_holm = Some(LeftOut::TooFewPairs);
        let (verdict, reason) = decide_at(&few, 0.05, 2.0);
        assert_eq!(verdict, Change::NotCompared);
        assert!(reason.contains("a verdict needs at least 6"), "{reason}");
    }
}
