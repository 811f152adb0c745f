//! `bedrock-eval data`: check, split and leak-test fine-tuning data.

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::data;
use bedrock_eval::{note, say};

use crate::cli::DataCommand;
use crate::commands::output::outln;

pub(crate) fn data_command(command: DataCommand) -> anyhow::Result<ExitCode> {
    match command {
        DataCommand::Check {
            file,
            format,
            family,
            purpose,
            threshold,
            json,
        } => {
            let options = data::CheckOptions {
                format,
                family,
                purpose,
                near_duplicate_threshold: threshold,
            };
            let report = data::check_file_with(&file, &options)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for finding in &report.errors {
                    outln!("{}: error: {finding}", file.display());
                }
                for finding in &report.warnings {
                    outln!("{}: warning: {finding}", file.display());
                }
                let summary = &report.summary;
                let tokens = |t: &Option<data::TokenStats>| {
                    t.as_ref().map_or("n/a".to_string(), |t| {
                        format!("min {} / median {} / p95 {} / max {}", t.min, t.median, t.p95, t.max)
                    })
                };
                outln!(
                    "{}: {} records on {} lines; input tokens {}; output tokens {}; {} errors, {} warnings",
                    file.display(),
                    summary.records,
                    summary.lines,
                    tokens(&summary.input_tokens),
                    tokens(&summary.output_tokens),
                    report.errors.len(),
                    report.warnings.len()
                );
            }
            Ok(if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        DataCommand::Split {
            file,
            validation,
            test,
            seed,
            threshold,
            out,
        } => {
            let output_dir = out.unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).to_path_buf());
            let options = data::SplitOptions {
                validation,
                test,
                seed,
                near_duplicate_threshold: threshold,
                output_dir,
            };
            let result = data::split(&file, &options).map_err(|e| match e {
                data::DataError::Input(input) => anyhow::Error::from(input),
                other => anyhow::Error::from(other),
            })?;
            for warning in &result.warnings {
                note!("warning: {warning}");
            }
            for part in [&result.train, &result.validation, &result.test] {
                say!("wrote {} ({} records)", part.path.display(), part.lines.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Leakage {
            train,
            held_out,
            threshold,
            json,
        } => {
            let report = data::find_leakage_in_files(&train, &held_out, threshold)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for leak in &report.leaks {
                    outln!("{leak}");
                }
                outln!(
                    "{} of {} held-out examples leak into {} ({} records)",
                    report.leaked_held_out_lines().len(),
                    report.held_out_records,
                    train.display(),
                    report.train_records
                );
                if report.shared_references > 0 {
                    outln!("{}", report.shared_references_note());
                }
            }
            Ok(if report.leaks.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
