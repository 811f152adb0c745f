//! `loss`: a Bedrock customization job's training and validation metrics, read into loss curves, diagnosed and drawn.
//!
//! Bedrock writes `step_wise_training_metrics.csv` (`step_number, epoch_number, training_loss[, perplexity]`) and,
//! when the job had validation data, `validation_metrics.csv` (the same with `validation_loss`), under the job's
//! output folder (`training_artifacts/` and `validation_artifacts/post_fine_tuning_validation/`; older jobs use other
//! folder names, so the files are found by name).

mod chart;
mod diagnose;
mod read;

use std::path::PathBuf;

use serde::Serialize;

pub use chart::curves_svg;
pub use diagnose::{diagnose, diagnose_with, EpochLoss, LossDiagnosis, Verdict, DEFAULT_TOLERANCE};
pub use read::{read_metrics, TRAINING_FILE, VALIDATION_FILE};

/// One row of a metrics file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LossPoint {
    /// `step_number`.
    pub step: u64,
    /// `epoch_number` (a fractional epoch is counted in the epoch it falls in).
    pub epoch: u32,
    /// `training_loss` or `validation_loss`.
    pub loss: f64,
    /// `perplexity`, when the file has it.
    pub perplexity: Option<f64>,
}

/// A job's loss curves, in file order.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LossCurves {
    /// Training loss per step.
    pub training: Vec<LossPoint>,
    /// Validation loss per evaluation (empty when the job had no validation data).
    pub validation: Vec<LossPoint>,
    /// The training metrics file read.
    pub training_file: Option<PathBuf>,
    /// The validation metrics file read.
    pub validation_file: Option<PathBuf>,
}
