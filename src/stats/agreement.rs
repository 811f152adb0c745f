//! Agreement between an LLM judge and human scores, for judge calibration.

use serde::Serialize;

use super::distributions::student_t_two_sided_p;
use super::ranks::average_ranks;
use super::{check_finite, check_same_length, StatsError};

/// Spearman rank correlation with its p-value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spearman {
    /// Number of pairs.
    pub n: usize,
    /// Pearson correlation of the average ranks; `None` when either side is constant or n < 2.
    pub rho: Option<f64>,
    /// Two-sided p-value from t = ρ√((n − 2)/((1 + ρ)(1 − ρ))) with n − 2 df, as scipy computes it; `None` below
    /// three pairs or when ρ is undefined.
    pub p_value: Option<f64>,
}

/// How far apart two categories count for a weighted kappa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KappaWeights {
    /// Only exact agreement counts (Cohen's original kappa).
    Unweighted,
    /// Disagreement weight |i − j|.
    Linear,
    /// Disagreement weight (i − j)².
    Quadratic,
}

/// The calibration table's numbers for one judge against human scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    /// Number of scored pairs.
    pub n: usize,
    /// Spearman correlation.
    pub spearman: Spearman,
    /// Linearly weighted kappa.
    pub kappa_linear: Option<f64>,
    /// Quadratically weighted kappa.
    pub kappa_quadratic: Option<f64>,
    /// Mean |judge − human|; `None` when there are no pairs.
    pub mean_absolute_difference: Option<f64>,
}

/// Spearman, both weighted kappas and the mean absolute difference of judge vs human scores.
pub fn agreement(human: &[f64], judge: &[f64]) -> Result<Agreement, StatsError> {
    Ok(Agreement {
        n: human.len(),
        spearman: spearman(human, judge)?,
        kappa_linear: weighted_kappa(human, judge, KappaWeights::Linear)?,
        kappa_quadratic: weighted_kappa(human, judge, KappaWeights::Quadratic)?,
        mean_absolute_difference: mean_absolute_difference(human, judge)?,
    })
}

/// Spearman's ρ (scipy.stats.spearmanr): Pearson correlation of average ranks; ties share their mean rank.
pub fn spearman(a: &[f64], b: &[f64]) -> Result<Spearman, StatsError> {
    check_pairs(a, b)?;
    let n = a.len();
    let rho = pearson(&average_ranks(a).ranks, &average_ranks(b).ranks);
    let p_value = rho
        .filter(|_| n >= 3)
        .map(|r| {
            let df = (n - 2) as f64;
            let t = r * (df / ((r + 1.0) * (1.0 - r))).max(0.0).sqrt();
            student_t_two_sided_p(t, df)
        })
        .transpose()?;
    Ok(Spearman { n, rho, p_value })
}

/// Cohen's kappa with the given weights (statsmodels `cohens_kappa(table, weights=categories, wt=...)`):
/// κ = 1 − Σ w·observed / Σ w·expected over the table of the two raters' categories, expected being the product of
/// the margins. Categories are the distinct values used by either rater, and the weights follow their values, so on a
/// 1–5 scale where nobody used 2, scores 1 and 3 are still two steps apart (this equals sklearn's
/// `cohen_kappa_score(weights=...)` whenever the used categories are consecutive). `Ok(None)` when undefined
/// (no pairs, or both raters always gave the same single score).
pub fn weighted_kappa(a: &[f64], b: &[f64], weights: KappaWeights) -> Result<Option<f64>, StatsError> {
    check_pairs(a, b)?;
    let mut categories: Vec<f64> = a.iter().chain(b).copied().collect();
    categories.sort_by(f64::total_cmp);
    categories.dedup();
    let k = categories.len();
    if a.is_empty() {
        return Ok(None);
    }
    let index = |v: f64| categories.partition_point(|c| *c < v);
    let mut table = vec![vec![0.0; k]; k];
    for (&x, &y) in a.iter().zip(b) {
        table[index(x)][index(y)] += 1.0;
    }
    let n = a.len() as f64;
    let rows: Vec<f64> = table.iter().map(|r| r.iter().sum::<f64>() / n).collect();
    let cols: Vec<f64> = (0..k).map(|j| table.iter().map(|r| r[j]).sum::<f64>() / n).collect();
    let range = categories[k - 1] - categories[0];
    let weight = |i: usize, j: usize| -> f64 {
        let distance = (categories[i] - categories[j]).abs() / range;
        match weights {
            KappaWeights::Unweighted => f64::from(u8::from(i != j)),
            KappaWeights::Linear => distance,
            KappaWeights::Quadratic => distance * distance,
        }
    };
    let (mut observed, mut expected) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            if i != j {
                observed += weight(i, j) * table[i][j] / n;
                expected += weight(i, j) * rows[i] * cols[j];
            }
        }
    }
    Ok((expected > 0.0).then(|| 1.0 - observed / expected))
}

/// Mean |a − b| over pairs; `Ok(None)` when there are none.
pub fn mean_absolute_difference(a: &[f64], b: &[f64]) -> Result<Option<f64>, StatsError> {
    check_pairs(a, b)?;
    Ok((!a.is_empty()).then(|| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64))
}

fn check_pairs(a: &[f64], b: &[f64]) -> Result<(), StatsError> {
    check_same_length("human and judge scores", a.len(), b.len())?;
    check_finite("human scores", a)?;
    check_finite("judge scores", b)
}

/// Pearson correlation; `None` when either side has no spread.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_agreement() {
        let s = [1.0, 2.0, 3.0, 4.0, 5.0];
        let a = agreement(&s, &s).expect("valid");
        assert_eq!(a.spearman.rho, Some(1.0));
        assert_eq!(a.spearman.p_value, Some(0.0));
        assert_eq!(a.kappa_linear, Some(1.0));
        assert_eq!(a.kappa_quadratic, Some(1.0));
        assert_eq!(a.mean_absolute_difference, Some(0.0));
    }

    #[test]
    fn constant_rater_has_no_correlation() {
        let s = spearman(&[3.0, 3.0, 3.0], &[1.0, 2.0, 3.0]).expect("valid");
        assert_eq!(s.rho, None);
        assert_eq!(s.p_value, None);
    }

    #[test]
    fn single_shared_category_has_no_kappa() {
        assert_eq!(
            weighted_kappa(&[4.0, 4.0], &[4.0, 4.0], KappaWeights::Quadratic).expect("valid"),
            None
        );
        assert_eq!(weighted_kappa(&[], &[], KappaWeights::Linear).expect("valid"), None);
    }

    #[test]
    fn unequal_lengths_are_an_error() {
        assert!(agreement(&[1.0], &[1.0, 2.0]).is_err());
    }
}
