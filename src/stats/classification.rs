//! Classification metrics: accuracy with its interval, per-class precision, recall and F1, macro-F1 with a seeded
//! bootstrap interval, and the confusion matrix, as scikit-learn and statsmodels define them.
//!
//! The data are examples, each with one (expected, predicted) pair per repeat; a prediction is `None` when no label
//! could be read from the reply. Definitions (checked against scikit-learn 1.9 by `tests/classification_reference.rs`):
//! - the **classes** are the labels that occur among the expected ones; a label only ever predicted (or no label)
//!   is an error for the true class but not a class of its own (`sklearn.metrics.f1_score(labels=classes)`);
//! - per class, precision = TP/(TP + FP), recall = TP/(TP + FN), F1 = 2TP/(2TP + FP + FN), each **0 when its
//!   denominator is 0** (`zero_division=0`);
//! - **macro-F1** is the unweighted mean of the classes' F1;
//! - **accuracy** is the share of replies whose label is right; its interval is Wilson's without repeats
//!   (`statsmodels proportion_confint(method='wilson')`), else the bootstrap's;
//! - the **bootstrap** resamples examples with replacement (an example's repeats stay together), recomputes the
//!   statistic on each resample — macro-F1 over the classes present in that resample, as the statistic computed on
//!   those data would be — and takes numpy's linear (type 7) quantiles at α/2 and 1 − α/2 (the percentile interval,
//!   `scipy.stats.bootstrap(method='percentile')`), from a ChaCha8 generator seeded by the caller.

use std::collections::BTreeSet;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::summary::{quantile_of_sorted, sorted_copy};
use super::{check_open_unit, wilson_interval, BootstrapSettings, Interval, StatsError};

/// The column of the confusion matrix for replies with no readable label.
pub const NO_LABEL: &str = "(no label)";

/// One class's metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// The label.
    pub label: String,
    /// TP/(TP + FP); 0 when the class was never predicted.
    pub precision: f64,
    /// TP/(TP + FN).
    pub recall: f64,
    /// 2TP/(2TP + FP + FN); 0 when that denominator is 0.
    pub f1: f64,
    /// Replies whose expected label is this class.
    pub support: usize,
    /// Replies predicted as this class.
    pub predicted: usize,
}

/// Counts of replies by expected label (rows, the classes) and predicted label (columns: the classes, then labels
/// only ever predicted, sorted, then [`NO_LABEL`] when some reply had none).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfusionMatrix {
    /// Row labels: the classes, sorted.
    pub expected: Vec<String>,
    /// Column labels.
    pub predicted: Vec<String>,
    /// `counts[row][column]`.
    pub counts: Vec<Vec<usize>>,
}

/// A config's classification metrics on one label criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// Examples with at least one labelled reply.
    pub examples: usize,
    /// Replies compared (examples × their repeats).
    pub replies: usize,
    /// Replies whose label is right.
    pub correct: usize,
    /// correct / replies.
    pub accuracy: Option<f64>,
    /// Wilson's interval without repeats; the bootstrap percentile interval with them.
    pub accuracy_interval: Option<Interval>,
    /// Which interval `accuracy_interval` is: `wilson` or `bootstrap_percentile`.
    pub accuracy_interval_method: &'static str,
    /// Mean F1 over the classes.
    pub macro_f1: Option<f64>,
    /// Bootstrap percentile interval of macro-F1.
    pub macro_f1_interval: Option<Interval>,
    /// Resamples and seed of the bootstrap.
    pub bootstrap: BootstrapSettings,
    /// Per class, sorted by label.
    pub classes: Vec<ClassMetrics>,
    /// The confusion matrix.
    pub confusion: ConfusionMatrix,
}

/// Labels as small integers: the classes first (sorted), then predicted-only labels, then "no label".
struct Coded {
    classes: usize,
    labels: Vec<String>,
    /// Per example, its (expected, predicted) codes.
    examples: Vec<Vec<(usize, usize)>>,
}

impl Coded {
    fn new(examples: &[Vec<(String, Option<String>)>]) -> Coded {
        let classes: BTreeSet<&str> = examples.iter().flatten().map(|(e, _)| e.as_str()).collect();
        let others: BTreeSet<&str> = examples
            .iter()
            .flatten()
            .filter_map(|(_, p)| p.as_deref())
            .filter(|p| !classes.contains(p))
            .collect();
        let no_label = examples.iter().flatten().any(|(_, p)| p.is_none());
        let mut labels: Vec<String> = classes.iter().chain(&others).map(|s| s.to_string()).collect();
        if no_label {
            labels.push(NO_LABEL.to_string());
        }
        let code = |label: Option<&str>| {
            let label = label.unwrap_or(NO_LABEL);
            labels.iter().position(|l| l == label).unwrap_or(labels.len() - 1)
        };
        let coded = examples
            .iter()
            .map(|pairs| pairs.iter().map(|(e, p)| (code(Some(e)), code(p.as_deref()))).collect())
            .collect();
        Coded {
            classes: classes.len(),
            labels,
            examples: coded,
        }
    }

    fn empty_counts(&self) -> Vec<Vec<usize>> {
        vec![vec![0; self.labels.len()]; self.classes]
    }
}

/// Per-class metrics from confusion counts (rows: classes; columns: every label).
fn class_metrics(counts: &[Vec<usize>], labels: &[String]) -> Vec<ClassMetrics> {
    (0..counts.len())
        .map(|c| {
            let tp = counts[c][c];
            let support: usize = counts[c].iter().sum();
            let predicted: usize = counts.iter().map(|row| row[c]).sum();
            let (fp, fn_) = (predicted - tp, support - tp);
            let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            ClassMetrics {
                label: labels[c].clone(),
                precision: ratio(tp, predicted),
                recall: ratio(tp, support),
                f1: ratio(2 * tp, 2 * tp + fp + fn_),
                support,
                predicted,
            }
        })
        .collect()
}

/// Macro-F1 over the classes with support in `counts`; `None` when no class has any.
fn macro_f1_of(counts: &[Vec<usize>], labels: &[String]) -> Option<f64> {
    let f1: Vec<f64> = class_metrics(counts, labels)
        .into_iter()
        .filter(|c| c.support > 0)
        .map(|c| c.f1)
        .collect();
    (!f1.is_empty()).then(|| f1.iter().sum::<f64>() / f1.len() as f64)
}

/// The percentile interval of `statistics` at `confidence_level` (type-7 quantiles).
fn percentile_interval(statistics: &[f64], confidence_level: f64) -> Option<Interval> {
    let sorted = sorted_copy(statistics);
    let alpha = 1.0 - confidence_level;
    Some(Interval {
        lower: quantile_of_sorted(&sorted, alpha / 2.0)?,
        upper: quantile_of_sorted(&sorted, 1.0 - alpha / 2.0)?,
    })
}

/// Bootstrap distributions of (accuracy, macro-F1): examples resampled with replacement.
fn bootstrap(coded: &Coded, settings: &BootstrapSettings) -> (Vec<f64>, Vec<f64>) {
    let n = coded.examples.len();
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let mut accuracies = Vec::with_capacity(settings.resamples);
    let mut macro_f1s = Vec::with_capacity(settings.resamples);
    let mut counts = coded.empty_counts();
    for _ in 0..settings.resamples {
        counts.iter_mut().for_each(|row| row.fill(0));
        let (mut right, mut total) = (0usize, 0usize);
        for _ in 0..n {
            for &(e, p) in &coded.examples[rng.random_range(0..n)] {
                counts[e][p] += 1;
                right += usize::from(e == p);
                total += 1;
            }
        }
        if total > 0 {
            accuracies.push(right as f64 / total as f64);
        }
        if let Some(f1) = macro_f1_of(&counts, &coded.labels) {
            macro_f1s.push(f1);
        }
    }
    (accuracies, macro_f1s)
}

/// Every metric for `examples` (per example, its (expected, predicted) pairs, one per repeat). `repeats` > 1
/// switches the accuracy interval from Wilson's to the bootstrap's.
pub fn classification(
    examples: &[Vec<(String, Option<String>)>],
    repeats: u32,
    settings: &BootstrapSettings,
) -> Result<Classification, StatsError> {
    check_open_unit("confidence level", settings.confidence_level)?;
    let examples: Vec<Vec<(String, Option<String>)>> = examples.iter().filter(|e| !e.is_empty()).cloned().collect();
    let coded = Coded::new(&examples);
    let mut counts = coded.empty_counts();
    for &(e, p) in coded.examples.iter().flatten() {
        counts[e][p] += 1;
    }
    let replies: usize = coded.examples.iter().map(Vec::len).sum();
    let correct = (0..coded.classes).map(|c| counts[c][c]).sum();
    let (accuracies, macro_f1s) = if replies > 0 && settings.resamples > 0 {
        bootstrap(&coded, settings)
    } else {
        (Vec::new(), Vec::new())
    };
    let (accuracy_interval, accuracy_interval_method) = if repeats > 1 {
        (
            percentile_interval(&accuracies, settings.confidence_level),
            "bootstrap_percentile",
        )
    } else {
        (
            wilson_interval(correct as u64, replies as u64, settings.confidence_level)?,
            "wilson",
        )
    };
    Ok(Classification {
        examples: coded.examples.len(),
        replies,
        correct,
        accuracy: (replies > 0).then(|| correct as f64 / replies as f64),
        accuracy_interval,
        accuracy_interval_method,
        macro_f1: macro_f1_of(&counts, &coded.labels),
        macro_f1_interval: percentile_interval(&macro_f1s, settings.confidence_level),
        bootstrap: *settings,
        classes: class_metrics(&counts, &coded.labels),
        confusion: ConfusionMatrix {
            expected: coded.labels[..coded.classes].to_vec(),
            predicted: coded.labels.clone(),
            counts,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(data: &[(&str, Option<&str>)]) -> Vec<Vec<(String, Option<String>)>> {
        data.iter()
            .map(|(e, p)| vec![(e.to_string(), p.map(str::to_string))])
            .collect()
    }

    #[test]
    fn zero_division_is_zero_and_predicted_only_labels_are_not_classes() {
        let data = pairs(&[
            ("a", Some("a")),
            ("a", Some("b")),
            ("b", Some("x")),
            ("b", None),
            ("c", Some("a")),
        ]);
        let result = classification(&data, 1, &BootstrapSettings::with_seed(1)).unwrap();
        assert_eq!(result.confusion.expected, ["a", "b", "c"]);
        assert_eq!(result.confusion.predicted, ["a", "b", "c", "x", NO_LABEL]);
        assert_eq!(result.confusion.counts[1], [0, 0, 0, 1, 1]);
        let a = &result.classes[0];
        assert_eq!((a.precision, a.recall, a.support, a.predicted), (0.5, 0.5, 2, 2));
        // b: predicted once (wrongly), so precision 0/1; c: never predicted, precision 0/0 = 0.
        assert_eq!((result.classes[1].precision, result.classes[1].f1), (0.0, 0.0));
        assert_eq!((result.classes[2].precision, result.classes[2].recall), (0.0, 0.0));
        assert_eq!(result.macro_f1, Some(0.5 / 3.0));
        assert_eq!((result.correct, result.replies), (1, 5));
        assert_eq!(result.accuracy_interval_method, "wilson");
    }

    #[test]
    fn the_bootstrap_is_seeded_and_brackets_the_estimate() {
        let cycle = [
            ("a", Some("a")),
            ("b", Some("b")),
            ("a", Some("b")),
            ("b", Some("b")),
            ("c", Some("c")),
            ("c", None),
        ];
        let data = pairs(&cycle.repeat(7));
        let settings = BootstrapSettings::with_seed(7);
        let first = classification(&data, 1, &settings).unwrap();
        assert_eq!(first, classification(&data, 1, &settings).unwrap());
        let interval = first.macro_f1_interval.unwrap();
        assert!(interval.lower <= first.macro_f1.unwrap() && first.macro_f1.unwrap() <= interval.upper);
        let other = classification(&data, 1, &BootstrapSettings::with_seed(8)).unwrap();
        assert_ne!(first.macro_f1_interval, other.macro_f1_interval);
    }

    #[test]
    fn repeats_stay_with_their_example_and_switch_the_accuracy_interval() {
        let data = vec![
            vec![
                ("a".to_string(), Some("a".to_string())),
                ("a".to_string(), Some("b".to_string())),
            ],
            vec![
                ("b".to_string(), Some("b".to_string())),
                ("b".to_string(), Some("b".to_string())),
            ],
        ];
        let result = classification(&data, 2, &BootstrapSettings::with_seed(3)).unwrap();
        assert_eq!((result.examples, result.replies, result.correct), (2, 4, 3));
        assert_eq!(result.accuracy_interval_method, "bootstrap_percentile");
        let interval = result.accuracy_interval.unwrap();
        // Resampled examples hold 1/2 or 2/2 right: accuracy is 0.5, 0.75 or 1.
        assert!(interval.lower >= 0.5 && interval.upper <= 1.0);
        let empty = classification(&[], 1, &BootstrapSettings::with_seed(3)).unwrap();
        assert_eq!(
            (empty.accuracy, empty.macro_f1, empty.accuracy_interval),
            (None, None, None)
        );
    }
}
