//! `bedrock-eval validate`: check a suite without calling a model.

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::{run, suite};

use super::{check_suite_leakage, print_data_warnings};
use crate::commands::output::outln;

pub(crate) fn validate(path: &Path) -> anyhow::Result<ExitCode> {
    let suite = suite::load(path)?;
    print_data_warnings(&suite);
    check_suite_leakage(&suite, false)?;
    let plan = run::plan::build_plan(&suite)?;
    outln!(
        "{}: ok — {} held-out examples, {} training examples, {} configs, {} criteria, {} requests per run",
        path.display(),
        suite.held_out.examples.len(),
        suite.pool().len(),
        suite.file.configs.len(),
        suite.rubric.criteria.len(),
        plan.len()
    );
    Ok(ExitCode::SUCCESS)
}
