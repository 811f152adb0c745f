//! Each config's cost at the suite's volumes, per quality point, every serving option of a custom config side by
//! side, its fine-tuning job amortized, its payback, and the break-evens against the per-token configs.

use serde::Serialize;

use super::model::{cost_curve, first_cheaper_range, per_token_cost, CostCurve, MAX_MODEL_UNITS};
use super::serving::{Serving, ServingOption};
use super::{round_volume, CostParams, TokensPerRequest, Usage};
use crate::stats::Interval;

/// The fine-tuning job's one-time cost: tokens trained × its price, spread over `amortize_months`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Training {
    /// Priced.
    Priced {
        /// Tokens in the training file (counted as `data check` counts them).
        tokens: u64,
        /// Epochs.
        epochs: u32,
        /// USD per million tokens trained.
        per_million_tokens: f64,
        /// tokens × epochs × price.
        cost: f64,
        /// Months it is spread over.
        amortize_months: f64,
        /// cost ÷ months.
        per_month: f64,
    },
    /// Not priced: the report says so and names the keys; the serving figures leave it out.
    Unpriced {
        /// Why.
        reason: String,
        /// The suite keys that would price it.
        keys: Vec<String>,
    },
}

impl Training {
    /// Priced from its parts.
    pub fn priced(tokens: u64, epochs: u32, per_million_tokens: f64, amortize_months: f64) -> Training {
        let cost = tokens as f64 * f64::from(epochs) * per_million_tokens / 1_000_000.0;
        Training::Priced {
            tokens,
            epochs,
            per_million_tokens,
            cost,
            amortize_months,
            per_month: cost / amortize_months,
        }
    }

    fn per_month(&self) -> f64 {
        match self {
            Training::Priced { per_month, .. } => *per_month,
            Training::Unpriced { .. } => 0.0,
        }
    }
}

/// One config's inputs to the cost model.
#[derive(Debug, Clone)]
pub struct ConfigInput<'a> {
    /// Config name.
    pub config: &'a str,
    /// How it is billed as the suite serves it.
    pub serving: Serving,
    /// For a custom config, every way it could be served (the configured one included); empty otherwise.
    pub options: Vec<ServingOption>,
    /// Measured usage.
    pub usage: Usage,
    /// Mean quality points and their interval.
    pub quality: Option<(f64, Option<Interval>)>,
    /// The fine-tuning job, for a custom config.
    pub training: Option<Training>,
}

/// One config's cost at one monthly volume.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostAtVolume {
    /// Requests per month.
    pub monthly_requests: f64,
    /// Total monthly cost (the fine-tuning job amortized in).
    pub monthly_cost: f64,
    /// Cost per request (monthly cost ÷ requests).
    pub per_request: f64,
    /// Cost per 1,000 requests.
    pub per_thousand: f64,
    /// Model units (or imported copies) the volume needs; `None` for per-token billing.
    pub model_units: Option<u32>,
}

/// One serving option of a custom config at each volume.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionCost {
    /// The option.
    #[serde(flatten)]
    pub option: ServingOption,
    /// At each volume (`None`: unpriced, or beyond what [`MAX_MODEL_UNITS`] serve).
    pub at_volumes: Vec<Option<CostAtVolume>>,
    /// Whether it is the cheapest priced option at each volume.
    pub cheapest: Vec<bool>,
    /// Its cost curve.
    #[serde(skip)]
    pub curve: Option<CostCurve>,
}

/// How long the fine-tuning job takes to pay for itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payback {
    /// The cheapest per-token config at the main volume, whose monthly cost the custom config saves against.
    pub against: String,
    /// Months; `None`: never (serving the custom config costs no less than the other).
    pub months: Option<f64>,
}

/// Everything the report says about one config's cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigCost {
    /// Config name.
    pub config: String,
    /// How it is billed as configured.
    pub serving: Serving,
    /// A custom config's serving options side by side.
    pub options: Vec<OptionCost>,
    /// Mean tokens per request, measured.
    pub tokens_per_request: Option<TokensPerRequest>,
    /// Token cost of one request (0 on Provisioned Throughput).
    pub variable_per_request: Option<f64>,
    /// Fixed monthly cost at the configured units (units × hourly × hours, storage, the job amortized).
    pub fixed_per_month: Option<f64>,
    /// Requests a month one unit serves, when capacity is stated.
    pub per_unit_capacity: Option<f64>,
    /// Whether units are billed whose capacity the suite does not state.
    pub capacity_unknown: bool,
    /// The fine-tuning job.
    pub training: Option<Training>,
    /// At each volume of the suite, in order (`None`: unpriced, or beyond what the units can serve).
    pub at_volumes: Vec<Option<CostAtVolume>>,
    /// Cost per 1,000 requests at the first volume ÷ mean quality points.
    pub per_quality_point: Option<f64>,
    /// Its interval, from the quality interval (cost ÷ upper, cost ÷ lower).
    pub per_quality_point_interval: Option<Interval>,
    /// Against the baseline at the first volume: extra cost per 1,000 requests ÷ extra quality points; `None` for
    /// the baseline, or when not more quality.
    pub incremental_per_point: Option<f64>,
    /// The fine-tuning job's payback, for a custom config whose job is priced.
    pub payback: Option<Payback>,
    /// The configured serving's cost curve.
    #[serde(skip)]
    pub curve: Option<CostCurve>,
}

impl ConfigCost {
    /// Its figures at the main volume.
    pub fn main(&self) -> Option<&CostAtVolume> {
        self.at_volumes.first().and_then(Option::as_ref)
    }

    /// Whether it is a custom config (it has serving options).
    pub fn is_custom(&self) -> bool {
        !self.options.is_empty()
    }

    /// Its cheapest way of being served at the main volume: (the option's label for a custom config, monthly cost,
    /// cost curve).
    pub fn cheapest_at_main(&self) -> Option<(Option<&str>, f64, &CostCurve)> {
        if !self.is_custom() {
            return Some((None, self.main()?.monthly_cost, self.curve.as_ref()?));
        }
        self.options
            .iter()
            .filter_map(|o| {
                Some((
                    Some(o.option.label.as_str()),
                    o.at_volumes.first().copied().flatten()?.monthly_cost,
                    o.curve.as_ref()?,
                ))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

fn at_volume(curve: &CostCurve, volume: f64) -> Option<CostAtVolume> {
    let segment = curve.segment_at(volume)?;
    let monthly_cost = curve.monthly(volume)?;
    Some(CostAtVolume {
        monthly_requests: volume,
        monthly_cost,
        per_request: monthly_cost / volume,
        per_thousand: monthly_cost / volume * 1000.0,
        model_units: segment.units,
    })
}

/// Costs every config at every volume; `baseline` names the config incremental costs are measured against.
pub fn config_costs(inputs: &[ConfigInput], baseline: &str, params: &CostParams) -> Vec<ConfigCost> {
    let mut costs: Vec<ConfigCost> = inputs.iter().map(|input| config_cost(input, params)).collect();
    let reference = inputs
        .iter()
        .zip(&costs)
        .find(|(i, _)| i.config == baseline)
        .and_then(|(i, c)| Some((i.quality?.0, c.main()?.per_thousand)));
    if let Some((base_points, base_cost)) = reference {
        for (input, cost) in inputs.iter().zip(costs.iter_mut()) {
            let (Some((points, _)), Some(at)) = (input.quality, cost.main()) else {
                continue;
            };
            if input.config != baseline && points > base_points {
                cost.incremental_per_point = Some((at.per_thousand - base_cost) / (points - base_points));
            }
        }
    }
    let paybacks: Vec<Option<Payback>> = costs.iter().map(|c| payback(c, &costs, baseline)).collect();
    for (cost, payback) in costs.iter_mut().zip(paybacks) {
        cost.payback = payback;
    }
    costs
}

fn config_cost(input: &ConfigInput, params: &CostParams) -> ConfigCost {
    let tokens = input.usage.per_request();
    let amortized = input.training.as_ref().map_or(0.0, Training::per_month);
    let curve = tokens.and_then(|t| cost_curve(&input.serving, &t, &params.month, amortized));
    let at_volumes: Vec<Option<CostAtVolume>> = params
        .volumes
        .iter()
        .map(|&v| curve.as_ref().and_then(|c| at_volume(c, v)))
        .collect();
    let first = at_volumes.first().copied().flatten().map(|c| c.per_thousand);
    let (per_quality_point, per_quality_point_interval) = match (first, input.quality) {
        (Some(cost), Some((points, interval))) if points > 0.0 => (
            Some(cost / points),
            interval.filter(|i| i.lower > 0.0).map(|i| Interval {
                lower: cost / i.upper,
                upper: cost / i.lower,
            }),
        ),
        _ => (None, None),
    };
    let options = match tokens {
        Some(t) => option_costs(&input.options, &t, params, amortized),
        None => Vec::new(),
    };
    let first_segment = curve.as_ref().and_then(|c| c.segments.first());
    ConfigCost {
        config: input.config.to_string(),
        serving: input.serving.clone(),
        options,
        tokens_per_request: tokens,
        variable_per_request: tokens.and_then(|t| match &input.serving {
            Serving::PerToken { .. } => per_token_cost(&input.serving, &t),
            _ => first_segment.map(|s| s.per_request),
        }),
        fixed_per_month: first_segment.map(|s| s.fixed),
        per_unit_capacity: curve.as_ref().and_then(|c| c.per_unit_capacity),
        capacity_unknown: curve.as_ref().is_some_and(|c| c.capacity_unknown),
        training: input.training.clone(),
        at_volumes,
        per_quality_point,
        per_quality_point_interval,
        incremental_per_point: None,
        payback: None,
        curve,
    }
}

/// Every serving option at every volume, the cheapest marked.
fn option_costs(
    options: &[ServingOption],
    tokens: &TokensPerRequest,
    params: &CostParams,
    amortized: f64,
) -> Vec<OptionCost> {
    let mut out: Vec<OptionCost> = options
        .iter()
        .map(|option| {
            let curve = cost_curve(&option.serving, tokens, &params.month, amortized);
            OptionCost {
                option: option.clone(),
                curve: curve.clone(),
                at_volumes: params
                    .volumes
                    .iter()
                    .map(|&v| curve.as_ref().and_then(|c| at_volume(c, v)))
                    .collect(),
                cheapest: vec![false; params.volumes.len()],
            }
        })
        .collect();
    for i in 0..params.volumes.len() {
        let best = out
            .iter()
            .enumerate()
            .filter_map(|(j, o)| Some((j, o.at_volumes[i]?.monthly_cost)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((j, _)) = best {
            out[j].cheapest[i] = true;
        }
    }
    out
}

/// The months the fine-tuning job takes to pay for itself at the main volume: against the baseline when it is a
/// per-token config, else against the cheapest per-token config.
fn payback(cost: &ConfigCost, all: &[ConfigCost], baseline: &str) -> Option<Payback> {
    let Some(Training::Priced {
        cost: job, per_month, ..
    }) = &cost.training
    else {
        return None;
    };
    let serving_monthly = cost.main()?.monthly_cost - per_month;
    let per_token = |c: &&ConfigCost| !c.is_custom() && c.main().is_some();
    let (against, other_monthly) = match all.iter().filter(per_token).find(|c| c.config == baseline) {
        Some(base) => (base, base.main()?.monthly_cost),
        None => all
            .iter()
            .filter(per_token)
            .filter_map(|c| Some((c, c.main()?.monthly_cost)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?,
    };
    let saving = other_monthly - serving_monthly;
    Some(Payback {
        against: against.config.clone(),
        months: (saving > 0.0).then(|| job / saving),
    })
}

/// Where a custom config becomes cheaper than a per-token config, on its cost curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakEven {
    /// The custom config.
    pub custom: String,
    /// The per-token config it is compared with.
    pub on_demand: String,
    /// Monthly volume from which the custom config costs no more; `None`: never.
    pub volume: Option<f64>,
    /// Volume past which it costs more again (more units cost more than they save); `None`: it stays cheaper.
    pub until: Option<f64>,
    /// Model units (or imported copies) it needs at that volume.
    pub units: Option<u32>,
    /// Requests a month one unit serves, when capacity is stated.
    pub per_unit_capacity: Option<f64>,
    /// Monthly cost of both at the break-even.
    pub monthly_cost: Option<f64>,
    /// The answer in words.
    pub summary: String,
}

fn unit_words(serving: &Serving, units: u32) -> String {
    let (one, many) = match serving {
        Serving::Imported { .. } => ("model copy", "model copies"),
        _ => ("model unit", "model units"),
    };
    match units {
        1 => format!("1 {one}"),
        n => format!("{} {many}", round_volume(f64::from(n))),
    }
}

/// Break-even of each custom config against each per-token config: as configured, and on its cheapest serving
/// option at the main volume when that is another one.
pub fn break_evens(costs: &[ConfigCost], params: &CostParams) -> Vec<BreakEven> {
    let mut out = Vec::new();
    for custom in costs.iter().filter(|c| c.is_custom()) {
        let mut sides: Vec<(Option<&str>, &Serving, &CostCurve)> = Vec::new();
        if let Some(curve) = &custom.curve {
            sides.push((None, &custom.serving, curve));
        }
        let cheapest = custom
            .options
            .iter()
            .filter(|o| !o.option.configured)
            .filter_map(|o| {
                Some((
                    o,
                    o.at_volumes.first().copied().flatten()?.monthly_cost,
                    o.curve.as_ref()?,
                ))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let configured_monthly = custom.main().map_or(f64::INFINITY, |m| m.monthly_cost);
        if let Some((option, _, curve)) = cheapest.filter(|c| c.1 < configured_monthly) {
            sides.push((Some(option.option.label.as_str()), &option.option.serving, curve));
        }
        for (label, serving, curve) in sides {
            for other in costs.iter().filter(|c| !c.is_custom()) {
                let Some(other_curve) = &other.curve else { continue };
                let range = first_cheaper_range(curve, other_curve, 0.0);
                out.push(break_even(custom, label, serving, other, curve, range, params));
            }
        }
    }
    out
}

fn break_even(
    custom: &ConfigCost,
    option: Option<&str>,
    serving: &Serving,
    other: &ConfigCost,
    curve: &CostCurve,
    range: Option<super::model::CheaperRange>,
    params: &CostParams,
) -> BreakEven {
    let name = &custom.config;
    let capacity = |units: u32| {
        match (curve.per_unit_capacity, curve.capacity_unknown) {
        (Some(one), _) => format!(
            "on {} (one serves {} requests/month at peak factor {})",
            unit_words(serving, units),
            round_volume(one),
            params.month.peak_factor
        ),
        (None, true) => format!(
            "at {}, if they can serve it: their capacity is not stated (set `cost.custom.{name}.tokens_per_minute_per_unit` \
             or `requests_per_minute_per_unit`)",
            unit_words(serving, units)
        ),
        (None, false) => String::new(),
    }
    };
    let summary = match range {
        None => match (curve.per_unit_capacity, serving) {
            (Some(one), _) => format!(
                "never: it costs more than {} at every volume up to what {} serve ({} requests/month)",
                other.config,
                unit_words(serving, MAX_MODEL_UNITS),
                round_volume(one * f64::from(MAX_MODEL_UNITS))
            ),
            (None, Serving::PerToken { .. }) => format!("never: it costs more per request than {}", other.config),
            (None, _) => {
                let units = curve.segments.first().and_then(|s| s.units).unwrap_or(1);
                format!("never at {}", unit_words(serving, units))
            }
        },
        Some(r) => {
            let from = if r.from <= 0.0 {
                "at any volume".to_string()
            } else {
                format!("above {} requests/month", round_volume(r.from))
            };
            let on = r.units.map(|u| format!(" {}", capacity(u))).unwrap_or_default();
            let until = r.to.map_or(String::new(), |to| {
                format!(
                    ", until {} requests/month (beyond, added units cost more than they save)",
                    round_volume(to)
                )
            });
            format!("{from}{on}{until}").replace("  ", " ")
        }
    };
    BreakEven {
        custom: match option {
            Some(label) => format!("{} ({label})", custom.config),
            None => custom.config.clone(),
        },
        on_demand: other.config.clone(),
        volume: range.map(|r| r.from),
        until: range.and_then(|r| r.to),
        units: range.and_then(|r| r.units),
        per_unit_capacity: curve.per_unit_capacity,
        monthly_cost: range.and_then(|r| curve.monthly(r.from.max(1.0))),
        summary,
    }
}
