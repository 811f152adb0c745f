//! `bedrock-eval run`: plan, call, record, judge and report a suite.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bedrock_eval::batch;
use bedrock_eval::cost::estimate;
use bedrock_eval::error::InputError;
use bedrock_eval::report;
use bedrock_eval::run::{self, folder, RunOptions};
use bedrock_eval::suite::{self, Suite};
use bedrock_eval::{note, say};

use bedrock_eval::endpoint::RunningEndpoint;
use bedrock_eval::provider::routing::RoutingProvider;
use bedrock_eval::run::errors::ErrorTally;
use bedrock_eval::run::executor::Stop;
use bedrock_eval::run::folder::RunFolderLock;
use tokio::sync::mpsc;

use super::resume::RunSettings;
use super::{
    check_suite_leakage, compare::compare_runs, connect, print_command_scoring, print_data_warnings, print_judging,
    print_run_cost, resume, signals::Interrupts, write_reports, Connection, EXIT_FAILURE,
};
use crate::cli::{Mode, RegressionOptions, RunArgs};
use bedrock_eval::run::command_scoring::score_with_commands;

/// The suite's batch settings, checked for `run --mode batch` before anything is called or created.
fn batch_settings<'s>(suite: &'s Suite, plan: &RunSettings) -> anyhow::Result<&'s batch::BatchSettings> {
    if plan.endpoint.local {
        return Err(InputError::in_file(
            &suite.path,
            "--mode batch needs an S3 bucket, which --local does not provide; point --endpoint-url and \
             --s3-endpoint-url at a Bedrock-compatible endpoint and an S3 server, or run live",
        )
        .into());
    }
    if let Some(&(index, name)) = batch::provisioned_configs(suite).first() {
        return Err(InputError::in_file(
            &suite.path,
            format!(
                "config `{name}` is served on a provisioned model, which Bedrock batch inference does not accept; \
                 run it live (without --mode batch), or leave it out of the batch suite"
            ),
        )
        .field(format!("configs[{index}].model"))
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
    plan: &RunSettings,
    options: &RunOptions,
    endpoint: run::EndpointInfo,
    run_dir: &Path,
) -> anyhow::Result<run::RunOutcome> {
    let clients = batch::BatchClients::from_environment(
        plan.endpoint.region.as_deref(),
        plan.endpoint.profile.as_deref(),
        plan.endpoint.endpoint_url.as_deref(),
        plan.s3_endpoint_url.as_deref(),
    )
    .await?;
    let recorded = run::recorded::RecordedIndex::read(&run_dir.join(run::RECORDS_FILE))?;
    let pending = run::pending::PendingPlan::new(suite, &recorded, options.retry_errors)?;
    let (planned, already_recorded, records_before) = (pending.planned, pending.already_recorded, recorded.records());
    let requests = batch::pending_requests(suite, run_dir, options.retry_errors)?;
    let metadata = run::RunMetadata::starting(suite, endpoint, run_dir, planned, already_recorded, run::RunMode::Batch)
        .launched(options.launch.clone())
        .continuing(options.previous.as_ref(), records_before);
    run::write_metadata(run_dir, &metadata)?;
    let outcome = batch::run_batch(&requests, settings, &clients, run_dir).await?;
    note!(
        "batch: {} job(s) submitted, {} attached; {} records ok, {} errors",
        outcome.submitted_jobs,
        outcome.attached_jobs,
        outcome.ok_records,
        outcome.error_records
    );
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

/// A run ready to make calls: its suite and settings, where calls go, and its folder, locked.
struct Started {
    suite: Suite,
    plan: RunSettings,
    provider: RoutingProvider,
    endpoint: run::EndpointInfo,
    local: Option<RunningEndpoint>,
    run_dir: PathBuf,
    _lock: RunFolderLock,
    options: RunOptions,
}

/// Everything `run` checks and sets up before its first call: the suite, the flags, a resumed run's record, the
/// endpoint and credentials, and the run folder.
async fn start(args: &RunArgs) -> anyhow::Result<Started> {
    let mut suite = suite::load(&args.suite)?;
    print_data_warnings(&suite);
    check_suite_leakage(&suite, args.strict)?;
    if let Some(max_cost) = args.max_cost {
        check_budget(&suite, max_cost)?;
    }
    if let Some(baseline) = &args.baseline {
        // Checked before anything is called: a missing or broken baseline is an input error.
        run::read_metadata(baseline)?;
    }
    let results = args.results.clone().unwrap_or_else(|| PathBuf::from("results"));
    let suite_dir = results.join(&suite.file.name);
    if let Some(id) = &args.run_id {
        folder::check_run_id(&suite.path, id)?;
    }
    // A resumed run's folder is locked before anything else, so its record cannot change under us.
    let resumed = match args.resume {
        true => {
            let dir = folder::find_to_resume(&suite_dir, args.run_id.as_deref())?;
            let lock = folder::lock(&dir)?;
            let previous = run::read_metadata(&dir)?;
            Some((dir, lock, previous))
        }
        false => {
            if let Some(id) = &args.run_id {
                folder::check_new(&suite_dir, id)?;
            }
            None
        }
    };
    let plan = RunSettings::new(
        args,
        resumed.as_ref().map(|(dir, _, previous)| (previous, dir.as_path())),
    )?;
    if let Some(alpha) = plan.alpha {
        suite.file.analysis.alpha = alpha;
    }
    if plan.mode == Mode::Batch {
        batch_settings(&suite, &plan)?;
    }
    let Connection {
        provider,
        endpoint,
        region,
        local,
    } = connect(&plan.endpoint, &suite).await?;
    let (run_dir, lock, previous) = match resumed {
        Some((dir, lock, previous)) => {
            resume::check_same_endpoint(&previous, &endpoint, args.endpoint_change, &dir)?;
            (dir, lock, Some(previous))
        }
        None => {
            let (dir, lock) = folder::claim_new(&suite_dir, args.run_id.as_deref())?;
            (dir, lock, None)
        }
    };
    let options = RunOptions {
        retry_errors: args.retry_errors,
        concurrency: plan.concurrency,
        launch: plan.launch(&results, region),
        previous,
        max_error_rate: Some(plan.max_error_rate.unwrap_or(suite.file.max_error_rate)),
    };
    Ok(Started {
        suite,
        plan,
        provider,
        endpoint,
        local,
        run_dir,
        _lock: lock,
        options,
    })
}

/// Generation, then the judge (unless generation stopped early): what was done, and why it stopped early if it did.
async fn make_calls(
    started: &Started,
    interrupts: &mut mpsc::Receiver<()>,
) -> anyhow::Result<(run::RunOutcome, Option<Stop>)> {
    let Started {
        suite,
        plan,
        provider,
        run_dir,
        options,
        ..
    } = started;
    let endpoint = started.endpoint.clone();
    let outcome = match plan.mode {
        Mode::Live => run::run_suite(suite, provider, endpoint, run_dir, options, interrupts).await?,
        Mode::Batch => run_batch_mode(suite, batch_settings(suite, plan)?, plan, options, endpoint, run_dir).await?,
    };
    if let Some(stop) = &outcome.execution.stop {
        return Ok((outcome.clone(), Some(stop.clone())));
    }
    let judging = run::judging::judge_run(
        suite,
        &suite.rubric,
        provider,
        run_dir,
        options.concurrency.unwrap_or(suite.file.concurrency),
        options.retry_errors,
        interrupts,
    )
    .await?;
    print_judging(&judging);
    if judging.stop.is_some() {
        return Ok((outcome, judging.stop));
    }
    // The user's scorers run on the replies once generation and judging have finished.
    let scoring = score_with_commands(suite, &suite.rubric, run_dir, options.retry_errors, interrupts).await?;
    let interrupted = print_command_scoring(&scoring);
    Ok((outcome, interrupted.then_some(Stop::Interrupted)))
}

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let started = start(&args).await?;
    let mut interrupts = Interrupts::listen();
    let calls = make_calls(&started, interrupts.receiver()).await;
    let Started {
        suite,
        plan,
        local,
        run_dir,
        options,
        ..
    } = started;
    if let Some(local) = local {
        local.shutdown().await;
    }
    let (outcome, stop) = match calls {
        Ok(done) => done,
        Err(error) => {
            // Whatever was recorded stays; say how the run ended and how to continue it.
            let _ = run::record_end(&run_dir, Some(format!("failed: {error:#}")));
            resume::print_resume("run failed; once the cause is fixed, resume it with:", &run_dir, false);
            return Err(error);
        }
    };
    run::record_end(&run_dir, stop.as_ref().map(ToString::to_string))?;
    let written = write_reports(&run_dir, &suite, args.report)?;
    print_summary(&outcome, &written);
    print_run_cost(&run_dir);

    let max_error_rate = options.max_error_rate.unwrap_or(suite.file.max_error_rate);
    if let Some(code) = stopped_or_failed(stop, &suite, &run_dir, max_error_rate, &interrupts)? {
        return Ok(code);
    }
    if let Some(baseline) = &args.baseline {
        let rule = RegressionOptions {
            alpha: plan.alpha,
            ..args.rule
        };
        return compare_runs(baseline, &run_dir, None, rule);
    }
    Ok(ExitCode::SUCCESS)
}

/// The exit code of a run that stopped early or failed too often (with what happened and how to resume it), or
/// `None` for a run that passed.
fn stopped_or_failed(
    stop: Option<Stop>,
    suite: &Suite,
    run_dir: &Path,
    max_error_rate: f64,
    interrupts: &Interrupts,
) -> anyhow::Result<Option<ExitCode>> {
    match stop {
        Some(Stop::Interrupted) => {
            resume::print_resume("run interrupted; resume it with:", run_dir, false);
            Ok(Some(interrupts.exit_code()))
        }
        Some(Stop::Fatal(error)) => {
            eprintln!("error: the run stopped at a call that no retry escapes, {error}; nothing more was sent");
            resume::print_resume(
                "once the credentials or the model access are fixed, resume it with:",
                run_dir,
                false,
            );
            Ok(Some(ExitCode::from(EXIT_FAILURE)))
        }
        Some(Stop::TooManyErrors { .. }) | None => {
            let generation = ErrorTally::of_run(suite, run_dir)?;
            let judge = ErrorTally::of_judge_calls(run_dir)?;
            if generation.exceeds(max_error_rate) || stop.is_some() {
                eprintln!(
                    "error: {} of {} planned requests failed, more than --max-error-rate {max_error_rate} allows ({}): \
                     {}",
                    generation.failed,
                    generation.planned,
                    run::allowed_errors(max_error_rate, generation.planned),
                    generation.by_kind_text()
                );
            } else if judge.exceeds(max_error_rate) {
                // Replies without their judge criteria are not a result a nightly job may pass on.
                eprintln!(
                    "error: {} of {} judge calls failed, more than --max-error-rate {max_error_rate} allows ({}): {}",
                    judge.failed,
                    judge.planned,
                    run::allowed_errors(max_error_rate, judge.planned),
                    judge.by_kind_text()
                );
            } else {
                return Ok(None);
            }
            resume::print_resume(
                "the reports are written; once the cause is fixed, resume it (asking the failed requests again) with:",
                run_dir,
                true,
            );
            Ok(Some(ExitCode::from(EXIT_FAILURE)))
        }
    }
}

/// What the run did, and the files it wrote.
fn print_summary(outcome: &run::RunOutcome, written: &[PathBuf]) {
    let execution = &outcome.execution;
    say!(
        "{} requests planned: {} recorded earlier, {} recorded now{}",
        outcome.planned,
        outcome.already_recorded,
        execution.recorded,
        if execution.interrupted() {
            format!(
                ", {} not started, {} not retried, {} abandoned in flight, {} refused",
                execution.not_started, execution.not_retried, execution.abandoned, execution.refused
            )
        } else {
            String::new()
        }
    );
    for path in written {
        say!("wrote {}", path.display());
    }
}
