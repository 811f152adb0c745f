//! `bedrock-eval report`: rebuild a run's reports from its records.

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::run;
use bedrock_eval::say;

use super::{load_run_suite, write_reports};
use crate::cli::ReportOptions;

pub(crate) fn report_run(run_dir: &Path, options: ReportOptions) -> anyhow::Result<ExitCode> {
    let metadata = run::read_metadata(run_dir)?;
    let _lock = run::folder::lock(run_dir)?;
    let suite = load_run_suite(&metadata, None)?;
    for path in write_reports(run_dir, &suite, options)? {
        say!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
