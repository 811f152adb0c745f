//! Cost: what each config costs at the team's monthly volume, per quality point, and where a fine-tuned model on
//! Provisioned Throughput becomes cheaper than on-demand configs. Every formula is in `docs/cost-model.md`.
//!
//! Pure: prices, measured token usage and quality in; numbers out. A model without a price is *unpriced* (a
//! warning, and no cost figures), never costed as zero.

pub mod catalogue;
pub mod estimate;

use serde::Serialize;

pub use catalogue::{base_model_id, Catalogue, Commitment, ModelPrice, TokenPrices};

use crate::stats::Interval;
use crate::suite::schema::{ConfigKind, CostSection, CustomServing};

/// Tokens in a million.
const MILLION: f64 = 1_000_000.0;

/// Most model units the break-even search considers when capacity grows with volume.
pub const MAX_MODEL_UNITS: u32 = 1_000;

/// How a config is served and billed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "billing")]
pub enum Serving {
    /// Per token (a base model, an inference profile, or a custom-model deployment).
    PerToken {
        /// USD per million input tokens.
        input_per_million: f64,
        /// USD per million output tokens.
        output_per_million: f64,
        /// Monthly storage fee (custom-model deployments).
        storage_per_month: f64,
    },
    /// Provisioned Throughput: model units billed by the hour whether or not traffic flows.
    Provisioned {
        /// Model units bought.
        model_units: u32,
        /// Commitment term.
        commitment: Commitment,
        /// USD per model unit per hour at that term.
        per_unit_hour: f64,
        /// Monthly storage fee of the custom model.
        storage_per_month: f64,
        /// Tokens per minute one model unit serves, when the suite states it.
        tokens_per_minute_per_unit: Option<f64>,
    },
    /// No price is known; the config is left out of every cost figure.
    Unpriced {
        /// Why.
        reason: String,
    },
}

/// A config's measured usage: replies and their tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Usage {
    /// Replies measured.
    pub replies: usize,
    /// Input tokens over them.
    pub input_tokens: u64,
    /// Output tokens over them.
    pub output_tokens: u64,
}

impl Usage {
    /// Mean input and output tokens per request; `None` without replies.
    pub fn per_request(&self) -> Option<(f64, f64)> {
        (self.replies > 0).then(|| {
            let n = self.replies as f64;
            (self.input_tokens as f64 / n, self.output_tokens as f64 / n)
        })
    }
}

/// One config's cost at one monthly volume.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostAtVolume {
    /// Requests per month.
    pub monthly_requests: f64,
    /// Total monthly cost.
    pub monthly_cost: f64,
    /// Cost per request (monthly cost ÷ requests).
    pub per_request: f64,
    /// Cost per 1,000 requests.
    pub per_thousand: f64,
    /// Model units the volume needs at the stated peak (Provisioned Throughput with a stated capacity per unit).
    pub model_units_needed: Option<u32>,
}

/// Everything the report says about one config's cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigCost {
    /// Config name.
    pub config: String,
    /// How it is billed.
    pub serving: Serving,
    /// Mean tokens per request, measured.
    pub tokens_per_request: Option<(f64, f64)>,
    /// Token cost of one request (0 on Provisioned Throughput).
    pub variable_per_request: Option<f64>,
    /// Fixed monthly cost (model units × hourly × hours, storage).
    pub fixed_per_month: Option<f64>,
    /// At each volume of the suite's `cost.monthly_requests`, in order.
    pub at_volumes: Vec<CostAtVolume>,
    /// Cost per 1,000 requests at the first volume ÷ mean quality points.
    pub per_quality_point: Option<f64>,
    /// Its interval, from the quality interval (cost ÷ upper, cost ÷ lower).
    pub per_quality_point_interval: Option<Interval>,
    /// Against the baseline at the first volume: extra cost per 1,000 requests ÷ extra quality points; `None` for
    /// the baseline, or when not more quality.
    pub incremental_per_point: Option<f64>,
}

/// Where a custom config on Provisioned Throughput becomes cheaper than an on-demand config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakEven {
    /// The custom config.
    pub custom: String,
    /// The per-token config it is compared with.
    pub on_demand: String,
    /// Monthly volume above which the custom config is cheaper, at its configured model units; `None`: never.
    pub volume: Option<f64>,
    /// Requests per month the configured units can serve at the stated peak, when the suite states capacity.
    pub capacity: Option<f64>,
    /// When the break-even lies beyond that capacity: the volume and units at which adding units still pays off.
    pub with_more_units: Option<(f64, u32)>,
    /// The answer in words.
    pub summary: String,
}

/// What this run itself cost: generation per config and the judge.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RunCost {
    /// Per config: its token cost, or why there is none (unpriced, or billed by the hour).
    pub generation: Vec<(String, Option<f64>, Option<String>)>,
    /// The judge's token cost, when there is a judge and it is priced.
    pub judge: Option<f64>,
    /// Sum of the priced parts.
    pub total_priced: f64,
}

/// The monthly cost of a config billed as `serving` at `volume` requests with `tokens` per request.
fn monthly(serving: &Serving, tokens: (f64, f64), volume: f64, hours: f64) -> Option<f64> {
    let (variable, fixed) = components(serving, tokens, hours)?;
    Some(fixed + variable * volume)
}

/// (cost per request, fixed monthly cost).
fn components(serving: &Serving, (input, output): (f64, f64), hours: f64) -> Option<(f64, f64)> {
    match serving {
        Serving::PerToken {
            input_per_million,
            output_per_million,
            storage_per_month,
        } => Some((
            (input * input_per_million + output * output_per_million) / MILLION,
            *storage_per_month,
        )),
        Serving::Provisioned {
            model_units,
            per_unit_hour,
            storage_per_month,
            ..
        } => Some((0.0, f64::from(*model_units) * per_unit_hour * hours + storage_per_month)),
        Serving::Unpriced { .. } => None,
    }
}

/// Requests per month `units` model units serve when a request uses `tokens_per_request` tokens, at a peak rate
/// `peak_factor` times the average.
fn capacity(units: u32, tokens_per_minute_per_unit: f64, tokens_per_request: f64, peak_factor: f64, hours: f64) -> f64 {
    f64::from(units) * tokens_per_minute_per_unit / tokens_per_request / peak_factor * 60.0 * hours
}

/// Whether a config is served on Provisioned Throughput: a custom model addressed by anything but a custom-model
/// deployment ARN (those are billed per token).
pub fn is_provisioned(kind: ConfigKind, model: &str) -> bool {
    kind == ConfigKind::Custom && !model.contains(":custom-model-deployment/")
}

/// How one call of a config is billed, for what a run costs (not what serving it a month costs): as [`serving`],
/// except that a Provisioned Throughput config costs nothing per call whether or not its units and hourly price are
/// known, since the units are billed by the hour.
pub fn per_call_serving(
    kind: ConfigKind,
    config: &str,
    model: &str,
    custom: Option<&CustomServing>,
    catalogue: &Catalogue,
) -> Serving {
    if is_provisioned(kind, model) {
        return Serving::Provisioned {
            model_units: 0,
            commitment: Commitment::None,
            per_unit_hour: 0.0,
            storage_per_month: 0.0,
            tokens_per_minute_per_unit: None,
        };
    }
    serving(kind, config, model, custom, catalogue)
}

/// How a config is billed, from its kind, model, the suite's `cost.custom` entry and the catalogue.
pub fn serving(
    kind: ConfigKind,
    config: &str,
    model: &str,
    custom: Option<&CustomServing>,
    catalogue: &Catalogue,
) -> Serving {
    let unpriced = |reason: String| Serving::Unpriced { reason };
    // A price keyed by the model itself (e.g. an ARN in `cost.prices`) comes first, then the base model's.
    let base = custom.and_then(|c| c.base_model.as_deref());
    let own = catalogue.get(model);
    let base_row = base.and_then(|b| catalogue.get(b));
    match kind {
        ConfigKind::Custom if is_provisioned(kind, model) => {
            let Some(custom) = custom else {
                return unpriced(format!("no `cost.custom.{config}` entry (model units, commitment)"));
            };
            let Some(units) = custom.model_units else {
                return unpriced(format!("`cost.custom.{config}.model_units` is not set"));
            };
            let hourly = own
                .and_then(|r| r.provisioned_per_unit_hour.get(&custom.commitment))
                .or_else(|| base_row.and_then(|r| r.provisioned_per_unit_hour.get(&custom.commitment)));
            let Some(&per_unit_hour) = hourly else {
                return unpriced(format!(
                    "no Provisioned Throughput price for {} at commitment {}; set \
                     `cost.prices.<model>.provisioned_per_unit_hour`",
                    base.unwrap_or(model),
                    custom.commitment.as_str()
                ));
            };
            Serving::Provisioned {
                model_units: units,
                commitment: custom.commitment,
                per_unit_hour,
                storage_per_month: custom
                    .storage_per_month
                    .or_else(|| base_row.and_then(|r| r.custom_storage_per_month))
                    .unwrap_or(0.0),
                tokens_per_minute_per_unit: custom.tokens_per_minute_per_unit,
            }
        }
        ConfigKind::Custom => {
            let prices = own
                .map(ModelPrice::on_demand)
                .and_then(|p| p.both())
                .or_else(|| base_row.and_then(|r| r.custom_on_demand).and_then(|p| p.both()));
            match prices {
                Some((input, output)) => Serving::PerToken {
                    input_per_million: input,
                    output_per_million: output,
                    storage_per_month: custom
                        .and_then(|c| c.storage_per_month)
                        .or_else(|| base_row.and_then(|r| r.custom_storage_per_month))
                        .unwrap_or(0.0),
                },
                None => unpriced(format!(
                    "no on-demand price for the custom-model deployment; set `cost.custom.{config}.base_model` to a \
                     model with `custom_on_demand` prices, or `cost.prices` for it"
                )),
            }
        }
        ConfigKind::Prompt | ConfigKind::FewShot => match own.map(ModelPrice::on_demand).and_then(|p| p.both()) {
            Some((input, output)) => Serving::PerToken {
                input_per_million: input,
                output_per_million: output,
                storage_per_month: 0.0,
            },
            None => unpriced(format!("no on-demand price for `{model}`; add it under `cost.prices`")),
        },
    }
}

/// One config's inputs to the cost model.
#[derive(Debug, Clone)]
pub struct ConfigInput<'a> {
    /// Config name.
    pub config: &'a str,
    /// How it is billed.
    pub serving: Serving,
    /// Measured usage.
    pub usage: Usage,
    /// Mean quality points and their interval.
    pub quality: Option<(f64, Option<Interval>)>,
}

/// Costs every config at every volume; `baseline` names the config incremental costs are measured against.
pub fn config_costs(inputs: &[ConfigInput], baseline: &str, section: &CostSection) -> Vec<ConfigCost> {
    let hours = section.hours_per_month;
    let volumes = section.monthly_requests.values();
    let mut costs: Vec<ConfigCost> = inputs
        .iter()
        .map(|input| {
            let tokens = input.usage.per_request();
            let parts = tokens.and_then(|t| components(&input.serving, t, hours));
            let at_volumes: Vec<CostAtVolume> = match (parts, tokens) {
                (Some((variable, fixed)), Some(t)) => volumes
                    .iter()
                    .map(|&v| {
                        let monthly_cost = fixed + variable * v;
                        CostAtVolume {
                            monthly_requests: v,
                            monthly_cost,
                            per_request: monthly_cost / v,
                            per_thousand: monthly_cost / v * 1000.0,
                            model_units_needed: units_needed(&input.serving, t, v, section),
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let first = at_volumes.first().map(|c| c.per_thousand);
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
            ConfigCost {
                config: input.config.to_string(),
                serving: input.serving.clone(),
                tokens_per_request: tokens,
                variable_per_request: parts.map(|p| p.0),
                fixed_per_month: parts.map(|p| p.1),
                at_volumes,
                per_quality_point,
                per_quality_point_interval,
                incremental_per_point: None,
            }
        })
        .collect();
    let reference = inputs
        .iter()
        .zip(&costs)
        .find(|(i, _)| i.config == baseline)
        .and_then(|(i, c)| Some((i.quality?.0, c.at_volumes.first()?.per_thousand)));
    if let Some((base_points, base_cost)) = reference {
        for (input, cost) in inputs.iter().zip(costs.iter_mut()) {
            let (Some((points, _)), Some(at)) = (input.quality, cost.at_volumes.first()) else {
                continue;
            };
            if input.config != baseline && points > base_points {
                cost.incremental_per_point = Some((at.per_thousand - base_cost) / (points - base_points));
            }
        }
    }
    costs
}

fn units_needed(serving: &Serving, tokens: (f64, f64), volume: f64, section: &CostSection) -> Option<u32> {
    let Serving::Provisioned {
        tokens_per_minute_per_unit: Some(per_unit),
        ..
    } = serving
    else {
        return None;
    };
    let peak_tokens_per_minute =
        volume / (section.hours_per_month * 60.0) * section.peak_factor * (tokens.0 + tokens.1);
    Some(((peak_tokens_per_minute / per_unit).ceil() as u32).max(1))
}

/// Break-even of each Provisioned Throughput config against each per-token config.
pub fn break_evens(costs: &[ConfigCost], section: &CostSection) -> Vec<BreakEven> {
    let hours = section.hours_per_month;
    let mut out = Vec::new();
    for custom in costs
        .iter()
        .filter(|c| matches!(c.serving, Serving::Provisioned { .. }))
    {
        let Serving::Provisioned {
            model_units,
            per_unit_hour,
            storage_per_month,
            tokens_per_minute_per_unit,
            ..
        } = custom.serving
        else {
            continue;
        };
        let (Some(fixed), Some(tokens)) = (custom.fixed_per_month, custom.tokens_per_request) else {
            continue;
        };
        for other in costs.iter().filter(|c| matches!(c.serving, Serving::PerToken { .. })) {
            let (Some(variable), Some(other_fixed)) = (other.variable_per_request, other.fixed_per_month) else {
                continue;
            };
            let volume = (variable > 0.0).then(|| (fixed - other_fixed).max(0.0) / variable);
            let cap = tokens_per_minute_per_unit
                .map(|tpm| capacity(model_units, tpm, tokens.0 + tokens.1, section.peak_factor, hours));
            let mut with_more_units = None;
            let summary = match (volume, cap) {
                (None, _) => format!("never: {} costs nothing per request", other.config),
                (Some(v), Some(c)) if v > c => {
                    // Capacity runs out first: look for a unit count whose break-even lies within its capacity.
                    let per_unit = tokens_per_minute_per_unit.unwrap_or(f64::INFINITY);
                    with_more_units = (model_units + 1..=MAX_MODEL_UNITS).find_map(|u| {
                        let f = f64::from(u) * per_unit_hour * hours + storage_per_month;
                        let v = (f - other_fixed).max(0.0) / variable;
                        let served = capacity(u, per_unit, tokens.0 + tokens.1, section.peak_factor, hours);
                        (v <= served).then_some((v, u))
                    });
                    match with_more_units {
                        Some((v2, u)) => format!(
                            "never at {model_units} model unit(s): they serve {} requests/month, below the break-even \
                             of {}; with {u} units it breaks even at {} requests/month",
                            round_volume(c),
                            round_volume(v),
                            round_volume(v2)
                        ),
                        None => format!(
                            "never: capacity runs out first ({model_units} unit(s) serve {} requests/month; the \
                             break-even of {} would need {} units, and more units never catch up)",
                            round_volume(c),
                            round_volume(v),
                            units_needed(&custom.serving, tokens, v, section).map_or("?".into(), |u| u.to_string())
                        ),
                    }
                }
                (Some(v), _) => format!("above {} requests/month", round_volume(v)),
            };
            let volume = match (volume, cap) {
                (Some(v), Some(c)) if v > c => None,
                (v, _) => v,
            };
            out.push(BreakEven {
                custom: custom.config.clone(),
                on_demand: other.config.clone(),
                volume,
                capacity: cap,
                with_more_units,
                summary,
            });
        }
    }
    out
}

/// A volume rounded up to a whole request, with thousands separators.
pub fn round_volume(volume: f64) -> String {
    let whole = volume.ceil() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The cost of the run itself: each config's measured tokens at its per-token price, and the judge's.
pub fn run_cost(inputs: &[ConfigInput], judge: Option<(&str, Usage)>, catalogue: &Catalogue) -> RunCost {
    let mut total = 0.0;
    let generation = inputs
        .iter()
        .map(|input| {
            let tokens = (input.usage.input_tokens as f64, input.usage.output_tokens as f64);
            match &input.serving {
                Serving::PerToken {
                    input_per_million,
                    output_per_million,
                    ..
                } => {
                    let cost = (tokens.0 * input_per_million + tokens.1 * output_per_million) / MILLION;
                    total += cost;
                    (input.config.to_string(), Some(cost), None)
                }
                Serving::Provisioned { .. } => (
                    input.config.to_string(),
                    Some(0.0),
                    Some("Provisioned Throughput: no per-token charge; the model units are billed by the hour".into()),
                ),
                Serving::Unpriced { reason } => (input.config.to_string(), None, Some(reason.clone())),
            }
        })
        .collect();
    let judge = judge.and_then(|(model, usage)| {
        let (input, output) = catalogue.get(model)?.on_demand().both()?;
        let cost = (usage.input_tokens as f64 * input + usage.output_tokens as f64 * output) / MILLION;
        total += cost;
        Some(cost)
    });
    RunCost {
        generation,
        judge,
        total_priced: total,
    }
}

/// The monthly cost of `serving` at each of `volumes`, for the sensitivity chart.
pub fn monthly_costs(serving: &Serving, tokens: (f64, f64), volumes: &[f64], hours: f64) -> Vec<Option<f64>> {
    volumes.iter().map(|&v| monthly(serving, tokens, v, hours)).collect()
}

#[cfg(test)]
mod tests;
