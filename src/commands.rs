//! Wiring each subcommand to the library, and errors to exit codes.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bedrock_eval::batch;
use bedrock_eval::compare;
use bedrock_eval::cost::estimate;
use bedrock_eval::data;
use bedrock_eval::endpoint::{self, EndpointOptions};
use bedrock_eval::error::{InputError, InputErrors};
use bedrock_eval::provider::bedrock::{BedrockProvider, BedrockSettings};
use bedrock_eval::provider::routing::{self, RoutingProvider};
use bedrock_eval::provider::Provider;
use bedrock_eval::run::{self, EndpointInfo, RunOptions};
use bedrock_eval::suite::{self, Suite};
use bedrock_eval::{report, run::records::read_records};
use tokio::sync::mpsc;

use crate::cli::{
    Command, DataCommand, EndpointArgs, LossArgs, Mode, RegressionOptions, ReportOptions, RunArgs, ScoreArgs, ServeArgs,
};

/// Exit code for a usage or input error.
const EXIT_INPUT: u8 = 2;
/// Exit code for an operational failure.
const EXIT_FAILURE: u8 = 3;
/// Exit code for an interrupted run.
const EXIT_INTERRUPTED: u8 = 130;

/// Runs one subcommand.
pub async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => run(args).await,
        Command::Validate { suite } => validate(&suite),
        Command::Plan {
            suite,
            latency_ms,
            json,
        } => plan(&suite, latency_ms, json),
        Command::Report { run_dir, report } => report_run(&run_dir, report),
        Command::Score(args) => score(args).await,
        Command::Data(command) => data_command(command),
        Command::Loss(args) => loss(&args),
        Command::Compare(args) => compare_runs(&args.base_run, &args.new_run, args.out.as_deref(), args.rule),
        Command::Serve(args) => serve(args).await,
    }
}

/// Prints an error and picks its exit code: input mistakes are 2, everything else 3.
pub fn report_error(error: &anyhow::Error) -> ExitCode {
    if let Some(errors) = error.downcast_ref::<InputErrors>() {
        eprintln!("{errors}");
        return ExitCode::from(EXIT_INPUT);
    }
    if let Some(error) = error.downcast_ref::<InputError>() {
        eprintln!("error: {error}");
        return ExitCode::from(EXIT_INPUT);
    }
    eprintln!("error: {error:#}");
    ExitCode::from(EXIT_FAILURE)
}

/// Held-out examples that leak into the suite's few-shot pool: warned about (refused with `strict`).
fn check_suite_leakage(suite: &Suite, strict: bool) -> anyhow::Result<()> {
    let Some(training) = &suite.training else { return Ok(()) };
    let report = data::find_leakage_in_files(&training.path, &suite.held_out.path, data::Threshold::DEFAULT)?;
    if report.leaks.is_empty() {
        return Ok(());
    }
    for leak in &report.leaks {
        eprintln!("{}: {leak}", suite.held_out.path.display());
    }
    let message = format!(
        "{} held-out examples leak into the training pool {} (exactly or nearly); few-shot demonstrations may give \
         their answers away",
        report.leaked_held_out_lines().len(),
        training.path.display()
    );
    if strict {
        return Err(InputError::in_file(&suite.held_out.path, format!("{message}; refusing (--strict)")).into());
    }
    eprintln!("warning: {message} (pass --strict to refuse)");
    Ok(())
}

fn data_command(command: DataCommand) -> anyhow::Result<ExitCode> {
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
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for finding in &report.errors {
                    println!("{}: error: {finding}", file.display());
                }
                for finding in &report.warnings {
                    println!("{}: warning: {finding}", file.display());
                }
                let summary = &report.summary;
                let tokens = |t: &Option<data::TokenStats>| {
                    t.as_ref().map_or("n/a".to_string(), |t| {
                        format!("min {} / median {} / p95 {} / max {}", t.min, t.median, t.p95, t.max)
                    })
                };
                println!(
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
                eprintln!("warning: {warning}");
            }
            for part in [&result.train, &result.validation, &result.test] {
                println!("wrote {} ({} records)", part.path.display(), part.lines.len());
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
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for leak in &report.leaks {
                    println!("{leak}");
                }
                println!(
                    "{} of {} held-out examples leak into {} ({} records)",
                    report.leaked_held_out_lines().len(),
                    report.held_out_records,
                    train.display(),
                    report.train_records
                );
            }
            Ok(if report.leaks.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn loss(args: &LossArgs) -> anyhow::Result<ExitCode> {
    let curves = data::loss::read_metrics(&args.paths)?;
    let diagnosis = data::loss::diagnose(&curves);
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut table = String::from("| epoch | training loss | validation loss |\n|---|---|---|\n");
    for epoch in &diagnosis.epochs {
        let value = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.4}"));
        table.push_str(&format!(
            "| {} | {} | {} |\n",
            epoch.epoch,
            value(epoch.training_loss),
            value(epoch.validation_loss)
        ));
    }
    let summary = format!(
        "# Training diagnostics\n\n{}\n\n{}{}\n![Training and validation loss per epoch](loss.svg)\n",
        diagnosis.explanation,
        diagnosis
            .stop_epoch
            .map_or(String::new(), |e| format!("**Stop at epoch {e}.**\n\n")),
        table
    );
    let files = [
        ("loss.md", summary.into_bytes()),
        ("loss.json", serde_json::to_vec_pretty(&diagnosis)?),
        ("loss.svg", data::loss::curves_svg(&diagnosis)?.into_bytes()),
    ];
    println!("{}", diagnosis.explanation);
    for (name, bytes) in files {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(path: &Path) -> anyhow::Result<ExitCode> {
    let suite = suite::load(path)?;
    check_suite_leakage(&suite, false)?;
    let plan = run::plan::build_plan(&suite)?;
    println!(
        "{}: ok — {} held-out examples, {} training examples, {} configs, {} criteria, {} requests per run",
        path.display(),
        suite.held_out.examples.len(),
        suite.pool().len(),
        suite.file.configs.len(),
        suite.rubric.criteria.len(),
        plan.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Exit code when a comparison finds a regression.
const EXIT_REGRESSED: u8 = 1;

fn compare_runs(base: &Path, new: &Path, out: Option<&Path>, rule: RegressionOptions) -> anyhow::Result<ExitCode> {
    if !(rule.alpha > 0.0 && rule.alpha < 0.5) {
        return Err(InputError::in_file(
            Path::new("--alpha"),
            format!("must be between 0 and 0.5, got {}", rule.alpha),
        )
        .into());
    }
    if !(rule.max_drop.is_finite() && rule.max_drop >= 0.0) {
        return Err(InputError::in_file(
            Path::new("--max-drop"),
            format!("must be a non-negative number of quality points, got {}", rule.max_drop),
        )
        .into());
    }
    let base_side = compare::load_run(base)?;
    let new_side = compare::load_run(new)?;
    let comparison = match compare::compare(&base_side, &new_side, rule.alpha, rule.max_drop, 0) {
        Ok(comparison) => comparison,
        Err(error) => {
            for warning in compare::input_warnings(&base_side, &new_side) {
                eprintln!("warning: {warning}");
            }
            return Err(error);
        }
    };
    for warning in &comparison.warnings {
        eprintln!("warning: {warning}");
    }
    for change in &comparison.configs {
        println!("{}: {} — {}", change.config, change.change.label(), change.reason);
    }
    let written = compare::write_outputs(&comparison, &new_side.metadata.suite, out.unwrap_or(new))?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(if comparison.regressed() {
        ExitCode::from(EXIT_REGRESSED)
    } else {
        ExitCode::SUCCESS
    })
}

fn plan(path: &Path, latency_ms: u64, json: bool) -> anyhow::Result<ExitCode> {
    let suite = suite::load(path)?;
    let estimate = estimate::estimate(&suite, &report::costs::catalogue(&suite), latency_ms)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&estimate)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = estimate
        .parts
        .iter()
        .map(|p| {
            vec![
                p.part.clone(),
                p.model.clone(),
                p.requests.to_string(),
                p.input_tokens.to_string(),
                p.output_tokens.to_string(),
                p.cost.map_or_else(|| "unpriced".to_string(), |c| format!("${c:.4}")),
                p.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        report::table::markdown_table(
            &[
                "part",
                "model",
                "requests",
                "input tokens",
                "output tokens (est.)",
                "cost (est.)",
                "note"
            ],
            &rows
        )
    );
    println!(
        "\nestimated cost ${:.4}{}; estimated duration {:.0} s at the suite's limits and concurrency, assuming {} ms a call",
        estimate.total_cost,
        if estimate.has_unpriced { " (unpriced parts left out)" } else { "" },
        estimate.duration_seconds,
        estimate.assumed_latency_ms
    );
    println!("output tokens are estimated from each example's reference reply (capped at max_tokens); see docs/cost-model.md");
    Ok(ExitCode::SUCCESS)
}

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
    eprintln!(
        "batch: {} job(s) submitted, {} attached; {} records ok, {} errors",
        outcome.submitted_jobs, outcome.attached_jobs, outcome.ok_records, outcome.error_records
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
        eprintln!("warning: some parts of the run are unpriced; --max-cost checks only the priced parts");
    }
    Ok(())
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
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
    println!(
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
        println!("wrote {}", path.display());
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

/// The provider for a run (Bedrock, and any OpenAI-compatible servers the suite's configs name), what to record
/// about it, and the in-process endpoint when `--local`.
async fn connect(
    args: &EndpointArgs,
    suite: &Suite,
) -> anyhow::Result<(RoutingProvider, EndpointInfo, Option<endpoint::RunningEndpoint>)> {
    let input_error = |e: routing::RoutingError| InputError::in_file(&suite.path, e.to_string());
    if args.local {
        let bind = SocketAddr::from(([127, 0, 0, 1], 0));
        let running = endpoint::start(suite.local_endpoint_options(), bind)
            .await
            .context("cannot start the embedded endpoint")?;
        let url = running.url();
        eprintln!("embedded endpoint (simulated models) listening on {url}");
        let bedrock: Arc<dyn Provider> = Arc::new(BedrockProvider::for_local_endpoint(&url));
        let provider = routing::build_for_local_endpoint(suite, bedrock, &url).map_err(input_error)?;
        return Ok((provider, EndpointInfo::Simulated { url }, Some(running)));
    }
    let settings = BedrockSettings {
        region: args.region.clone(),
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
    };
    let bedrock: Arc<dyn Provider> = Arc::new(
        BedrockProvider::from_environment(&settings)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?,
    );
    let provider = routing::build(suite, bedrock).map_err(input_error)?;
    let endpoint_url = args
        .endpoint_url
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_BEDROCK_RUNTIME").ok())
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
    Ok((
        provider,
        EndpointInfo::Bedrock {
            endpoint_url,
            region: args.region.clone(),
        },
        None,
    ))
}

/// A channel that receives one message per Ctrl-C, and the task feeding it (abort it when done).
fn listen_for_interrupts() -> (mpsc::Receiver<()>, tokio::task::JoinHandle<()>) {
    let (sender, receiver) = mpsc::channel(4);
    let task = tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if sender.send(()).await.is_err() {
                break;
            }
        }
    });
    (receiver, task)
}

fn print_judging(judging: &run::judging::JudgingSummary) {
    if judging.calls > 0 || judging.reused > 0 {
        println!(
            "judge: {} verdicts reused from earlier calls, {} judge calls made now",
            judging.reused, judging.calls
        );
    }
}

/// Writes every report of the run, and records the run's own cost in `run.json`.
fn write_reports(run_dir: &Path, suite: &Suite, options: ReportOptions) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut metadata = run::read_metadata(run_dir)?;
    let records = read_records(&run_dir.join(run::RECORDS_FILE))?;
    let judgements = read_records(&run_dir.join(run::judging::JUDGEMENTS_FILE))?;
    let data = report::build(
        suite,
        &metadata,
        &records.records,
        &judgements.records,
        options.target_diff,
    )?;
    let written = report::write_all(run_dir, &data)?;
    if metadata.run_cost.as_ref() != Some(&data.run_cost) {
        metadata.run_cost = Some(data.run_cost.clone());
        run::write_metadata(run_dir, &metadata)?;
    }
    Ok(written)
}

/// One line saying what the run's calls cost.
fn print_run_cost(run_dir: &Path) {
    let Some(cost) = run::read_metadata(run_dir).ok().and_then(|m| m.run_cost) else {
        return;
    };
    let parts: Vec<String> = cost
        .generation
        .iter()
        .map(|(config, value, _)| match value {
            Some(v) => format!("{config} ${v:.4}"),
            None => format!("{config} unpriced"),
        })
        .chain(cost.judge.map(|j| format!("judge ${j:.4}")))
        .collect();
    println!(
        "this run cost ${:.4} at per-token prices ({})",
        cost.total_priced,
        parts.join(", ")
    );
}

/// The suite a run was made from, with the rubric it is scored with (its override, if re-scored with one).
fn load_run_suite(metadata: &run::RunMetadata, rubric: Option<&Path>) -> anyhow::Result<Suite> {
    let rubric = rubric.or(metadata.rubric_override.as_ref().map(|o| o.path.as_path()));
    let suite = suite::load_with_rubric(&metadata.suite_path, rubric)?;
    if suite.sha256 != metadata.suite_sha256 {
        eprintln!(
            "warning: {} changed since this run; reporting the records that match its current requests",
            metadata.suite_path.display()
        );
    }
    Ok(suite)
}

fn report_run(run_dir: &Path, options: ReportOptions) -> anyhow::Result<ExitCode> {
    let metadata = run::read_metadata(run_dir)?;
    let suite = load_run_suite(&metadata, None)?;
    for path in write_reports(run_dir, &suite, options)? {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn score(args: ScoreArgs) -> anyhow::Result<ExitCode> {
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
        eprintln!(
            "this run was made on the embedded endpoint; judging there too (pass --endpoint-url to judge elsewhere)"
        );
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
        println!("wrote {}", path.display());
    }
    if judging.interrupted {
        eprintln!("scoring interrupted; run the same command again to finish (verdicts already recorded are kept)");
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut options = match &args.suite {
        Some(path) => suite::load(path)?.local_endpoint_options(),
        None => EndpointOptions::default(),
    };
    let faults = &mut options.faults;
    if let Some(seed) = args.seed {
        options.seed = seed;
    }
    macro_rules! set {
        ($($flag:ident => $field:ident),*) => {$(
            if let Some(value) = args.$flag { faults.$field = value.into(); }
        )*};
    }
    set!(latency_ms => latency_ms, jitter_ms => jitter_ms, throttle_rate => throttle_rate,
         server_error_rate => server_error_rate, slow_rate => slow_rate, slow_ms => slow_ms,
         malformed_rate => malformed_rate, malformed_verdict_rate => malformed_verdict_rate);
    for planted in &args.degrade {
        let (model, rate) = planted.rsplit_once('=').ok_or_else(|| {
            InputError::in_file(
                Path::new("--degrade"),
                format!("expected MODEL=FRACTION, got `{planted}`"),
            )
        })?;
        let rate: f64 = rate
            .parse()
            .map_err(|_| InputError::in_file(Path::new("--degrade"), format!("`{rate}` is not a fraction")))?;
        options.degrade.insert(model.to_string(), rate);
    }
    if args.quota_rpm.is_some() {
        faults.quota_rpm = args.quota_rpm;
    }
    if args.quota_tpm.is_some() {
        faults.quota_tpm = args.quota_tpm;
    }
    let running = endpoint::start(options, args.bind)
        .await
        .with_context(|| format!("cannot serve on {}", args.bind))?;
    // The URL on stdout, alone on its line, so scripts can read it.
    println!("{}", running.url());
    eprintln!("bedrock-eval embedded endpoint (simulated models); Ctrl-C to stop");
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    running.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
