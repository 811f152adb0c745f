//! The distribution functions the tests need, accurate to about 1e-13 relative where scipy is.
//!
//! The incomplete beta function is our own (`stats::beta`, capped and checked); log-gamma comes from statrs (agrees
//! with scipy to ~1e-15); the error function comes from libm (musl's, correct to an ulp) because statrs' `erfc` is
//! off by up to ~1e-10 relative. Tails are computed directly (never as `1 - cdf`) so that small p-values keep their
//! relative precision. Quantiles are solved by the bracketed root finder of `stats::roots`, so every iterative
//! routine here has a cap and says so ([`StatsError::DidNotConverge`]) instead of looping.

use statrs::function::erf::erfc_inv;
use statrs::function::factorial::ln_binomial;
use statrs::function::gamma::ln_gamma;

use super::beta::{incomplete_beta_near_zero, regularized_incomplete_beta};
use super::roots::solve_increasing;
use super::StatsError;

/// Newton steps polishing statrs' inverse error function (accurate to a few ulps already; one step usually ends it).
const NORMAL_QUANTILE_POLISH_STEPS: usize = 8;

/// Standard normal density.
pub(crate) fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal CDF Φ(x) (scipy.special.ndtr).
pub(crate) fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile Φ⁻¹(p) (scipy.special.ndtri); infinite at p = 0 and p = 1, NaN for NaN.
///
/// statrs' rational approximation of erfc⁻¹ is the answer; at most a fixed number of Newton steps polish its last
/// digits, so this never loops and never needs to report non-convergence.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() {
        return f64::NAN;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    // Solve in the lower tail, Φ(x) = q with q ≤ 1/2, and reflect: Φ keeps its relative precision there.
    let (q, sign) = if p > 0.5 { (1.0 - p, 1.0) } else { (p, -1.0) };
    if q == 0.5 {
        return 0.0;
    }
    let mut x = -std::f64::consts::SQRT_2 * erfc_inv(2.0 * q);
    for _ in 0..NORMAL_QUANTILE_POLISH_STEPS {
        let step = (normal_cdf(x) - q) / normal_pdf(x);
        if !step.is_finite() {
            break;
        }
        x -= step;
        if step.abs() <= 2.0 * f64::EPSILON * x.abs() {
            break;
        }
    }
    -sign * x
}

/// Upper tail P(T > t) of Student's t with `df` degrees of freedom.
pub(crate) fn student_t_sf(t: f64, df: f64) -> Result<f64, StatsError> {
    check_t_arguments("t", t, df)?;
    if t.is_infinite() {
        return Ok(if t > 0.0 { 0.0 } else { 1.0 });
    }
    // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2); both df/(df+t²) and t²/(df+t²) are formed directly.
    let t2 = t * t;
    let half_two_sided = if t2.is_finite() {
        0.5 * regularized_incomplete_beta(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2))?
    } else {
        // t² overflows, and df/t² may underflow: go through its logarithm.
        0.5 * incomplete_beta_near_zero(0.5 * df, 0.5, df.ln() - 2.0 * t.abs().ln())
    };
    Ok(if t >= 0.0 { half_two_sided } else { 1.0 - half_two_sided })
}

/// A Student t argument must be a number (±∞ allowed), and the degrees of freedom above 0.
fn check_t_arguments(name: &'static str, value: f64, df: f64) -> Result<(), StatsError> {
    let (name, value) = if value.is_nan() {
        (name, value)
    } else {
        ("degrees of freedom", df)
    };
    if value.is_nan() || df.is_nan() || df <= 0.0 {
        return Err(StatsError::InvalidParameter {
            name,
            value,
            expected: "a number, with degrees of freedom above 0",
        });
    }
    Ok(())
}

/// CDF P(T ≤ t) of Student's t.
pub(crate) fn student_t_cdf(t: f64, df: f64) -> Result<f64, StatsError> {
    student_t_sf(-t, df)
}

/// Two-sided p-value 2·P(T > |t|), as scipy.stats.ttest_rel reports it.
pub(crate) fn student_t_two_sided_p(t: f64, df: f64) -> Result<f64, StatsError> {
    Ok((2.0 * student_t_sf(t.abs(), df)?).min(1.0))
}

fn student_t_pdf(t: f64, df: f64) -> f64 {
    let ln = ln_gamma(0.5 * (df + 1.0))
        - ln_gamma(0.5 * df)
        - 0.5 * (df * std::f64::consts::PI).ln()
        - 0.5 * (df + 1.0) * (t * t / df).ln_1p();
    ln.exp()
}

/// Quantile of Student's t (scipy.stats.t.ppf) for p in (0, 1); ±∞ at p = 0 and 1.
pub(crate) fn student_t_quantile(p: f64, df: f64) -> Result<f64, StatsError> {
    check_t_arguments("probability", p, df)?;
    if p <= 0.0 {
        return Ok(f64::NEG_INFINITY);
    }
    if p >= 1.0 {
        return Ok(f64::INFINITY);
    }
    if p == 0.5 {
        return Ok(0.0);
    }
    // Solve in the upper tail, sf(t) = q with q ≤ 1/2, and reflect: the tail keeps relative precision.
    let (q, sign) = if p > 0.5 { (1.0 - p, 1.0) } else { (p, -1.0) };
    // q − sf(t) increases in t, from q − ½ ≤ 0 at t = 0; its slope is the density.
    let shortfall = |t: f64| -> Result<(f64, Option<f64>), StatsError> {
        Ok((q - student_t_sf(t, df)?, Some(student_t_pdf(t, df))))
    };
    let t = solve_increasing(
        "the Student t quantile",
        shortfall,
        0.0,
        f64::MAX,
        start_for_t_quantile(q, df),
    )?;
    Ok(sign * t)
}

/// A starting point for the upper-tail quantile: exact at 1 and 2 degrees of freedom, the Cornish–Fisher expansion
/// about the normal quantile (Abramowitz & Stegun 26.7.5) otherwise — close to machine precision above 20 df and a
/// fair start below, where the bracketed solver does the rest.
fn start_for_t_quantile(q: f64, df: f64) -> f64 {
    if df == 1.0 {
        return 1.0 / (std::f64::consts::PI * q).tan();
    }
    if df == 2.0 {
        return (1.0 - 2.0 * q) / (2.0 * q * (1.0 - q)).sqrt();
    }
    let z = -normal_quantile(q);
    let z2 = z * z;
    let g1 = z * (z2 + 1.0) / 4.0;
    let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
    z + g1 / df + g2 / (df * df) + g3 / df.powi(3) + g4 / df.powi(4)
}

/// P(X = k) for X ~ Binomial(n, 1/2).
pub(crate) fn binomial_half_pmf(k: u64, n: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    (ln_binomial(n, k) - n as f64 * std::f64::consts::LN_2).exp()
}

/// P(X ≤ k) for X ~ Binomial(n, 1/2), summed term by term (exact up to rounding for the sizes seen here).
pub(crate) fn binomial_half_cdf(k: u64, n: u64) -> f64 {
    if k >= n {
        return 1.0;
    }
    (0..=k).map(|i| binomial_half_pmf(i, n)).sum::<f64>().min(1.0)
}

/// Two-sided exact binomial test of k successes in n trials at p = 1/2 (scipy.stats.binomtest): by symmetry the
/// "as or less likely" outcomes are the two tails, so p = min(1, 2·P(X ≤ min(k, n − k))).
pub(crate) fn binomial_half_two_sided_p(k: u64, n: u64) -> f64 {
    let smaller = k.min(n - k);
    (2.0 * binomial_half_cdf(smaller, n)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, rel: f64) -> bool {
        (actual - expected).abs() <= rel * expected.abs().max(1e-300)
    }

    #[test]
    fn t_quantile_matches_scipy() {
        // scipy.stats.t.ppf(0.975, df) for df = 1, 2, 5, 29 and t.ppf(0.995, 3).
        let quantile = |p: f64, df: f64| student_t_quantile(p, df).expect("converges");
        assert!(close(quantile(0.975, 1.0), 12.706204736174694, 1e-12));
        assert!(close(quantile(0.975, 2.0), 4.302652729749462, 1e-12));
        assert!(close(quantile(0.975, 5.0), 2.5705818356363146, 1e-12));
        assert!(close(quantile(0.975, 29.0), 2.045229642132703, 1e-12));
        assert!(close(quantile(0.005, 3.0), -5.840909309733357, 1e-12));
    }

    #[test]
    fn t_quantile_is_defined_far_into_the_tails() {
        // At one degree of freedom sf(t) = atan(1/t)/π, so t.ppf(1 − q) = 1/tan(πq) ≈ 1/(πq) for tiny q.
        let t = student_t_quantile(1.0 - 1e-16, 1.0).expect("converges");
        assert!(
            close(t, 1.0 / (std::f64::consts::PI * (1.0 - (1.0 - 1e-16))), 1e-9),
            "{t}"
        );
        let far = student_t_quantile(1e-200, 1.0).expect("converges");
        assert!(close(far, -1.0 / (std::f64::consts::PI * 1e-200), 1e-9), "{far}");
        assert!(student_t_quantile(0.999, 1e7).expect("converges").is_finite());
        assert!(student_t_quantile(f64::NAN, 3.0).is_err());
    }

    #[test]
    fn normal_quantile_matches_scipy() {
        assert!(close(normal_quantile(0.975), 1.959963984540054, 1e-15));
        assert!(close(normal_quantile(0.025), -1.959963984540054, 1e-15));
        assert!(close(normal_quantile(1e-10), -6.361340902404056, 1e-14));
        assert!(close(normal_cdf(1.0), 0.8413447460685429, 1e-15));
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert!(normal_quantile(f64::NAN).is_nan());
    }

    #[test]
    fn small_t_tail_keeps_relative_precision() {
        // scipy.stats.t.sf(12.0, 10), and t.sf(1e200, 1) = 1/(π·1e200)
        assert!(close(
            student_t_sf(12.0, 10.0).expect("converges"),
            1.460704412384992e-07,
            1e-11
        ));
        let far = student_t_sf(1e200, 1.0).expect("converges");
        assert!(close(far, 1.0 / (std::f64::consts::PI * 1e200), 1e-9), "{far}");
    }

    #[test]
    fn binomial_test_at_a_half() {
        assert_eq!(binomial_half_two_sided_p(5, 10), 1.0);
        assert!(close(binomial_half_two_sided_p(0, 5), 0.0625, 1e-14));
        assert!(close(binomial_half_two_sided_p(6, 8), 0.2890625, 1e-14));
    }
}
