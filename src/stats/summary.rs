//! Descriptive statistics of one sample: mean with its t interval, spread, and linear quantiles.

use serde::Serialize;

use super::distributions::student_t_quantile;
use super::{check_finite, check_open_unit, finite_interval, mean, sample_sd, Interval, StatsError};

/// What the report shows for one configuration's per-example scores (or latencies).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean; `None` when empty.
    pub mean: Option<f64>,
    /// Sample standard deviation (ddof = 1); `None` below two values.
    pub sd: Option<f64>,
    /// Standard error of the mean, sd/√n (scipy.stats.sem); `None` below two values.
    pub standard_error: Option<f64>,
    /// Confidence level of `mean_ci`.
    pub confidence_level: f64,
    /// Student t interval of the mean, mean ± t(1 − α/2, n − 1)·se (scipy.stats.t.interval); `None` below two values.
    pub mean_ci: Option<Interval>,
    /// Smallest value.
    pub min: Option<f64>,
    /// Median (numpy.median).
    pub median: Option<f64>,
    /// 95th percentile, numpy's default linear method (for latency p95).
    pub p95: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
}

/// Summarises a sample. Matches numpy (`mean`, `std(ddof=1)`, `median`, `quantile`) and
/// `scipy.stats.t.interval(confidence_level, n - 1, loc=mean, scale=sem)`.
pub fn summarize(values: &[f64], confidence_level: f64) -> Result<Summary, StatsError> {
    check_finite("sample", values)?;
    check_open_unit("confidence level", confidence_level)?;
    let n = values.len();
    let sorted = sorted_copy(values);
    let sd = sample_sd(values);
    let standard_error = sd.map(|s| s / (n as f64).sqrt());
    let m = mean(values);
    let mean_ci = match (m, standard_error) {
        (Some(m), Some(0.0)) => Some(Interval { lower: m, upper: m }),
        (Some(m), Some(se)) => {
            let crit = student_t_quantile(0.5 + confidence_level / 2.0, (n - 1) as f64)?;
            finite_interval(m - crit * se, m + crit * se)
        }
        _ => None,
    };
    Ok(Summary {
        n,
        mean: m,
        sd,
        standard_error,
        confidence_level,
        mean_ci,
        min: sorted.first().copied(),
        median: quantile_of_sorted(&sorted, 0.5),
        p95: quantile_of_sorted(&sorted, 0.95),
        max: sorted.last().copied(),
    })
}

/// The q-quantile by numpy's default method ('linear', Hyndman–Fan type 7): position h = (n − 1)q between the
/// sorted values. `None` for an empty sample, a q outside [0, 1], or a non-finite value.
/// (statrs' `Data::quantile` is type 8, hence our own.)
pub fn quantile_linear(values: &[f64], q: f64) -> Option<f64> {
    if values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    quantile_of_sorted(&sorted_copy(values), q)
}

pub(crate) fn sorted_copy(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// Type-7 quantile of already sorted values; the interpolation is numpy's `_lerp` (it switches to the upper end
/// for weights ≥ ½ so that the result is monotone and exact at the ends).
pub(crate) fn quantile_of_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let below = h.floor();
    let index = below as usize;
    let weight = h - below;
    if index + 1 >= sorted.len() {
        return Some(sorted[sorted.len() - 1]);
    }
    let (a, b) = (sorted[index], sorted[index + 1]);
    let diff = b - a;
    Some(if weight >= 0.5 {
        b - diff * (1.0 - weight)
    } else {
        a + diff * weight
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_sample_has_no_statistics() {
        let s = summarize(&[], 0.95).expect("valid");
        assert_eq!(s.n, 0);
        assert_eq!(s.mean, None);
        assert_eq!(s.mean_ci, None);
        assert_eq!(s.median, None);
    }

    #[test]
    fn single_value_has_mean_but_no_spread() {
        let s = summarize(&[0.4], 0.95).expect("valid");
        assert_eq!(s.mean, Some(0.4));
        assert_eq!(s.sd, None);
        assert_eq!(s.mean_ci, None);
        assert_eq!(s.p95, Some(0.4));
    }

    #[test]
    fn constant_sample_has_zero_width_interval() {
        let s = summarize(&[0.5, 0.5, 0.5], 0.95).expect("valid");
        assert_eq!(s.sd, Some(0.0));
        assert_eq!(s.mean_ci, Some(Interval { lower: 0.5, upper: 0.5 }));
    }

    #[test]
    fn rejects_nan_and_bad_levels() {
        assert!(matches!(
            summarize(&[1.0, f64::NAN], 0.95),
            Err(StatsError::NonFinite { index: 1, .. })
        ));
        assert!(summarize(&[1.0, 2.0], 1.0).is_err());
    }

    #[test]
    fn linear_quantile_interpolates_like_numpy() {
        // numpy.quantile([1, 2, 3, 4], [0.25, 0.95]) = 1.75, 3.85
        assert_eq!(quantile_linear(&[4.0, 1.0, 3.0, 2.0], 0.25), Some(1.75));
        let p95 = quantile_linear(&[4.0, 1.0, 3.0, 2.0], 0.95).expect("defined");
        assert!((p95 - 3.85).abs() < 1e-15);
        assert_eq!(quantile_linear(&[1.0, 2.0], 1.5), None);
    }
}
