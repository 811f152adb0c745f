//! The decision for each comparison of a family: which test decides it, its Holm-adjusted p-value, the level its
//! power answers are computed at, and the verdict from the adjusted p, the interval and the user's practical margin.

use serde::Serialize;

use super::multiple::holm_adjust;
use super::paired::PairedComparison;
use super::{Interval, StatsError};

/// Outcome of comparing a candidate with the baseline (shared/STATISTICS.md, "The verdict").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significant, and the whole interval lies above +margin.
    Better,
    /// Significant, and the whole interval lies below −margin.
    Worse,
    /// Significant, but the interval reaches into [−margin, +margin] (or there is no interval).
    SignificantWithinMargin,
    /// Adjusted p ≥ α, or no p-value. Show the minimum detectable difference with it.
    NoDetectableDifference,
    /// Every matched example scored the same on both sides: nothing to test.
    NoDifferenceObserved,
    /// Fewer matched examples than any verdict needs ([`minimum_pairs_for_verdict`]).
    NotEnoughData,
}

impl Verdict {
    /// The words every report prints (Markdown and CSV; JSON has the same words in snake_case).
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::SignificantWithinMargin => "significant but within margin",
            Verdict::NoDetectableDifference => "no detectable difference",
            Verdict::NoDifferenceObserved => "no difference observed",
            Verdict::NotEnoughData => "not enough data",
        }
    }
}

/// The verdict rule: adjusted p ≥ α (or undefined) → no detectable difference; otherwise better when the interval's
/// lower end is above +margin, worse when its upper end is below −margin, else significant but within margin.
/// `margin` is in the units of the difference (quality points); a negative margin is treated as its magnitude.
pub fn verdict(p_adjusted: Option<f64>, interval: Option<Interval>, alpha: f64, margin: f64) -> Verdict {
    let margin = margin.abs();
    match (p_adjusted, interval) {
        (Some(p), _) if p.is_nan() || p >= alpha => Verdict::NoDetectableDifference,
        (None, _) => Verdict::NoDetectableDifference,
        (Some(_), Some(ci)) if ci.lower > margin => Verdict::Better,
        (Some(_), Some(ci)) if ci.upper < -margin => Verdict::Worse,
        (Some(_), _) => Verdict::SignificantWithinMargin,
    }
}

/// The fewest matched examples a verdict needs at level α: the smallest n at which the exact two-sided sign test can
/// reach α at all (all n differences of one sign: p = 2·2⁻ⁿ < α), i.e. ⌊log₂(2/α)⌋ + 1 — 6 at α = 0.05, 5 at 0.1,
/// 8 at 0.01. Below it even a perfectly consistent sample is evidence a sign test would not accept, so no verdict is
/// given, whatever a t-test on so few values says.
pub fn minimum_pairs_for_verdict(alpha: f64) -> usize {
    if !(alpha > 0.0 && alpha < 1.0) {
        return usize::MAX;
    }
    // Start just below the logarithm's answer (which may round across an integer) and step up to the first n that
    // reaches α: at most three steps.
    let reaches = |n: usize| 2.0 * 0.5f64.powi(n as i32) < alpha;
    let start = ((2.0 / alpha).log2().floor() as usize).saturating_sub(1).max(2);
    (start..start + 4).find(|n| reaches(*n)).unwrap_or(start + 4)
}

/// Which test's p-value decides a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictTest {
    /// The paired t-test (the usual case).
    PairedT,
    /// The exact sign test: every difference is the same non-zero number, so the t statistic is ±∞ and its p of 0
    /// says nothing about how many examples back it.
    SignTest,
    /// McNemar's exact test on per-example correctness: chosen by the caller when quality is right-or-wrong (one
    /// classification criterion, no repeats), where it is the test made for the data.
    McnemarExact,
}

/// Why a comparison is not in its family's Holm adjustment (and so gets no verdict from a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftOut {
    /// Fewer matched examples than [`minimum_pairs_for_verdict`].
    TooFewPairs,
    /// Every difference is zero.
    NoDifferenceObserved,
    /// The deciding test has no p-value.
    NoPValue,
}

impl LeftOut {
    /// In words, for the reports.
    pub fn label(self) -> &'static str {
        match self {
            LeftOut::TooFewPairs => "too few matched examples",
            LeftOut::NoDifferenceObserved => "no difference observed",
            LeftOut::NoPValue => "no p-value",
        }
    }
}

/// One comparison's decision within its family.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FamilyDecision {
    /// The test whose p-value decides it; `None` when it is left out of the family.
    pub test: Option<VerdictTest>,
    /// That test's p-value, before adjustment.
    pub p_value: Option<f64>,
    /// Holm-adjusted within the family; `None` when left out.
    pub p_holm: Option<f64>,
    /// Why it is not in the family, if it is not.
    pub left_out: Option<LeftOut>,
    /// Comparisons in the Holm family (m).
    pub family_size: usize,
    /// The level its power, detectable difference and examples needed are computed at: α/m, the level Holm's first
    /// step applies, which every member faces at worst (α/(m + 1) for one left out: the level it would face if it
    /// joined).
    pub power_alpha: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// Decides a family of comparisons at level α with a practical margin: picks each comparison's test (the paired t,
/// or the exact sign test when the differences have no spread), leaves out those that cannot be decided (too few
/// matched examples, no difference at all, no p-value), Holm-adjusts the rest together, and applies
/// [`verdict`] with each comparison's t interval.
pub fn decide_family(
    comparisons: &[&PairedComparison],
    alpha: f64,
    margin: f64,
) -> Result<Vec<FamilyDecision>, StatsError> {
    decide_family_by(comparisons, None, alpha, margin)
}

/// As [`decide_family`], with McNemar's exact test deciding every comparison when `mcnemar_p` gives its p-value for
/// each (in the same order): for right-or-wrong scores. The same comparisons are left out (too few matched
/// examples, no difference at all, no p-value), and the verdict still reads the t interval against the margin.
pub fn decide_family_by(
    comparisons: &[&PairedComparison],
    mcnemar_p: Option<&[Option<f64>]>,
    alpha: f64,
    margin: f64,
) -> Result<Vec<FamilyDecision>, StatsError> {
    super::check_open_unit("alpha", alpha)?;
    if let Some(p) = mcnemar_p.filter(|p| p.len() != comparisons.len()) {
        return Err(StatsError::LengthMismatch {
            what: "McNemar p-values and comparisons",
            left: p.len(),
            right: comparisons.len(),
        });
    }
    let minimum = minimum_pairs_for_verdict(alpha);
    let chosen: Vec<Result<(VerdictTest, f64), LeftOut>> = comparisons
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if c.n < minimum {
                return Err(LeftOut::TooFewPairs);
            }
            if c.all_differences_zero {
                return Err(LeftOut::NoDifferenceObserved);
            }
            let (test, p) = if let Some(mcnemar_p) = mcnemar_p {
                (VerdictTest::McnemarExact, mcnemar_p[i])
            } else if c.sd_difference == Some(0.0) {
                (VerdictTest::SignTest, c.sign_test.p_value)
            } else {
                (VerdictTest::PairedT, c.t_test.p_value)
            };
            p.map(|p| (test, p)).ok_or(LeftOut::NoPValue)
        })
        .collect();
    let raw: Vec<f64> = chosen.iter().filter_map(|c| c.as_ref().ok().map(|(_, p)| *p)).collect();
    let mut adjusted = holm_adjust(&raw)?.into_iter();
    let family_size = raw.len();
    Ok(comparisons
        .iter()
        .zip(chosen)
        .map(|(c, choice)| match choice {
            Ok((test, p)) => {
                let p_holm = adjusted.next();
                FamilyDecision {
                    test: Some(test),
                    p_value: Some(p),
                    p_holm,
                    left_out: None,
                    family_size,
                    power_alpha: alpha / family_size.max(1) as f64,
                    verdict: verdict(p_holm, c.t_test.confidence_interval, alpha, margin),
                }
            }
            Err(left_out) => FamilyDecision {
                test: None,
                p_value: None,
                p_holm: None,
                left_out: Some(left_out),
                family_size,
                power_alpha: alpha / (family_size + 1) as f64,
                verdict: match left_out {
                    LeftOut::TooFewPairs => Verdict::NotEnoughData,
                    LeftOut::NoDifferenceObserved => Verdict::NoDifferenceObserved,
                    LeftOut::NoPValue => Verdict::NoDetectableDifference,
                },
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::compare_paired;

    fn ci(lower: f64, upper: f64) -> Option<Interval> {
        Some(Interval { lower, upper })
    }

    #[test]
    fn applies_the_rule() {
        assert_eq!(
            verdict(Some(0.2), ci(0.1, 0.3), 0.05, 0.0),
            Verdict::NoDetectableDifference
        );
        assert_eq!(
            verdict(Some(0.05), ci(0.1, 0.3), 0.05, 0.0),
            Verdict::NoDetectableDifference
        );
        assert_eq!(verdict(Some(0.01), ci(0.03, 0.1), 0.05, 0.02), Verdict::Better);
        assert_eq!(
            verdict(Some(0.01), ci(0.01, 0.1), 0.05, 0.02),
            Verdict::SignificantWithinMargin
        );
        assert_eq!(verdict(Some(0.01), ci(-0.1, -0.03), 0.05, 0.02), Verdict::Worse);
        assert_eq!(verdict(Some(0.01), None, 0.05, 0.02), Verdict::SignificantWithinMargin);
        assert_eq!(verdict(None, ci(0.0, 0.0), 0.05, 0.0), Verdict::NoDetectableDifference);
    }

    #[test]
    fn labels_are_the_report_words() {
        assert_eq!(Verdict::NoDetectableDifference.label(), "no detectable difference");
        assert_eq!(
            serde_json::to_string(&Verdict::SignificantWithinMargin).expect("serialises"),
            "\"significant_within_margin\""
        );
        assert_eq!(
            serde_json::to_string(&Verdict::NotEnoughData).expect("serialises"),
            "\"not_enough_data\""
        );
    }

    #[test]
    fn the_minimum_is_where_a_sign_test_can_reach_alpha() {
        for (alpha, n) in [(0.05, 6), (0.1, 5), (0.01, 8), (0.0625, 6), (0.5, 3), (0.9, 2)] {
            assert_eq!(minimum_pairs_for_verdict(alpha), n, "α = {alpha}");
            let m = minimum_pairs_for_verdict(alpha) as i32;
            assert!(2.0 * 0.5f64.powi(m) < alpha && (m == 2 || 2.0 * 0.5f64.powi(m - 1) >= alpha));
        }
    }

    #[test]
    fn two_identical_shifts_are_not_enough_for_a_verdict() {
        // +50 on both examples: the t-test's p is 0, the interval +50 to +50 — and two examples.
        let c = compare_paired(&[10.0, 30.0], &[60.0, 80.0], 0.95).expect("valid");
        assert_eq!(c.t_test.p_value, Some(0.0));
        let d = decide_family(&[&c], 0.05, 0.0).expect("valid");
        assert_eq!(d[0].verdict, Verdict::NotEnoughData);
        assert_eq!(d[0].left_out, Some(LeftOut::TooFewPairs));
        assert_eq!((d[0].family_size, d[0].p_holm), (0, None));
    }

    #[test]
    fn a_shift_without_spread_is_decided_by_the_sign_test() {
        let baseline = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0];
        let shifted: Vec<f64> = baseline.iter().map(|b| b + 5.0).collect();
        let c = compare_paired(&baseline, &shifted, 0.95).expect("valid");
        let d = decide_family(&[&c], 0.05, 0.0).expect("valid");
        assert_eq!(d[0].test, Some(VerdictTest::SignTest));
        assert!((d[0].p_value.expect("decided") - 0.03125).abs() < 1e-15);
        assert_eq!(d[0].verdict, Verdict::Better);
        // Two such comparisons: Holm doubles 1/32 past α, so neither gets a verdict.
        let d = decide_family(&[&c, &c], 0.05, 0.0).expect("valid");
        assert!((d[0].p_holm.expect("adjusted") - 0.0625).abs() < 1e-15);
        assert_eq!(d[0].verdict, Verdict::NoDetectableDifference);
        assert_eq!(d[0].power_alpha, 0.025);
    }

    #[test]
    fn comparisons_without_a_p_value_are_left_out_and_said_so() {
        let same = compare_paired(&[1.0; 8], &[1.0; 8], 0.95).expect("valid");
        let spread = compare_paired(
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            &[2.0, 2.5, 4.5, 4.0, 7.0, 6.5, 8.0, 9.5],
            0.95,
        )
        .expect("valid");
        let d = decide_family(&[&same, &spread], 0.05, 0.0).expect("valid");
        assert_eq!(d[0].left_out, Some(LeftOut::NoDifferenceObserved));
        assert_eq!(d[0].verdict, Verdict::NoDifferenceObserved);
        assert_eq!(d[1].family_size, 1);
        assert_eq!(d[1].p_holm, spread.t_test.p_value);
        assert_eq!((d[0].power_alpha, d[1].power_alpha), (0.025, 0.05));
    }
}
