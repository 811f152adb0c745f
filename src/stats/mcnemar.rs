//! McNemar's test on paired pass/fail outcomes (K = 1).

use serde::Serialize;

use super::distributions::{binomial_half_cdf, binomial_half_pmf};
use super::{check_same_length, StatsError};

/// McNemar's test from the discordant pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McNemar {
    /// Examples both configurations passed.
    pub both_pass: usize,
    /// Examples only the baseline passed (b).
    pub baseline_only: usize,
    /// Examples only the candidate passed (c).
    pub candidate_only: usize,
    /// Examples both failed.
    pub neither: usize,
    /// Exact two-sided p = min(1, 2·BinomCDF(min(b, c); b + c, ½)) (statsmodels `mcnemar(exact=True)`);
    /// 1 when b = c = 0.
    pub p_value: f64,
    /// Mid-p: 2·BinomCDF(min(b, c)) − pmf(min(b, c)), which is 1 whenever b = c (including b = c = 0).
    pub mid_p_value: f64,
    /// (|b − c| − 1)²/(b + c), statsmodels `mcnemar(exact=False, correction=True)`; `None` when b + c = 0.
    pub chi_square: Option<f64>,
    /// Its p-value from χ² with 1 df; `None` when b + c = 0 (statsmodels' non-exact path is wrong there).
    pub chi_square_p_value: Option<f64>,
}

/// McNemar's test from per-example pass/fail of the baseline and the candidate, matched by position.
pub fn mcnemar_exact(baseline_pass: &[bool], candidate_pass: &[bool]) -> Result<McNemar, StatsError> {
    check_same_length(
        "baseline and candidate pass/fail",
        baseline_pass.len(),
        candidate_pass.len(),
    )?;
    let mut counts = [[0usize; 2]; 2];
    for (&b, &c) in baseline_pass.iter().zip(candidate_pass) {
        counts[usize::from(b)][usize::from(c)] += 1;
    }
    Ok(McNemar {
        both_pass: counts[1][1],
        neither: counts[0][0],
        ..mcnemar_from_counts(counts[1][0], counts[0][1])
    })
}

/// McNemar's test from the discordant counts alone: b = baseline-only passes, c = candidate-only passes.
/// `both_pass` and `neither` are left at 0.
pub fn mcnemar_from_counts(baseline_only: usize, candidate_only: usize) -> McNemar {
    let (b, c) = (baseline_only as u64, candidate_only as u64);
    let discordant = b + c;
    let smaller = b.min(c);
    let lower_tail = binomial_half_cdf(smaller, discordant);
    let p_value = (2.0 * lower_tail).min(1.0);
    let mid_p_value = (2.0 * lower_tail - binomial_half_pmf(smaller, discordant)).clamp(0.0, 1.0);
    let chi_square = (discordant > 0).then(|| {
        let excess = (b as f64 - c as f64).abs() - 1.0;
        excess * excess / discordant as f64
    });
    // χ² with one degree of freedom is Z²: its upper tail is erfc(√(x/2)), in closed form (statrs' incomplete gamma
    // loops without a cap).
    let chi_square_p_value = chi_square.map(|statistic| libm::erfc((0.5 * statistic).sqrt()));
    McNemar {
        both_pass: 0,
        baseline_only,
        candidate_only,
        neither: 0,
        p_value,
        mid_p_value,
        chi_square,
        chi_square_p_value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_discordant_pairs_is_p_one() {
        let m = mcnemar_from_counts(0, 0);
        assert_eq!(m.p_value, 1.0);
        assert_eq!(m.mid_p_value, 1.0);
        assert_eq!(m.chi_square, None);
        assert_eq!(m.chi_square_p_value, None);
    }

    #[test]
    fn counts_cells_from_pairs() {
        let baseline = [true, true, false, false, true];
        let candidate = [true, false, true, false, false];
        let m = mcnemar_exact(&baseline, &candidate).expect("valid");
        assert_eq!(
            (m.both_pass, m.baseline_only, m.candidate_only, m.neither),
            (1, 2, 1, 1)
        );
    }

    #[test]
    fn unequal_lengths_are_an_error() {
        assert!(mcnemar_exact(&[true], &[]).is_err());
    }
}
