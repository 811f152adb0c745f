//! `bedrock-eval score`: re-score a run, asking only for judge verdicts whose request changed.

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::error::InputError;
use bedrock_eval::run;
use bedrock_eval::run::executor::Stop;
use bedrock_eval::{note, say};

use super::signals::Interrupts;
use super::{connect, load_run_suite, print_command_scoring, print_judging, resume, write_reports, EXIT_FAILURE};
use crate::cli::ScoreArgs;

pub(crate) async fn score(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let mut metadata = run::read_metadata(&args.run_dir)?;
    let _lock = run::folder::lock(&args.run_dir)?;
    let rubric = args
        .rubric
        .as_deref()
        .map(std::fs::canonicalize)
        .transpose()
        .map_err(|e| {
            InputError::in_file(
                args.rubric.as_deref().unwrap_or(Path::new("")),
                format!("cannot read rubric: {e}"),
            )
        })?;
    let suite = load_run_suite(&metadata, rubric.as_deref())?;
    if suite.rubric.has_judge() && !resume::endpoint_given(&args.endpoint) {
        note!(
            "judging on the endpoint this run was made on, {} (pass --local or --endpoint-url to judge elsewhere)",
            metadata.endpoint.describe()
        );
    }
    let endpoint_args = resume::recorded_endpoint(&args.endpoint, &metadata, &args.run_dir)?;
    let mut judging = run::judging::JudgingSummary::default();
    let mut interrupts = Interrupts::listen();
    if suite.rubric.has_judge() {
        let super::Connection { provider, local, .. } = connect(&endpoint_args, &suite).await?;
        let outcome = run::judging::judge_run(
            &suite,
            &suite.rubric,
            &provider,
            &args.run_dir,
            args.concurrency.map_or(suite.file.concurrency, usize::from),
            args.retry_errors,
            interrupts.receiver(),
        )
        .await;
        if let Some(local) = local {
            local.shutdown().await;
        }
        judging = outcome?;
        print_judging(&judging);
    }
    if judging.stop.is_none() {
        let scoring = run::command_scoring::score_with_commands(
            &suite,
            &suite.rubric,
            &args.run_dir,
            args.retry_errors,
            interrupts.receiver(),
        )
        .await?;
        if print_command_scoring(&scoring) {
            judging.stop = Some(Stop::Interrupted);
        }
    }
    if let Some(path) = rubric {
        metadata.rubric_override = Some(run::RubricOverride {
            path,
            sha256: suite.rubric.sha256.clone(),
        });
        run::write_metadata(&args.run_dir, &metadata)?;
    }
    for path in write_reports(&args.run_dir, &suite, args.report)? {
        say!("wrote {}", path.display());
    }
    match judging.stop {
        Some(Stop::Fatal(error)) => {
            eprintln!(
                "error: judging stopped at a call that no retry escapes, {error}; fix the credentials or the model \
                 access and run the same command again (verdicts already recorded are kept)"
            );
            return Ok(ExitCode::from(EXIT_FAILURE));
        }
        Some(_) => {
            eprintln!(
                "scoring interrupted; run the same command again to finish (verdicts and scorer results already \
                 recorded are kept)"
            );
            return Ok(interrupts.exit_code());
        }
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}
