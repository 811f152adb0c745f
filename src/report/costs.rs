//! The report's cost figures: the cost model (`crate::cost`) applied to the run's measured tokens and quality, with
//! the suite's `cost:` section or, without one, its defaults. Reads the training file (for the fine-tuning job's
//! cost) and the analysis' verdicts (for the recommendation); computes no statistic itself.

use serde::Serialize;

use super::analysis::Analysis;
use super::{ConfigSummary, JudgeUsage};
use crate::cost::catalogue::ImportSection;
use crate::cost::estimate::unpriced_note;
use crate::cost::recommend::{recommend, Recommendation, Standing};
use crate::cost::{
    self, BreakEven, Catalogue, ConfigCost, ConfigInput, CostParams, ModelPrice, RunCost, Serving, Training, Usage,
};
use crate::stats::Verdict;
use crate::suite::schema::{ConfigKind, ConfigSection, CostSection, CustomServing};
use crate::suite::Suite;

/// Cost figures for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    /// Currency of every figure.
    pub currency: String,
    /// The monthly volumes (the first is the main one).
    pub volumes: Vec<f64>,
    /// Whether the suite stated them; otherwise they are the default volume, and the report says so.
    pub volumes_stated: bool,
    /// Hours of Provisioned Throughput a month.
    pub hours_per_month: f64,
    /// Peak request rate ÷ average.
    pub peak_factor: f64,
    /// Months one-time costs are spread over.
    pub amortize_months: f64,
    /// Per config, in suite order.
    pub configs: Vec<ConfigCost>,
    /// Custom configs against per-token ones.
    pub break_evens: Vec<BreakEven>,
    /// The choice at the main volume.
    pub recommendation: Option<Recommendation>,
    /// The prices used, with their sources.
    pub prices: Vec<ModelPrice>,
    /// Custom Model Import's rates and their source, when a config is an imported model.
    pub custom_model_import: Option<ImportSection>,
    /// Configs that could not be costed (or not entirely), why, and the keys that would price them.
    pub warnings: Vec<String>,
}

/// Usage of a config's replies.
fn usage(summary: &ConfigSummary) -> Usage {
    Usage {
        replies: summary.ok,
        input_tokens: summary.input_tokens,
        output_tokens: summary.output_tokens,
        cache_read_tokens: summary.cache_read_tokens,
        cache_write_tokens: summary.cache_write_tokens,
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

/// A per-token serving whose measured cache tokens have no rate is unpriced, with the keys that price them.
fn with_cache_rates(serving: Serving, usage: &Usage, model: &str) -> Serving {
    let Serving::PerToken {
        cache_read_per_million,
        cache_write_per_million,
        ..
    } = &serving
    else {
        return serving;
    };
    let mut keys = Vec::new();
    if usage.cache_read_tokens > 0 && cache_read_per_million.is_none() {
        keys.push(format!("cost.prices.{model}.cache_read_input_per_million"));
    }
    if usage.cache_write_tokens > 0 && cache_write_per_million.is_none() {
        keys.push(format!("cost.prices.{model}.cache_write_input_per_million"));
    }
    if keys.is_empty() {
        serving
    } else {
        Serving::Unpriced {
            reason: "the run read or wrote prompt-cache tokens whose rate is not known".to_string(),
            keys,
        }
    }
}

/// Tokens of a training file, counted as `data check` counts them (system prompt and every turn of each record).
fn training_tokens(path: &std::path::Path) -> Result<u64, String> {
    let records = crate::data::record::load_records(path).map_err(|e| e.to_string())?;
    Ok(records.iter().map(crate::data::record_tokens).sum())
}

/// The fine-tuning job of a custom config: its training file's tokens × epochs × the base model's training price.
fn training(
    suite: &Suite,
    config: &ConfigSection,
    custom: Option<&CustomServing>,
    catalogue: &Catalogue,
    params: &CostParams,
) -> Option<Training> {
    if config.kind != ConfigKind::Custom {
        return None;
    }
    let name = &config.name;
    let unpriced = |reason: String, keys: Vec<String>| Some(Training::Unpriced { reason, keys });
    let file = custom
        .and_then(|c| c.training_file.as_ref())
        .or(suite.file.dataset.training.as_ref());
    let Some(file) = file else {
        return unpriced(
            "no training file to count tokens in".into(),
            vec![format!("cost.custom.{name}.training_file")],
        );
    };
    let base = custom.and_then(|c| c.base_model.as_deref());
    let price = base
        .and_then(|b| catalogue.get(b))
        .and_then(|r| r.training_per_million_tokens);
    let epochs = custom.and_then(|c| c.epochs);
    let mut keys = Vec::new();
    if base.is_none() {
        keys.push(format!("cost.custom.{name}.base_model"));
    }
    if price.is_none() {
        keys.push(format!(
            "cost.prices.{}.training_per_million_tokens",
            base.unwrap_or("<base model>")
        ));
    }
    if epochs.is_none() {
        keys.push(format!("cost.custom.{name}.epochs"));
    }
    let (Some(price), Some(epochs)) = (price, epochs) else {
        return unpriced(
            "the fine-tuning job's price or epochs are not known (AWS publishes no training price for some models)"
                .into(),
            keys,
        );
    };
    match training_tokens(file) {
        Ok(tokens) => Some(Training::priced(tokens, epochs, price, params.amortize_months)),
        Err(error) => unpriced(format!("cannot count the training file's tokens: {error}"), Vec::new()),
    }
}

/// Each config's standing against the best, from the analysis' verdicts (the pair's comparison, either way round).
fn standings(analysis: &Analysis) -> Vec<Standing> {
    let best = analysis
        .configs
        .iter()
        .filter_map(|c| Some((c.config.as_str(), c.quality.mean?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|b| b.0);
    analysis
        .configs
        .iter()
        .map(|c| {
            let worse = best.is_some_and(|best| {
                best != c.config
                    && analysis.comparisons.iter().any(|cmp| {
                        (cmp.baseline == best && cmp.candidate == c.config && cmp.verdict == Verdict::Worse)
                            || (cmp.baseline == c.config && cmp.candidate == best && cmp.verdict == Verdict::Better)
                    })
            });
            Standing {
                config: c.config.clone(),
                quality: c.quality.mean,
                eligible: c.quality.mean.is_some() && !worse,
            }
        })
        .collect()
}

/// The cost section of the report: always, with the suite's `cost:` section or its defaults.
pub fn cost_report(suite: &Suite, summaries: &[ConfigSummary], analysis: &Analysis) -> CostReport {
    let default = CostSection::default();
    let section = suite.file.cost.as_ref().unwrap_or(&default);
    let params = CostParams::of(suite.file.cost.as_ref());
    let catalogue = catalogue(suite);
    let qualities: Vec<_> = analysis
        .configs
        .iter()
        .map(|stats| stats.quality.mean.map(|m| (m, stats.quality.mean_ci)))
        .collect();
    let inputs = config_inputs(suite, summaries, &qualities, &catalogue, &params);
    let mut warnings: Vec<String> = Vec::new();
    for input in &inputs {
        if let Serving::Unpriced { reason, keys } = &input.serving {
            warnings.push(format!(
                "{} is unpriced: {}. It has no cost figures.",
                input.config,
                unpriced_note(reason, keys)
            ));
        }
        if let Some(Training::Unpriced { reason, keys }) = &input.training {
            warnings.push(format!(
                "{}'s fine-tuning job is not priced ({}), so its figures leave it out.",
                input.config,
                unpriced_note(reason, keys)
            ));
        }
    }
    let configs = cost::config_costs(&inputs, &suite.file.baseline, &params);
    let break_evens = cost::break_evens(&configs, &params);
    let custom_model_import = configs
        .iter()
        .any(|c| matches!(c.serving, Serving::Imported { .. }))
        .then(|| catalogue.custom_model_import.clone());
    let recommendation = recommend(&configs, &standings(analysis), &params);
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
    CostReport {
        currency: catalogue.currency.clone(),
        volumes: params.volumes.clone(),
        volumes_stated: params.volumes_stated,
        hours_per_month: params.month.hours,
        peak_factor: params.month.peak_factor,
        amortize_months: params.amortize_months,
        configs,
        break_evens,
        recommendation,
        prices,
        custom_model_import,
        warnings,
    }
}

/// Each config's cost inputs: its serving as the suite configures it, its measured usage, and `qualities` (its mean
/// quality points and their interval, when known).
fn config_inputs<'s>(
    suite: &'s Suite,
    summaries: &[ConfigSummary],
    qualities: &[Option<(f64, Option<crate::stats::Interval>)>],
    catalogue: &Catalogue,
    params: &CostParams,
) -> Vec<ConfigInput<'s>> {
    let default = CostSection::default();
    let section = suite.file.cost.as_ref().unwrap_or(&default);
    suite
        .file
        .configs
        .iter()
        .zip(summaries)
        .zip(qualities)
        .map(|((config, summary), quality)| {
            let custom = section.custom.get(&config.name);
            let usage = usage(summary);
            let options = cost::serving_options(config.kind, &config.name, &config.model, custom, catalogue);
            let serving = options
                .iter()
                .find(|o| o.configured)
                .map(|o| with_cache_rates(o.serving.clone(), &usage, &config.model))
                .unwrap_or_else(|| Serving::Unpriced {
                    reason: "no serving option".into(),
                    keys: Vec::new(),
                });
            ConfigInput {
                config: &config.name,
                serving,
                options: if config.kind == ConfigKind::Custom {
                    options
                } else {
                    Vec::new()
                },
                usage,
                quality: *quality,
                training: training(suite, config, custom, catalogue, params),
            }
        })
        .collect()
}

/// Each config's cost per 1,000 requests at the suite's main volume, when it is priced (what `compare` shows; it
/// does not depend on quality, so it needs no analysis).
pub fn per_thousand(suite: &Suite, summaries: &[ConfigSummary]) -> Vec<Option<f64>> {
    let params = CostParams::of(suite.file.cost.as_ref());
    let catalogue = catalogue(suite);
    let inputs = config_inputs(suite, summaries, &vec![None; summaries.len()], &catalogue, &params);
    cost::config_costs(&inputs, &suite.file.baseline, &params)
        .iter()
        .map(|c| c.main().map(|at| at.per_thousand))
        .collect()
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
                (true, Some((input, output))) if matches!(on_demand, Serving::PerToken { .. }) => Serving::PerToken {
                    input_per_million: input,
                    output_per_million: output,
                    cache_read_per_million: None,
                    cache_write_per_million: None,
                    storage_per_month: 0.0,
                },
                _ => on_demand,
            };
            ConfigInput {
                config: &config.name,
                serving,
                options: Vec::new(),
                usage: usage(summary),
                quality: None,
                training: None,
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
                ..Usage::default()
            },
        )),
        _ => None,
    };
    cost::run_cost(&inputs, judge, &catalogue)
}
