//! The distribution functions the tests need, accurate to about 1e-13 relative where scipy is.
//!
//! statrs supplies the regularised incomplete beta and log-gamma (both agree with scipy to ~1e-15); the error
//! function comes from libm (musl's, correct to an ulp) because statrs' `erfc` is off by up to ~1e-10 relative.
//! Tails are computed directly (never as `1 - cdf`) so that small p-values keep their relative precision, and
//! quantiles are polished with Newton steps from statrs' approximate inverses.

use statrs::function::beta::beta_reg;
use statrs::function::erf::erfc_inv;
use statrs::function::factorial::ln_binomial;
use statrs::function::gamma::ln_gamma;

/// Standard normal density.
pub(crate) fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal CDF Φ(x) (scipy.special.ndtr).
pub(crate) fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile Φ⁻¹(p) (scipy.special.ndtri); infinite at p = 0 and p = 1.
pub(crate) fn normal_quantile(p: f64) -> f64 {
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
    for _ in 0..8 {
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
pub(crate) fn student_t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 0.0 } else { 1.0 };
    }
    // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2).
    let x = df / (df + t * t);
    let half_two_sided = 0.5 * beta_reg(0.5 * df, 0.5, x);
    if t >= 0.0 {
        half_two_sided
    } else {
        1.0 - half_two_sided
    }
}

/// CDF P(T ≤ t) of Student's t.
pub(crate) fn student_t_cdf(t: f64, df: f64) -> f64 {
    student_t_sf(-t, df)
}

/// Two-sided p-value 2·P(T > |t|), as scipy.stats.ttest_rel reports it.
pub(crate) fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    (2.0 * student_t_sf(t.abs(), df)).min(1.0)
}

fn student_t_pdf(t: f64, df: f64) -> f64 {
    let ln = ln_gamma(0.5 * (df + 1.0))
        - ln_gamma(0.5 * df)
        - 0.5 * (df * std::f64::consts::PI).ln()
        - 0.5 * (df + 1.0) * (t * t / df).ln_1p();
    ln.exp()
}

/// Quantile of Student's t (scipy.stats.t.ppf) for p in (0, 1).
pub(crate) fn student_t_quantile(p: f64, df: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p == 0.5 {
        return 0.0;
    }
    // Solve in the upper tail, sf(t) = q with q ≤ 1/2, and reflect: the tail keeps relative precision.
    let (q, sign) = if p > 0.5 { (1.0 - p, 1.0) } else { (p, -1.0) };
    let mut t = start_for_t_quantile(q, df);
    for _ in 0..100 {
        let step = (student_t_sf(t, df) - q) / student_t_pdf(t, df);
        if !step.is_finite() {
            break;
        }
        // Newton on a convex tail from a reasonable start converges; the halving guards the first steps.
        let next = if t + step <= 0.0 { 0.5 * t } else { t + step };
        let converged = (next - t).abs() <= 4.0 * f64::EPSILON * next.abs();
        t = next;
        if converged {
            break;
        }
    }
    sign * t
}

fn start_for_t_quantile(q: f64, df: f64) -> f64 {
    if df > 20.0 {
        // Cornish-Fisher expansion about the normal quantile (Abramowitz & Stegun 26.7.5): already close to
        // machine precision at this df, and it avoids statrs' AS 109 inverse, which crawls for large shapes.
        let z = -normal_quantile(q);
        let z2 = z * z;
        let g1 = z * (z2 + 1.0) / 4.0;
        let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
        let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
        let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
        return z + g1 / df + g2 / (df * df) + g3 / df.powi(3) + g4 / df.powi(4);
    }
    // I_x(df/2, 1/2) = 2q gives x = df/(df + t²); statrs' inverse is close enough to start Newton from.
    let x = statrs::function::beta::inv_beta_reg(0.5 * df, 0.5, 2.0 * q);
    let t = (df * (1.0 - x) / x).sqrt();
    if t.is_finite() && t > 0.0 {
        t
    } else {
        -normal_quantile(q)
    }
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

/// CDF of the noncentral t distribution with `df` degrees of freedom and noncentrality `nc` (scipy.special.nctdtr,
/// which statsmodels' TTestPower uses).
///
/// For t ≥ 0 it is the series of Guenther (1978) and Lenth (1989, AS 243):
/// F(t) = Φ(−δ) + ½ Σⱼ [Pⱼ I_x(j + ½, ν/2) + Qⱼ I_x(j + 1, ν/2)], x = t²/(t² + ν), with Poisson weights
/// Pⱼ = e^{−λ}λʲ/j! and Qⱼ = e^{−λ}λʲ δ/(√2 Γ(j + 3/2)), λ = δ²/2. The sum starts at the Poisson mode and runs
/// outwards until the weights are negligible, as Boost (and so scipy) does; t < 0 uses F(t; ν, δ) = 1 − F(−t; ν, −δ).
pub(crate) fn noncentral_t_cdf(t: f64, df: f64, nc: f64) -> f64 {
    if t.is_nan() || df.is_nan() || nc.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t < 0.0 {
        return (1.0 - noncentral_t_cdf(-t, df, -nc)).clamp(0.0, 1.0);
    }
    if nc == 0.0 {
        return student_t_cdf(t, df);
    }
    if t.is_infinite() {
        return 1.0;
    }
    let base = normal_cdf(-nc);
    if t == 0.0 {
        return base;
    }
    let x = t * t / (t * t + df);
    let lambda = 0.5 * nc * nc;
    let ln_lambda = lambda.ln();
    let ln_q_factor = nc.abs().ln() - 0.5 * std::f64::consts::LN_2;
    let term = |j: f64| -> (f64, f64) {
        let ln_poisson = -lambda + j * ln_lambda;
        let p = (ln_poisson - ln_gamma(j + 1.0)).exp();
        let q = nc.signum() * (ln_poisson + ln_q_factor - ln_gamma(j + 1.5)).exp();
        let value = p * beta_reg(j + 0.5, 0.5 * df, x) + q * beta_reg(j + 1.0, 0.5 * df, x);
        (value, p + q.abs())
    };
    const NEGLIGIBLE: f64 = 1e-18;
    const MAX_TERMS: usize = 100_000;
    let mode = lambda.floor();
    let mut sum = 0.0;
    let mut j = mode;
    for _ in 0..MAX_TERMS {
        let (value, weight) = term(j);
        sum += value;
        if weight < NEGLIGIBLE {
            break;
        }
        j += 1.0;
    }
    let mut j = mode - 1.0;
    while j >= 0.0 {
        let (value, weight) = term(j);
        sum += value;
        if weight < NEGLIGIBLE {
            break;
        }
        j -= 1.0;
    }
    (base + 0.5 * sum).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, rel: f64) -> bool {
        (actual - expected).abs() <= rel * expected.abs().max(1e-300)
    }

    #[test]
    fn t_quantile_matches_scipy() {
        // scipy.stats.t.ppf(0.975, df) for df = 1, 5, 29 and t.ppf(0.995, 3).
        assert!(close(student_t_quantile(0.975, 1.0), 12.706204736174694, 1e-12));
        assert!(close(student_t_quantile(0.975, 5.0), 2.5705818356363146, 1e-12));
        assert!(close(student_t_quantile(0.975, 29.0), 2.045229642132703, 1e-12));
        assert!(close(student_t_quantile(0.005, 3.0), -5.840909309733357, 1e-12));
    }

    #[test]
    fn normal_quantile_matches_scipy() {
        assert!(close(normal_quantile(0.975), 1.959963984540054, 1e-15));
        assert!(close(normal_quantile(0.025), -1.959963984540054, 1e-15));
        assert!(close(normal_quantile(1e-10), -6.361340902404056, 1e-14));
        assert!(close(normal_cdf(1.0), 0.8413447460685429, 1e-15));
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn small_t_tail_keeps_relative_precision() {
        // scipy.stats.t.sf(12.0, 10)
        assert!(close(student_t_sf(12.0, 10.0), 1.460704412384992e-07, 1e-11));
    }

    #[test]
    fn noncentral_t_matches_scipy() {
        // scipy.special.nctdtr(df, nc, t)
        assert!(close(noncentral_t_cdf(2.0, 10.0, 1.5), 0.6591540724421909, 1e-11));
        assert!(close(noncentral_t_cdf(-1.0, 4.0, 0.5), 0.08614956903656282, 1e-11));
        assert!(close(noncentral_t_cdf(3.0, 29.0, 2.8), 0.5640173516892952, 1e-11));
    }

    #[test]
    fn binomial_test_at_a_half() {
        assert_eq!(binomial_half_two_sided_p(5, 10), 1.0);
        assert!(close(binomial_half_two_sided_p(0, 5), 0.0625, 1e-14));
        assert!(close(binomial_half_two_sided_p(6, 8), 0.2890625, 1e-14));
    }
}
