//! Seeded bootstrap BCa confidence intervals of a mean and of a paired mean difference, as
//! scipy.stats.bootstrap(method='BCa') computes them.

use serde::Serialize;

use super::distributions::{normal_cdf, normal_quantile};
use super::resample::bootstrap_means;
use super::summary::{quantile_of_sorted, sorted_copy};
use super::{check_finite, check_open_unit, mean, paired_differences, sample_sd, Interval, StatsError};

/// Resamples drawn unless the caller asks otherwise (scipy's default is 9,999; the Monte-Carlo error of a 95%
/// BCa endpoint at 10,000 is about 0.05 bootstrap standard errors).
pub const DEFAULT_BOOTSTRAP_RESAMPLES: usize = 10_000;

/// How to bootstrap: number of resamples, the seed of the generator, the confidence level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapSettings {
    /// Number of bootstrap resamples B.
    pub resamples: usize,
    /// Seed of the ChaCha8 generator that draws the resamples; the same seed gives the same interval.
    pub seed: u64,
    /// Two-sided confidence level.
    pub confidence_level: f64,
}

impl BootstrapSettings {
    /// The default number of resamples and a 95% level, with the given seed.
    pub fn with_seed(seed: u64) -> Self {
        BootstrapSettings {
            resamples: DEFAULT_BOOTSTRAP_RESAMPLES,
            seed,
            confidence_level: super::DEFAULT_CONFIDENCE_LEVEL,
        }
    }

    fn validate(&self) -> Result<(), StatsError> {
        check_open_unit("confidence level", self.confidence_level)?;
        if self.resamples == 0 {
            return Err(StatsError::InvalidParameter {
                name: "bootstrap resamples",
                value: 0.0,
                expected: "at least 1 (10,000 is usual)",
            });
        }
        Ok(())
    }
}

/// A bootstrap interval with what is needed to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapCi {
    /// The statistic on the original data (the mean, or the mean difference); `None` for an empty sample.
    pub estimate: Option<f64>,
    /// BCa interval; `None` when it is undefined: fewer than two values, every value equal (the jackknife
    /// acceleration is 0/0, where scipy returns NaN with a DegenerateDataWarning), or the estimate outside the
    /// bootstrap distribution.
    pub interval: Option<Interval>,
    /// Standard deviation (ddof = 1) of the bootstrap distribution, scipy's `standard_error`.
    pub standard_error: Option<f64>,
    /// Bias correction z0.
    pub bias_correction: Option<f64>,
    /// Jackknife acceleration a.
    pub acceleration: Option<f64>,
    /// Resamples drawn.
    pub resamples: usize,
    /// Generator seed.
    pub seed: u64,
    /// Confidence level.
    pub confidence_level: f64,
}

/// BCa interval of the mean of `sample`, resampling values with replacement.
///
/// Each resample draws n values with replacement, by n uniform indices or, when values repeat enough for it to be
/// cheaper, by multinomial counts of the distinct values: the same distribution (`stats::resample` explains how,
/// and when each is used). The result depends only on the sample, the settings and this crate's version.
pub fn bootstrap_mean_bca(sample: &[f64], settings: &BootstrapSettings) -> Result<BootstrapCi, StatsError> {
    check_finite("sample", sample)?;
    settings.validate()?;
    let distribution = bootstrap_means(sample, settings.resamples, settings.seed);
    let bca = bca_parts(sample, &distribution, settings.confidence_level);
    Ok(BootstrapCi {
        estimate: mean(sample),
        interval: bca.interval,
        standard_error: sample_sd(&distribution),
        bias_correction: bca.bias_correction,
        acceleration: bca.acceleration,
        resamples: settings.resamples,
        seed: settings.seed,
        confidence_level: settings.confidence_level,
    })
}

/// Paired bootstrap of mean(candidate) − mean(baseline): examples are resampled together, so each resample keeps
/// pairs intact (scipy.stats.bootstrap with `paired=True`). The mean difference over resampled pairs is the mean of
/// the resampled differences, so this is the BCa interval of the mean of d = candidate − baseline; the jackknife
/// likewise leaves out one pair at a time.
pub fn paired_bootstrap_mean_difference(
    baseline: &[f64],
    candidate: &[f64],
    settings: &BootstrapSettings,
) -> Result<BootstrapCi, StatsError> {
    let differences = paired_differences(baseline, candidate)?;
    bootstrap_mean_bca(&differences, settings)
}

/// The BCa interval of the mean of `sample` for a given bootstrap distribution of means (scipy's `_bca_interval`
/// followed by `scipy.stats.quantile(method='linear')`). Exposed so the formula can be checked against scipy on
/// scipy's own bootstrap distribution.
pub fn bca_interval_from_distribution(
    sample: &[f64],
    bootstrap_means: &[f64],
    confidence_level: f64,
) -> Result<Option<Interval>, StatsError> {
    check_finite("sample", sample)?;
    check_finite("bootstrap distribution", bootstrap_means)?;
    check_open_unit("confidence level", confidence_level)?;
    Ok(bca_parts(sample, bootstrap_means, confidence_level).interval)
}

struct BcaParts {
    interval: Option<Interval>,
    bias_correction: Option<f64>,
    acceleration: Option<f64>,
}

/// Efron & Tibshirani (1993) 14.3 and 15.4, as scipy implements them:
/// z0 = Φ⁻¹((#{θ* < θ̂} + #{θ* ≤ θ̂})/(2B)); a = ΣU³/(6(ΣU²)^{3/2}) with jackknife Uᵢ = (n − 1)(θ̄(·) − θ̂(i));
/// levels Φ(z0 + (z0 + z)/(1 − a(z0 + z))) for z = ±Φ⁻¹(α/2); endpoints are linear quantiles of the distribution.
fn bca_parts(sample: &[f64], bootstrap_means: &[f64], confidence_level: f64) -> BcaParts {
    let none = BcaParts {
        interval: None,
        bias_correction: None,
        acceleration: None,
    };
    let (Some(estimate), false) = (mean(sample), bootstrap_means.is_empty()) else {
        return none;
    };
    let below = bootstrap_means.iter().filter(|t| **t < estimate).count();
    let at_or_below = bootstrap_means.iter().filter(|t| **t <= estimate).count();
    let z0 = normal_quantile((below + at_or_below) as f64 / (2 * bootstrap_means.len()) as f64);
    let bias_correction = z0.is_finite().then_some(z0);
    // For the mean, θ̂(i) = (Σx − xᵢ)/(n − 1) and θ̄(·) = x̄, so Uᵢ = (n − 1)(θ̄(·) − θ̂(i)) = xᵢ − x̄ exactly.
    // a is scale-free, so the Uᵢ are divided by the largest |Uᵢ|: cubes of values ~1e300 would overflow.
    let scale = sample.iter().fold(0.0, |m: f64, x| m.max((x - estimate).abs()));
    let (sum_u2, sum_u3) = sample.iter().fold((0.0, 0.0), |(s2, s3), x| {
        let u = (x - estimate) / scale;
        (s2 + u * u, s3 + u * u * u)
    });
    let acceleration = (sample.len() >= 2 && scale > 0.0 && sum_u2 > 0.0)
        .then(|| sum_u3 / (6.0 * sum_u2.powf(1.5)))
        .filter(|a| a.is_finite());
    let (Some(z0), Some(a)) = (bias_correction, acceleration) else {
        return BcaParts {
            bias_correction,
            acceleration,
            ..none
        };
    };
    let z_alpha = normal_quantile((1.0 - confidence_level) / 2.0);
    let level = |z: f64| normal_cdf(z0 + (z0 + z) / (1.0 - a * (z0 + z)));
    let sorted = sorted_copy(bootstrap_means);
    let interval = match (
        quantile_of_sorted(&sorted, level(z_alpha)),
        quantile_of_sorted(&sorted, level(-z_alpha)),
    ) {
        (Some(lower), Some(upper)) => Some(Interval { lower, upper }),
        _ => None,
    };
    BcaParts {
        interval,
        bias_correction,
        acceleration,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> BootstrapSettings {
        BootstrapSettings {
            resamples: 2_000,
            ..BootstrapSettings::with_seed(7)
        }
    }

    #[test]
    fn same_seed_same_interval_different_seed_different() {
        let sample = [0.1, 0.4, 0.35, 0.8, 0.9, 0.2, 0.55, 0.6];
        let a = bootstrap_mean_bca(&sample, &settings()).expect("valid");
        let b = bootstrap_mean_bca(&sample, &settings()).expect("valid");
        let c = bootstrap_mean_bca(&sample, &BootstrapSettings { seed: 8, ..settings() }).expect("valid");
        assert_eq!(a, b);
        assert_ne!(a.interval, c.interval);
    }

    #[test]
    fn constant_sample_has_no_interval() {
        let ci = bootstrap_mean_bca(&[0.5; 10], &settings()).expect("valid");
        assert_eq!(ci.estimate, Some(0.5));
        assert_eq!(ci.interval, None);
        assert_eq!(ci.acceleration, None);
    }

    #[test]
    fn empty_and_single_samples_have_no_interval() {
        assert_eq!(bootstrap_mean_bca(&[], &settings()).expect("valid").interval, None);
        let one = bootstrap_mean_bca(&[0.3], &settings()).expect("valid");
        assert_eq!(one.estimate, Some(0.3));
        assert_eq!(one.interval, None);
    }

    #[test]
    fn zero_resamples_is_an_error() {
        let bad = BootstrapSettings {
            resamples: 0,
            ..settings()
        };
        assert!(bootstrap_mean_bca(&[1.0, 2.0], &bad).is_err());
    }

    #[test]
    fn interval_brackets_the_mean() {
        let sample = [0.1, 0.4, 0.35, 0.8, 0.9, 0.2, 0.55, 0.6, 0.7, 0.65];
        let ci = bootstrap_mean_bca(&sample, &settings()).expect("valid");
        let interval = ci.interval.expect("defined");
        let m = ci.estimate.expect("defined");
        assert!(interval.lower < m && m < interval.upper);
    }
}
