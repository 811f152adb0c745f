//! Confidence interval for a proportion (a pass rate).

use super::distributions::normal_quantile;
use super::{check_open_unit, Interval, StatsError};

/// Wilson score interval for `successes` out of `trials` (statsmodels
/// `proportion_confint(method='wilson')`): centre (p̂ + z²/2n)/(1 + z²/n), half-width
/// z·√(p̂(1 − p̂)/n + z²/4n²)/(1 + z²/n), z = Φ⁻¹(1 − α/2), clipped to [0, 1] as statsmodels does.
/// `Ok(None)` when there are no trials.
pub fn wilson_interval(successes: u64, trials: u64, confidence_level: f64) -> Result<Option<Interval>, StatsError> {
    check_open_unit("confidence level", confidence_level)?;
    if successes > trials {
        return Err(StatsError::InvalidParameter {
            name: "successes",
            value: successes as f64,
            expected: "at most the number of trials",
        });
    }
    if trials == 0 {
        return Ok(None);
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z = normal_quantile(0.5 + confidence_level / 2.0);
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half_width = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Ok(Some(Interval {
        lower: (centre - half_width).clamp(0.0, 1.0),
        upper: (centre + half_width).clamp(0.0, 1.0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_trials_no_interval() {
        assert_eq!(wilson_interval(0, 0, 0.95).expect("valid"), None);
    }

    #[test]
    fn more_successes_than_trials_is_an_error() {
        assert!(wilson_interval(3, 2, 0.95).is_err());
    }

    #[test]
    fn all_failures_start_at_zero() {
        let ci = wilson_interval(0, 10, 0.95).expect("valid").expect("defined");
        assert_eq!(ci.lower, 0.0);
        assert!(ci.upper > 0.2 && ci.upper < 0.35);
    }
}
