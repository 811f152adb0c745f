//! Paired comparison of a candidate against a baseline on the same examples: t-test, signed-rank and sign tests,
//! effect sizes, wins/ties/losses.

use serde::Serialize;

use statrs::function::gamma::ln_gamma;

use super::distributions::{binomial_half_two_sided_p, student_t_quantile, student_t_two_sided_p};
use super::wilcoxon::{wilcoxon_signed_rank, WilcoxonSignedRank};
use super::{
    check_finite, check_open_unit, check_same_length, finite, finite_interval, magnitude, mean, sample_sd,
    spread_is_rounding, within_rounding, Interval, StatsError,
};

/// Per-example differences candidate − baseline, as numpy subtracts them, with rounding noise removed: a difference
/// within 16 ulps of its operands is 0 (the same quality reached through different roundings is a tie), and
/// differences that all equal their mean within 16 ulps of the largest operand are all set to that mean (a constant
/// shift with noise of ~1e-14 has no spread; left as it is, it gives t ≈ 10¹⁵, a p of 0 from noise and power
/// answers from a noncentrality of 10¹⁵). scipy keeps the noise; every other difference is exactly numpy's.
pub fn paired_differences(baseline: &[f64], candidate: &[f64]) -> Result<Vec<f64>, StatsError> {
    check_same_length("baseline and candidate scores", baseline.len(), candidate.len())?;
    check_finite("baseline scores", baseline)?;
    check_finite("candidate scores", candidate)?;
    let mut differences: Vec<f64> = candidate
        .iter()
        .zip(baseline)
        .map(|(c, b)| {
            if within_rounding(*c, *b, c.abs().max(b.abs())) {
                0.0
            } else {
                c - b
            }
        })
        .collect();
    if differences.iter().any(|d| !d.is_finite()) {
        return Err(StatsError::OutOfRange {
            what: "a difference of two scores",
        });
    }
    let scale = magnitude(baseline).max(magnitude(candidate));
    if let (true, Some(m)) = (spread_is_rounding(&differences, scale), mean(&differences)) {
        differences.fill(m);
    }
    Ok(differences)
}

/// Paired t-test on the differences (scipy.stats.ttest_rel, two-sided, and its `confidence_interval`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedTTest {
    /// Degrees of freedom n − 1; `None` below two pairs.
    pub df: Option<usize>,
    /// Standard error of the mean difference, sd/√n.
    pub standard_error: Option<f64>,
    /// t = mean/se; `None` when se is 0 (scipy gives ±inf, or NaN when every difference is 0).
    pub t_statistic: Option<f64>,
    /// Two-sided p-value. `None` below two pairs or when every difference is 0 ("no difference observed");
    /// 0 when every difference is the same non-zero value (scipy's limit, t = ±inf).
    pub p_value: Option<f64>,
    /// Level of `confidence_interval`.
    pub confidence_level: f64,
    /// mean ± t(1 − α/2, n − 1)·se; zero width when every difference is equal; `None` below two pairs.
    pub confidence_interval: Option<Interval>,
}

/// Two-sided exact sign test: the number of positive differences among the non-zero ones against Binomial(m, ½)
/// (scipy.stats.binomtest, statsmodels' sign_test).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignTest {
    /// Differences > 0.
    pub positive: usize,
    /// Differences < 0.
    pub negative: usize,
    /// p-value; `None` when no difference is non-zero (statsmodels raises there).
    pub p_value: Option<f64>,
}

/// Everything the report says about one candidate-vs-baseline comparison on matched examples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedComparison {
    /// Number of matched examples.
    pub n: usize,
    /// Mean of candidate − baseline; `None` when there are no pairs.
    pub mean_difference: Option<f64>,
    /// Standard deviation of the differences (ddof = 1); `None` below two pairs.
    pub sd_difference: Option<f64>,
    /// Paired t-test and its interval.
    pub t_test: PairedTTest,
    /// Wilcoxon signed-rank test.
    pub wilcoxon: WilcoxonSignedRank,
    /// Sign test.
    pub sign_test: SignTest,
    /// d_z = mean/sd of the differences (= t/√n); `None` when sd is 0 or undefined.
    pub effect_size_dz: Option<f64>,
    /// Hedges' g_z = J·d_z, J = Γ(df/2)/(√(df/2)·Γ((df − 1)/2)); `None` below three pairs or when sd is 0.
    pub hedges_gz: Option<f64>,
    /// Examples where the candidate scored higher.
    pub wins: usize,
    /// Examples with equal scores.
    pub ties: usize,
    /// Examples where the candidate scored lower.
    pub losses: usize,
    /// True when there is at least one pair and every difference is exactly 0.
    pub all_differences_zero: bool,
}

/// Compares candidate against baseline example by example (d = candidate − baseline).
pub fn compare_paired(
    baseline: &[f64],
    candidate: &[f64],
    confidence_level: f64,
) -> Result<PairedComparison, StatsError> {
    let differences = paired_differences(baseline, candidate)?;
    let t_test = paired_t_test(&differences, confidence_level)?;
    let wilcoxon = wilcoxon_signed_rank(&differences)?;
    let sign = sign_test(&differences)?;
    let n = differences.len();
    let mean_difference = mean(&differences);
    let sd_difference = sample_sd(&differences);
    let effect_size_dz = match (mean_difference, sd_difference) {
        (Some(m), Some(sd)) if sd > 0.0 => finite(m / sd),
        _ => None,
    };
    let hedges_gz = effect_size_dz
        .filter(|_| n >= 3)
        .and_then(|dz| finite(hedges_correction((n - 1) as f64) * dz));
    let ties = n - sign.positive - sign.negative;
    Ok(PairedComparison {
        n,
        mean_difference,
        sd_difference,
        wins: sign.positive,
        ties,
        losses: sign.negative,
        all_differences_zero: n > 0 && ties == n,
        t_test,
        wilcoxon,
        sign_test: sign,
        effect_size_dz,
        hedges_gz,
    })
}

/// Paired t-test of the differences against 0 (scipy.stats.ttest_rel, two-sided).
pub fn paired_t_test(differences: &[f64], confidence_level: f64) -> Result<PairedTTest, StatsError> {
    check_finite("differences", differences)?;
    check_open_unit("confidence level", confidence_level)?;
    let n = differences.len();
    let undefined = PairedTTest {
        df: None,
        standard_error: None,
        t_statistic: None,
        p_value: None,
        confidence_level,
        confidence_interval: None,
    };
    let (Some(m), Some(sd)) = (mean(differences), sample_sd(differences)) else {
        return Ok(undefined);
    };
    // A spread that is only rounding of the differences themselves is no spread.
    let sd = if spread_is_rounding(differences, magnitude(differences)) {
        0.0
    } else {
        sd
    };
    let df = n - 1;
    let se = sd / (n as f64).sqrt();
    let crit = student_t_quantile(0.5 + confidence_level / 2.0, df as f64)?;
    let t = m / se;
    let (t_statistic, p_value) = if se > 0.0 && t.is_finite() {
        (Some(t), Some(student_t_two_sided_p(t, df as f64)?))
    } else if m != 0.0 {
        (None, Some(0.0))
    } else {
        (None, None)
    };
    Ok(PairedTTest {
        df: Some(df),
        standard_error: Some(se),
        t_statistic,
        p_value,
        confidence_level,
        confidence_interval: if se == 0.0 {
            Some(Interval { lower: m, upper: m })
        } else {
            finite_interval(m - crit * se, m + crit * se)
        },
    })
}

/// Sign test of the differences.
pub fn sign_test(differences: &[f64]) -> Result<SignTest, StatsError> {
    check_finite("differences", differences)?;
    let positive = differences.iter().filter(|d| **d > 0.0).count();
    let negative = differences.iter().filter(|d| **d < 0.0).count();
    let trials = (positive + negative) as u64;
    Ok(SignTest {
        positive,
        negative,
        p_value: (trials > 0).then(|| binomial_half_two_sided_p(positive as u64, trials)),
    })
}

/// Hedges' small-sample correction J(df), through log-gamma to stay finite for large df.
fn hedges_correction(df: f64) -> f64 {
    (ln_gamma(df / 2.0) - ln_gamma((df - 1.0) / 2.0)).exp() / (df / 2.0).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unequal_lengths_are_an_error() {
        assert!(matches!(
            compare_paired(&[1.0, 2.0], &[1.0], 0.95),
            Err(StatsError::LengthMismatch { left: 2, right: 1, .. })
        ));
    }

    #[test]
    fn no_pairs_gives_no_statistics() {
        let c = compare_paired(&[], &[], 0.95).expect("valid");
        assert_eq!(c.n, 0);
        assert_eq!(c.mean_difference, None);
        assert_eq!(c.t_test.p_value, None);
        assert_eq!(c.wilcoxon.p_value, None);
        assert_eq!(c.sign_test.p_value, None);
        assert!(!c.all_differences_zero);
    }

    #[test]
    fn one_pair_has_a_mean_but_no_test() {
        let c = compare_paired(&[0.2], &[0.5], 0.95).expect("valid");
        assert_eq!(c.mean_difference, Some(0.3));
        assert_eq!(c.t_test.df, None);
        assert_eq!(c.t_test.confidence_interval, None);
        assert_eq!(c.effect_size_dz, None);
        assert_eq!((c.wins, c.ties, c.losses), (1, 0, 0));
    }

    #[test]
    fn all_zero_differences_are_no_difference_observed() {
        let scores = [0.1, 0.5, 0.9, 0.5];
        let c = compare_paired(&scores, &scores, 0.95).expect("valid");
        assert!(c.all_differences_zero);
        assert_eq!(c.t_test.t_statistic, None);
        assert_eq!(c.t_test.p_value, None);
        assert_eq!(c.sign_test.p_value, None);
        assert_eq!(c.effect_size_dz, None);
        assert_eq!(c.hedges_gz, None);
        assert_eq!(c.ties, 4);
    }

    #[test]
    fn constant_nonzero_shift_has_zero_p_and_no_t() {
        let c = compare_paired(&[0.0, 0.25, 0.5], &[0.125, 0.375, 0.625], 0.95).expect("valid");
        assert_eq!(c.t_test.t_statistic, None);
        assert_eq!(c.t_test.p_value, Some(0.0));
        assert_eq!(
            c.t_test.confidence_interval,
            Some(Interval {
                lower: 0.125,
                upper: 0.125
            })
        );
        assert!(!c.all_differences_zero);
    }

    #[test]
    fn a_constant_shift_with_rounding_noise_has_no_spread() {
        // One more weight-1 criterion of 11 met on every example: +9.09 points, with noise of ~1e-14 from rounding.
        let baseline: Vec<f64> = (0..60).map(|k| 100.0 * ((k % 10) as f64 / 11.0)).collect();
        let candidate: Vec<f64> = (0..60).map(|k| 100.0 * ((k % 10 + 1) as f64 / 11.0)).collect();
        let raw: Vec<f64> = candidate.iter().zip(&baseline).map(|(c, b)| c - b).collect();
        assert!(raw.iter().any(|d| *d != raw[0]), "the noise this test is about");
        let c = compare_paired(&baseline, &candidate, 0.95).expect("valid");
        assert_eq!(c.sd_difference, Some(0.0));
        assert_eq!(c.effect_size_dz, None);
        assert_eq!(c.t_test.p_value, Some(0.0));
        assert_eq!(c.wilcoxon.n_zero, 0);
        let ci = c.t_test.confidence_interval.expect("defined");
        assert_eq!(ci.lower, ci.upper);
        assert_eq!((c.wins, c.ties, c.losses), (60, 0, 0));
    }

    #[test]
    fn the_same_quality_reached_through_different_roundings_is_a_tie() {
        let a = 0.1 + 0.2;
        let c = compare_paired(&[a, 0.5, 0.7], &[0.3, 0.6, 0.2], 0.95).expect("valid");
        assert_ne!(a, 0.3);
        assert_eq!((c.wins, c.ties, c.losses), (1, 1, 1));
        assert_eq!(c.wilcoxon.n_zero, 1);
    }

    #[test]
    fn a_t_test_on_differences_alone_ignores_rounding_spread() {
        let t = paired_t_test(&[9.090909090909092, 9.09090909090909, 9.090909090909093], 0.95).expect("valid");
        assert_eq!(t.p_value, Some(0.0));
        assert_eq!(t.t_statistic, None);
    }

    #[test]
    fn two_pairs_have_dz_but_no_hedges() {
        let c = compare_paired(&[0.0, 0.0], &[0.1, 0.3], 0.95).expect("valid");
        assert!(c.effect_size_dz.is_some());
        assert_eq!(c.hedges_gz, None);
    }
}
