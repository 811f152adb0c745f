//! Wiring each subcommand to the library, and errors to exit codes: one file per subcommand, shared glue here.

mod compare;
mod data;
mod editor;
mod loss;
mod plan;
mod report;
mod run;
mod score;
mod serve;
mod validate;

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bedrock_eval::data as data_tools;
use bedrock_eval::endpoint;
use bedrock_eval::error::{InputError, InputErrors};
use bedrock_eval::provider::bedrock::{BedrockProvider, BedrockSettings};
use bedrock_eval::provider::routing::{self, RoutingProvider};
use bedrock_eval::provider::Provider;
use bedrock_eval::run::{records::read_records, EndpointInfo};
use bedrock_eval::suite::{self, Suite};
use bedrock_eval::{note, say};
use tokio::sync::mpsc;

use crate::cli::{Command, EndpointArgs, ReportOptions};

/// Exit code for a usage or input error.
pub(crate) const EXIT_INPUT: u8 = 2;
/// Exit code for an operational failure.
pub(crate) const EXIT_FAILURE: u8 = 3;
/// Exit code for an interrupted run.
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// Runs one subcommand.
pub async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => run::run(args).await,
        Command::Validate { suite } => validate::validate(&suite),
        Command::Plan {
            suite,
            latency_ms,
            json,
        } => plan::plan(&suite, latency_ms, json),
        Command::Report { run_dir, report } => report::report_run(&run_dir, report),
        Command::Score(args) => score::score(args).await,
        Command::Data(command) => data::data_command(command),
        Command::Loss(args) => loss::loss(&args),
        Command::Compare(args) => compare::compare_runs(&args.base_run, &args.new_run, args.out.as_deref(), args.rule),
        Command::Serve(args) => serve::serve(args).await,
        Command::Schema { file } => editor::schema(file),
        Command::Completions { shell } => editor::completions(shell),
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
pub(crate) fn check_suite_leakage(suite: &Suite, strict: bool) -> anyhow::Result<()> {
    let Some(training) = &suite.training else { return Ok(()) };
    let report =
        data_tools::find_leakage_in_files(&training.path, &suite.held_out.path, data_tools::Threshold::DEFAULT)?;
    if report.leaks.is_empty() {
        return Ok(());
    }
    for leak in &report.leaks {
        note!("{}: {leak}", suite.held_out.path.display());
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
    note!("warning: {message} (pass --strict to refuse)");
    Ok(())
}

/// The provider for a run (Bedrock, and any OpenAI-compatible servers the suite's configs name), what to record
/// about it, and the in-process endpoint when `--local`.
pub(crate) async fn connect(
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
        note!("embedded endpoint (simulated models) listening on {url}");
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
pub(crate) fn listen_for_interrupts() -> (mpsc::Receiver<()>, tokio::task::JoinHandle<()>) {
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

pub(crate) fn print_judging(judging: &bedrock_eval::run::judging::JudgingSummary) {
    if judging.calls > 0 || judging.reused > 0 {
        say!(
            "judge: {} verdicts reused from earlier calls, {} judge calls made now",
            judging.reused,
            judging.calls
        );
    }
}

/// Writes every report of the run, and records the run's own cost in `run.json`.
pub(crate) fn write_reports(
    run_dir: &Path,
    suite: &Suite,
    options: ReportOptions,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut metadata = bedrock_eval::run::read_metadata(run_dir)?;
    let records = read_records(&run_dir.join(bedrock_eval::run::RECORDS_FILE))?;
    let judgements = read_records(&run_dir.join(bedrock_eval::run::judging::JUDGEMENTS_FILE))?;
    let data = bedrock_eval::report::build(
        suite,
        &metadata,
        &records.records,
        &judgements.records,
        options.target_diff,
    )?;
    let written = bedrock_eval::report::write_all(run_dir, &data)?;
    if metadata.run_cost.as_ref() != Some(&data.run_cost) {
        metadata.run_cost = Some(data.run_cost.clone());
        bedrock_eval::run::write_metadata(run_dir, &metadata)?;
    }
    Ok(written)
}

/// One line saying what the run's calls cost.
pub(crate) fn print_run_cost(run_dir: &Path) {
    let Some(cost) = bedrock_eval::run::read_metadata(run_dir).ok().and_then(|m| m.run_cost) else {
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
    say!(
        "this run cost ${:.4} at per-token prices ({})",
        cost.total_priced,
        parts.join(", ")
    );
}

/// The suite a run was made from, with the rubric it is scored with (its override, if re-scored with one).
pub(crate) fn load_run_suite(
    metadata: &bedrock_eval::run::RunMetadata,
    rubric: Option<&Path>,
) -> anyhow::Result<Suite> {
    let rubric = rubric.or(metadata.rubric_override.as_ref().map(|o| o.path.as_path()));
    let suite = suite::load_with_rubric(&metadata.suite_path, rubric)?;
    if suite.sha256 != metadata.suite_sha256 {
        note!(
            "warning: {} changed since this run; reporting the records that match its current requests",
            metadata.suite_path.display()
        );
    }
    Ok(suite)
}
