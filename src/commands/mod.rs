//! Wiring each subcommand to the library, and errors to exit codes: one file per subcommand, shared glue here.

mod compare;
mod data;
mod editor;
mod loss;
pub(crate) mod output;
mod plan;
mod report;
mod resume;
mod run;
mod score;
mod serve;
mod signals;
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
use bedrock_eval::redact::{redact_url, redact_urls_in};
use bedrock_eval::run::{folder::FolderError, EndpointInfo};
use bedrock_eval::suite::{self, Suite};
use bedrock_eval::{note, say};

use crate::cli::{Command, EndpointArgs, ReportOptions};

/// Exit code for a usage or input error.
pub(crate) const EXIT_INPUT: u8 = 2;
/// Exit code for an operational failure.
pub(crate) const EXIT_FAILURE: u8 = 3;

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

/// Prints an error and picks its exit code: input mistakes are 2, everything else 3. Errors can quote a URL (an
/// SDK or HTTP client error does): it is printed without the credentials it may carry.
pub fn report_error(error: &anyhow::Error) -> ExitCode {
    if let Some(errors) = error.downcast_ref::<InputErrors>() {
        eprintln!("{}", redact_urls_in(&errors.to_string()));
        return ExitCode::from(EXIT_INPUT);
    }
    let input = error
        .downcast_ref::<InputError>()
        .or(match error.downcast_ref::<FolderError>() {
            Some(FolderError::Input(input)) => Some(input),
            _ => None,
        });
    if let Some(error) = input {
        eprintln!("error: {}", redact_urls_in(&error.to_string()));
        return ExitCode::from(EXIT_INPUT);
    }
    eprintln!("error: {}", redact_urls_in(&format!("{error:#}")));
    ExitCode::from(EXIT_FAILURE)
}

/// Prints the suite's data warnings (lines repeated exactly, each read once).
pub(crate) fn print_data_warnings(suite: &Suite) {
    for warning in suite.data_warnings() {
        note!("warning: {warning}");
    }
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

/// Where a run's calls go, once connected.
pub(crate) struct Connection {
    /// Bedrock, and any OpenAI-compatible servers the suite's configs name.
    pub provider: RoutingProvider,
    /// What to record about the endpoint.
    pub endpoint: EndpointInfo,
    /// The AWS region the Bedrock client uses (recorded so a resume uses it too), even when the endpoint behind
    /// `--endpoint-url` turns out to be the embedded one.
    pub region: Option<String>,
    /// The in-process endpoint, with `--local`.
    pub local: Option<endpoint::RunningEndpoint>,
}

/// Connects a run to where its calls go: the embedded endpoint with `--local`, else Bedrock (credentials checked
/// before any call) and the suite's OpenAI-compatible servers.
pub(crate) async fn connect(args: &EndpointArgs, suite: &Suite) -> anyhow::Result<Connection> {
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
        return Ok(Connection {
            provider,
            endpoint: EndpointInfo::Simulated { url, external: false },
            region: None,
            local: Some(running),
        });
    }
    let settings = BedrockSettings {
        region: args.region.clone(),
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
    };
    // A suite that sends nothing to Bedrock needs no AWS region or credentials.
    let (bedrock, region): (Arc<dyn Provider>, Option<String>) = if routing::needs_bedrock(suite) {
        let bedrock = BedrockProvider::from_environment(&settings)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        // Before any call: a machine without usable credentials stops here, not after a retried failure per call.
        bedrock
            .check_credentials()
            .await
            .map_err(|e| anyhow::anyhow!("{}; nothing was called", e.message))?;
        let region = bedrock.region().map(ToString::to_string);
        (Arc::new(bedrock), region)
    } else {
        (Arc::new(routing::NoBedrock), args.region.clone())
    };
    let provider = routing::build(suite, bedrock).map_err(input_error)?;
    let endpoint_url = args.endpoint_url.clone().or_else(resume::endpoint_url_from_environment);
    // `bedrock-eval serve` behind the endpoint URL answers with simulated models: label the run so.
    if let Some(url) = &endpoint_url {
        if endpoint::is_embedded_endpoint(url).await {
            note!(
                "{} is bedrock-eval's embedded endpoint (simulated models); the run is labelled simulated",
                redact_url(url)
            );
            return Ok(Connection {
                provider,
                endpoint: EndpointInfo::Simulated {
                    url: url.clone(),
                    external: true,
                },
                region,
                local: None,
            });
        }
    }
    Ok(Connection {
        provider,
        endpoint: EndpointInfo::Bedrock {
            endpoint_url,
            region: region.clone(),
        },
        region,
        local: None,
    })
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

/// Says what the `command` criteria's stage did; true when it was interrupted.
pub(crate) fn print_command_scoring(scoring: &bedrock_eval::run::command_scoring::CommandScoringSummary) -> bool {
    if scoring.calls > 0 || scoring.reused > 0 {
        say!(
            "scorers: {} results reused from earlier calls, {} calls made now ({} failed; see criterion_errors)",
            scoring.reused,
            scoring.calls,
            scoring.failed
        );
    }
    scoring.interrupted
}

/// Writes every report of the run, and records the run's own cost in `run.json`.
pub(crate) fn write_reports(
    run_dir: &Path,
    suite: &Suite,
    options: ReportOptions,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut metadata = bedrock_eval::run::read_metadata(run_dir)?;
    let (data, written) = bedrock_eval::report::build_and_write(suite, &metadata, run_dir, options.target_diff)?;
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

/// The suite a run was made from, with the rubric it is scored with (its override, if re-scored with one) and the
/// significance level its report uses (`run --alpha`, if given).
pub(crate) fn load_run_suite(
    metadata: &bedrock_eval::run::RunMetadata,
    rubric: Option<&Path>,
) -> anyhow::Result<Suite> {
    let rubric = rubric.or(metadata.rubric_override.as_ref().map(|o| o.path.as_path()));
    let mut suite = suite::load_with_rubric(&metadata.suite_path, rubric)?;
    if let Some(alpha) = metadata.launch.as_ref().and_then(|l| l.alpha) {
        suite.file.analysis.alpha = alpha;
    }
    if suite.sha256 != metadata.suite_sha256 {
        note!(
            "warning: {} changed since this run; reporting the records that match its current requests",
            metadata.suite_path.display()
        );
    }
    Ok(suite)
}
