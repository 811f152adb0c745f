//! Wilcoxon signed-rank test on paired differences, as scipy.stats.wilcoxon computes it with its defaults
//! (zero_method='wilcox', correction=False, method='auto', alternative='two-sided').

use serde::Serialize;

use super::distributions::normal_cdf;
use super::ranks::average_ranks;
use super::{check_finite, StatsError};

/// Above this many differences (zeros included) scipy's 'auto' always uses the normal approximation.
const EXACT_MAX_N: usize = 50;
/// Up to this many differences (zeros included) scipy's 'auto' enumerates all sign flips when there are ties/zeros.
const PERMUTATION_MAX_N: usize = 13;

/// How the p-value was obtained; the same branch scipy 1.17's `method='auto'` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WilcoxonMethod {
    /// Exact null distribution of R+ (n ≤ 50, no ties, no zeros).
    Exact,
    /// All 2^m sign flips of the non-zero differences enumerated (n ≤ 13 with ties or zeros):
    /// scipy's `PermutationMethod()`, which is exhaustive at that size.
    ExactPermutation,
    /// Normal approximation with the tie-corrected variance and no continuity correction.
    NormalApproximation,
}

/// Result of the signed-rank test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WilcoxonSignedRank {
    /// Number of differences, zeros included.
    pub n: usize,
    /// Number of zero differences, dropped before ranking ('wilcox').
    pub n_zero: usize,
    /// Sum of the mid-ranks of |d| over positive differences; `None` when no difference is non-zero (nothing was
    /// ranked, where scipy reports 0).
    pub r_plus: Option<f64>,
    /// Sum over negative differences; `None` likewise.
    pub r_minus: Option<f64>,
    /// min(R+, R−), scipy's two-sided statistic; `None` likewise.
    pub statistic: Option<f64>,
    /// Which null distribution gave the p-value.
    pub method: WilcoxonMethod,
    /// (R+ − n(n+1)/4)/se when the normal approximation is used, signed (positive when the candidate tends to
    /// win). scipy reports −|z|.
    pub z: Option<f64>,
    /// Two-sided p-value; `None` when every difference is zero (scipy returns 1 or NaN there, depending on n).
    pub p_value: Option<f64>,
    /// Matched-pairs rank-biserial correlation (R+ − R−)/(R+ + R−); `None` when every difference is zero.
    pub rank_biserial: Option<f64>,
}

/// Signed-rank test of the differences (candidate − baseline). Ranks |d| with no tolerance, exactly like scipy.
pub fn wilcoxon_signed_rank(differences: &[f64]) -> Result<WilcoxonSignedRank, StatsError> {
    check_finite("differences", differences)?;
    let n = differences.len();
    let nonzero: Vec<f64> = differences.iter().copied().filter(|d| *d != 0.0).collect();
    let n_zero = n - nonzero.len();
    let absolute: Vec<f64> = nonzero.iter().map(|d| d.abs()).collect();
    let ranks = average_ranks(&absolute);
    let (mut r_plus, mut r_minus) = (0.0, 0.0);
    for (d, r) in nonzero.iter().zip(&ranks.ranks) {
        if *d > 0.0 {
            r_plus += r;
        } else {
            r_minus += r;
        }
    }
    let method = if n > EXACT_MAX_N {
        WilcoxonMethod::NormalApproximation
    } else if !ranks.has_ties() && n_zero == 0 {
        WilcoxonMethod::Exact
    } else if n <= PERMUTATION_MAX_N {
        WilcoxonMethod::ExactPermutation
    } else {
        WilcoxonMethod::NormalApproximation
    };
    let m = nonzero.len() as f64;
    let variance = (m * (m + 1.0) * (2.0 * m + 1.0) - ranks.tie_correction() / 2.0) / 24.0;
    let z = (method == WilcoxonMethod::NormalApproximation && variance > 0.0)
        .then(|| (r_plus - m * (m + 1.0) / 4.0) / variance.sqrt());
    let p_value = if nonzero.is_empty() {
        None
    } else {
        match method {
            WilcoxonMethod::Exact => Some(exact_p(nonzero.len(), r_plus)),
            WilcoxonMethod::ExactPermutation => Some(permutation_p(&nonzero, &ranks.ranks, r_plus)),
            WilcoxonMethod::NormalApproximation => z.map(|z| (2.0 * normal_cdf(-z.abs())).min(1.0)),
        }
    };
    let rank_total = r_plus + r_minus;
    let ranked = !nonzero.is_empty();
    Ok(WilcoxonSignedRank {
        n,
        n_zero,
        r_plus: ranked.then_some(r_plus),
        r_minus: ranked.then_some(r_minus),
        statistic: ranked.then_some(r_plus.min(r_minus)),
        method,
        z,
        p_value,
        rank_biserial: (rank_total > 0.0).then(|| (r_plus - r_minus) / rank_total),
    })
}

/// p = 2·min(P(R+ ≥ r), P(R+ ≤ r)) under the exact null (all subsets of ranks 1..m equally likely), capped at 1.
/// Counts are exact integers (2^50 fits in u64), so this is exact up to one division.
fn exact_p(m: usize, r_plus: f64) -> f64 {
    let max_sum = m * (m + 1) / 2;
    let mut counts = vec![0u64; max_sum + 1];
    counts[0] = 1;
    for k in 1..=m {
        for s in (k..=max_sum).rev() {
            counts[s] += counts[s - k];
        }
    }
    let total = 2f64.powi(m as i32);
    // Without ties R+ is an integer; floor/ceil mirror scipy's conservative rounding anyway.
    let upper_from = (r_plus.floor().max(0.0) as usize).min(max_sum + 1);
    let lower_to = (r_plus.ceil().max(0.0) as usize).min(max_sum);
    let sf = counts[upper_from..].iter().sum::<u64>() as f64 / total;
    let cdf = counts[..=lower_to].iter().sum::<u64>() as f64 / total;
    (2.0 * sf.min(cdf)).min(1.0)
}

/// The exhaustive sign-flip test of scipy's `permutation_test` for R+: every assignment of signs to the non-zero
/// differences is equally likely. Zeros flip to themselves, so they scale both counts alike and are left out.
/// Ranks are half-integers, so doubled ranks compare exactly (scipy compares with a 1e-14 relative tolerance).
fn permutation_p(nonzero: &[f64], ranks: &[f64], r_plus: f64) -> f64 {
    let doubled: Vec<u64> = ranks.iter().map(|r| (2.0 * r).round() as u64).collect();
    let observed = (2.0 * r_plus).round() as u64;
    let m = nonzero.len();
    let (mut at_most, mut at_least) = (0u64, 0u64);
    for mask in 0u64..(1u64 << m) {
        let statistic: u64 = (0..m).filter(|i| mask & (1 << i) != 0).map(|i| doubled[i]).sum();
        at_most += u64::from(statistic <= observed);
        at_least += u64::from(statistic >= observed);
    }
    let total = (1u64 << m) as f64;
    (2.0 * at_most.min(at_least) as f64 / total).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_zero_differences_have_no_p_value() {
        let w = wilcoxon_signed_rank(&[0.0; 20]).expect("valid");
        assert_eq!(w.p_value, None);
        assert_eq!(w.rank_biserial, None);
        assert_eq!(w.z, None);
        assert_eq!(w.statistic, None);
        assert_eq!(w.n_zero, 20);
    }

    #[test]
    fn empty_input_has_no_p_value() {
        let w = wilcoxon_signed_rank(&[]).expect("valid");
        assert_eq!(w.p_value, None);
        assert_eq!(w.method, WilcoxonMethod::Exact);
    }

    #[test]
    fn single_difference_is_not_significant() {
        // scipy.stats.wilcoxon([0.3]) -> statistic 0, p 1.0
        let w = wilcoxon_signed_rank(&[0.3]).expect("valid");
        assert_eq!(w.p_value, Some(1.0));
        assert_eq!(w.rank_biserial, Some(1.0));
    }

    #[test]
    fn exact_branch_without_ties() {
        // scipy.stats.wilcoxon([1, 2, 3, 4, 5, -6]) -> statistic 6, p = 0.4375
        let w = wilcoxon_signed_rank(&[1.0, 2.0, 3.0, 4.0, 5.0, -6.0]).expect("valid");
        assert_eq!(w.method, WilcoxonMethod::Exact);
        assert_eq!(w.statistic, Some(6.0));
        assert!((w.p_value.expect("defined") - 0.4375).abs() < 1e-15);
    }
}
