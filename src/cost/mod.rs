//! Cost: what each config costs at the team's monthly volume, per quality point, every way a fine-tuned config
//! could be served, the fine-tuning job's own cost, and where one config becomes cheaper than another. Every formula
//! is in `docs/cost-model.md`.
//!
//! Pure: prices, measured token usage and quality in; numbers out. A model without a price is *unpriced* (a
//! warning naming the suite keys that would price it, and no cost figures), never costed as zero.

pub mod catalogue;
pub mod configs;
pub mod estimate;
pub mod model;
pub mod recommend;
pub mod serving;

use serde::{Deserialize, Serialize};

pub use catalogue::{base_model_id, Catalogue, Commitment, ModelPrice, TokenPrices};
pub use configs::{break_evens, config_costs, BreakEven, ConfigCost, ConfigInput, CostAtVolume, OptionCost, Training};
pub use model::{CostCurve, Month, MAX_MODEL_UNITS};
pub use serving::{is_provisioned, per_call_serving, serving, serving_options, Capacity, Serving, ServingOption};

use crate::suite::schema::CostSection;

/// Tokens in a million.
const MILLION: f64 = 1_000_000.0;

/// A config's measured usage: replies and their tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Usage {
    /// Replies measured.
    pub replies: usize,
    /// Input tokens over them (not read from or written to the prompt cache).
    pub input_tokens: u64,
    /// Output tokens over them.
    pub output_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read_tokens: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write_tokens: u64,
}

/// Mean tokens of one request, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TokensPerRequest {
    /// Input tokens billed at the input rate.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Input tokens read from the prompt cache.
    pub cache_read: f64,
    /// Input tokens written to the prompt cache.
    pub cache_write: f64,
}

impl TokensPerRequest {
    /// Every token the model processes for one request (what capacity is spent on).
    pub fn total(&self) -> f64 {
        self.input + self.output + self.cache_read + self.cache_write
    }
}

impl Usage {
    /// Mean tokens per request; `None` without replies.
    pub fn per_request(&self) -> Option<TokensPerRequest> {
        (self.replies > 0).then(|| {
            let n = self.replies as f64;
            TokensPerRequest {
                input: self.input_tokens as f64 / n,
                output: self.output_tokens as f64 / n,
                cache_read: self.cache_read_tokens as f64 / n,
                cache_write: self.cache_write_tokens as f64 / n,
            }
        })
    }
}

/// The cost model's settings: the suite's `cost:` section, or its defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostParams {
    /// Monthly volumes; the first is the main one.
    pub volumes: Vec<f64>,
    /// Whether the suite stated them (else the default volume is used, and the report says so).
    pub volumes_stated: bool,
    /// The month: hours and peak factor.
    pub month: Month,
    /// Months one-time costs are spread over.
    pub amortize_months: f64,
}

impl CostParams {
    /// From the suite's section (its defaults when the suite has none).
    pub fn of(section: Option<&CostSection>) -> CostParams {
        let default = CostSection::default();
        let section = section.unwrap_or(&default);
        CostParams {
            volumes: section.volumes(),
            volumes_stated: section.monthly_requests.is_some(),
            month: Month {
                hours: section.hours_per_month,
                peak_factor: section.peak_factor,
            },
            amortize_months: section.amortize_months,
        }
    }

    /// The main volume.
    pub fn main_volume(&self) -> f64 {
        self.volumes.first().copied().unwrap_or(schema_default())
    }
}

fn schema_default() -> f64 {
    crate::suite::schema::DEFAULT_MONTHLY_REQUESTS
}

/// What this run itself cost: generation per config and the judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunCost {
    /// Per config: its token cost, or why there is none (unpriced, or billed by the hour).
    pub generation: Vec<(String, Option<f64>, Option<String>)>,
    /// The judge's token cost, when there is a judge and it is priced.
    pub judge: Option<f64>,
    /// Sum of the priced parts.
    pub total_priced: f64,
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
            let all = TokensPerRequest {
                input: input.usage.input_tokens as f64,
                output: input.usage.output_tokens as f64,
                cache_read: input.usage.cache_read_tokens as f64,
                cache_write: input.usage.cache_write_tokens as f64,
            };
            match &input.serving {
                Serving::PerToken { .. } => match model::per_token_cost(&input.serving, &all) {
                    Some(cost) => {
                        total += cost;
                        (input.config.to_string(), Some(cost), None)
                    }
                    None => (
                        input.config.to_string(),
                        None,
                        Some("prompt-cache tokens were used but their rate is unknown".into()),
                    ),
                },
                Serving::Provisioned { .. } => (
                    input.config.to_string(),
                    Some(0.0),
                    Some("Provisioned Throughput: no per-token charge; the model units are billed by the hour".into()),
                ),
                Serving::Imported { .. } => (
                    input.config.to_string(),
                    Some(0.0),
                    Some("Custom Model Import: no per-token charge; billed per model-unit minute while active".into()),
                ),
                Serving::Unpriced { reason, .. } => (input.config.to_string(), None, Some(reason.clone())),
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

#[cfg(test)]
mod tests;
