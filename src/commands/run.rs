//! `bedrock-eval run`: plan, call, record, judge and report a suite.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bedrock_eval::batch;
use bedrock_eval::cost::estimate;
use bedrock_eval::error::InputError;
use bedrock_eval::report;
use bedrock_eval::run::{self, folder, RunOptions};
use bedrock_eval::suite::{self, Suite};

use super::{
    check_suite_leakage, compare::compare_runs, connect, listen_for_interrupts, print_judging, print_run_cost, resume,
    write_reports, EXIT_INTERRUPTED,
};
use crate::cli::{EndpointArgs, Mode, RegressionOptions, RunArgs};
use crate::commands::output::outln;

/// The suite's batch settings, checked for `run --mode batch` before anything is called or created.
fn batch_settings<'s>(suite: &'s Suite, plan: &RunPlan) -> anyhow::Result<&'s batch::BatchSettings> {
    if plan.endpoint.local {
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
    plan: &RunPlan,
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
    let planned = run::plan::build_plan(suite)?.len();
    let requests = batch::pending_requests(suite, run_dir, options.retry_errors)?;
    let already_recorded = planned - requests.len();
    let records_before = run::records::read_records(&run_dir.join(run::RECORDS_FILE))?
        .records
        .len();
    let metadata = run::RunMetadata::starting(suite, endpoint, run_dir, planned, already_recorded, run::RunMode::Batch)
        .launched(options.launch.clone())
        .continuing(options.previous.as_ref(), records_before);
    run::write_metadata(run_dir, &metadata)?;
    let outcome = batch::run_batch(&requests, settings, &clients, run_dir).await?;
    eprintln!(
        "batch: {} job(s) submitted, {} attached; {} records ok, {} errors",
        outcome.submitted_jobs, outcome.attached_jobs, outcome.ok_records, outcome.error_records
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
        eprintln!("warning: some parts of the run are unpriced; --max-cost checks only the priced parts");
    }
    Ok(())
}

/// What `run` was asked to do, once a resumed run's recorded settings are filled in.
struct RunPlan {
    /// Where calls go.
    endpoint: EndpointArgs,
    /// `--concurrency`, else the recorded one.
    concurrency: Option<usize>,
    /// `--mode`, else the recorded one, else live.
    mode: Mode,
    /// `--s3-endpoint-url`, else the recorded one.
    s3_endpoint_url: Option<String>,
    /// `--alpha`, else the recorded one: the report's significance level (and the comparison's, with --baseline).
    alpha: Option<f64>,
}

impl RunPlan {
    /// The user's settings, completed from `previous` (the run being resumed) where not given again.
    fn new(args: &RunArgs, previous: Option<(&run::RunMetadata, &Path)>) -> Result<RunPlan, InputError> {
        let Some((previous, run_dir)) = previous else {
            return Ok(RunPlan {
                endpoint: args.endpoint.clone(),
                concurrency: args.concurrency.map(usize::from),
                mode: args.mode.unwrap_or(Mode::Live),
                s3_endpoint_url: args.s3_endpoint_url.clone(),
                alpha: args.rule.alpha,
            });
        };
        let launch = previous.launch.as_ref();
        Ok(RunPlan {
            endpoint: resume::recorded_endpoint(&args.endpoint, previous, run_dir)?,
            concurrency: args
                .concurrency
                .map(usize::from)
                .or_else(|| launch.and_then(|l| l.concurrency)),
            mode: args.mode.unwrap_or(match previous.mode {
                run::RunMode::Live => Mode::Live,
                run::RunMode::Batch => Mode::Batch,
            }),
            s3_endpoint_url: args
                .s3_endpoint_url
                .clone()
                .or_else(|| launch.and_then(|l| l.s3_endpoint_url.clone())),
            alpha: args.rule.alpha.or_else(|| launch.and_then(|l| l.alpha)),
        })
    }

    /// What `run.json` records of it.
    fn launch(&self, results: &Path, region: Option<String>) -> run::Launch {
        run::Launch {
            local: self.endpoint.local,
            endpoint_url: if self.endpoint.local {
                None
            } else {
                self.endpoint
                    .endpoint_url
                    .clone()
                    .or_else(resume::endpoint_url_from_environment)
            },
            region,
            profile: self.endpoint.profile.clone(),
            results: std::path::absolute(results).unwrap_or_else(|_| results.to_path_buf()),
            concurrency: self.concurrency,
            s3_endpoint_url: self.s3_endpoint_url.clone(),
            alpha: self.alpha,
        }
    }
}

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut suite = suite::load(&args.suite)?;
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
    let plan = RunPlan::new(
        &args,
        resumed.as_ref().map(|(dir, _, previous)| (previous, dir.as_path())),
    )?;
    if let Some(alpha) = plan.alpha {
        suite.file.analysis.alpha = alpha;
    }
    let batch_settings = match plan.mode {
        Mode::Live => None,
        Mode::Batch => Some(batch_settings(&suite, &plan)?),
    };
    let (provider, endpoint_info, local) = connect(&plan.endpoint, &suite).await?;
    let region = match &endpoint_info {
        run::EndpointInfo::Bedrock { region, .. } => region.clone(),
        run::EndpointInfo::Simulated { .. } => None,
    };
    let (run_dir, _lock, previous) = match resumed {
        Some((dir, lock, previous)) => {
            resume::check_same_endpoint(&previous, &endpoint_info, args.endpoint_change, &dir)?;
            (dir, lock, Some(previous))
        }
        None => {
            let (dir, lock) = folder::claim_new(&suite_dir, args.run_id.as_deref())?;
            (dir, lock, None)
        }
    };

    let (mut interrupts, interrupt_task) = listen_for_interrupts();
    let options = RunOptions {
        retry_errors: args.retry_errors,
        concurrency: plan.concurrency,
        launch: plan.launch(&results, region),
        previous,
    };
    let outcome = match batch_settings {
        None => run::run_suite(&suite, &provider, endpoint_info, &run_dir, &options, &mut interrupts).await,
        Some(settings) => run_batch_mode(&suite, settings, &plan, &options, endpoint_info, &run_dir).await,
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
    let execution = outcome.execution;
    run::record_end(&run_dir, execution.interrupted.then(|| "interrupted".to_string()))?;

    let written = write_reports(&run_dir, &suite, args.report)?;
    outln!(
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
        outln!("wrote {}", path.display());
    }
    print_run_cost(&run_dir);
    if let (Some(baseline), false) = (&args.baseline, execution.interrupted) {
        let rule = RegressionOptions {
            alpha: plan.alpha,
            ..args.rule
        };
        return compare_runs(baseline, &run_dir, None, rule);
    }
    if execution.interrupted {
        resume::print_resume("run interrupted", &run_dir, false);
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}
