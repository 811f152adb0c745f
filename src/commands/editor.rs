//! `bedrock-eval schema`: what editors need to help write suites and rubrics.

use std::process::ExitCode;

use bedrock_eval::schemas::SchemaFile;

use crate::cli::SchemaArg;

/// Prints the JSON Schema of suite or rubric files.
pub(crate) fn schema(file: SchemaArg) -> anyhow::Result<ExitCode> {
    let file = match file {
        SchemaArg::Suite => SchemaFile::Suite,
        SchemaArg::Rubric => SchemaFile::Rubric,
    };
    print!("{}", file.text());
    Ok(ExitCode::SUCCESS)
}
