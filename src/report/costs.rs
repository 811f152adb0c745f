//! The report's cost figures: the cost model (`crate::cost`) applied to the run's measured tokens and quality.

use serde::Serialize;

use super::analysis::Analysis;
use super::{ConfigSummary, JudgeUsage};
use crate::cost::{self, BreakEven, Catalogue, ConfigCost, ConfigInput, ModelPrice, RunCost, Serving, Usage};
use crate::suite::Suite;

/// Cost figures for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    /// Currency of every figure.
    pub currency: String,
    /// The suite's monthly volumes (the first is the main one).
    pub volumes: Vec<f64>,
    /// Hours of Provisioned Throughput a month.
    pub hours_per_month: f64,
    /// Per config, in suite order.
    pub configs: Vec<ConfigCost>,
    /// Provisioned Throughput configs against per-token ones.
    pub break_evens: Vec<BreakEven>,
    /// The prices used, with their sources.
    pub prices: Vec<ModelPrice>,
    /// Configs that could not be costed, and why.
    pub warnings: Vec<String>,
}

/// Usage of a config's replies.
fn usage(summary: &ConfigSummary) -> Usage {
    Usage {
        replies: summary.ok,
        input_tokens: summary.input_tokens,
        output_tokens: summary.output_tokens,
    }
}

/// The catalogue with the suite's overrides.
pub fn catalogue(suite: &Suite) -> Catalogue {
    let builtin = Catalogue::builtin();
    match &suite.file.cost {
        Some(section) => builtin.with_overrides(&section.prices),
        None => builtin,
    }
}

/// The cost section of the report, when the suite has a `cost:` section.
pub fn cost_report(suite: &Suite, summaries: &[ConfigSummary], analysis: &Analysis) -> Option<CostReport> {
    let section = suite.file.cost.as_ref()?;
    let catalogue = catalogue(suite);
    let inputs: Vec<ConfigInput> = suite
        .file
        .configs
        .iter()
        .zip(summaries)
        .zip(&analysis.configs)
        .map(|((config, summary), stats)| ConfigInput {
            config: &config.name,
            serving: cost::serving(
                config.kind,
                &config.name,
                &config.model,
                section.custom.get(&config.name),
                &catalogue,
            ),
            usage: usage(summary),
            quality: stats.quality.mean.map(|m| (m, stats.quality.mean_ci)),
        })
        .collect();
    let warnings = inputs
        .iter()
        .filter_map(|i| match &i.serving {
            Serving::Unpriced { reason } => {
                Some(format!("{} is unpriced: {reason}. It has no cost figures.", i.config))
            }
            _ => None,
        })
        .collect();
    let configs = cost::config_costs(&inputs, &suite.file.baseline, section);
    let break_evens = cost::break_evens(&configs, section);
    let mut prices: Vec<ModelPrice> = Vec::new();
    let mut models: Vec<&str> = suite.file.configs.iter().map(|c| c.model.as_str()).collect();
    models.extend(section.custom.values().filter_map(|c| c.base_model.as_deref()));
    models.extend(suite.file.judge.as_ref().map(|j| j.model.as_str()));
    for model in models {
        if let Some(row) = catalogue.get(model) {
            if !prices.iter().any(|p| p.model == row.model) {
                prices.push(row.clone());
            }
        }
    }
    Some(CostReport {
        currency: catalogue.currency.clone(),
        volumes: section.monthly_requests.values(),
        hours_per_month: section.hours_per_month,
        configs,
        break_evens,
        prices,
        warnings,
    })
}

/// What the run itself cost (generation at per-token prices, and the judge), whatever the suite's `cost:` section.
pub fn run_cost(suite: &Suite, summaries: &[ConfigSummary], judge: Option<&JudgeUsage>, batch: bool) -> RunCost {
    let catalogue = catalogue(suite);
    let section = suite.file.cost.as_ref();
    let inputs: Vec<ConfigInput> = suite
        .file
        .configs
        .iter()
        .zip(summaries)
        .map(|(config, summary)| {
            let custom = section.and_then(|s| s.custom.get(&config.name));
            let on_demand = cost::per_call_serving(config.kind, &config.name, &config.model, custom, &catalogue);
            let serving = match (batch, catalogue.batch_prices(&config.model)) {
                // A batch run pays batch prices for what the catalogue prices for batch.
                (true, Some((input, output))) if !matches!(on_demand, Serving::Provisioned { .. }) => {
                    Serving::PerToken {
                        input_per_million: input,
                        output_per_million: output,
                        storage_per_month: 0.0,
                    }
                }
                _ => on_demand,
            };
            ConfigInput {
                config: &config.name,
                serving,
                usage: Usage {
                    replies: summary.ok,
                    input_tokens: summary.input_tokens,
                    output_tokens: summary.output_tokens,
                },
                quality: None,
            }
        })
        .collect();
    let judge = match (judge, &suite.file.judge) {
        (Some(usage), Some(settings)) => Some((
            settings.model.as_str(),
            Usage {
                replies: usage.calls,
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
            },
        )),
        _ => None,
    };
    cost::run_cost(&inputs, judge, &catalogue)
}
