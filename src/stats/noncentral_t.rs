//! The noncentral t distribution, for the power of the paired t-test: its CDF by the Poisson-weighted series, with
//! a cap on the terms, and an upper bound that says when the CDF is too small to change a power.

use statrs::function::gamma::ln_gamma;

use super::beta::regularized_incomplete_beta;
use super::distributions::{normal_cdf, student_t_cdf};
use super::StatsError;

/// Series terms allowed on each side of the Poisson mode. About 9√λ are needed (λ = δ²/2), so this covers
/// noncentralities up to ~900 — the powers of two pairs at α = 0.001 need ~800 — in at most ~10⁷ steps of the
/// incomplete beta function; beyond, a power is 1 by the bound of [`noncentral_t_cdf_bound`] or n/a.
const MAX_TERMS: usize = 6_000;

/// A Poisson weight below this ends the series: the terms left add less than this much probability.
const NEGLIGIBLE_WEIGHT: f64 = 1e-18;

/// CDF of the noncentral t distribution with `df` degrees of freedom and noncentrality `nc` (scipy.special.nctdtr,
/// which statsmodels' TTestPower uses).
///
/// For t ≥ 0 it is the series of Guenther (1978) and Lenth (1989, AS 243):
/// F(t) = Φ(−δ) + ½ Σⱼ [Pⱼ I_x(j + ½, ν/2) + Qⱼ I_x(j + 1, ν/2)], x = t²/(t² + ν), with Poisson weights
/// Pⱼ = e^{−λ}λʲ/j! and Qⱼ = e^{−λ}λʲ δ/(√2 Γ(j + 3/2)), λ = δ²/2. The sum starts at the Poisson mode and runs
/// outwards until the weights are negligible, as Boost (and so scipy) does; t < 0 uses F(t; ν, δ) = 1 − F(−t; ν, −δ).
/// The index is an integer, so the series moves even where λ is too large for j + 1 ≠ j in floating point; a series
/// that would need more than its cap of terms is [`StatsError::DidNotConverge`].
pub(crate) fn noncentral_t_cdf(t: f64, df: f64, nc: f64) -> Result<f64, StatsError> {
    if t.is_nan() || nc.is_nan() || df.is_nan() || df <= 0.0 {
        return Err(StatsError::InvalidParameter {
            name: "noncentral t arguments",
            value: if df > 0.0 { f64::NAN } else { df },
            expected: "numbers, with degrees of freedom above 0",
        });
    }
    if t < 0.0 {
        return Ok((1.0 - noncentral_t_cdf(-t, df, -nc)?).clamp(0.0, 1.0));
    }
    if nc == 0.0 {
        return student_t_cdf(t, df);
    }
    if t.is_infinite() {
        return Ok(1.0);
    }
    if nc.is_infinite() {
        return Ok(if nc > 0.0 { 0.0 } else { 1.0 });
    }
    let base = normal_cdf(-nc);
    if t == 0.0 {
        return Ok(base);
    }
    let lambda = 0.5 * nc * nc;
    if 9.0 * lambda.sqrt() + 50.0 > MAX_TERMS as f64 {
        return Err(StatsError::DidNotConverge {
            routine: "the noncentral t series",
            iterations: MAX_TERMS,
        });
    }
    let t2 = t * t;
    let (x, y) = if t2.is_finite() {
        (t2 / (t2 + df), df / (t2 + df))
    } else {
        (1.0, (df / t) / t)
    };
    let ln_lambda = lambda.ln();
    let ln_q_factor = nc.abs().ln() - 0.5 * std::f64::consts::LN_2;
    let term = |j: usize| -> Result<(f64, f64), StatsError> {
        let j = j as f64;
        // λ⁰ = 1 even where λ underflows to 0 (a noncentrality below ~1e-160), where 0·ln λ would be NaN.
        let ln_poisson = -lambda + if j == 0.0 { 0.0 } else { j * ln_lambda };
        let p = (ln_poisson - ln_gamma(j + 1.0)).exp();
        let q = nc.signum() * (ln_poisson + ln_q_factor - ln_gamma(j + 1.5)).exp();
        let value = p * regularized_incomplete_beta(j + 0.5, 0.5 * df, x, y)?
            + q * regularized_incomplete_beta(j + 1.0, 0.5 * df, x, y)?;
        Ok((value, p + q.abs()))
    };
    // λ is below ~10⁷ here, so the mode is an exact integer.
    let mode = lambda.floor() as usize;
    let mut sum = 0.0;
    let mut converged = false;
    for j in mode..mode + MAX_TERMS {
        let (value, weight) = term(j)?;
        sum += value;
        if weight < NEGLIGIBLE_WEIGHT {
            converged = true;
            break;
        }
    }
    let mut below_converged = mode == 0;
    for j in (0..mode).rev().take(MAX_TERMS) {
        let (value, weight) = term(j)?;
        sum += value;
        if weight < NEGLIGIBLE_WEIGHT || j == 0 {
            below_converged = true;
            break;
        }
    }
    if !(converged && below_converged) {
        return Err(StatsError::DidNotConverge {
            routine: "the noncentral t series",
            iterations: MAX_TERMS,
        });
    }
    Ok((base + 0.5 * sum).clamp(0.0, 1.0))
}

/// An upper bound on F(t; ν, δ) for t ≥ 0 and δ > 0, in closed form.
///
/// T′ = (Z + δ)/S with S = √(χ²_ν/ν); for any s, {T′ ≤ t} ⊂ {Z ≤ ts − δ} ∪ {S > s}, so
/// F(t) ≤ Φ(ts − δ) + P(χ²_ν > νs²), and for s > 1 Chernoff's bound gives P(χ²_ν > νs²) ≤ (s²e^{1−s²})^{ν/2}.
/// The best of a few s between 1 and δ/t is returned. When it is below ε/4, 1 − F(t) is 1 in f64 and a power
/// computed from it is exactly 1: no series needed.
pub(crate) fn noncentral_t_cdf_bound(t: f64, df: f64, nc: f64) -> f64 {
    if !(t >= 0.0 && nc > 0.0 && df > 0.0) || t.is_infinite() {
        return 1.0;
    }
    if t == 0.0 {
        return normal_cdf(-nc);
    }
    let ceiling = nc / t;
    [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]
        .iter()
        .map(|share| share * ceiling)
        .filter(|s| *s > 1.0)
        .map(|s| {
            let u = s * s;
            let chi_square_tail = (0.5 * df * (u.ln() + 1.0 - u)).exp();
            normal_cdf(t * s - nc) + chi_square_tail
        })
        .fold(1.0, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, rel: f64) -> bool {
        (actual - expected).abs() <= rel * expected.abs().max(1e-300)
    }

    #[test]
    fn matches_scipy() {
        // scipy.special.nctdtr(df, nc, t)
        let cases = [
            (10.0, 1.5, 2.0, 0.6591540724421909),
            (4.0, 0.5, -1.0, 0.08614956903656282),
            (29.0, 2.8, 3.0, 0.5640173516892952),
            (1.0, 20.0, 12.7, 0.11642817852526904),
            (59.0, -3.0, 2.0, 0.9999995480689418),
            (1.0, 163.0, 127.3, 0.20040435311916818),
        ];
        for (df, nc, t, expected) in cases {
            let got = noncentral_t_cdf(t, df, nc).expect("converges");
            assert!(close(got, expected, 1e-9), "F({t}; {df}, {nc}) = {got}, not {expected}");
        }
        // scipy says 7.5e-55 for F(2; 59, 40), but P(Z + 40 ≤ 2S) is below Φ(−38) ≈ 1e-316 unless S = √(χ²₅₉/59)
        // is far above 1, which is rarer still: the true value is below 1e-290, and the (looser) bound below 1e-100.
        assert!(noncentral_t_cdf(2.0, 59.0, 40.0).expect("converges") < 1e-290);
        assert!(noncentral_t_cdf_bound(2.0, 59.0, 40.0) < 1e-100);
    }

    #[test]
    fn a_huge_noncentrality_is_reported_at_once_not_summed_forever() {
        // d = 9.09 points with rounding noise of sd 2.5e-14 gives δ ≈ 3e15: λ ≈ 4e30, where j + 1.0 == j.
        let result = noncentral_t_cdf(2.0, 59.0, 2.8e15);
        assert!(matches!(result, Err(StatsError::DidNotConverge { .. })), "{result:?}");
    }

    #[test]
    fn the_bound_is_above_the_cdf_and_settles_large_noncentralities() {
        for (df, nc, t) in [
            (1.0, 20.0, 12.7),
            (59.0, 40.0, 2.0),
            (5.0, 6.0, 2.5),
            (1.0, 163.0, 127.3),
        ] {
            let cdf = noncentral_t_cdf(t, df, nc).expect("converges");
            assert!(noncentral_t_cdf_bound(t, df, nc) >= cdf, "{df} {nc} {t}");
        }
        assert!(noncentral_t_cdf_bound(2.0, 59.0, 2.8e15) < 1e-300);
        assert!(noncentral_t_cdf_bound(12.7, 1.0, 1e4) < f64::EPSILON / 4.0);
    }
}
