//! `bedrock-eval compare`: did a config regress between two runs?

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::compare;
use bedrock_eval::error::InputError;
use bedrock_eval::{note, say};

use crate::cli::RegressionOptions;

/// Exit code when a comparison finds a regression.
const EXIT_REGRESSED: u8 = 1;

pub(crate) fn compare_runs(
    base: &Path,
    new: &Path,
    out: Option<&Path>,
    rule: RegressionOptions,
) -> anyhow::Result<ExitCode> {
    if !(rule.alpha > 0.0 && rule.alpha < 0.5) {
        return Err(InputError::in_file(
            Path::new("--alpha"),
            format!("must be between 0 and 0.5, got {}", rule.alpha),
        )
        .into());
    }
    if !(rule.max_drop.is_finite() && rule.max_drop >= 0.0) {
        return Err(InputError::in_file(
            Path::new("--max-drop"),
            format!("must be a non-negative number of quality points, got {}", rule.max_drop),
        )
        .into());
    }
    let base_side = compare::load_run(base)?;
    let new_side = compare::load_run(new)?;
    let comparison = match compare::compare(&base_side, &new_side, rule.alpha, rule.max_drop, 0) {
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
