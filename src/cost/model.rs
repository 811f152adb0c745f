//! Monthly cost as a function of volume, for every kind of serving, as piecewise-linear segments: per-token billing
//! is one line; Provisioned Throughput steps up a unit at a time as volume outgrows capacity; Custom Model Import
//! grows with the 5-minute windows traffic keeps active, then steps up a copy at a time. Break-evens and "cheaper
//! from … to …" ranges are solved on those segments exactly, so a volume is never stated beyond what the units it
//! names can serve.

use serde::Serialize;

use super::serving::{Capacity, Serving};
use super::{TokensPerRequest, MILLION};

/// Most model units (or imported copies) any figure considers.
pub const MAX_MODEL_UNITS: u32 = 1_000;

/// Billing windows of Custom Model Import, in minutes.
pub const IMPORT_WINDOW_MINUTES: f64 = 5.0;

/// The month the figures are for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Month {
    /// Hours of Provisioned Throughput (and of possible import windows) in a month.
    pub hours: f64,
    /// Peak request rate ÷ average, for capacity.
    pub peak_factor: f64,
}

/// Monthly cost over a range of volumes: `fixed + per_request × volume` for volumes in (`from`, `to`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Segment {
    /// Lower end (exclusive, except for the first segment, which starts at 0).
    pub from: f64,
    /// Upper end (inclusive; infinite for the last segment of a serving without a capacity limit).
    pub to: f64,
    /// Fixed monthly cost.
    pub fixed: f64,
    /// Cost per request.
    pub per_request: f64,
    /// Model units (or imported copies) serving this range; `None` for per-token billing.
    pub units: Option<u32>,
}

impl Segment {
    fn cost(&self, volume: f64) -> f64 {
        self.fixed + self.per_request * volume
    }
}

/// A serving's monthly cost curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostCurve {
    /// In ascending order of volume, contiguous.
    pub segments: Vec<Segment>,
    /// Requests a month one unit serves at the stated peak factor, when capacity is stated.
    pub per_unit_capacity: Option<f64>,
    /// Whether the serving has units whose capacity the suite did not state (the figures then assume the
    /// configured units serve any volume, and say so).
    pub capacity_unknown: bool,
}

impl CostCurve {
    /// The segment a volume falls in; `None` beyond what [`MAX_MODEL_UNITS`] serve.
    pub fn segment_at(&self, volume: f64) -> Option<&Segment> {
        self.segments.iter().find(|s| volume <= s.to)
    }

    /// Monthly cost at `volume`.
    pub fn monthly(&self, volume: f64) -> Option<f64> {
        self.segment_at(volume).map(|s| s.cost(volume))
    }
}

/// Cost per request of per-token billing: every kind of token at its rate; `None` when cache tokens were used but
/// their rate is unknown (they are never priced as zero).
pub fn per_token_cost(serving: &Serving, tokens: &TokensPerRequest) -> Option<f64> {
    let Serving::PerToken {
        input_per_million,
        output_per_million,
        cache_read_per_million,
        cache_write_per_million,
        ..
    } = serving
    else {
        return None;
    };
    let rate = |tokens: f64, rate: Option<f64>| {
        if tokens > 0.0 {
            rate.map(|r| tokens * r)
        } else {
            Some(0.0)
        }
    };
    Some(
        (tokens.input * input_per_million
            + tokens.output * output_per_million
            + rate(tokens.cache_read, *cache_read_per_million)?
            + rate(tokens.cache_write, *cache_write_per_million)?)
            / MILLION,
    )
}

/// Requests a month `units` serve at `per_minute` requests per minute per unit, at the peak factor.
fn served(units: u32, per_minute: f64, month: &Month) -> f64 {
    f64::from(units) * per_minute * 60.0 * month.hours / month.peak_factor
}

/// The monthly cost curve of `serving` with `tokens` per request; `extra_fixed` is added to every segment (the
/// amortized fine-tuning job). `None` when unpriced.
pub fn cost_curve(serving: &Serving, tokens: &TokensPerRequest, month: &Month, extra_fixed: f64) -> Option<CostCurve> {
    let per_minute = |capacity: &Capacity| capacity.requests_per_minute(tokens.total());
    match serving {
        Serving::PerToken { storage_per_month, .. } => Some(CostCurve {
            segments: vec![Segment {
                from: 0.0,
                to: f64::INFINITY,
                fixed: storage_per_month + extra_fixed,
                per_request: per_token_cost(serving, tokens)?,
                units: None,
            }],
            per_unit_capacity: None,
            capacity_unknown: false,
        }),
        Serving::Provisioned {
            model_units,
            per_unit_hour,
            storage_per_month,
            capacity,
            ..
        } => {
            let fixed = |units: u32| f64::from(units) * per_unit_hour * month.hours + storage_per_month + extra_fixed;
            let Some(rate) = per_minute(capacity) else {
                return Some(CostCurve {
                    segments: vec![Segment {
                        from: 0.0,
                        to: f64::INFINITY,
                        fixed: fixed(*model_units),
                        per_request: 0.0,
                        units: Some(*model_units),
                    }],
                    per_unit_capacity: None,
                    capacity_unknown: true,
                });
            };
            let segments = (*model_units.max(&1)..=MAX_MODEL_UNITS)
                .map(|units| Segment {
                    from: if units == *model_units {
                        0.0
                    } else {
                        served(units - 1, rate, month)
                    },
                    to: served(units, rate, month),
                    fixed: fixed(units),
                    per_request: 0.0,
                    units: Some(units),
                })
                .collect();
            Some(CostCurve {
                segments,
                per_unit_capacity: Some(served(1, rate, month)),
                capacity_unknown: false,
            })
        }
        Serving::Imported {
            custom_model_units,
            per_cmu_minute,
            storage_per_month,
            capacity,
        } => {
            // Traffic spread evenly keeps one window active per request until every window of the month is.
            let windows = month.hours * 60.0 / IMPORT_WINDOW_MINUTES;
            let per_window = f64::from(*custom_model_units) * per_cmu_minute * IMPORT_WINDOW_MINUTES;
            let fixed = storage_per_month + extra_fixed;
            let rate = per_minute(capacity);
            let copies = if rate.is_some() { MAX_MODEL_UNITS } else { 1 };
            let mut segments = Vec::new();
            for copy in 1..=copies {
                let from = match rate {
                    Some(r) if copy > 1 => served(copy - 1, r, month),
                    _ => 0.0,
                };
                let to = rate.map_or(f64::INFINITY, |r| served(copy, r, month));
                let per = f64::from(copy) * per_window;
                if from < windows {
                    segments.push(Segment {
                        from,
                        to: to.min(windows),
                        fixed,
                        per_request: per,
                        units: Some(copy),
                    });
                }
                if to > windows {
                    segments.push(Segment {
                        from: from.max(windows),
                        to,
                        fixed: fixed + per * windows,
                        per_request: 0.0,
                        units: Some(copy),
                    });
                }
            }
            Some(CostCurve {
                segments,
                per_unit_capacity: rate.map(|r| served(1, r, month)),
                capacity_unknown: rate.is_none(),
            })
        }
        Serving::Unpriced { .. } => None,
    }
}

/// A range of volumes over which one curve costs no more than another.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CheaperRange {
    /// From this volume.
    pub from: f64,
    /// Up to this volume; `None`: as far as the curves go.
    pub to: Option<f64>,
    /// Units the cheaper side needs at `from`.
    pub units: Option<u32>,
}

/// The first range of volumes (from `start` on) where curve `a` costs no more than curve `b`.
pub fn first_cheaper_range(a: &CostCurve, b: &CostCurve, start: f64) -> Option<CheaperRange> {
    let mut found: Option<CheaperRange> = None;
    for (lo, hi, sa, sb) in merged(a, b) {
        if hi < start {
            continue;
        }
        let lo = lo.max(start);
        // Over [lo, hi]: difference a − b = d0 + d1 × volume.
        let (d0, d1) = (sa.fixed - sb.fixed, sa.per_request - sb.per_request);
        let tolerance = 1e-9 * (sa.cost(hi.min(1e15)).abs() + 1.0);
        let cheaper_at = |v: f64| d0 + d1 * v <= tolerance;
        // The sub-range of [lo, hi] where a ≤ b (a line is ≤ 0 on one side of its root).
        let root = if d1 != 0.0 { -d0 / d1 } else { f64::NAN };
        let range = if d1 == 0.0 {
            cheaper_at(lo).then_some((lo, hi))
        } else if d1 < 0.0 {
            let from = root.max(lo);
            (from <= hi).then_some((from, hi))
        } else {
            let to = root.min(hi);
            (to >= lo).then_some((lo, to))
        };
        match (&mut found, range) {
            (None, Some((from, to))) => {
                let start_here = CheaperRange {
                    from,
                    to: None,
                    units: sa.units,
                };
                if to < hi {
                    return Some(CheaperRange {
                        to: Some(to),
                        ..start_here
                    });
                }
                found = Some(start_here);
            }
            (Some(_), Some((from, to))) if from <= lo && to >= hi => {}
            (Some(range), Some((from, to))) => {
                range.to = Some(if from > lo { lo } else { to });
                return found;
            }
            (Some(range), None) => {
                range.to = Some(lo);
                return found;
            }
            (None, None) => {}
        }
    }
    found
}

/// The two curves' segments cut at each other's ends: (from, to, segment of a, segment of b).
fn merged<'c>(a: &'c CostCurve, b: &'c CostCurve) -> Vec<(f64, f64, &'c Segment, &'c Segment)> {
    let mut cuts: Vec<f64> = a.segments.iter().chain(&b.segments).map(|s| s.to).collect();
    cuts.push(0.0);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let mut out = Vec::new();
    for pair in cuts.windows(2) {
        let (lo, hi) = (pair[0], pair[1]);
        let probe = if hi.is_finite() { (lo + hi) / 2.0 } else { lo + 1.0 };
        if let (Some(sa), Some(sb)) = (a.segment_at(probe), b.segment_at(probe)) {
            out.push((lo, hi, sa, sb));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{Capacity, Commitment};

    #[test]
    fn a_step_function_can_be_cheaper_over_a_range_only() {
        // 5 units bought up front, each serving little: cheaper than per-token only between two volumes.
        let month = Month {
            hours: 730.0,
            peak_factor: 2.0,
        };
        let tokens = TokensPerRequest {
            input: 100.0,
            output: 0.0,
            cache_read: 0.0,
            cache_write: 0.0,
        };
        let units = Serving::Provisioned {
            model_units: 5,
            commitment: Commitment::None,
            per_unit_hour: 1.0,
            storage_per_month: 0.0,
            capacity: Capacity {
                tokens_per_minute_per_unit: Some(1_000.0),
                requests_per_minute_per_unit: None,
            },
        };
        let per_token = Serving::PerToken {
            input_per_million: 100.0,
            output_per_million: 0.0,
            cache_read_per_million: None,
            cache_write_per_million: None,
            storage_per_month: 0.0,
        };
        let a = cost_curve(&units, &tokens, &month, 0.0).unwrap();
        let b = cost_curve(&per_token, &tokens, &month, 0.0).unwrap();
        // 5 units: $3,650; per token $0.01 a request → equal at 365,000. One unit serves 10 × 60 × 730 ÷ 2 = 219,000,
        // so 5 serve 1,095,000; the 6th unit costs $730 for 219,000 requests that per-token serves for $2,190: it stays
        // cheaper from 365,000 on.
        let range = first_cheaper_range(&a, &b, 0.0).unwrap();
        assert!((range.from - 365_000.0).abs() < 1e-6, "{range:?}");
        assert_eq!((range.to, range.units), (None, Some(5)));
        // Against per-token billing with a large fixed part ($10,000 + $0.001 a request), the units are cheaper from the
        // first request until the 20th unit: 19 units ($13,870) serve 4,161,000 requests, where the other costs
        // $14,161; the 20th unit ($14,600) costs more than the other's $14,161 to $14,380 over its range.
        let fixed = Serving::PerToken {
            input_per_million: 10.0,
            output_per_million: 0.0,
            cache_read_per_million: None,
            cache_write_per_million: None,
            storage_per_month: 10_000.0,
        };
        let c = cost_curve(&fixed, &tokens, &month, 0.0).unwrap();
        let range = first_cheaper_range(&a, &c, 0.0).unwrap();
        assert_eq!((range.from, range.units), (0.0, Some(5)));
        assert!((range.to.unwrap() - 4_161_000.0).abs() < 1e-6, "{range:?}");
    }
}
