//! Loading a suite and everything it references, and checking it all before any model is called.
//!
//! `load` is what `validate`, `plan` and `run` share: a `Suite` that loads is ready to run.

pub mod schema;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::dataset::{Dataset, Example};
use crate::error::{InputError, InputErrors};
use crate::prompt::{template_fields, RequestBuilder};
use crate::score::Rubric;
use crate::yaml_file::read_yaml;
use crate::yaml_positions::YamlPositions;
use schema::{ConfigKind, ConfigSection, CostSection, JudgeSection, ProviderKind, SuiteFile};

/// A loaded, checked suite, with its datasets and rubric.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite file.
    pub path: PathBuf,
    /// Its settings, with every path resolved against the suite file's folder.
    pub file: SuiteFile,
    /// SHA-256 of the suite file.
    pub sha256: String,
    /// The held-out examples.
    pub held_out: Dataset,
    /// The training pool, when the suite has one.
    pub training: Option<Dataset>,
    /// The rubric.
    pub rubric: Rubric,
    /// Training data of the simulated custom models, by ARN (`local_endpoint.custom_models`).
    pub simulated_custom_models: BTreeMap<String, Dataset>,
}

impl Suite {
    /// The embedded endpoint's settings for this suite (`run --local`, `serve --suite`): its seed, faults, planted
    /// regressions, and the simulated custom models with the data each was "tuned" on.
    pub fn local_endpoint_options(&self) -> crate::endpoint::EndpointOptions {
        let custom_models = self
            .simulated_custom_models
            .iter()
            .map(|(arn, dataset)| {
                let tuned_on = dataset
                    .examples
                    .iter()
                    .filter_map(|e| {
                        Some(crate::endpoint::TrainingPair {
                            prompt: e.input.clone(),
                            completion: e.reference.clone()?,
                        })
                    })
                    .collect();
                (arn.clone(), crate::endpoint::CustomModel { tuned_on })
            })
            .collect();
        crate::endpoint::EndpointOptions {
            custom_models,
            ..self.file.local_endpoint.endpoint_options()
        }
    }

    /// The training pool's examples (empty without one).
    pub fn pool(&self) -> &[Example] {
        self.training.as_ref().map_or(&[], |d| d.examples.as_slice())
    }

    /// The baseline config.
    pub fn baseline(&self) -> &ConfigSection {
        self.file
            .configs
            .iter()
            .find(|c| c.name == self.file.baseline)
            .unwrap_or(&self.file.configs[0])
    }

    /// The distinct model ids of the configs, in config order.
    pub fn models(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.file
            .configs
            .iter()
            .filter(|c| seen.insert(c.model.as_str()))
            .map(|c| c.model.clone())
            .collect()
    }
}

/// Reads the suite at `path` and everything it references; every problem found is reported.
pub fn load(path: &Path) -> Result<Suite, InputErrors> {
    load_with_rubric(path, None)
}

/// As [`load`], scoring with `rubric` (a path as given on the command line) instead of the suite's own rubric.
pub fn load_with_rubric(path: &Path, rubric: Option<&Path>) -> Result<Suite, InputErrors> {
    if let Some(rubric) = rubric.filter(|r| !r.is_file()) {
        return Err(InputErrors(vec![InputError::in_file(rubric, "rubric file not found")]));
    }
    let yaml = read_yaml::<SuiteFile>(path, "suite")?;
    let mut file = yaml.value;
    let positions = yaml.positions;
    let checker = Checker {
        path,
        positions: &positions,
    };
    let dir = path.parent().unwrap_or(Path::new("."));

    let mut errors = checker.check_settings(&file);

    file.dataset.held_out = dir.join(&file.dataset.held_out);
    file.dataset.training = file.dataset.training.as_ref().map(|p| dir.join(p));
    file.rubric = rubric.map_or_else(|| dir.join(&file.rubric), Path::to_path_buf);
    for model in file.local_endpoint.custom_models.values_mut() {
        model.tuned_on = dir.join(&model.tuned_on);
    }

    let held_out = checker
        .existing(&file.dataset.held_out, "dataset.held_out", &mut errors)
        .and_then(|p| collect(Dataset::load(p), &mut errors));
    let training = file
        .dataset
        .training
        .as_deref()
        .and_then(|p| checker.existing(p, "dataset.training", &mut errors))
        .and_then(|p| collect(Dataset::load(p), &mut errors));
    let rubric = checker
        .existing(&file.rubric, "rubric", &mut errors)
        .and_then(|p| match Rubric::load(p) {
            Ok(rubric) => Some(rubric),
            Err(InputErrors(more)) => {
                errors.extend(more);
                None
            }
        });
    let mut simulated_custom_models = BTreeMap::new();
    for (arn, model) in &file.local_endpoint.custom_models {
        let field = format!("local_endpoint.custom_models.{arn}.tuned_on");
        if let Some(dataset) = checker
            .existing(&model.tuned_on, &field, &mut errors)
            .and_then(|p| collect(Dataset::load(p), &mut errors))
        {
            simulated_custom_models.insert(arn.clone(), dataset);
        }
    }

    if let Some(held_out) = &held_out {
        errors.extend(checker.check_against_data(&file, held_out, training.as_ref(), rubric.as_ref()));
    }
    match (held_out, rubric) {
        (Some(held_out), Some(rubric)) if errors.is_empty() => Ok(Suite {
            path: path.to_path_buf(),
            file,
            sha256: yaml.sha256,
            held_out,
            training,
            rubric,
            simulated_custom_models,
        }),
        _ => Err(InputErrors(errors)),
    }
}

fn collect<T>(result: Result<T, InputError>, errors: &mut Vec<InputError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

struct Checker<'a> {
    path: &'a Path,
    positions: &'a YamlPositions,
}

impl Checker<'_> {
    fn at(&self, field: &str, message: impl Into<String>) -> InputError {
        InputError::in_file(self.path, message)
            .field(field)
            .position(self.positions.find(field))
    }

    fn existing<'p>(&self, path: &'p Path, field: &str, errors: &mut Vec<InputError>) -> Option<&'p Path> {
        if path.is_file() {
            Some(path)
        } else {
            errors.push(self.at(field, format!("file not found: {}", path.display())));
            None
        }
    }

    /// Checks that need only the suite file.
    fn check_settings(&self, file: &SuiteFile) -> Vec<InputError> {
        let mut errors = Vec::new();
        if file.name.trim().is_empty() || !file.name.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c)) {
            errors.push(self.at(
                "name",
                "must be non-empty, using letters, digits, '-', '_' or '.' (it names the results folder)",
            ));
        }
        if file.configs.is_empty() {
            errors.push(self.at("configs", "a suite needs at least one config"));
        }
        let mut names = HashSet::new();
        for (i, config) in file.configs.iter().enumerate() {
            errors.extend(self.check_config(i, config, file.dataset.training.is_some()));
            if !names.insert(config.name.as_str()) {
                errors.push(self.at(
                    &format!("configs[{i}].name"),
                    format!("duplicate config name `{}`", config.name),
                ));
            }
        }
        errors.extend(self.check_model_routes(file));
        if !file.configs.iter().any(|c| c.name == file.baseline) {
            let known: Vec<&str> = file.configs.iter().map(|c| c.name.as_str()).collect();
            errors.push(self.at(
                "baseline",
                format!(
                    "`{}` names no config; expected one of: {}",
                    file.baseline,
                    known.join(", ")
                ),
            ));
        }
        if file.repeats == 0 || file.repeats > 100 {
            errors.push(self.at("repeats", format!("must be between 1 and 100, got {}", file.repeats)));
        }
        if file.concurrency == 0 || file.concurrency > 1024 {
            errors.push(self.at(
                "concurrency",
                format!("must be between 1 and 1024, got {}", file.concurrency),
            ));
        }
        let mut models: HashSet<&str> = file.configs.iter().map(|c| c.model.as_str()).collect();
        if let Some(judge) = &file.judge {
            errors.extend(self.check_judge(judge, file));
            models.insert(judge.model.as_str());
        }
        for (model, limits) in &file.limits {
            let field = format!("limits.{model}");
            if !models.contains(model.as_str()) {
                errors.push(
                    InputError::in_file(self.path, format!("`{model}` is not the model of any config"))
                        .field(&field)
                        .position(self.positions.find_key(&field)),
                );
            }
            if limits.requests_per_minute == Some(0) || limits.tokens_per_minute == Some(0) {
                errors.push(self.at(&field, "limits must be at least 1 (leave a limit out for none)"));
            }
        }
        if let Some(cost) = &file.cost {
            errors.extend(self.check_cost(cost, file));
        }
        // The embedded endpoint's own checks (fault rates, planted regressions), made here so a bad value is an
        // error with its position rather than a failure when `run --local` starts the endpoint.
        let endpoint = file.local_endpoint.endpoint_options();
        if let Err(crate::endpoint::EndpointError::InvalidOption { field, message }) = endpoint.validate() {
            errors.push(self.at(&format!("local_endpoint.{field}"), message));
        }
        if let Some(batch) = &file.batch {
            if let Err(message) = batch.validate() {
                let field = message.split_once(':').map_or("batch", |(f, _)| f).to_string();
                errors.push(self.at(&field, message));
            }
        }
        let analysis = &file.analysis;
        if !(analysis.alpha > 0.0 && analysis.alpha < 0.5) {
            errors.push(self.at(
                "analysis.alpha",
                format!("must be between 0 and 0.5, got {}", analysis.alpha),
            ));
        }
        if !(analysis.margin.is_finite() && (0.0..100.0).contains(&analysis.margin)) {
            errors.push(self.at(
                "analysis.margin",
                format!("must be quality points from 0 to 100, got {}", analysis.margin),
            ));
        }
        if !(analysis.power > 0.0 && analysis.power < 1.0) {
            errors.push(self.at(
                "analysis.power",
                format!("must be between 0 and 1, got {}", analysis.power),
            ));
        }
        if !(100..=1_000_000).contains(&analysis.bootstrap_resamples) {
            errors.push(self.at(
                "analysis.bootstrap_resamples",
                format!(
                    "must be between 100 and 1,000,000, got {}",
                    analysis.bootstrap_resamples
                ),
            ));
        }
        let retry = &file.retry;
        if retry.max_attempts == 0 || retry.max_attempts > 20 {
            errors.push(self.at("retry.max_attempts", "must be between 1 and 20"));
        }
        if retry.timeout_ms == 0 {
            errors.push(self.at("retry.timeout_ms", "must be above 0"));
        }
        if retry.base_delay_ms > retry.max_delay_ms {
            errors.push(self.at("retry.base_delay_ms", "must not exceed retry.max_delay_ms"));
        }
        errors
    }

    fn check_cost(&self, cost: &CostSection, file: &SuiteFile) -> Vec<InputError> {
        let mut errors = Vec::new();
        let volumes = cost.monthly_requests.values();
        if volumes.is_empty() {
            errors.push(self.at("cost.monthly_requests", "give at least one monthly volume"));
        }
        if let Some(v) = volumes.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            errors.push(self.at(
                "cost.monthly_requests",
                format!("volumes must be positive numbers of requests per month, got {v}"),
            ));
        }
        if !(cost.hours_per_month > 0.0 && cost.hours_per_month <= 744.0) {
            errors.push(self.at(
                "cost.hours_per_month",
                format!("must be between 0 and 744 (31 days), got {}", cost.hours_per_month),
            ));
        }
        if !(cost.peak_factor.is_finite() && cost.peak_factor >= 1.0) {
            errors.push(self.at(
                "cost.peak_factor",
                format!("must be at least 1, got {}", cost.peak_factor),
            ));
        }
        for (model, row) in &cost.prices {
            if let Some((field, value)) = row.prices().into_iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
                errors.push(self.at(
                    &format!("cost.prices.{model}.{field}"),
                    format!("must be ≥ 0, got {value}"),
                ));
            }
        }
        for (name, serving) in &cost.custom {
            let field = format!("cost.custom.{name}");
            match file.configs.iter().find(|c| &c.name == name) {
                None => errors.push(self.at(&field, format!("`{name}` is not a config of the suite"))),
                Some(c) if c.kind != ConfigKind::Custom => errors.push(self.at(
                    &field,
                    format!("`{name}` is a {} config, not a custom one", c.kind.as_str()),
                )),
                Some(_) => {}
            }
            if serving.model_units == Some(0) {
                errors.push(self.at(&format!("{field}.model_units"), "must be at least 1"));
            }
            if let Some(v) = serving.storage_per_month.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                errors.push(self.at(&format!("{field}.storage_per_month"), format!("must be ≥ 0, got {v}")));
            }
            if let Some(v) = serving
                .tokens_per_minute_per_unit
                .filter(|v| !(v.is_finite() && *v > 0.0))
            {
                errors.push(self.at(
                    &format!("{field}.tokens_per_minute_per_unit"),
                    format!("must be > 0, got {v}"),
                ));
            }
        }
        let mut unpriced_reported = HashSet::new();
        for (i, config) in file.configs.iter().enumerate() {
            if config.provider == ProviderKind::OpenAi {
                let explicit = cost.prices.get(&config.model).and_then(|p| p.on_demand().both());
                if explicit.is_none() && unpriced_reported.insert(config.model.as_str()) {
                    errors.push(self.at(
                        &format!("configs[{i}].model"),
                        format!(
                            "`{}` is served by an OpenAI-compatible server, so the Bedrock price catalogue does not \
                             apply; set both `cost.prices.{}.input_per_million` and `output_per_million` (0 for a \
                             self-hosted model with no per-token cost)",
                            config.model, config.model
                        ),
                    ));
                }
            }
            let provisioned = crate::cost::is_provisioned(config.kind, &config.model);
            let units = cost.custom.get(&config.name).and_then(|c| c.model_units);
            if provisioned && units.is_none() {
                errors.push(self.at(
                    &format!("configs[{i}].model"),
                    format!(
                        "custom config `{}` is served on Provisioned Throughput; set `cost.custom.{}.model_units` \
                         (and `commitment`, `base_model`) so it can be costed",
                        config.name, config.name
                    ),
                ));
            }
        }
        errors
    }

    /// A config's `provider`, `base_url` and `api_key_env`: the URL and key only with `provider: openai`, where the
    /// URL is required; custom (fine-tuned ARN) configs run on Bedrock.
    fn check_provider(&self, i: usize, config: &ConfigSection) -> Vec<InputError> {
        let mut errors = Vec::new();
        let field = |key: &str| format!("configs[{i}].{key}");
        match config.provider {
            ProviderKind::Bedrock => {
                for (key, set) in [
                    ("base_url", config.base_url.is_some()),
                    ("api_key_env", config.api_key_env.is_some()),
                ] {
                    if set {
                        errors.push(self.at(
                            &field(key),
                            format!(
                                "`{key}` is for `provider: openai` configs; a bedrock config is reached through the \
                                 AWS SDK (--region, --endpoint-url). Add `provider: openai` or remove `{key}`"
                            ),
                        ));
                    }
                }
            }
            ProviderKind::OpenAi => {
                match &config.base_url {
                    None => errors.push(self.at(
                        &field("provider"),
                        "an openai config needs `base_url`, the server's OpenAI-compatible API root, e.g. \
                         `http://127.0.0.1:8000/v1`",
                    )),
                    Some(url) => {
                        if let Err(problem) = check_base_url(url) {
                            errors.push(self.at(&field("base_url"), problem));
                        }
                    }
                }
                if let Some(name) = &config.api_key_env {
                    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid {
                        errors.push(self.at(
                            &field("api_key_env"),
                            format!(
                                "must be the name of an environment variable (letters, digits and `_`, not starting \
                                 with a digit), not the key itself; got `{name}`"
                            ),
                        ));
                    }
                }
                if config.kind == ConfigKind::Custom {
                    errors.push(self.at(
                        &field("kind"),
                        "custom configs are Bedrock fine-tuned models (an ARN) and need `provider: bedrock`; for a \
                         self-hosted fine-tuned model use `kind: prompt` with `provider: openai`",
                    ));
                }
            }
        }
        errors
    }

    /// Requests are routed by model id, so a model id must name one endpoint across the suite: the same provider,
    /// base URL and API key in every config that uses it.
    fn check_model_routes(&self, file: &SuiteFile) -> Vec<InputError> {
        let mut errors = Vec::new();
        let mut first_use: BTreeMap<&str, (usize, &ConfigSection)> = BTreeMap::new();
        for (i, config) in file.configs.iter().enumerate() {
            let Some(&(_, first)) = first_use.get(config.model.as_str()) else {
                first_use.insert(&config.model, (i, config));
                continue;
            };
            let route = |c: &ConfigSection| {
                (
                    c.provider,
                    c.base_url.as_deref().map(|u| u.trim_end_matches('/').to_string()),
                    c.api_key_env.clone(),
                )
            };
            if route(first) != route(config) {
                errors.push(self.at(
                    &format!("configs[{i}].model"),
                    format!(
                        "model `{}` is also used by config `{}` through {}; requests are routed by model id, so every \
                         config using one model id must use the same provider, base_url and api_key_env (here: {})",
                        config.model,
                        first.name,
                        describe_route(first),
                        describe_route(config)
                    ),
                ));
            }
        }
        errors
    }

    fn check_judge(&self, judge: &JudgeSection, file: &SuiteFile) -> Vec<InputError> {
        let mut errors = Vec::new();
        if judge.model.trim().is_empty() {
            errors.push(self.at("judge.model", "must not be empty"));
        }
        if judge.max_tokens == 0 {
            errors.push(self.at("judge.max_tokens", "must be at least 1"));
        }
        if !(0.0..=1.0).contains(&judge.temperature) {
            errors.push(self.at(
                "judge.temperature",
                format!("must be between 0 and 1, got {}", judge.temperature),
            ));
        }
        if judge.reasks > 5 {
            errors.push(self.at("judge.reasks", format!("must be between 0 and 5, got {}", judge.reasks)));
        }
        if let Some(limits) = &judge.limits {
            if limits.requests_per_minute == Some(0) || limits.tokens_per_minute == Some(0) {
                errors.push(self.at("judge.limits", "limits must be at least 1 (leave a limit out for none)"));
            }
            if file.limits.contains_key(&judge.model) {
                errors.push(self.at(
                    "judge.limits",
                    format!(
                        "`{}` also has limits under `limits`; set them in one place",
                        judge.model
                    ),
                ));
            }
        }
        errors
    }

    fn check_config(&self, i: usize, config: &ConfigSection, has_training: bool) -> Vec<InputError> {
        let mut errors = Vec::new();
        let field = |key: &str| format!("configs[{i}].{key}");
        if config.name.trim().is_empty() {
            errors.push(self.at(&field("name"), "must not be empty"));
        }
        if config.model.trim().is_empty() {
            errors.push(self.at(&field("model"), "must not be empty"));
        }
        match (config.kind, &config.shots) {
            (ConfigKind::FewShot, None) => {
                errors.push(self.at(&field("kind"), "a few-shot config needs `shots` (k, select)"))
            }
            (ConfigKind::FewShot, Some(shots)) => {
                if shots.k == 0 {
                    errors.push(self.at(&field("shots.k"), "must be at least 1"));
                }
                if !has_training {
                    errors.push(self.at(
                        &field("kind"),
                        "a few-shot config needs `dataset.training`, the pool to draw demonstrations from",
                    ));
                }
            }
            (_, Some(_)) => errors.push(self.at(&field("shots"), "only few-shot configs take `shots`")),
            (_, None) => {}
        }
        errors.extend(self.check_provider(i, config));
        if config.kind == ConfigKind::Custom
            && config.provider == ProviderKind::Bedrock
            && !is_bedrock_arn(&config.model)
        {
            errors.push(self.at(
                &field("model"),
                format!(
                "a custom config's model must be the ARN of a provisioned model or custom-model deployment, got `{}`",
                config.model
            ),
            ));
        }
        let inference = &config.inference;
        if let Some(t) = inference.temperature {
            if !(0.0..=1.0).contains(&t) {
                errors.push(self.at(
                    &field("inference.temperature"),
                    format!("must be between 0 and 1, got {t}"),
                ));
            }
        }
        if let Some(p) = inference.top_p {
            if !(0.0..=1.0).contains(&p) {
                errors.push(self.at(&field("inference.top_p"), format!("must be between 0 and 1, got {p}")));
            }
        }
        if inference.max_tokens == Some(0) {
            errors.push(self.at(&field("inference.max_tokens"), "must be at least 1"));
        }
        if inference.stop_sequences.iter().any(String::is_empty) {
            errors.push(self.at(&field("inference.stop_sequences"), "must not contain an empty sequence"));
        }
        if let Some(template) = &config.template {
            if let Err(e) = template_fields(template) {
                errors.push(self.at(&field("template"), e.to_string()));
            }
        }
        errors
    }

    /// Checks that need the loaded data: pool sizes, template fields, rubric fields.
    fn check_against_data(
        &self,
        file: &SuiteFile,
        held_out: &Dataset,
        training: Option<&Dataset>,
        rubric: Option<&Rubric>,
    ) -> Vec<InputError> {
        let mut errors = Vec::new();
        let pool = training.map_or(&[][..], |d| d.examples.as_slice());
        for (i, config) in file.configs.iter().enumerate() {
            if let Some(template) = &config.template {
                for example in
                    held_out
                        .examples
                        .iter()
                        .chain(if config.kind == ConfigKind::FewShot { pool } else { &[] })
                {
                    if let Err(e) = crate::prompt::render(template, example) {
                        errors.push(self.at(
                            &format!("configs[{i}].template"),
                            format!("{e} (line {})", example.line),
                        ));
                        break;
                    }
                }
            }
            let (ConfigKind::FewShot, Some(shots)) = (config.kind, &config.shots) else {
                continue;
            };
            let builder = RequestBuilder::new(config, pool);
            if let Some(example) = held_out.examples.iter().find(|e| builder.eligible_count(e) < shots.k) {
                errors.push(self.at(&format!("configs[{i}].shots.k"), format!(
                    "k = {} but the training pool has only {} eligible demonstrations for example `{}` (pool entries need a completion and must differ from the held-out input)",
                    shots.k,
                    builder.eligible_count(example),
                    example.id
                )));
            }
        }
        if let Some(rubric) = rubric {
            if let (None, Some(criterion)) = (&file.judge, rubric.judge_criteria().next()) {
                errors.push(self.at(
                    "rubric",
                    format!(
                        "rubric criterion `{}` is judged by a model; add a `judge:` section with the judge's `model`",
                        criterion.id
                    ),
                ));
            }
            errors.extend(self.check_human_scores(file, held_out, rubric));
            for criterion in &rubric.criteria {
                let Some(field) = criterion.field() else {
                    continue;
                };
                if let Some(example) = held_out.examples.iter().find(|e| !e.fields.contains_key(field)) {
                    errors.push(
                        InputError::at_line(
                            &held_out.path,
                            example.line,
                            format!(
                                "rubric criterion `{}` takes its terms from field `{field}`, which example `{}` lacks",
                                criterion.id, example.id
                            ),
                        )
                        .field(field),
                    );
                }
            }
        }
        errors
    }
}

impl Checker<'_> {
    /// Human labels for judge calibration: where an example has one, an object of config name → a level of the
    /// criterion's scale.
    fn check_human_scores(&self, file: &SuiteFile, held_out: &Dataset, rubric: &Rubric) -> Vec<InputError> {
        let configs: HashSet<&str> = file.configs.iter().map(|c| c.name.as_str()).collect();
        let mut errors = Vec::new();
        for criterion in &rubric.criteria {
            let Some((spec, field)) = criterion
                .judge()
                .and_then(|s| Some((s, s.human_score_field.as_deref()?)))
            else {
                continue;
            };
            for example in &held_out.examples {
                let Some(value) = example.fields.get(field) else {
                    continue;
                };
                let problem = match value.as_object() {
                    None => Some("must be an object of config name → human score".to_string()),
                    Some(labels) => labels.iter().find_map(|(config, level)| {
                        if !configs.contains(config.as_str()) {
                            return Some(format!("`{config}` is not a config of the suite"));
                        }
                        match level.as_i64().filter(|l| spec.scale.contains_key(l)) {
                            Some(_) => None,
                            None => Some(format!(
                                "the score for `{config}` is {level}, not a level of criterion `{}`'s scale ({}–{})",
                                criterion.id,
                                spec.min_level(),
                                spec.max_level()
                            )),
                        }
                    }),
                };
                if let Some(problem) = problem {
                    errors.push(InputError::at_line(&held_out.path, example.line, problem).field(field));
                }
            }
        }
        errors
    }
}

/// Where a config's requests go, for messages: `bedrock`, or `openai at URL (key from VAR)`.
fn describe_route(config: &ConfigSection) -> String {
    match config.provider {
        ProviderKind::Bedrock => "bedrock".to_string(),
        ProviderKind::OpenAi => {
            let url = config.base_url.as_deref().unwrap_or("(no base_url)");
            match &config.api_key_env {
                Some(var) => format!("openai at {url} (key from {var})"),
                None => format!("openai at {url} (no key)"),
            }
        }
    }
}

/// Checks an OpenAI-compatible base URL: http or https, with a host, no query or fragment, and not already the
/// chat-completions path (the provider appends `/chat/completions`).
fn check_base_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        format!(
            "`{url}` is not a URL ({e}); give the server's API root as an http:// or https:// URL, e.g. \
             `http://127.0.0.1:8000/v1`"
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "`{url}` must be an http:// or https:// URL with a host, e.g. `http://127.0.0.1:8000/v1`"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("`{url}` must not have a query or fragment"));
    }
    if parsed.path().trim_end_matches('/').ends_with("/chat/completions") {
        return Err(format!(
            "`{url}` is the chat-completions URL; give its root (without `/chat/completions`), which the tool \
             appends"
        ));
    }
    Ok(())
}

/// Whether `model` looks like a Bedrock ARN (provisioned model, custom-model deployment, imported or custom model).
pub fn is_bedrock_arn(model: &str) -> bool {
    model.starts_with("arn:aws") && model.contains(":bedrock:")
}
