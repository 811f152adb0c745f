//! `bedrock-eval validate`: check a suite without calling a model.

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::{note, run, suite};

use super::{check_suite_leakage, print_data_warnings};
use crate::commands::output::outln;

pub(crate) fn validate(path: &Path) -> anyhow::Result<ExitCode> {
    let suite = suite::load(path)?;
    print_data_warnings(&suite);
    check_suite_leakage(&suite, false)?;
    // One pass over the plan, a request at a time: compact keys, never the requests themselves.
    let plan = run::pending::PendingPlan::new(&suite, &run::recorded::RecordedIndex::default(), false)?;
    for warning in plan.shared_warnings(&suite) {
        note!("warning: {warning}");
    }
    outln!(
        "{}: ok — {} held-out examples, {} training examples, {} configs, {} criteria, {} requests per run",
        path.display(),
        suite.held_out.examples.len(),
        suite.pool().len(),
        suite.file.configs.len(),
        suite.rubric.criteria.len(),
        plan.planned
    );
    Ok(ExitCode::SUCCESS)
}
