//! The suite file's YAML schema, as written by the user.
//!
//! Every section rejects unknown keys, so a typo is an error rather than a silently ignored setting. Paths are kept
//! as written here; `suite::load` resolves them against the suite file's folder.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// A suite file: what to evaluate, on which data, with which configurations.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    /// Short name; also the folder name under `results/`.
    pub name: String,
    /// What the suite measures, for the report.
    #[serde(default)]
    pub description: String,
    /// The held-out examples and the optional training pool.
    pub dataset: DatasetSection,
    /// Path of the rubric that scores every output.
    pub rubric: PathBuf,
    /// The configurations compared.
    pub configs: Vec<ConfigSection>,
    /// The name of the configuration every other one is compared against.
    pub baseline: String,
    /// How many times each (example, config) pair is asked.
    #[serde(default = "default_repeats")]
    pub repeats: u32,
    /// Most model calls in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Rate limits per model id (or ARN): requests and tokens per minute.
    #[serde(default)]
    pub limits: BTreeMap<String, ModelLimits>,
    /// Retry and timeout policy for model calls.
    #[serde(default)]
    pub retry: RetrySection,
    /// The fraction of planned requests that may fail (after their retries) before the run counts as failed (exit
    /// 3) and stops calling.
    #[serde(default = "default_max_error_rate")]
    pub max_error_rate: f64,
    /// How the report's statistics are computed.
    #[serde(default)]
    pub analysis: AnalysisSection,
    /// Volumes, prices and serving of the configs, for the cost figures; without it the report prices what the
    /// catalogue prices, at the default volume.
    #[serde(default)]
    pub cost: Option<CostSection>,
    /// Bedrock batch inference settings, for `run --mode batch`.
    #[serde(default)]
    pub batch: Option<crate::batch::BatchSettings>,
    /// The LLM judge that scores the rubric's `judge` criteria; required when the rubric has any.
    #[serde(default)]
    pub judge: Option<JudgeSection>,
    /// Settings for the embedded endpoint (`run --local`, `serve --suite`); ignored against real Bedrock.
    #[serde(default)]
    pub local_endpoint: LocalEndpointSection,
}

/// The cost model's inputs.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostSection {
    /// Expected requests per month: one volume, or a list for the sensitivity table (the first is the main one);
    /// [`DEFAULT_MONTHLY_REQUESTS`] when absent.
    #[serde(default)]
    pub monthly_requests: Option<Volumes>,
    /// Hours in a month of Provisioned Throughput.
    #[serde(default = "default_hours_per_month")]
    pub hours_per_month: f64,
    /// Peak request rate as a multiple of the average, for Provisioned Throughput capacity.
    #[serde(default = "default_peak_factor")]
    pub peak_factor: f64,
    /// Months over which one-time costs (the fine-tuning job) are spread in monthly and per-request figures.
    #[serde(default = "default_amortize_months")]
    pub amortize_months: f64,
    /// Price overrides by model id (or ARN), on top of the shipped catalogue.
    #[serde(default)]
    pub prices: BTreeMap<String, crate::cost::ModelPrice>,
    /// How each custom config is served, by config name.
    #[serde(default)]
    pub custom: BTreeMap<String, CustomServing>,
}

/// The monthly volume a report assumes when the suite states none.
pub const DEFAULT_MONTHLY_REQUESTS: f64 = 100_000.0;

impl CostSection {
    /// The monthly volumes, the suite's or the default one.
    pub fn volumes(&self) -> Vec<f64> {
        self.monthly_requests
            .as_ref()
            .map_or_else(|| vec![DEFAULT_MONTHLY_REQUESTS], Volumes::values)
    }
}

impl Default for CostSection {
    fn default() -> Self {
        CostSection {
            monthly_requests: None,
            hours_per_month: default_hours_per_month(),
            peak_factor: default_peak_factor(),
            amortize_months: default_amortize_months(),
            prices: BTreeMap::new(),
            custom: BTreeMap::new(),
        }
    }
}

fn default_hours_per_month() -> f64 {
    730.0
}

fn default_amortize_months() -> f64 {
    12.0
}

fn default_peak_factor() -> f64 {
    1.0
}

/// One volume or several.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Volumes {
    /// One monthly volume.
    One(f64),
    /// Several, for the sensitivity table.
    Many(Vec<f64>),
}

impl Volumes {
    /// The volumes, in the order given.
    pub fn values(&self) -> Vec<f64> {
        match self {
            Volumes::One(v) => vec![*v],
            Volumes::Many(v) => v.clone(),
        }
    }
}

/// How a custom config is served.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomServing {
    /// The base model it was customised from (its prices apply when the ARN has none of its own).
    #[serde(default)]
    pub base_model: Option<String>,
    /// Provisioned Throughput model units (required for a provisioned-model ARN).
    #[serde(default)]
    pub model_units: Option<u32>,
    /// Commitment term: none, 1-month, 6-months.
    #[serde(default)]
    pub commitment: crate::cost::Commitment,
    /// Monthly storage fee of the custom model (overrides the catalogue's).
    #[serde(default)]
    pub storage_per_month: Option<f64>,
    /// Input plus output tokens per minute one model unit (or imported model copy) serves, for capacity.
    #[serde(default)]
    pub tokens_per_minute_per_unit: Option<f64>,
    /// Requests per minute one model unit (or imported model copy) serves, for capacity.
    #[serde(default)]
    pub requests_per_minute_per_unit: Option<f64>,
    /// Custom Model Units per copy of an imported model (GetImportedModel's `customModelUnitsPerModelCopy`).
    #[serde(default)]
    pub custom_model_units: Option<u32>,
    /// Custom Model Import price per CMU per minute (overrides the catalogue's, which depends on the CMU version).
    #[serde(default)]
    pub per_cmu_minute: Option<f64>,
    /// Epochs of the fine-tuning job, for its one-time cost.
    #[serde(default)]
    pub epochs: Option<u32>,
    /// The file the model was fine-tuned on (relative to the suite), for its one-time cost; the suite's
    /// `dataset.training` when absent.
    #[serde(default)]
    pub training_file: Option<PathBuf>,
}

/// The statistics' settings.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisSection {
    /// Significance level of the tests (and 1 − the intervals' confidence level).
    pub alpha: f64,
    /// Practical margin in quality points: a config is "better" only when its whole interval is above it.
    pub margin: f64,
    /// Power for the detectable-difference and sample-size answers.
    pub power: f64,
    /// Bootstrap resamples.
    pub bootstrap_resamples: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
}

impl Default for AnalysisSection {
    fn default() -> Self {
        AnalysisSection {
            alpha: 0.05,
            margin: 0.0,
            power: 0.8,
            bootstrap_resamples: 10_000,
            seed: 0,
        }
    }
}

/// The judge model and how it is asked.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgeSection {
    /// Model id, inference-profile id or ARN of the judge.
    pub model: String,
    /// Most tokens in a verdict.
    #[serde(default = "default_judge_max_tokens")]
    pub max_tokens: u32,
    /// Sampling temperature of the judge (0: as repeatable as the model allows).
    #[serde(default)]
    pub temperature: f32,
    /// How many times a malformed verdict is asked again (with the parse error fed back) before it is recorded
    /// as a judge error.
    #[serde(default = "default_judge_reasks")]
    pub reasks: u32,
    /// The judge model's rate limits (alternatively set under the suite's `limits`, not both).
    #[serde(default)]
    pub limits: Option<ModelLimits>,
}

fn default_judge_max_tokens() -> u32 {
    300
}

fn default_judge_reasks() -> u32 {
    2
}

fn default_repeats() -> u32 {
    1
}

fn default_concurrency() -> usize {
    8
}

fn default_max_error_rate() -> f64 {
    0.1
}

/// Where the examples come from.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetSection {
    /// JSONL file of held-out examples (prompt/completion or `bedrock-conversation-2024`).
    pub held_out: PathBuf,
    /// JSONL file of training examples, the pool few-shot demonstrations are drawn from.
    #[serde(default)]
    pub training: Option<PathBuf>,
}

/// The three ways of customising a model that a suite compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigKind {
    /// The base model with a system prompt.
    Prompt,
    /// The base model with k demonstrations from the training pool.
    FewShot,
    /// A fine-tuned model, addressed by its ARN.
    Custom,
}

impl ConfigKind {
    /// The name used in suite files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKind::Prompt => "prompt",
            ConfigKind::FewShot => "few-shot",
            ConfigKind::Custom => "custom",
        }
    }
}

/// One configuration under evaluation.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigSection {
    /// Unique name, used in reports.
    pub name: String,
    /// How the model is customised.
    pub kind: ConfigKind,
    /// Model id, inference-profile id, or provisioned-model / custom-model-deployment ARN.
    pub model: String,
    /// System prompt.
    #[serde(default)]
    pub system: Option<String>,
    /// Template for the user turn; `{{input}}` is the example's input, `{{field}}` any field of the example.
    #[serde(default)]
    pub template: Option<String>,
    /// Demonstrations, for `few-shot` configs.
    #[serde(default)]
    pub shots: Option<ShotsSection>,
    /// Inference parameters sent with every request.
    #[serde(default)]
    pub inference: InferenceSection,
    /// Prompt caching: a Converse `cachePoint` after the system prompt and the demonstrations (with `select:
    /// fixed`; after the system prompt alone otherwise, since per-example demonstrations are no shared prefix).
    #[serde(default)]
    pub cache: bool,
    /// Which API serves `model`: Bedrock's Converse (the default) or an OpenAI-compatible chat-completions server.
    #[serde(default)]
    pub provider: ProviderKind,
    /// Base URL of the OpenAI-compatible server (`http://127.0.0.1:8000/v1`); required with `provider: openai`,
    /// refused otherwise.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Name of the environment variable holding the server's API key, sent as `Authorization: Bearer …`
    /// (`provider: openai` only). Read when a run starts, not when the suite is validated.
    #[serde(default)]
    pub api_key_env: Option<String>,
}

/// The APIs a config's model can be reached through.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Amazon Bedrock's Converse API, through the AWS SDK.
    #[default]
    Bedrock,
    /// An OpenAI-compatible `POST {base_url}/chat/completions` (vLLM, llama.cpp, Ollama, LM Studio, …).
    #[serde(rename = "openai")]
    OpenAi,
}

impl ProviderKind {
    /// The name used in suite files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::OpenAi => "openai",
        }
    }
}

/// How few-shot demonstrations are chosen.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShotsSection {
    /// How many demonstrations.
    pub k: usize,
    /// Which ones.
    #[serde(default)]
    pub select: ShotSelection,
    /// Seed for `random` selection.
    #[serde(default)]
    pub seed: u64,
}

/// The few-shot selection strategies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ShotSelection {
    /// The first k eligible training examples, in file order: the same for every example.
    #[default]
    Fixed,
    /// k eligible examples drawn at random per held-out example, from a seed.
    Random,
    /// The k training examples whose inputs are lexically most similar (BM25) to the held-out input.
    Similar,
}

/// Converse `inferenceConfig`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InferenceSection {
    /// Most tokens in the reply.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0 to 1.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Nucleus sampling mass, 0 to 1.
    #[serde(default)]
    pub top_p: Option<f32>,
    /// Sequences that end the reply.
    #[serde(default)]
    pub stop_sequences: Vec<String>,
}

/// Rate limits for one model.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelLimits {
    /// Requests per minute.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// Input plus output tokens per minute.
    #[serde(default)]
    pub tokens_per_minute: Option<u64>,
}

/// Retry and timeout policy.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySection {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff delay; each retry doubles it, with full jitter.
    pub base_delay_ms: u64,
    /// Longest backoff delay.
    pub max_delay_ms: u64,
    /// Time allowed for one attempt before it counts as a timeout.
    pub timeout_ms: u64,
}

impl Default for RetrySection {
    fn default() -> Self {
        RetrySection {
            max_attempts: 6,
            base_delay_ms: 250,
            max_delay_ms: 20_000,
            timeout_ms: 60_000,
        }
    }
}

/// How the embedded endpoint simulates this suite's models.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LocalEndpointSection {
    /// Seed for the simulated models and faults.
    pub seed: u64,
    /// Custom-model ARNs the endpoint serves, each with the training file it is "fine-tuned" on.
    pub custom_models: BTreeMap<String, SimulatedCustomModel>,
    /// Faults to inject (latency, throttling, quotas, errors).
    pub faults: crate::endpoint::Faults,
    /// Planted regressions: model id → fraction of its answers degraded to a generic reply.
    pub degrade: BTreeMap<String, f64>,
    /// Model ids answered 403 `AccessDeniedException`, as for a model the account has no access to.
    pub denied_models: std::collections::BTreeSet<String>,
    /// Access key ids refused as AWS refuses them: `invalid` or `expired`.
    pub rejected_access_keys: BTreeMap<String, crate::endpoint::RejectedKey>,
}

impl LocalEndpointSection {
    /// The endpoint's settings this section gives (seed, faults, planted regressions), without custom models.
    pub fn endpoint_options(&self) -> crate::endpoint::EndpointOptions {
        crate::endpoint::EndpointOptions {
            seed: self.seed,
            faults: self.faults.clone(),
            degrade: self.degrade.clone(),
            denied_models: self.denied_models.clone(),
            rejected_access_keys: self.rejected_access_keys.clone(),
            ..crate::endpoint::EndpointOptions::default()
        }
    }
}

/// A simulated fine-tuned model.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedCustomModel {
    /// JSONL training file it learned from (relative to the suite file).
    pub tuned_on: PathBuf,
}
