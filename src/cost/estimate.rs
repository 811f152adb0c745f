//! `bedrock-eval plan`: what a run will ask and cost before anything is spent.
//!
//! Input tokens are estimated from the prompts exactly as they will be sent (about four characters per token,
//! never fewer than one per word, plus 4 per message for role markers). Output tokens cannot be known before the
//! call; the estimate is each example's reference reply length (the closest thing to what a good reply looks like),
//! capped at the config's `max_tokens`, or `max_tokens` (at most 256) for an example without a reference. Judge
//! calls are estimated from the judge prompt with the reference standing in for the reply, and a verdict of
//! [`VERDICT_TOKENS`] tokens.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::IMPORT_WINDOW_MINUTES;
use super::{Catalogue, Serving, MILLION};
use crate::dataset::Example;
use crate::provider::ModelRequest;
use crate::run::limits::estimate_tokens;
use crate::run::plan::plan_requests;
use crate::score::judge::judge_request;
use crate::suite::schema::ConfigKind;
use crate::suite::Suite;

/// Tokens per message for role markers and separators.
pub const TOKENS_PER_MESSAGE: u64 = 4;

/// Output tokens assumed for an example without a reference, at most.
pub const DEFAULT_OUTPUT_TOKENS: u64 = 256;

/// Tokens assumed for a judge's verdict (`{"score": 4, "reason": "…one sentence…"}`).
pub const VERDICT_TOKENS: u64 = 30;

/// The estimate for one config (or the judge).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartEstimate {
    /// Config name, or "judge".
    pub part: String,
    /// Model id.
    pub model: String,
    /// Requests.
    pub requests: usize,
    /// Estimated input tokens over them.
    pub input_tokens: u64,
    /// Estimated output tokens over them.
    pub output_tokens: u64,
    /// Estimated cost: per-token prices, or the minimum serving commitment of a provisioned or imported model;
    /// `None`: unpriced.
    pub cost: Option<f64>,
    /// Why there is no cost, or how it is billed.
    pub note: Option<String>,
    /// The least the run's serving must be paid for, for a config billed by the hour or minute.
    pub minimum: Option<ServingMinimum>,
}

/// The least serving a run needs: at least one model unit for one hour at the configured term (or one 5-minute
/// window of an imported model's units), longer when the run is estimated to take longer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServingMinimum {
    /// Model units (or Custom Model Units).
    pub units: u32,
    /// Hours billed (a whole number, at least 1; for an imported model, 5-minute windows ÷ 12).
    pub hours: f64,
    /// USD per unit per hour.
    pub per_unit_hour: f64,
    /// units × hours × rate.
    pub cost: f64,
    /// In words.
    pub description: String,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanEstimate {
    /// Generation per config, then the judge.
    pub parts: Vec<PartEstimate>,
    /// Generation requests (every config's).
    pub total_requests: usize,
    /// Model calls: generation and judge.
    pub total_calls: usize,
    /// Sum of the priced parts (minimum serving commitments included).
    pub total_cost: f64,
    /// Whether some part is unpriced (the total then leaves it out).
    pub has_unpriced: bool,
    /// Estimated wall time in seconds at the configured limits and concurrency.
    pub duration_seconds: f64,
    /// The latency per call assumed for the duration.
    pub assumed_latency_ms: u64,
}

fn input_tokens(request: &ModelRequest) -> u64 {
    let system = request
        .system
        .as_deref()
        .map_or(0, |s| estimate_tokens(s) + TOKENS_PER_MESSAGE);
    system
        + request
            .messages
            .iter()
            .map(|m| estimate_tokens(&m.text) + TOKENS_PER_MESSAGE)
            .sum::<u64>()
}

fn output_tokens(example: &Example, max_tokens: Option<u32>) -> u64 {
    let cap = max_tokens.map_or(u64::MAX, u64::from);
    match &example.reference {
        Some(reference) => estimate_tokens(reference).min(cap),
        None => DEFAULT_OUTPUT_TOKENS.min(cap),
    }
}

fn priced(serving: &Serving, input: u64, output: u64) -> (Option<f64>, Option<String>) {
    match serving {
        Serving::Imported { .. } => (
            Some(0.0),
            Some("Custom Model Import: billed per model-unit minute while active, not per request".to_string()),
        ),
        Serving::PerToken {
            input_per_million,
            output_per_million,
            ..
        } => (
            Some((input as f64 * input_per_million + output as f64 * output_per_million) / MILLION),
            None,
        ),
        Serving::Provisioned { .. } => (
            Some(0.0),
            Some("Provisioned Throughput: billed by the hour, not per request".to_string()),
        ),
        Serving::Unpriced { reason, keys } => (None, Some(unpriced_note(reason, keys))),
    }
}

/// "why; set `a`, `b`".
pub fn unpriced_note(reason: &str, keys: &[String]) -> String {
    if keys.is_empty() {
        return reason.to_string();
    }
    let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    format!("{reason}; set {}", keys.join(", "))
}

/// The minimum serving a config billed by time needs for a run of `hours`: `None` for per-token configs,
/// `Err(note)` when it cannot be priced.
fn serving_minimum(serving: &Serving, hours: f64) -> Option<Result<ServingMinimum, String>> {
    match serving {
        Serving::Provisioned {
            model_units,
            commitment,
            per_unit_hour,
            ..
        } => {
            let hours = hours.ceil().max(1.0);
            Some(Ok(ServingMinimum {
                units: *model_units,
                hours,
                per_unit_hour: *per_unit_hour,
                cost: f64::from(*model_units) * hours * per_unit_hour,
                description: format!(
                    "Provisioned Throughput: {model_units} model unit(s) × {hours} h at ${per_unit_hour}/unit-hour ({})",
                    super::serving::term_words(*commitment)
                ),
            }))
        }
        Serving::Imported {
            custom_model_units,
            per_cmu_minute,
            ..
        } => {
            let windows = (hours * 60.0 / IMPORT_WINDOW_MINUTES).ceil().max(1.0);
            let per_unit_hour = per_cmu_minute * 60.0;
            Some(Ok(ServingMinimum {
                units: *custom_model_units,
                hours: windows * IMPORT_WINDOW_MINUTES / 60.0,
                per_unit_hour,
                cost: f64::from(*custom_model_units) * per_cmu_minute * IMPORT_WINDOW_MINUTES * windows,
                description: format!(
                    "Custom Model Import: {custom_model_units} CMU × {windows} five-minute window(s) at ${per_cmu_minute}/CMU-minute"
                ),
            }))
        }
        Serving::Unpriced { reason, keys } => Some(Err(format!(
            "billed by the hour, and its minimum cannot be priced: {}",
            unpriced_note(reason, keys)
        ))),
        Serving::PerToken { .. } => None,
    }
}

/// Estimates the run of `suite`, assuming `latency_ms` per call.
pub fn estimate(suite: &Suite, catalogue: &Catalogue, latency_ms: u64) -> anyhow::Result<PlanEstimate> {
    let examples: BTreeMap<&str, &Example> = suite.held_out.examples.iter().map(|e| (e.id.as_str(), e)).collect();
    let cost = suite.file.cost.as_ref();
    let judge = suite.file.judge.as_ref().filter(|_| suite.rubric.has_judge());
    // One pass over the plan, a request at a time: per config (requests, input, output), and the judge's calls.
    let mut totals = vec![(0usize, 0u64, 0u64); suite.file.configs.len()];
    let (mut judge_requests, mut judge_input, mut judge_output) = (0usize, 0u64, 0u64);
    let mut planned_requests = 0;
    for planned in plan_requests(suite) {
        let planned = planned?;
        planned_requests += 1;
        let Some(index) = suite.file.configs.iter().position(|c| c.name == planned.config) else {
            continue;
        };
        let example = examples.get(planned.example_id.as_str());
        let total = &mut totals[index];
        total.0 += 1;
        total.1 += input_tokens(&planned.request);
        if let Some(example) = example {
            total.2 += output_tokens(example, suite.file.configs[index].inference.max_tokens);
        }
        let (Some(judge), Some(example)) = (judge, example) else {
            continue;
        };
        // The reference stands in for the reply the judge will read.
        let reply = example.reference.as_deref().unwrap_or("");
        for criterion in suite.rubric.judge_criteria() {
            let Some(spec) = criterion.judge() else { continue };
            let request = judge_request(judge, spec, example, reply, &[]);
            let samples = u64::from(spec.samples);
            judge_requests += spec.samples as usize;
            judge_input += samples * input_tokens(&request);
            judge_output += samples * VERDICT_TOKENS.min(u64::from(judge.max_tokens));
        }
    }
    let mut parts = Vec::new();
    let mut per_model: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    let mut billed_by_time = Vec::new();
    for (config, &(requests, input, output)) in suite.file.configs.iter().zip(&totals) {
        let custom = cost.and_then(|c| c.custom.get(&config.name));
        let serving = super::per_call_serving(config.kind, &config.name, &config.model, custom, catalogue);
        let (price, note) = priced(&serving, input, output);
        billed_by_time.push((
            parts.len(),
            super::serving(config.kind, &config.name, &config.model, custom, catalogue),
        ));
        let entry = per_model.entry(config.model.clone()).or_default();
        entry.0 += requests;
        entry.1 += input + output;
        parts.push(PartEstimate {
            part: config.name.clone(),
            model: config.model.clone(),
            requests,
            input_tokens: input,
            output_tokens: output,
            cost: price,
            note,
            minimum: None,
        });
    }
    let generation_duration = duration(suite, &per_model, planned_requests, latency_ms);
    let mut judge_duration = 0.0;
    if let Some(judge) = judge {
        let (requests, input, output) = (judge_requests, judge_input, judge_output);
        let serving = super::serving(ConfigKind::Prompt, "judge", &judge.model, None, catalogue);
        let (price, note) = priced(&serving, input, output);
        let models = BTreeMap::from([(judge.model.clone(), (requests, input + output))]);
        judge_duration = duration(suite, &models, requests, latency_ms);
        parts.push(PartEstimate {
            part: "judge".to_string(),
            model: judge.model.clone(),
            requests,
            input_tokens: input,
            output_tokens: output,
            cost: price,
            note,
            minimum: None,
        });
    }
    // The serving a provisioned or imported config needs for the run, whether or not a request is made.
    let hours = (generation_duration + judge_duration) / 3600.0;
    for (index, serving) in billed_by_time {
        let part = &mut parts[index];
        match serving_minimum(&serving, hours) {
            Some(Ok(minimum)) => {
                part.cost = part.cost.map(|c| c + minimum.cost);
                part.note = Some(format!("includes the minimum serving: {}", minimum.description));
                part.minimum = Some(minimum);
            }
            Some(Err(note)) => {
                part.cost = None;
                part.note = Some(note);
            }
            None => {}
        }
    }
    let total_requests = parts.iter().filter(|p| p.part != "judge").map(|p| p.requests).sum();
    Ok(PlanEstimate {
        total_requests,
        total_calls: parts.iter().map(|p| p.requests).sum(),
        total_cost: parts.iter().filter_map(|p| p.cost).sum(),
        has_unpriced: parts.iter().any(|p| p.cost.is_none()),
        parts,
        duration_seconds: generation_duration + judge_duration,
        assumed_latency_ms: latency_ms,
    })
}

/// The longer of: the slowest model at its rate limits, and all requests through the concurrency at the latency.
fn duration(suite: &Suite, per_model: &BTreeMap<String, (usize, u64)>, requests: usize, latency_ms: u64) -> f64 {
    let concurrency = suite.file.concurrency.max(1) as f64;
    let by_concurrency = requests as f64 * latency_ms as f64 / 1000.0 / concurrency;
    let judge_limits = suite
        .file
        .judge
        .as_ref()
        .and_then(|j| Some((j.model.as_str(), j.limits.as_ref()?)));
    let by_limits = per_model
        .iter()
        .map(|(model, (count, tokens))| {
            let limits = suite
                .file
                .limits
                .get(model)
                .or_else(|| judge_limits.filter(|(m, _)| m == model).map(|(_, l)| l));
            let Some(limits) = limits else { return 0.0 };
            let by_requests = limits
                .requests_per_minute
                .map_or(0.0, |rpm| *count as f64 / f64::from(rpm) * 60.0);
            let by_tokens = limits
                .tokens_per_minute
                .map_or(0.0, |tpm| *tokens as f64 / tpm as f64 * 60.0);
            by_requests.max(by_tokens)
        })
        .fold(0.0, f64::max);
    by_concurrency.max(by_limits)
}
