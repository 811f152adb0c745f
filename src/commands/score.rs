//! `bedrock-eval score`: re-score a run, asking only for judge verdicts whose request changed.

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::error::InputError;
use bedrock_eval::run;
use bedrock_eval::{note, say};

use super::{connect, listen_for_interrupts, load_run_suite, print_judging, write_reports, EXIT_INTERRUPTED};
use crate::cli::ScoreArgs;

pub(crate) async fn score(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let mut metadata = run::read_metadata(&args.run_dir)?;
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
    let mut endpoint_args = args.endpoint.clone();
    let unset = endpoint_args.endpoint_url.is_none()
        && std::env::var_os("AWS_ENDPOINT_URL_BEDROCK_RUNTIME").is_none()
        && std::env::var_os("AWS_ENDPOINT_URL").is_none();
    if metadata.endpoint.is_simulated() && unset && !endpoint_args.local {
        note!("this run was made on the embedded endpoint; judging there too (pass --endpoint-url to judge elsewhere)");
        endpoint_args.local = true;
    }
    let mut judging = run::judging::JudgingSummary::default();
    if suite.rubric.has_judge() {
        let (provider, _, local) = connect(&endpoint_args, &suite).await?;
        let (mut interrupts, interrupt_task) = listen_for_interrupts();
        let outcome = run::judging::judge_run(
            &suite,
            &suite.rubric,
            &provider,
            &args.run_dir,
            args.concurrency.map_or(suite.file.concurrency, usize::from),
            args.retry_errors,
            &mut interrupts,
        )
        .await;
        interrupt_task.abort();
        if let Some(local) = local {
            local.shutdown().await;
        }
        judging = outcome?;
        print_judging(&judging);
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
    if judging.interrupted {
        eprintln!("scoring interrupted; run the same command again to finish (verdicts already recorded are kept)");
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}
