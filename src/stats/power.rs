//! Power of the two-sided paired t-test, and the two questions the report asks of it: the smallest difference a
//! run of n examples could detect, and the n a given difference needs. Exact noncentral t, as statsmodels'
//! `TTestPower` computes it (not the normal approximation).

use serde::Serialize;

use super::distributions::{noncentral_t_cdf, student_t_quantile};
use super::{check_open_unit, StatsError};

/// The conventional target power, 80%.
pub const DEFAULT_POWER: f64 = 0.8;

/// Largest n `required_sample_size` searches; beyond it the answer is "not reachable". (Past ~10⁵ pairs the
/// incomplete beta function loses digits, so answers there agree with scipy to ~1e-10 rather than ~1e-13.)
const MAX_SAMPLE_SIZE: f64 = 1e7;
/// Bisection steps: enough to shrink any bracket here to a few ulps.
const BISECTION_STEPS: usize = 200;

/// The sample size a difference needs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RequiredSampleSize {
    /// The real-valued root of power(n) = target (statsmodels `tt_solve_power(nobs=None)` returns this).
    pub n_fractional: f64,
    /// Whole pairs to collect: ⌈n_fractional⌉, and at least 2.
    pub n: usize,
}

/// Power of the two-sided paired t-test at effect size d_z = mean difference / sd of differences, with n pairs:
/// P(T′ > t₁₋α/₂) + P(T′ < −t₁₋α/₂), T′ noncentral t with n − 1 df and noncentrality d_z·√n
/// (statsmodels `TTestPower().power(effect_size, nobs, alpha, alternative='two-sided')`).
/// `Ok(None)` below two pairs.
pub fn paired_t_power(effect_size_dz: f64, n: usize, alpha: f64) -> Result<Option<f64>, StatsError> {
    check_open_unit("alpha", alpha)?;
    check_finite_parameter("effect size", effect_size_dz)?;
    Ok((n >= 2).then(|| power_at(effect_size_dz, n as f64, alpha)))
}

/// Smallest effect size d_z that n pairs detect with the given power at level α (two-sided); the root of
/// power(d_z) = target, found by bisection to machine precision (statsmodels `solve_power(effect_size=None)`
/// finds the same root to about 1e-6). `Ok(None)` below two pairs.
pub fn min_detectable_effect_size(n: usize, alpha: f64, power: f64) -> Result<Option<f64>, StatsError> {
    check_open_unit("alpha", alpha)?;
    check_open_unit("power", power)?;
    if n < 2 || power <= alpha {
        // Below α no positive effect is needed: power(0) = α already.
        return Ok((n >= 2).then_some(0.0));
    }
    let nf = n as f64;
    Ok(solve_increasing(|dz| power_at(dz, nf, alpha) - power, 0.0, 1.0))
}

/// Smallest mean difference (in score units) that n pairs detect: d_z × sd of the differences.
/// `Ok(None)` below two pairs or when the sd is not positive (no spread to scale by).
pub fn min_detectable_difference(
    n: usize,
    sd_difference: f64,
    alpha: f64,
    power: f64,
) -> Result<Option<f64>, StatsError> {
    check_finite_parameter("sd of differences", sd_difference)?;
    let dz = min_detectable_effect_size(n, alpha, power)?;
    Ok(dz.filter(|_| sd_difference > 0.0).map(|dz| dz * sd_difference))
}

/// Pairs needed to detect a mean difference with the given power at level α (two-sided), from the sd of the
/// differences (statsmodels `TTestPower().solve_power(effect_size=|difference|/sd, nobs=None, ...)`).
/// `Ok(None)` when the difference is 0, the sd is not positive, or more than 10⁷ pairs would be needed.
pub fn required_sample_size(
    difference: f64,
    sd_difference: f64,
    alpha: f64,
    power: f64,
) -> Result<Option<RequiredSampleSize>, StatsError> {
    check_open_unit("alpha", alpha)?;
    check_open_unit("power", power)?;
    check_finite_parameter("difference", difference)?;
    check_finite_parameter("sd of differences", sd_difference)?;
    if difference == 0.0 || sd_difference <= 0.0 {
        return Ok(None);
    }
    let dz = (difference / sd_difference).abs();
    let shortfall = |n: f64| power_at(dz, n, alpha) - power;
    if shortfall(2.0) >= 0.0 {
        return Ok(Some(RequiredSampleSize {
            n_fractional: 2.0,
            n: 2,
        }));
    }
    Ok(solve_increasing(shortfall, 2.0, 4.0)
        .filter(|n| *n <= MAX_SAMPLE_SIZE)
        .map(|n_fractional| RequiredSampleSize {
            n_fractional,
            n: (n_fractional.ceil() as usize).max(2),
        }))
}

/// Power with a real-valued n (df = n − 1), as statsmodels evaluates it while solving for n.
fn power_at(dz: f64, n: f64, alpha: f64) -> f64 {
    let df = n - 1.0;
    let crit = student_t_quantile(1.0 - alpha / 2.0, df);
    let nc = dz * n.sqrt();
    let upper = 1.0 - noncentral_t_cdf(crit, df, nc);
    let lower = noncentral_t_cdf(-crit, df, nc);
    (upper + lower).clamp(0.0, 1.0)
}

/// Root of an increasing function f on (lo, ∞): doubles `hi` until f(hi) ≥ 0, then bisects to machine precision.
fn solve_increasing(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> Option<f64> {
    while f(hi) < 0.0 {
        lo = hi;
        hi *= 2.0;
        if hi > 2.0 * MAX_SAMPLE_SIZE {
            return None;
        }
    }
    for _ in 0..BISECTION_STEPS {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

fn check_finite_parameter(name: &'static str, value: f64) -> Result<(), StatsError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter {
            name,
            value,
            expected: "a finite number",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_effect_has_power_alpha() {
        let p = paired_t_power(0.0, 30, 0.05).expect("valid").expect("defined");
        assert!((p - 0.05).abs() < 1e-12);
    }

    #[test]
    fn fewer_than_two_pairs_is_undefined() {
        assert_eq!(paired_t_power(0.5, 1, 0.05).expect("valid"), None);
        assert_eq!(min_detectable_effect_size(1, 0.05, 0.8).expect("valid"), None);
    }

    #[test]
    fn zero_difference_or_spread_needs_no_answer() {
        assert_eq!(required_sample_size(0.0, 0.1, 0.05, 0.8).expect("valid"), None);
        assert_eq!(required_sample_size(0.1, 0.0, 0.05, 0.8).expect("valid"), None);
        assert_eq!(min_detectable_difference(30, 0.0, 0.05, 0.8).expect("valid"), None);
    }

    #[test]
    fn huge_effect_needs_only_two_pairs() {
        let r = required_sample_size(100.0, 1.0, 0.05, 0.8)
            .expect("valid")
            .expect("defined");
        assert_eq!(r.n, 2);
    }

    #[test]
    fn tiny_effect_is_out_of_reach() {
        assert_eq!(required_sample_size(1e-9, 1.0, 0.05, 0.8).expect("valid"), None);
    }

    #[test]
    fn power_is_symmetric_in_the_sign_of_the_effect() {
        let up = paired_t_power(0.4, 20, 0.05).expect("valid").expect("defined");
        let down = paired_t_power(-0.4, 20, 0.05).expect("valid").expect("defined");
        assert!((up - down).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_levels() {
        assert!(paired_t_power(0.5, 10, 0.0).is_err());
        assert!(min_detectable_effect_size(10, 0.05, 1.0).is_err());
    }
}
