//! How a config is served and billed: per token, on Provisioned Throughput, through Custom Model Import, or
//! unpriced (with the suite keys that would price it). A custom config is shown with every way it could be served.

use serde::Serialize;

use super::catalogue::{Catalogue, Commitment, ModelPrice};
use crate::suite::schema::{ConfigKind, CustomServing};

/// Throughput one model unit (or one imported model copy) serves, when the suite states it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Capacity {
    /// Input plus output tokens per minute per unit.
    pub tokens_per_minute_per_unit: Option<f64>,
    /// Requests per minute per unit.
    pub requests_per_minute_per_unit: Option<f64>,
}

impl Capacity {
    /// From a config's `cost.custom` entry.
    pub fn of(custom: Option<&CustomServing>) -> Capacity {
        Capacity {
            tokens_per_minute_per_unit: custom.and_then(|c| c.tokens_per_minute_per_unit),
            requests_per_minute_per_unit: custom.and_then(|c| c.requests_per_minute_per_unit),
        }
    }

    /// Requests per minute one unit serves when a request uses `tokens_per_request` tokens: the tighter of the
    /// two limits; `None` when neither is stated.
    pub fn requests_per_minute(&self, tokens_per_request: f64) -> Option<f64> {
        let by_tokens = self.tokens_per_minute_per_unit.map(|t| t / tokens_per_request);
        match (by_tokens, self.requests_per_minute_per_unit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// How a config is served and billed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "billing")]
pub enum Serving {
    /// Per token (a base model, an inference profile, or an on-demand custom-model deployment).
    PerToken {
        /// USD per million input tokens.
        input_per_million: f64,
        /// USD per million output tokens.
        output_per_million: f64,
        /// USD per million input tokens read from the prompt cache, when known.
        cache_read_per_million: Option<f64>,
        /// USD per million input tokens written to the prompt cache, when known.
        cache_write_per_million: Option<f64>,
        /// Monthly storage fee (custom-model deployments).
        storage_per_month: f64,
    },
    /// Provisioned Throughput: model units billed by the hour whether or not traffic flows.
    Provisioned {
        /// Model units bought (at least; more when the volume needs them and capacity is stated).
        model_units: u32,
        /// Commitment term.
        commitment: Commitment,
        /// USD per model unit per hour at that term.
        per_unit_hour: f64,
        /// Monthly storage fee of the custom model.
        storage_per_month: f64,
        /// What one unit serves.
        capacity: Capacity,
    },
    /// Custom Model Import: Custom Model Units billed per minute in 5-minute windows while a copy is active.
    Imported {
        /// Custom Model Units per model copy.
        custom_model_units: u32,
        /// USD per CMU per minute.
        per_cmu_minute: f64,
        /// Monthly storage fee (per-CMU storage × units).
        storage_per_month: f64,
        /// What one model copy serves.
        capacity: Capacity,
    },
    /// No price is known; the config is left out of every cost figure.
    Unpriced {
        /// Why.
        reason: String,
        /// The suite keys that would price it.
        keys: Vec<String>,
    },
}

impl Serving {
    fn unpriced(reason: impl Into<String>, keys: Vec<String>) -> Serving {
        Serving::Unpriced {
            reason: reason.into(),
            keys,
        }
    }

    /// Whether it has a price.
    pub fn is_priced(&self) -> bool {
        !matches!(self, Serving::Unpriced { .. })
    }
}

/// One way a config could be served, for the side-by-side comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServingOption {
    /// What it is, in words ("Provisioned Throughput, 1-month").
    pub label: String,
    /// Whether this is how the config is served in the suite (by its model id or ARN and `cost.custom`).
    pub configured: bool,
    /// Its billing.
    pub serving: Serving,
}

/// How a custom model is addressed, from its ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomAddress {
    /// `…:provisioned-model/…`: Provisioned Throughput.
    Provisioned,
    /// `…:custom-model-deployment/…`: on-demand, per token.
    Deployment,
    /// `…:imported-model/…`: Custom Model Import.
    Imported,
}

impl CustomAddress {
    /// From a custom config's model id or ARN (anything but a deployment or an imported model is provisioned).
    pub fn of(model: &str) -> CustomAddress {
        if model.contains(":custom-model-deployment/") {
            CustomAddress::Deployment
        } else if model.contains(":imported-model/") {
            CustomAddress::Imported
        } else {
            CustomAddress::Provisioned
        }
    }
}

/// Whether a config is served on Provisioned Throughput: a custom model addressed by a provisioned-model ARN (or
/// anything that is neither a custom-model deployment nor an imported model).
pub fn is_provisioned(kind: ConfigKind, model: &str) -> bool {
    kind == ConfigKind::Custom && CustomAddress::of(model) == CustomAddress::Provisioned
}

/// How one call of a config is billed, for what a run costs (not what serving it a month costs): as [`serving`],
/// except that a Provisioned Throughput or imported config costs nothing per call, since its units are billed by
/// the hour or the minute, not per request (`plan` adds the minimum commitment apart).
pub fn per_call_serving(
    kind: ConfigKind,
    config: &str,
    model: &str,
    custom: Option<&CustomServing>,
    catalogue: &Catalogue,
) -> Serving {
    match (kind, CustomAddress::of(model)) {
        (ConfigKind::Custom, CustomAddress::Provisioned) => Serving::Provisioned {
            model_units: 0,
            commitment: Commitment::None,
            per_unit_hour: 0.0,
            storage_per_month: 0.0,
            capacity: Capacity::default(),
        },
        (ConfigKind::Custom, CustomAddress::Imported) => Serving::Imported {
            custom_model_units: 0,
            per_cmu_minute: 0.0,
            storage_per_month: 0.0,
            capacity: Capacity::default(),
        },
        _ => serving(kind, config, model, custom, catalogue),
    }
}

/// How a config is billed as the suite serves it: the configured one of its [`serving_options`].
pub fn serving(
    kind: ConfigKind,
    config: &str,
    model: &str,
    custom: Option<&CustomServing>,
    catalogue: &Catalogue,
) -> Serving {
    serving_options(kind, config, model, custom, catalogue)
        .into_iter()
        .find(|o| o.configured)
        .map(|o| o.serving)
        .unwrap_or_else(|| Serving::unpriced("no serving option", Vec::new()))
}

/// Every way a config could be served: one per-token option for a base model; for a model fine-tuned on Bedrock,
/// Provisioned Throughput at each term and an on-demand custom-model deployment; for an imported model, Custom
/// Model Import. The one the suite uses is marked `configured`.
pub fn serving_options(
    kind: ConfigKind,
    config: &str,
    model: &str,
    custom: Option<&CustomServing>,
    catalogue: &Catalogue,
) -> Vec<ServingOption> {
    if kind != ConfigKind::Custom {
        return vec![ServingOption {
            label: "on-demand, per token".to_string(),
            configured: true,
            serving: per_token(model, catalogue),
        }];
    }
    let address = CustomAddress::of(model);
    let prices = CustomPrices::new(config, model, custom, catalogue);
    if address == CustomAddress::Imported {
        return vec![ServingOption {
            label: "Custom Model Import".to_string(),
            configured: true,
            serving: prices.imported(catalogue),
        }];
    }
    let configured_term = custom.map_or(Commitment::None, |c| c.commitment);
    let mut options: Vec<ServingOption> = [Commitment::None, Commitment::OneMonth, Commitment::SixMonths]
        .into_iter()
        .map(|term| ServingOption {
            label: format!("Provisioned Throughput, {}", term_words(term)),
            configured: address == CustomAddress::Provisioned && term == configured_term,
            serving: prices.provisioned(term),
        })
        .collect();
    options.push(ServingOption {
        label: "on-demand custom-model deployment".to_string(),
        configured: address == CustomAddress::Deployment,
        serving: prices.deployment(),
    });
    options
}

/// "no commitment", "1-month commitment".
pub fn term_words(term: Commitment) -> String {
    match term {
        Commitment::None => "no commitment".to_string(),
        other => format!("{} commitment", other.as_str()),
    }
}

/// The per-token serving of a base model (or inference profile), with its cache rates.
fn per_token(model: &str, catalogue: &Catalogue) -> Serving {
    let row = catalogue.get(model);
    match row.map(ModelPrice::on_demand).and_then(|p| p.both()) {
        Some((input, output)) => Serving::PerToken {
            input_per_million: input,
            output_per_million: output,
            cache_read_per_million: row.and_then(|r| r.cache_read_input_per_million),
            cache_write_per_million: row.and_then(|r| r.cache_write_input_per_million),
            storage_per_month: 0.0,
        },
        None => Serving::unpriced(
            format!("no on-demand price for `{model}`"),
            vec![
                format!("cost.prices.{model}.input_per_million"),
                format!("cost.prices.{model}.output_per_million"),
            ],
        ),
    }
}

/// What prices a custom config's options: its own row (an ARN in `cost.prices`), its base model's row, and its
/// `cost.custom` entry.
struct CustomPrices<'a> {
    config: &'a str,
    custom: Option<&'a CustomServing>,
    own: Option<&'a ModelPrice>,
    base: Option<&'a str>,
    base_row: Option<&'a ModelPrice>,
}

impl<'a> CustomPrices<'a> {
    fn new(
        config: &'a str,
        model: &str,
        custom: Option<&'a CustomServing>,
        catalogue: &'a Catalogue,
    ) -> CustomPrices<'a> {
        let base = custom.and_then(|c| c.base_model.as_deref());
        CustomPrices {
            config,
            custom,
            own: catalogue.get(model),
            base,
            base_row: base.and_then(|b| catalogue.get(b)),
        }
    }

    fn key(&self, field: &str) -> String {
        format!("cost.custom.{}.{field}", self.config)
    }

    /// The key of a price of the base model (`cost.prices.<base>.<field>`), or of setting the base model first.
    fn price_keys(&self, fields: &[&str]) -> Vec<String> {
        match self.base {
            Some(base) => fields.iter().map(|f| format!("cost.prices.{base}.{f}")).collect(),
            None => {
                let mut keys = vec![self.key("base_model")];
                keys.extend(fields.iter().map(|f| format!("cost.prices.<base model>.{f}")));
                keys
            }
        }
    }

    /// The monthly storage fee: the suite's, else the catalogue's for the base model; never assumed to be zero.
    fn storage(&self) -> Option<f64> {
        self.custom
            .and_then(|c| c.storage_per_month)
            .or_else(|| self.base_row.and_then(|r| r.custom_storage_per_month))
    }

    fn missing_storage(&self) -> Serving {
        Serving::unpriced(
            "the custom model's monthly storage fee is not known",
            vec![self.key("storage_per_month")],
        )
    }

    fn provisioned(&self, term: Commitment) -> Serving {
        let hourly = self
            .own
            .and_then(|r| r.provisioned_per_unit_hour.get(&term))
            .or_else(|| self.base_row.and_then(|r| r.provisioned_per_unit_hour.get(&term)));
        let Some(&per_unit_hour) = hourly else {
            return Serving::unpriced(
                format!(
                    "no Provisioned Throughput price for {} at {}",
                    self.base.unwrap_or("its base model"),
                    term_words(term)
                ),
                self.price_keys(&[&format!("provisioned_per_unit_hour.{}", term.as_str())]),
            );
        };
        let Some(model_units) = self.custom.and_then(|c| c.model_units) else {
            return Serving::unpriced("model units are not set", vec![self.key("model_units")]);
        };
        let Some(storage_per_month) = self.storage() else {
            return self.missing_storage();
        };
        Serving::Provisioned {
            model_units,
            commitment: term,
            per_unit_hour,
            storage_per_month,
            capacity: Capacity::of(self.custom),
        }
    }

    fn deployment(&self) -> Serving {
        let prices = self
            .own
            .map(ModelPrice::on_demand)
            .and_then(|p| p.both())
            .or_else(|| self.base_row.and_then(|r| r.custom_on_demand).and_then(|p| p.both()));
        let Some((input, output)) = prices else {
            return Serving::unpriced(
                "AWS publishes no per-token price for on-demand deployments of this custom model",
                self.price_keys(&[
                    "custom_on_demand.input_per_million",
                    "custom_on_demand.output_per_million",
                ]),
            );
        };
        let Some(storage_per_month) = self.storage() else {
            return self.missing_storage();
        };
        Serving::PerToken {
            input_per_million: input,
            output_per_million: output,
            cache_read_per_million: None,
            cache_write_per_million: None,
            storage_per_month,
        }
    }

    fn imported(&self, catalogue: &Catalogue) -> Serving {
        let Some(units) = self.custom.and_then(|c| c.custom_model_units) else {
            return Serving::unpriced(
                "the Custom Model Units per model copy are not set (GetImportedModel's customModelUnitsPerModelCopy)",
                vec![self.key("custom_model_units")],
            );
        };
        let rates = &catalogue.custom_model_import;
        Serving::Imported {
            custom_model_units: units,
            per_cmu_minute: self
                .custom
                .and_then(|c| c.per_cmu_minute)
                .unwrap_or(rates.per_cmu_minute),
            storage_per_month: self
                .custom
                .and_then(|c| c.storage_per_month)
                .unwrap_or(rates.storage_per_cmu_month * f64::from(units)),
            capacity: Capacity::of(self.custom),
        }
    }
}
