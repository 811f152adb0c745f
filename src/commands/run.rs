//! `bedrock-eval run`: plan, call, record, judge and report a suite.

use std::path::Path;
use std::process::ExitCode;

use bedrock_eval::batch;
use bedrock_eval::cost::estimate;
use bedrock_eval::error::InputError;
use bedrock_eval::report;
use bedrock_eval::run::{self, RunOptions};
use bedrock_eval::suite::{self, Suite};
use bedrock_eval::{note, say};

use super::{
    check_suite_leakage, compare::compare_runs, connect, listen_for_interrupts, print_judging, print_run_cost,
    write_reports, EXIT_INTERRUPTED,
};
use crate::cli::{Mode, RunArgs};

/// The suite's batch settings, checked for `run --mode batch` before anything is called or created.
fn batch_settings<'s>(suite: &'s Suite, args: &RunArgs) -> anyhow::Result<&'s batch::BatchSettings> {
    if args.endpoint.local {
        return Err(InputError::in_file(
            &suite.path,
            "--mode batch needs an S3 bucket, which --local does not provide; point --endpoint-url and \
             --s3-endpoint-url at a Bedrock-compatible endpoint and an S3 server, or run live",
        )
        .into());
    }
    suite.file.batch.as_ref().ok_or_else(|| {
        InputError::in_file(
            &suite.path,
            "--mode batch needs the suite's `batch:` section (s3_uri, role_arn)",
        )
        .field("batch")
        .into()
    })
}

/// Generation through Bedrock batch inference: submit (or attach to) one job per model, wait, collect the records.
/// A re-run of an interrupted batch run attaches to the jobs recorded in `batch.json` instead of submitting again.
async fn run_batch_mode(
    suite: &Suite,
    settings: &batch::BatchSettings,
    args: &RunArgs,
    endpoint: run::EndpointInfo,
    run_dir: &Path,
) -> anyhow::Result<run::RunOutcome> {
    let clients = batch::BatchClients::from_environment(
        args.endpoint.region.as_deref(),
        args.endpoint.profile.as_deref(),
        args.endpoint.endpoint_url.as_deref(),
        args.s3_endpoint_url.as_deref(),
    )
    .await?;
    std::fs::create_dir_all(run_dir)?;
    let planned = run::plan::build_plan(suite)?.len();
    let requests = batch::pending_requests(suite, run_dir, args.retry_errors)?;
    let already_recorded = planned - requests.len();
    let mut metadata =
        run::RunMetadata::starting(suite, endpoint, run_dir, planned, already_recorded, run::RunMode::Batch);
    run::write_metadata(run_dir, &metadata)?;
    let outcome = batch::run_batch(&requests, settings, &clients, run_dir).await?;
    note!(
        "batch: {} job(s) submitted, {} attached; {} records ok, {} errors",
        outcome.submitted_jobs,
        outcome.attached_jobs,
        outcome.ok_records,
        outcome.error_records
    );
    metadata.finish(false);
    run::write_metadata(run_dir, &metadata)?;
    Ok(run::RunOutcome {
        run_dir: run_dir.to_path_buf(),
        planned,
        already_recorded,
        execution: run::executor::ExecutionSummary {
            recorded: outcome.ok_records + outcome.error_records,
            ..Default::default()
        },
    })
}

/// Refuses a run whose estimated cost exceeds `--max-cost`, before anything is called or created.
fn check_budget(suite: &Suite, max_cost: f64) -> anyhow::Result<()> {
    if !(max_cost.is_finite() && max_cost >= 0.0) {
        return Err(InputError::in_file(
            &suite.path,
            format!("--max-cost must be a non-negative amount, got {max_cost}"),
        )
        .into());
    }
    let estimate = estimate::estimate(suite, &report::costs::catalogue(suite), 1000)?;
    if estimate.total_cost > max_cost {
        return Err(InputError::in_file(
            &suite.path,
            format!(
                "the run is estimated at ${:.4} (see `bedrock-eval plan`), above --max-cost ${max_cost:.4}; nothing was called",
                estimate.total_cost
            ),
        )
        .into());
    }
    if estimate.has_unpriced {
        note!("warning: some parts of the run are unpriced; --max-cost checks only the priced parts");
    }
    Ok(())
}

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let suite = suite::load(&args.suite)?;
    check_suite_leakage(&suite, args.strict)?;
    if let Some(max_cost) = args.max_cost {
        check_budget(&suite, max_cost)?;
    }
    if let Some(baseline) = &args.baseline {
        // Checked before anything is called: a missing or broken baseline is an input error.
        run::read_metadata(baseline)?;
    }
    let batch_settings = match args.mode {
        Mode::Live => None,
        Mode::Batch => Some(batch_settings(&suite, &args)?),
    };
    let run_dir = run::resolve_run_dir(&args.results, &suite, args.run_id.as_deref(), args.resume)?;
    let (provider, endpoint_info, local) = connect(&args.endpoint, &suite).await?;

    let (mut interrupts, interrupt_task) = listen_for_interrupts();
    let options = RunOptions {
        retry_errors: args.retry_errors,
        concurrency: args.concurrency.map(usize::from),
    };
    let outcome = match batch_settings {
        None => run::run_suite(&suite, &provider, endpoint_info, &run_dir, &options, &mut interrupts).await,
        Some(settings) => run_batch_mode(&suite, settings, &args, endpoint_info, &run_dir).await,
    };
    let judging = match &outcome {
        Ok(outcome) if !outcome.execution.interrupted => Some(
            run::judging::judge_run(
                &suite,
                &suite.rubric,
                &provider,
                &run_dir,
                options.concurrency.unwrap_or(suite.file.concurrency),
                args.retry_errors,
                &mut interrupts,
            )
            .await,
        ),
        _ => None,
    };
    interrupt_task.abort();
    if let Some(local) = local {
        local.shutdown().await;
    }
    let mut outcome = outcome?;
    if let Some(judging) = judging {
        let judging = judging?;
        print_judging(&judging);
        outcome.execution.interrupted |= judging.interrupted;
    }

    let written = write_reports(&run_dir, &suite, args.report)?;
    let execution = outcome.execution;
    say!(
        "{} requests planned: {} recorded earlier, {} recorded now{}",
        outcome.planned,
        outcome.already_recorded,
        execution.recorded,
        if execution.interrupted {
            format!(
                ", {} not started, {} abandoned in flight",
                execution.not_started, execution.abandoned
            )
        } else {
            String::new()
        }
    );
    for path in written {
        say!("wrote {}", path.display());
    }
    print_run_cost(&run_dir);
    if let (Some(baseline), false) = (&args.baseline, execution.interrupted) {
        return compare_runs(baseline, &run_dir, None, args.rule);
    }
    if execution.interrupted {
        let run_id = run_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        eprintln!(
            "run interrupted; resume it with:\n  bedrock-eval run {} --run-id {run_id} --resume{}",
            args.suite.display(),
            if args.endpoint.local { " --local" } else { "" }
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}
