//! The decision for one comparison, from its adjusted p-value, its interval and the user's practical margin.

use serde::Serialize;

use super::Interval;

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
    /// Adjusted p ≥ α, or no p-value (e.g. every difference zero). Show the minimum detectable difference with it.
    NoDetectableDifference,
}

impl Verdict {
    /// The words the report prints.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::SignificantWithinMargin => "significant but within margin",
            Verdict::NoDetectableDifference => "no detectable difference",
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
