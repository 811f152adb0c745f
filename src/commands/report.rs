//! `bedrock-eval report`: rebuild a run's reports from its records.

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::run;

use super::{load_run_suite, write_reports};
use crate::cli::ReportOptions;
use crate::commands::output::outln;

pub(crate) fn report_run(run_dir: &Path, options: ReportOptions) -> anyhow::Result<ExitCode> {
    let metadata = run::read_metadata(run_dir)?;
    let _lock = run::folder::lock(run_dir)?;
    let suite = load_run_suite(&metadata, None)?;
    for path in write_reports(run_dir, &suite, options)? {
        outln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
