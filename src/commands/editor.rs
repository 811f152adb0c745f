//! `bedrock-eval schema` and `bedrock-eval completions`: what editors and shells need to help write suites and
//! commands.

use std::process::ExitCode;

use bedrock_eval::schemas::SchemaFile;
use clap::CommandFactory;

use crate::cli::{Cli, SchemaArg};
use crate::commands::output::out;

/// Prints the JSON Schema of suite or rubric files.
pub(crate) fn schema(file: SchemaArg) -> anyhow::Result<ExitCode> {
    let file = match file {
        SchemaArg::Suite => SchemaFile::Suite,
        SchemaArg::Rubric => SchemaFile::Rubric,
    };
    out!("{}", file.text());
    Ok(ExitCode::SUCCESS)
}

/// Prints the completion script for `shell`.
pub(crate) fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "bedrock-eval", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(ExitCode::SUCCESS)
}
