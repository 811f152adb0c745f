//! Loss per epoch, and when to stop training.
//!
//! The rule: take the mean training and validation loss of each epoch. The epoch with the lowest validation loss
//! is the best. If it is the last epoch, training is still improving. Otherwise, if the next epoch's validation
//! loss is higher than the best by more than `tolerance` (relative), and training loss at the last epoch is lower
//! than at the best one, the model is overfitting: stop at the best epoch. If validation rose but training did not
//! keep falling, training is unstable; if validation did not rise beyond the tolerance, it has plateaued. Either way
//! the best epoch is where to stop.

use std::collections::BTreeMap;

use serde::Serialize;

use super::LossCurves;

/// Relative rise of validation loss over its lowest value that counts as rising: 1%.
pub const DEFAULT_TOLERANCE: f64 = 0.01;

/// Mean losses of one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochLoss {
    /// Epoch number, as in the files.
    pub epoch: u32,
    /// Mean training loss over the epoch's steps.
    pub training_loss: Option<f64>,
    /// Mean validation loss over the epoch's evaluations.
    pub validation_loss: Option<f64>,
}

/// What the curves say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Validation loss is lowest at the last epoch: more epochs may still help.
    StillImproving,
    /// Validation loss rose after its lowest epoch while training loss kept falling.
    Overfitting,
    /// Validation loss stopped falling but did not rise beyond the tolerance.
    Plateaued,
    /// Validation loss rose, but training loss did not keep falling (a learning rate too high, noisy data).
    Unstable,
    /// Validation loss exists for only one epoch: nothing to compare.
    TooFewEpochs,
    /// The job has no validation metrics: overfitting cannot be seen.
    NoValidation,
}

/// The diagnosis of a job's loss curves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossDiagnosis {
    /// Mean losses per epoch, in epoch order.
    pub epochs: Vec<EpochLoss>,
    /// The epoch with the lowest validation loss.
    pub best_validation_epoch: Option<u32>,
    /// What the curves say.
    pub verdict: Verdict,
    /// The epoch to stop at (set an epoch count that ends there), when training should have stopped earlier.
    pub stop_epoch: Option<u32>,
    /// The relative tolerance used.
    pub tolerance: f64,
    /// One or two sentences for people.
    pub explanation: String,
}

/// Diagnoses `curves` with the default tolerance.
pub fn diagnose(curves: &LossCurves) -> LossDiagnosis {
    diagnose_with(curves, DEFAULT_TOLERANCE)
}

/// Diagnoses `curves`: validation loss counts as rising when it exceeds its lowest value by more than
/// `tolerance` times that value.
pub fn diagnose_with(curves: &LossCurves, tolerance: f64) -> LossDiagnosis {
    let epochs = epoch_means(curves);
    let validated: Vec<(u32, f64)> = epochs
        .iter()
        .filter_map(|e| Some((e.epoch, e.validation_loss?)))
        .collect();
    let training_at = |epoch: u32| epochs.iter().find(|e| e.epoch == epoch).and_then(|e| e.training_loss);
    let diagnosis = |best, verdict, stop_epoch, explanation: String| LossDiagnosis {
        epochs: epochs.clone(),
        best_validation_epoch: best,
        verdict,
        stop_epoch,
        tolerance,
        explanation,
    };
    if validated.is_empty() {
        return diagnosis(
            None,
            Verdict::NoValidation,
            None,
            "no validation metrics: give the job a validation set to see overfitting".to_string(),
        );
    }
    // The first epoch reaching the minimum: later ties add training cost and nothing else.
    let (best_index, &(best_epoch, best_loss)) = validated
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| a.1.total_cmp(&b.1))
        .unwrap_or((0, &validated[0]));
    if validated.len() == 1 {
        return diagnosis(
            Some(best_epoch),
            Verdict::TooFewEpochs,
            None,
            format!("validation loss exists for epoch {best_epoch} only: nothing to compare it with"),
        );
    }
    if best_index == validated.len() - 1 {
        return diagnosis(
            Some(best_epoch),
            Verdict::StillImproving,
            None,
            format!(
                "validation loss is still falling at the last epoch ({best_epoch}, {best_loss:.4}): more epochs may help"
            ),
        );
    }
    let (next_epoch, next_loss) = validated[best_index + 1];
    let (last_epoch, _) = validated[validated.len() - 1];
    let rose = next_loss > best_loss * (1.0 + tolerance);
    let training_fell = match (training_at(best_epoch), training_at(last_epoch)) {
        (Some(at_best), Some(at_last)) => at_last < at_best,
        _ => false,
    };
    let (verdict, explanation) = match (rose, training_fell) {
        (true, true) => (
            Verdict::Overfitting,
            format!(
                "overfitting: validation loss was lowest at epoch {best_epoch} ({best_loss:.4}) and rose to {next_loss:.4} \
                 at epoch {next_epoch} while training loss kept falling; stop at epoch {best_epoch}"
            ),
        ),
        (true, false) => (
            Verdict::Unstable,
            format!(
                "validation loss rose after epoch {best_epoch} but training loss did not keep falling: check the \
                 learning rate and the data; stop at epoch {best_epoch}"
            ),
        ),
        (false, _) => (
            Verdict::Plateaued,
            format!(
                "validation loss stopped improving after epoch {best_epoch} ({best_loss:.4}); later epochs add cost, \
                 not quality: stop at epoch {best_epoch}"
            ),
        ),
    };
    diagnosis(Some(best_epoch), verdict, Some(best_epoch), explanation)
}

/// Mean training and validation loss per epoch, in epoch order.
fn epoch_means(curves: &LossCurves) -> Vec<EpochLoss> {
    let mut sums: BTreeMap<u32, [(f64, usize); 2]> = BTreeMap::new();
    for (series, points) in [&curves.training, &curves.validation].into_iter().enumerate() {
        for point in points {
            let entry = &mut sums.entry(point.epoch).or_default()[series];
            entry.0 += point.loss;
            entry.1 += 1;
        }
    }
    let mean = |(sum, n): (f64, usize)| (n > 0).then(|| sum / n as f64);
    sums.into_iter()
        .map(|(epoch, [training, validation])| EpochLoss {
            epoch,
            training_loss: mean(training),
            validation_loss: mean(validation),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::LossPoint;
    use super::*;

    /// Two training steps and one validation evaluation per epoch, epochs numbered from 1.
    fn curves(training: &[f64], validation: &[f64]) -> LossCurves {
        let point = |step: usize, epoch: usize, loss: f64| LossPoint {
            step: step as u64,
            epoch: epoch as u32 + 1,
            loss,
            perplexity: None,
        };
        LossCurves {
            training: training
                .iter()
                .enumerate()
                .flat_map(|(e, &l)| [point(2 * e, e, l + 0.05), point(2 * e + 1, e, l - 0.05)])
                .collect(),
            validation: validation
                .iter()
                .enumerate()
                .map(|(e, &l)| point(2 * e + 1, e, l))
                .collect(),
            ..LossCurves::default()
        }
    }

    #[test]
    fn epoch_means_average_the_steps() {
        let diagnosis = diagnose(&curves(&[1.0, 0.5], &[1.1, 0.9]));
        assert_eq!(diagnosis.epochs.len(), 2);
        assert!((diagnosis.epochs[0].training_loss.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(diagnosis.epochs[1].validation_loss, Some(0.9));
    }

    #[test]
    fn verdicts() {
        let overfit = diagnose(&curves(&[1.2, 0.9, 0.7, 0.5], &[1.0, 0.8, 0.86, 0.95]));
        assert_eq!((overfit.verdict, overfit.stop_epoch), (Verdict::Overfitting, Some(2)));
        let improving = diagnose(&curves(&[1.2, 0.9, 0.7], &[1.0, 0.9, 0.85]));
        assert_eq!(
            (improving.verdict, improving.stop_epoch),
            (Verdict::StillImproving, None)
        );
        let plateau = diagnose(&curves(&[1.2, 0.9, 0.7], &[1.0, 0.8, 0.805]));
        assert_eq!((plateau.verdict, plateau.stop_epoch), (Verdict::Plateaued, Some(2)));
        let unstable = diagnose(&curves(&[1.2, 0.9, 1.3], &[1.0, 0.8, 1.2]));
        assert_eq!((unstable.verdict, unstable.stop_epoch), (Verdict::Unstable, Some(2)));
        let single = diagnose(&curves(&[1.2], &[1.0]));
        assert_eq!(single.verdict, Verdict::TooFewEpochs);
        let none = diagnose(&curves(&[1.2, 1.0], &[]));
        assert_eq!(
            (none.verdict, none.best_validation_epoch),
            (Verdict::NoValidation, None)
        );
    }

    #[test]
    fn the_tolerance_is_relative_and_a_parameter() {
        let small_rise = curves(&[1.2, 0.9, 0.7], &[1.0, 0.8, 0.81]);
        assert_eq!(diagnose(&small_rise).verdict, Verdict::Overfitting);
        assert_eq!(diagnose_with(&small_rise, 0.05).verdict, Verdict::Plateaued);
    }
}
