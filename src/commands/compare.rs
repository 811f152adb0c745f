//! `bedrock-eval compare`: did a config regress between two runs?

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::compare;
use bedrock_eval::{note, say};

use crate::cli::RegressionOptions;

/// Exit code when a comparison finds a regression.
const EXIT_REGRESSED: u8 = 1;

/// The paired test's significance level when `--alpha` is not given.
const DEFAULT_ALPHA: f64 = 0.05;

pub(crate) fn compare_runs(
    base: &Path,
    new: &Path,
    out: Option<&Path>,
    rule: RegressionOptions,
) -> anyhow::Result<ExitCode> {
    // compare.html shows the new run's inputs and references only.
    let base_side = compare::load_run(base, false)?;
    let new_side = compare::load_run(new, true)?;
    let alpha = rule.alpha.unwrap_or(DEFAULT_ALPHA);
    let comparison = match compare::compare(&base_side, &new_side, alpha, rule.max_drop, 0) {
        Ok(comparison) => comparison,
        Err(error) => {
            for warning in compare::input_warnings(&base_side, &new_side) {
                note!("warning: {warning}");
            }
            return Err(error);
        }
    };
    for warning in &comparison.warnings {
        note!("warning: {warning}");
    }
    for change in &comparison.configs {
        say!("{}: {} — {}", change.config, change.change.label(), change.reason);
    }
    let written = compare::write_outputs(&comparison, &base_side, &new_side, out.unwrap_or(new))?;
    for path in written {
        say!("wrote {}", path.display());
    }
    Ok(if comparison.regressed() {
        ExitCode::from(EXIT_REGRESSED)
    } else {
        ExitCode::SUCCESS
    })
}
