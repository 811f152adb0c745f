//! Statistics for the decision report: pure functions over plain numbers, no I/O, serialisable results.
//!
//! Every function names the reference it reproduces (scipy 1.17, statsmodels 0.15, numpy 2); the golden values in
//! `tests/fixtures/stats/golden.json` come from those libraries (`make_golden.py`) and `tests/stats_reference.rs`
//! checks them. Sign convention throughout: a difference is candidate − baseline.
//!
//! Input errors (non-finite values, unequal lengths, a level outside (0, 1)) are [`StatsError`]s; a statistic that is
//! undefined for valid data (a p-value when every difference is zero, a standard deviation of one value) is `None`,
//! never NaN, and no function panics on data.

pub mod agreement;
pub mod bootstrap;
pub mod classification;
pub mod clustered;
mod distributions;
pub mod mcnemar;
pub mod multiple;
pub mod paired;
pub mod power;
pub mod proportion;
mod ranks;
mod resample;
pub mod summary;
pub mod verdict;
pub mod wilcoxon;

pub use agreement::{agreement, mean_absolute_difference, spearman, weighted_kappa, Agreement, KappaWeights, Spearman};
pub use bootstrap::{
    bca_interval_from_distribution, bootstrap_mean_bca, paired_bootstrap_mean_difference, BootstrapCi,
    BootstrapSettings, DEFAULT_BOOTSTRAP_RESAMPLES,
};
pub use clustered::clustered_standard_error;
pub use mcnemar::{mcnemar_exact, mcnemar_from_counts, McNemar};
pub use multiple::holm_adjust;
pub use paired::{
    compare_paired, paired_differences, paired_t_test, sign_test, PairedComparison, PairedTTest, SignTest,
};
pub use power::{
    min_detectable_difference, min_detectable_effect_size, paired_t_power, required_sample_size, RequiredSampleSize,
    DEFAULT_POWER,
};
pub use proportion::wilson_interval;
pub use summary::{quantile_linear, summarize, Summary};
pub use verdict::{verdict, Verdict};
pub use wilcoxon::{wilcoxon_signed_rank, WilcoxonMethod, WilcoxonSignedRank};

use serde::Serialize;

/// The conventional two-sided confidence level of the report's intervals.
pub const DEFAULT_CONFIDENCE_LEVEL: f64 = 0.95;

/// The conventional significance level of the report's tests.
pub const DEFAULT_ALPHA: f64 = 0.05;

/// A closed interval `[lower, upper]`: a confidence interval, in the units of the statistic it brackets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower end.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
}

/// Data or a parameter a statistics function cannot work with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// A value is NaN or infinite.
    #[error("{what}: value at index {index} is {value}; every value must be a finite number")]
    NonFinite {
        /// Which input holds the value.
        what: &'static str,
        /// 0-based position of the value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// Two inputs that must pair up element by element have different lengths.
    #[error("{what}: {left} values on one side but {right} on the other; each example must be paired exactly once")]
    LengthMismatch {
        /// What was being paired.
        what: &'static str,
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },
    /// A parameter is outside its allowed range.
    #[error("{name} is {value}, but it must be {expected}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What would be right.
        expected: &'static str,
    },
}

/// Checks that every value is finite.
fn check_finite(what: &'static str, values: &[f64]) -> Result<(), StatsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(StatsError::NonFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Checks that two inputs pair up.
fn check_same_length(what: &'static str, left: usize, right: usize) -> Result<(), StatsError> {
    if left == right {
        Ok(())
    } else {
        Err(StatsError::LengthMismatch { what, left, right })
    }
}

/// Checks that a level (confidence, α, power) lies strictly between 0 and 1.
fn check_open_unit(name: &'static str, value: f64) -> Result<(), StatsError> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter {
            name,
            value,
            expected: "strictly between 0 and 1",
        })
    }
}

/// Arithmetic mean; `None` for an empty slice.
fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// Sample standard deviation with ddof = 1 (numpy `std(ddof=1)`); `None` below two values.
fn sample_sd(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let m = mean(values)?;
    let squares: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some((squares / (n - 1) as f64).sqrt())
}
