//! One bracketed root finder, with an iteration cap, behind every quantity the statistics solve for (the t quantile,
//! the minimum detectable effect, the sample size needed).
//!
//! It keeps a bracket [lo, hi] around the root at every step and takes Newton's step only when one is available,
//! lands inside the bracket and shrinks fast enough (Numerical Recipes' `rtsafe` rule); otherwise it halves the
//! bracket — geometrically while the bracket spans orders of magnitude, so that a root anywhere in f64's range is
//! reached in a few dozen steps. Convergence is judged relative to the root, so it works at any magnitude.

use super::StatsError;

/// Steps allowed. Halving alone narrows any bracket inside (0, f64::MAX] to adjacent floats in about 75 steps
/// (11 geometric, 64 arithmetic), so reaching the cap means the function itself misbehaves.
pub(crate) const ROOT_MAX_STEPS: usize = 300;

/// Doublings allowed when searching for the upper end of a bracket: 2¹⁰⁷⁵ covers f64's whole range.
const EXPANSION_MAX_STEPS: usize = 1_100;

/// How far below the upper end the first probe lands when the lower end is 0.
const ZERO_JUMP: f64 = 1.0 / 4_294_967_296.0;

/// A function value and, when known, its derivative.
pub(crate) type WithSlope = (f64, Option<f64>);

/// The root of `f`, increasing on [lo, hi] with f(lo) ≤ 0 ≤ f(hi), starting from `start` (clamped into the bracket).
/// `f` returns its value and, optionally, its derivative (then Newton steps are tried). `routine` names the
/// quantity in the error when the cap is reached.
pub(crate) fn solve_increasing(
    routine: &'static str,
    f: impl Fn(f64) -> Result<WithSlope, StatsError>,
    mut lo: f64,
    mut hi: f64,
    start: f64,
) -> Result<f64, StatsError> {
    let mut x = if start > lo && start < hi {
        start
    } else {
        midpoint(lo, hi)
    };
    let mut step_before_last = hi - lo;
    let mut last_step = step_before_last;
    for _ in 0..ROOT_MAX_STEPS {
        let (value, slope) = f(x)?;
        if value.is_nan() {
            break;
        }
        if value == 0.0 {
            return Ok(x);
        }
        if value < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = slope
            .filter(|s| *s > 0.0 && s.is_finite())
            .map(|s| x - value / s)
            .filter(|next| next.is_finite() && *next > lo && *next < hi)
            .filter(|next| 2.0 * (next - x).abs() <= step_before_last.abs());
        let next = newton.unwrap_or_else(|| midpoint(lo, hi));
        step_before_last = last_step;
        last_step = next - x;
        let scale = next.abs().max(f64::MIN_POSITIVE);
        let tiny_step = newton.is_some() && (next - x).abs() <= 4.0 * f64::EPSILON * scale;
        let tiny_bracket = hi - lo <= 4.0 * f64::EPSILON * hi.abs().max(lo.abs());
        if next <= lo || next >= hi || tiny_step || tiny_bracket {
            return Ok(next.clamp(lo, hi));
        }
        x = next;
    }
    Err(StatsError::DidNotConverge {
        routine,
        iterations: ROOT_MAX_STEPS,
    })
}

/// The root of an increasing `f` above `lo` (where f < 0): brackets it by doubling from `start`, then solves by
/// halving. `Ok(None)` when f stays negative up to `limit`.
pub(crate) fn solve_increasing_above(
    routine: &'static str,
    f: impl Fn(f64) -> Result<f64, StatsError>,
    lo: f64,
    start: f64,
    limit: f64,
) -> Result<Option<f64>, StatsError> {
    let Some((lo, hi)) = bracket_upwards(&f, lo, start, limit)? else {
        return Ok(None);
    };
    solve_increasing(routine, |x| Ok((f(x)?, None)), lo, hi, 0.5 * (lo + hi)).map(Some)
}

/// The smallest `hi = start·2ᵏ` (k ≥ 0) with f(hi) ≥ 0 for an increasing f, with the last point where f < 0 as the
/// lower end; `None` when f stays negative up to `limit`.
fn bracket_upwards(
    f: impl Fn(f64) -> Result<f64, StatsError>,
    mut lo: f64,
    start: f64,
    limit: f64,
) -> Result<Option<(f64, f64)>, StatsError> {
    let mut hi = start;
    for _ in 0..EXPANSION_MAX_STEPS {
        if hi > limit {
            return Ok(None);
        }
        if f(hi)? >= 0.0 {
            return Ok(Some((lo, hi)));
        }
        lo = hi;
        hi *= 2.0;
    }
    Ok(None)
}

/// The middle of a bracket: geometric while it spans more than a factor of 4 on the positive axis, so that huge
/// brackets shrink by orders of magnitude per step; from a lower end of 0, a jump down by 2³² (a root near 0 is
/// then reached in a few dozen steps, and once below it the bracket is geometric); arithmetic otherwise.
fn midpoint(lo: f64, hi: f64) -> f64 {
    if lo == 0.0 && hi > 0.0 && hi.is_finite() {
        hi * ZERO_JUMP
    } else if lo > 0.0 && hi.is_finite() && hi > 4.0 * lo {
        (lo.sqrt() * hi.sqrt()).clamp(lo, hi)
    } else if hi.is_finite() {
        lo + 0.5 * (hi - lo)
    } else {
        (2.0 * lo.max(1.0)).min(f64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_roots_at_any_magnitude_with_and_without_slopes() {
        for root in [1e-300, 1e-9, 0.5, 3.0, 1e7, 1e300] {
            let plain = solve_increasing("test", |x| Ok((x - root, None)), 0.0, f64::MAX, 1.0).expect("converges");
            assert!((plain - root).abs() <= 1e-14 * root, "{plain} vs {root}");
            let newton =
                solve_increasing("test", |x| Ok((x - root, Some(1.0))), 0.0, f64::MAX, 1.0).expect("converges");
            assert!((newton - root).abs() <= 1e-14 * root, "{newton} vs {root}");
        }
    }

    #[test]
    fn a_function_that_never_settles_is_reported_not_looped() {
        let nan = solve_increasing("nan", |_| Ok((f64::NAN, None)), 0.0, 1.0, 0.5);
        assert!(matches!(nan, Err(StatsError::DidNotConverge { routine: "nan", .. })));
    }

    #[test]
    fn brackets_grow_by_doubling_and_give_up_past_the_limit() {
        let found = bracket_upwards(|x| Ok(x - 10.0), 0.0, 1.0, 1e6).expect("valid");
        assert_eq!(found, Some((8.0, 16.0)));
        assert_eq!(bracket_upwards(|x| Ok(x - 1e9), 0.0, 1.0, 1e6).expect("valid"), None);
    }
}
