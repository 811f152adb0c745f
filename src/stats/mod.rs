//! Statistics for the decision report: pure functions over plain numbers, no I/O, serialisable results.
//!
//! Every function names the reference it reproduces (scipy 1.17, statsmodels 0.15, numpy 2); the golden values in
//! `tests/fixtures/stats/golden.json` come from those libraries (`make_golden.py`) and `tests/stats_reference.rs`
//! checks them. Sign convention throughout: a difference is candidate − baseline.
//!
//! Input errors (non-finite values, unequal lengths, a level outside (0, 1)) are [`StatsError`]s; a statistic that is
//! undefined for valid data (a p-value when every difference is zero, a standard deviation of one value) is `None`,
//! never NaN, and no function panics on data.
//!
//! No function loops without a bound either: every iterative routine (the incomplete beta's continued fraction, the
//! noncentral t series, the root finder behind quantiles and power answers) has an iteration cap and a convergence
//! test relative to the size of its answer, and one that reaches its cap returns
//! [`StatsError::DidNotConverge`] — an explicit "n/a, and why" — rather than a wrong number or a hang.
//! `tests/stats_properties.rs` checks all of this on random, degenerate and adversarial inputs.

pub mod agreement;
mod beta;
pub mod bootstrap;
pub mod classification;
pub mod clustered;
mod distributions;
pub mod mcnemar;
pub mod multiple;
mod noncentral_t;
pub mod paired;
pub mod power;
pub mod proportion;
mod ranks;
mod resample;
mod roots;
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
pub use verdict::{
    decide_family, decide_family_by, minimum_pairs_for_verdict, verdict, FamilyDecision, LeftOut, Verdict, VerdictTest,
};
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
    /// A result beyond f64's range (a difference of two scores near ±1.8e308): not available.
    #[error("n/a: {what} overflows the range of a 64-bit float")]
    OutOfRange {
        /// What overflowed.
        what: &'static str,
    },
    /// An iterative routine reached its cap without meeting its convergence test: the statistic is not available.
    #[error("n/a: {routine} did not converge within {iterations} iterations")]
    DidNotConverge {
        /// What was being computed.
        routine: &'static str,
        /// The cap that was reached.
        iterations: usize,
    },
}

impl StatsError {
    /// Whether this only means "not available" (a capped routine gave up), as opposed to bad input.
    pub fn is_not_available(&self) -> bool {
        matches!(self, StatsError::DidNotConverge { .. } | StatsError::OutOfRange { .. })
    }
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

/// How many ε, relative to the magnitude of the numbers involved, two floating-point results may differ by and still
/// be the same real number: a weighted mean reached through different roundings differs by a few ulps.
const ROUNDING_ULPS: f64 = 16.0;

/// Whether two results are the same real number up to rounding, at the magnitude `scale` of what they were
/// computed from.
fn within_rounding(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= ROUNDING_ULPS * f64::EPSILON * scale
}

/// Whether every value is its mean up to rounding at magnitude `scale` (and there are at least two): a spread that
/// is rounding noise, which the statistics treat as none. (scipy warns of "catastrophic cancellation" here and
/// returns a t of ~10¹⁵.)
fn spread_is_rounding(values: &[f64], scale: f64) -> bool {
    match mean(values) {
        Some(m) if values.len() >= 2 => values.iter().all(|v| within_rounding(*v, m, scale)),
        _ => false,
    }
}

/// Largest absolute value; 0 for none.
fn magnitude(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Arithmetic mean; `None` for an empty slice. A sum that overflows is redone on values scaled by the largest
/// magnitude, so the mean of finite values is finite.
fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let plain = values.iter().sum::<f64>() / n;
    if plain.is_finite() {
        return Some(plain);
    }
    let scale = magnitude(values);
    Some(values.iter().map(|v| v / scale).sum::<f64>() / n * scale)
}

/// Sample standard deviation with ddof = 1 (numpy `std(ddof=1)`); `None` below two values; exactly 0 when every
/// value is the same (numpy can give an ulp or so there, the rounding of the mean).
fn sample_sd(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    if values.iter().all(|v| *v == values[0]) {
        return Some(0.0);
    }
    let spread = |values: &[f64]| -> Option<f64> {
        let m = mean(values)?;
        let squares: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
        Some((squares / (n - 1) as f64).sqrt())
    };
    let plain = spread(values)?;
    if plain.is_finite() && plain > 0.0 {
        return Some(plain);
    }
    // Squares that overflow (values ~1e300) or underflow (~1e-300): the same on values scaled to at most 1.
    let scale = magnitude(values);
    let scaled: Vec<f64> = values.iter().map(|v| v / scale).collect();
    spread(&scaled).map(|sd| sd * scale).filter(|sd| sd.is_finite())
}

/// A computed value, if it is a finite number: overflow makes a statistic unavailable, never infinite.
fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

/// An interval, if both ends are finite.
fn finite_interval(lower: f64, upper: f64) -> Option<Interval> {
    (lower.is_finite() && upper.is_finite()).then_some(Interval { lower, upper })
}
