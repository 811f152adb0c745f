//! The suite's checks that need the suite file and its data: settings, configs, judge, and the data they use.

use std::collections::HashSet;
use std::path::Path;

use super::is_bedrock_arn;
use super::schema::{ConfigKind, ConfigSection, JudgeSection, ProviderKind, SuiteFile};
use crate::dataset::Dataset;
use crate::error::InputError;
use crate::input_file::excerpt;
use crate::prompt::{template_fields, RequestBuilder};
use crate::score::Rubric;
use crate::yaml_positions::YamlPositions;

/// The longest suite name: it is a folder name, and file systems cap those at 255 bytes (60 characters stay under
/// that even at 4 bytes each).
const MAX_NAME_CHARS: usize = 60;

/// Whether `name` is safe as one path component under `--results`: letters, digits, `-`, `_` and `.` only (no
/// separator, no control character), and not `.`, `..` or any other name made only of dots, so no run writes outside
/// the results folder.
fn is_folder_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c))
        && !name.chars().all(|c| c == '.')
}

/// Builds errors at a suite field's position.
pub(super) struct Checker<'a> {
    pub(super) path: &'a Path,
    pub(super) positions: &'a YamlPositions,
}

impl Checker<'_> {
    pub(super) fn at(&self, field: &str, message: impl Into<String>) -> InputError {
        InputError::in_file(self.path, message)
            .field(field)
            .position(self.positions.find(field))
    }

    pub(super) fn existing<'p>(&self, path: &'p Path, field: &str, errors: &mut Vec<InputError>) -> Option<&'p Path> {
        match crate::input_file::check_regular(path) {
            Ok(()) => Some(path),
            Err(problem) => {
                errors.push(self.at(field, format!("{problem}: {}", path.display())));
                None
            }
        }
    }

    /// Checks that need only the suite file.
    pub(super) fn check_settings(&self, file: &SuiteFile) -> Vec<InputError> {
        let mut errors = Vec::new();
        if !is_folder_name(&file.name) {
            errors.push(self.at(
                "name",
                format!(
                    "must be one folder name, as it names the results folder: letters, digits, '-', '_' or '.', \
                     not only dots, at most {MAX_NAME_CHARS} characters"
                ),
            ));
        }
        if file.configs.is_empty() {
            errors.push(self.at("configs", "a suite needs at least one config"));
        }
        let mut names = HashSet::new();
        for (i, config) in file.configs.iter().enumerate() {
            errors.extend(self.check_config(i, config, file.dataset.training.is_some()));
            errors.extend(self.check_cache(i, config));
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
        if !(0.0..=1.0).contains(&file.max_error_rate) {
            errors.push(self.at(
                "max_error_rate",
                format!("must be a fraction from 0 to 1, got {}", file.max_error_rate),
            ));
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
    pub(super) fn check_against_data(
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
            if file.dataset.training.is_some() && training.is_none() {
                // The training file could not be read, and says why; its pool is unknown, not empty.
                continue;
            }
            let builder = RequestBuilder::new(config, pool);
            if let Some(example) = held_out.examples.iter().find(|e| builder.eligible_count(e) < shots.k) {
                errors.push(self.at(&format!("configs[{i}].shots.k"), format!(
                    "k = {} but the training pool has only {} eligible demonstrations for example `{}` (pool entries need a completion and must differ from the held-out input)",
                    shots.k,
                    builder.eligible_count(example),
                    excerpt(&example.id)
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
                for field in criterion.example_fields() {
                    if let Some(example) = held_out.examples.iter().find(|e| !e.fields.contains_key(field)) {
                        let reads = if criterion.field().is_some() {
                            "its terms"
                        } else {
                            "what it expects"
                        };
                        errors.push(
                            InputError::at_line(
                                &held_out.path,
                                example.line,
                                format!(
                                    "rubric criterion `{}` takes {reads} from field `{field}`, which example `{}` lacks",
                                    criterion.id,
                                    excerpt(&example.id)
                                ),
                            )
                            .field(field),
                        );
                    }
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
                            return Some(format!("`{}` is not a config of the suite", excerpt(config)));
                        }
                        match level.as_i64().filter(|l| spec.scale.contains_key(l)) {
                            Some(_) => None,
                            None => Some(format!(
                                "the score for `{}` is {}, not a level of criterion `{}`'s scale ({}–{})",
                                excerpt(config),
                                excerpt(&level.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suite_name_is_one_safe_folder_name() {
        for good in ["support-tone", "v1.2_final", "évaluation", "a..b"] {
            assert!(is_folder_name(good), "{good}");
        }
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        for bad in [
            "",
            ".",
            "..",
            "...",
            "a/b",
            "..\\x",
            "a\nb",
            "tab\there",
            " ",
            long.as_str(),
        ] {
            assert!(!is_folder_name(bad), "{bad:?}");
        }
    }
}
