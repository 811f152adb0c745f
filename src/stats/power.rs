//! Power of the two-sided paired t-test, and the two questions the report asks of it: the smallest difference a
//! run of n examples could detect, and the n a given difference needs. Exact noncentral t, as statsmodels'
//! `TTestPower` computes it (not the normal approximation).
//!
//! Every answer comes from the capped routines of `stats::noncentral_t` and `stats::roots`: none loops, and one that
//! cannot settle says so with [`StatsError::DidNotConverge`] (the report shows it as n/a, with the reason).

use serde::Serialize;

use super::distributions::student_t_quantile;
use super::noncentral_t::{noncentral_t_cdf, noncentral_t_cdf_bound};
use super::roots::solve_increasing_above;
use super::{check_open_unit, StatsError};

/// The conventional target power, 80%.
pub const DEFAULT_POWER: f64 = 0.8;

/// Largest n `required_sample_size` searches; beyond it the answer is "not reachable". (Past ~10⁵ pairs the
/// incomplete beta function loses digits, so answers there agree with scipy to ~1e-10 rather than ~1e-13.)
const MAX_SAMPLE_SIZE: f64 = 1e7;

/// Largest effect size d_z `min_detectable_effect_size` searches (two pairs at α = 10⁻¹⁰ need less than this).
const MAX_EFFECT_SIZE: f64 = 1e12;

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
    if n < 2 {
        return Ok(None);
    }
    power_at(effect_size_dz, n as f64, alpha).map(Some)
}

/// Smallest effect size d_z that n pairs detect with the given power at level α (two-sided); the root of
/// power(d_z) = target, found to machine precision (statsmodels `solve_power(effect_size=None)` finds the same root
/// to about 1e-6). `Ok(None)` below two pairs.
pub fn min_detectable_effect_size(n: usize, alpha: f64, power: f64) -> Result<Option<f64>, StatsError> {
    check_open_unit("alpha", alpha)?;
    check_open_unit("power", power)?;
    if n < 2 || power <= alpha {
        // Below α no positive effect is needed: power(0) = α already.
        return Ok((n >= 2).then_some(0.0));
    }
    let nf = n as f64;
    let shortfall = |dz: f64| Ok(power_at(dz, nf, alpha)? - power);
    solve_increasing_above("the minimum detectable effect", shortfall, 0.0, 1.0, MAX_EFFECT_SIZE)
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
    if sd_difference <= 0.0 {
        check_open_unit("alpha", alpha)?;
        check_open_unit("power", power)?;
        return Ok(None);
    }
    let dz = min_detectable_effect_size(n, alpha, power)?;
    Ok(dz.map(|dz| dz * sd_difference).filter(|d| d.is_finite()))
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
    // May be +∞ for a spread far below the difference; power_at treats that as certain detection.
    let dz = (difference / sd_difference).abs();
    let shortfall = |n: f64| Ok(power_at(dz, n, alpha)? - power);
    if shortfall(2.0)? >= 0.0 {
        return Ok(Some(RequiredSampleSize {
            n_fractional: 2.0,
            n: 2,
        }));
    }
    let root = solve_increasing_above("the sample size needed", shortfall, 2.0, 4.0, 2.0 * MAX_SAMPLE_SIZE)?;
    Ok(root
        .filter(|n| *n <= MAX_SAMPLE_SIZE)
        .map(|n_fractional| RequiredSampleSize {
            n_fractional,
            n: (n_fractional.ceil() as usize).max(2),
        }))
}

/// Power with a real-valued n (df = n − 1), as statsmodels evaluates it while solving for n. The power is
/// symmetric in the sign of d_z, so |d_z| is used. When the closed-form bound shows the noncentral CDF at the
/// critical value is below ε/4, the power is 1 in f64 and the series is skipped (it would need millions of terms
/// for the noncentralities of differences with almost no spread).
fn power_at(dz: f64, n: f64, alpha: f64) -> Result<f64, StatsError> {
    let df = n - 1.0;
    let crit = student_t_quantile(1.0 - alpha / 2.0, df)?;
    let nc = dz.abs() * n.sqrt();
    if nc.is_infinite() || noncentral_t_cdf_bound(crit, df, nc) < f64::EPSILON / 4.0 {
        return Ok(1.0);
    }
    let upper = 1.0 - noncentral_t_cdf(crit, df, nc)?;
    let lower = noncentral_t_cdf(-crit, df, nc)?;
    Ok((upper + lower).clamp(0.0, 1.0))
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
    fn differences_with_only_rounding_noise_do_not_hang() {
        // Every difference +9.09 points apart from floating-point rounding (sd 2.5e-14), at n = 60 and n = 2.
        for sd in [2.5220210022199043e-14, 7.53644380168212e-15] {
            let r = required_sample_size(9.09090909090909, sd, 0.05, 0.8)
                .expect("valid")
                .expect("defined");
            assert_eq!(r.n, 2);
            let power = paired_t_power(9.09090909090909 / sd, 60, 0.05).expect("valid");
            assert_eq!(power, Some(1.0));
        }
    }

    #[test]
    fn tiny_levels_and_pairs_still_give_an_answer() {
        let dz = min_detectable_effect_size(2, 0.005, 0.8)
            .expect("valid")
            .expect("defined");
        let power = paired_t_power(dz, 2, 0.005).expect("valid").expect("defined");
        assert!((power - 0.8).abs() < 1e-9, "{dz}: {power}");
    }

    #[test]
    fn rejects_bad_levels() {
        assert!(paired_t_power(0.5, 10, 0.0).is_err());
        assert!(min_detectable_effect_size(10, 0.05, 1.0).is_err());
    }
}
