//! The price catalogue: `prices/bedrock.yaml`, compiled into the binary, with the suite's overrides on top.
//!
//! Every price is optional: a model whose price is missing is *unpriced*, reported with a warning and never costed
//! as zero.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The catalogue shipped with the tool.
pub const BUILTIN: &str = include_str!("../../prices/bedrock.yaml");

/// Provisioned Throughput commitment terms.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
pub enum Commitment {
    /// No commitment (hourly).
    #[default]
    #[serde(rename = "none")]
    None,
    /// One month.
    #[serde(rename = "1-month")]
    OneMonth,
    /// Six months.
    #[serde(rename = "6-months")]
    SixMonths,
}

impl Commitment {
    /// The name used in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Commitment::None => "none",
            Commitment::OneMonth => "1-month",
            Commitment::SixMonths => "6-months",
        }
    }
}

/// Per-token prices, USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPrices {
    /// Input tokens.
    pub input_per_million: Option<f64>,
    /// Output tokens.
    pub output_per_million: Option<f64>,
}

impl TokenPrices {
    /// Both prices, when both are known.
    pub fn both(&self) -> Option<(f64, f64)> {
        Some((self.input_per_million?, self.output_per_million?))
    }
}

/// One model's prices, as the catalogue or a suite override gives them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// Bedrock model id (no inference-profile prefix).
    #[serde(default)]
    pub model: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Region the prices were read for.
    #[serde(default)]
    pub region: Option<String>,
    /// On-demand input price per million tokens.
    #[serde(default)]
    pub input_per_million: Option<f64>,
    /// On-demand output price per million tokens.
    #[serde(default)]
    pub output_per_million: Option<f64>,
    /// Batch-inference input price per million tokens.
    #[serde(default)]
    pub batch_input_per_million: Option<f64>,
    /// Batch-inference output price per million tokens.
    #[serde(default)]
    pub batch_output_per_million: Option<f64>,
    /// Input tokens read from the prompt cache, per million.
    #[serde(default)]
    pub cache_read_input_per_million: Option<f64>,
    /// Input tokens written to the prompt cache, per million.
    #[serde(default)]
    pub cache_write_input_per_million: Option<f64>,
    /// Whether it can be fine-tuned on Bedrock.
    #[serde(default)]
    pub customizable: Option<bool>,
    /// Fine-tuning: USD per million tokens trained (tokens in the training file × epochs).
    #[serde(default)]
    pub training_per_million_tokens: Option<f64>,
    /// Provisioned Throughput, USD per model unit per hour, by commitment.
    #[serde(default)]
    pub provisioned_per_unit_hour: BTreeMap<Commitment, f64>,
    /// On-demand prices of a custom-model deployment of this base model.
    #[serde(default)]
    pub custom_on_demand: Option<TokenPrices>,
    /// Monthly storage fee of a customized model.
    #[serde(default)]
    pub custom_storage_per_month: Option<f64>,
    /// Where the prices were read.
    #[serde(default)]
    pub source: Option<String>,
    /// When.
    #[serde(default)]
    pub read_on: Option<String>,
    /// Anything worth knowing.
    #[serde(default)]
    pub note: Option<String>,
}

impl ModelPrice {
    /// On-demand prices.
    pub fn on_demand(&self) -> TokenPrices {
        TokenPrices {
            input_per_million: self.input_per_million,
            output_per_million: self.output_per_million,
        }
    }

    /// Every price in it, for validation.
    pub fn prices(&self) -> Vec<(&'static str, f64)> {
        let mut all: Vec<(&'static str, f64)> = [
            ("input_per_million", self.input_per_million),
            ("output_per_million", self.output_per_million),
            ("batch_input_per_million", self.batch_input_per_million),
            ("batch_output_per_million", self.batch_output_per_million),
            ("custom_storage_per_month", self.custom_storage_per_month),
            ("cache_read_input_per_million", self.cache_read_input_per_million),
            ("cache_write_input_per_million", self.cache_write_input_per_million),
            ("training_per_million_tokens", self.training_per_million_tokens),
            (
                "custom_on_demand.input_per_million",
                self.custom_on_demand.and_then(|p| p.input_per_million),
            ),
            (
                "custom_on_demand.output_per_million",
                self.custom_on_demand.and_then(|p| p.output_per_million),
            ),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
        all.extend(
            self.provisioned_per_unit_hour
                .values()
                .map(|v| ("provisioned_per_unit_hour", *v)),
        );
        all
    }

    /// This row with `other`'s set fields on top.
    pub fn overridden_by(&self, other: &ModelPrice) -> ModelPrice {
        let mut merged = self.clone();
        macro_rules! take {
            ($($field:ident),*) => {$( if other.$field.is_some() { merged.$field = other.$field.clone(); } )*};
        }
        take!(
            name,
            region,
            input_per_million,
            output_per_million,
            batch_input_per_million,
            batch_output_per_million,
            customizable,
            cache_read_input_per_million,
            cache_write_input_per_million,
            training_per_million_tokens,
            custom_on_demand,
            custom_storage_per_month,
            source,
            read_on,
            note
        );
        merged
            .provisioned_per_unit_hour
            .extend(other.provisioned_per_unit_hour.clone());
        merged
    }
}

/// The catalogue file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    /// Currency of every price.
    pub currency: String,
    /// Default batch discount, when a source states one.
    #[serde(default)]
    pub batch_discount_default: Option<f64>,
    /// Its source.
    #[serde(default)]
    pub batch_discount_source: Option<String>,
    /// Custom Model Import's rates (not Provisioned Throughput).
    pub custom_model_import: ImportSection,
    /// The rows.
    pub models: Vec<ModelPrice>,
}

/// The catalogue's Custom Model Import section: billed per Custom Model Unit (CMU) per minute in 5-minute windows
/// while a model copy is active, plus a monthly storage fee per CMU; with the rates' source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSection {
    /// USD per CMU per minute.
    pub per_cmu_minute: f64,
    /// USD per CMU per month of storage.
    pub storage_per_cmu_month: f64,
    /// Region they were read for.
    pub region: String,
    /// Where they were read.
    pub source: String,
    /// When.
    pub read_on: String,
    /// Anything worth knowing.
    #[serde(default)]
    pub note: Option<String>,
}

/// Prices by model id: the built-in catalogue, with a suite's overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    /// Currency.
    pub currency: String,
    /// The batch discount a source states for models without their own batch prices.
    pub batch_discount: Option<f64>,
    /// Custom Model Import's rates.
    pub custom_model_import: ImportSection,
    by_model: BTreeMap<String, ModelPrice>,
}

impl Catalogue {
    /// The catalogue compiled into the binary.
    pub fn builtin() -> Catalogue {
        let file: CatalogueFile = serde_yaml::from_str(BUILTIN).expect("prices/bedrock.yaml is checked by a test");
        Catalogue::from_file(file)
    }

    /// From a parsed catalogue file.
    pub fn from_file(file: CatalogueFile) -> Catalogue {
        Catalogue {
            currency: file.currency,
            batch_discount: file.batch_discount_default,
            custom_model_import: file.custom_model_import,
            by_model: file.models.into_iter().map(|m| (m.model.clone(), m)).collect(),
        }
    }

    /// With the suite's overrides (model id → fields) on top of the shipped rows.
    pub fn with_overrides(mut self, overrides: &BTreeMap<String, ModelPrice>) -> Catalogue {
        for (model, row) in overrides {
            // A `global.` (or other profile) row of its own is overridden as itself; otherwise the base model's row.
            let key = if self.by_model.contains_key(model.as_str()) {
                model.clone()
            } else {
                base_model_id(model).to_string()
            };
            let merged = match self.by_model.get(&key) {
                Some(existing) => existing.overridden_by(row),
                None => ModelPrice {
                    model: key.clone(),
                    source: Some("suite override".to_string()),
                    ..row.clone()
                },
            };
            self.by_model.insert(key, merged);
        }
        self
    }

    /// Batch-inference prices of `model`: its own batch prices, else the on-demand prices less the stated batch
    /// discount; `None` when neither is known.
    pub fn batch_prices(&self, model: &str) -> Option<(f64, f64)> {
        let row = self.get(model)?;
        match (row.batch_input_per_million, row.batch_output_per_million) {
            (Some(input), Some(output)) => Some((input, output)),
            _ => {
                let (input, output) = row.on_demand().both()?;
                let keep = 1.0 - self.batch_discount?;
                Some((input * keep, output * keep))
            }
        }
    }

    /// The prices of `model`: its own row (a `global.` profile AWS prices apart), else its base model's (an
    /// inference-profile id is priced as its model).
    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        self.by_model
            .get(model)
            .or_else(|| self.by_model.get(base_model_id(model)))
    }

    /// Every row, by model id.
    pub fn rows(&self) -> impl Iterator<Item = &ModelPrice> {
        self.by_model.values()
    }
}

/// A model id without a cross-region inference-profile prefix (`us.`, `eu.`, `apac.`, `global.`, …).
pub fn base_model_id(model: &str) -> &str {
    match model.split_once('.') {
        Some(("us" | "eu" | "apac" | "global" | "us-gov" | "ca" | "jp" | "au", rest)) => rest,
        _ => model,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_parses_and_every_row_has_a_source_and_date() {
        let file: CatalogueFile = serde_yaml::from_str(BUILTIN).unwrap();
        assert_eq!(file.currency, "USD");
        assert!(file.models.len() >= 10, "{}", file.models.len());
        for row in &file.models {
            assert!(
                row.source.as_deref().is_some_and(|s| s.starts_with("http")),
                "{}: source",
                row.model
            );
            assert!(
                row.read_on.as_deref().is_some_and(|d| d.len() == 10),
                "{}: read_on",
                row.model
            );
            for (field, price) in row.prices() {
                assert!(price.is_finite() && price >= 0.0, "{} {field}: {price}", row.model);
            }
        }
        let import = &file.custom_model_import;
        assert!(import.source.starts_with("http") && import.read_on.len() == 10);
        assert!(import.per_cmu_minute > 0.0 && import.storage_per_cmu_month > 0.0);
        let catalogue = Catalogue::from_file(file);
        let lite = catalogue
            .get("us.amazon.nova-lite-v1:0")
            .expect("Nova Lite through its profile");
        assert_eq!(lite.on_demand().both(), Some((0.06, 0.24)));
        assert_eq!(lite.cache_read_input_per_million, Some(0.015));
        // Mistral Large 24.02 is $4 / $12, not the launch price.
        let large = catalogue.get("mistral.mistral-large-2402-v1:0").unwrap();
        assert_eq!(large.on_demand().both(), Some((4.0, 12.0)));
        // `global.` Nova 2 Lite has its own, lower, row; the Geo profiles take the base row.
        let global = catalogue.get("global.amazon.nova-2-lite-v1:0").unwrap();
        assert_eq!(global.on_demand().both(), Some((0.30, 2.50)));
        let geo = catalogue.get("us.amazon.nova-2-lite-v1:0").unwrap();
        assert_eq!(geo.on_demand().both(), Some((0.33, 2.75)));
    }

    #[test]
    fn overrides_replace_only_the_fields_they_set() {
        let catalogue = Catalogue::builtin();
        let overrides = BTreeMap::from([
            (
                "amazon.nova-lite-v1:0".to_string(),
                ModelPrice {
                    input_per_million: Some(0.05),
                    ..ModelPrice::default()
                },
            ),
            (
                "acme.private-model".to_string(),
                ModelPrice {
                    input_per_million: Some(1.0),
                    output_per_million: Some(2.0),
                    ..ModelPrice::default()
                },
            ),
        ]);
        let merged = catalogue.with_overrides(&overrides);
        let lite = merged.get("amazon.nova-lite-v1:0").unwrap();
        assert_eq!(lite.on_demand().both(), Some((0.05, 0.24)));
        assert!(lite.source.as_deref().unwrap().starts_with("http"));
        let private = merged.get("acme.private-model").unwrap();
        assert_eq!(private.source.as_deref(), Some("suite override"));
        assert_eq!(merged.get("acme.unknown"), None);
    }
}
