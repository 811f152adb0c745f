//! Loading a suite and everything it references, and checking it all before any model is called.
//!
//! `load` is what `validate`, `plan` and `run` share: a `Suite` that loads is ready to run.

mod check;
mod check_cost;
mod check_routes;
pub mod schema;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::dataset::{Dataset, Example};
use crate::error::{InputError, InputErrors};
use crate::score::Rubric;
use crate::yaml_file::read_yaml;
use check::Checker;
use schema::{ConfigSection, SuiteFile};

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

    /// Warnings about the suite's data that do not stop it: lines repeated exactly in the held-out set, the
    /// training pool, or a simulated model's training data (each read once).
    pub fn data_warnings(&self) -> Vec<String> {
        let mut warnings = self.held_out.repeat_warnings("held-out example");
        if let Some(training) = &self.training {
            warnings.extend(training.repeat_warnings("training example"));
        }
        for dataset in self.simulated_custom_models.values() {
            if self.training.as_ref().is_none_or(|t| t.path != dataset.path) {
                warnings.extend(dataset.repeat_warnings("training example"));
            }
        }
        warnings
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
    if let Some(rubric) = rubric {
        crate::input_file::check_regular(rubric)
            .map_err(|problem| InputError::in_file(rubric, format!("cannot read rubric: {problem}")))?;
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
    for (name, custom) in file.cost.iter_mut().flat_map(|c| c.custom.iter_mut()) {
        if let Some(training_file) = custom.training_file.as_mut() {
            *training_file = dir.join(&*training_file);
            let field = format!("cost.custom.{name}.training_file");
            checker.existing(training_file, &field, &mut errors);
        }
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
        if file.dataset.training.as_ref() == Some(&model.tuned_on) {
            // The training pool itself, read (and any error in it reported) once.
            if let Some(training) = &training {
                simulated_custom_models.insert(arn.clone(), training.clone());
            }
            continue;
        }
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

/// Whether `model` looks like a Bedrock ARN (provisioned model, custom-model deployment, imported or custom model).
pub fn is_bedrock_arn(model: &str) -> bool {
    model.starts_with("arn:aws") && model.contains(":bedrock:")
}
