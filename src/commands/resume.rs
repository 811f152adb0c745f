//! Resuming a run where it was started: `run.json` records how it was launched (endpoint, region, profile,
//! results root, concurrency, mode), `--resume` reuses what is not given again and refuses another endpoint, and
//! the command that resumes a run is printed, complete, whenever one stops early.

use std::path::Path;

use bedrock_eval::error::InputError;
use bedrock_eval::redact::{redact_url, REDACTED};
use bedrock_eval::run::{self, EndpointInfo, RunMetadata, RunMode, RUN_FILE};

use crate::cli::{EndpointArgs, Mode, RunArgs};

/// The endpoint the SDK takes from its environment variables, when one is set.
pub(crate) fn endpoint_url_from_environment() -> Option<String> {
    ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// Whether the user chose an endpoint for this command: `--local`, `--endpoint-url`, or the SDK's variables.
pub(crate) fn endpoint_given(args: &EndpointArgs) -> bool {
    args.local || args.endpoint_url.is_some() || endpoint_url_from_environment().is_some()
}

/// Whether `url` still carries the placeholder of credentials that were redacted (as a copied resume line does).
fn has_redacted_credentials(url: &str) -> bool {
    url.contains(REDACTED) && redact_url(url) == url
}

/// `args` completed from the run's record: its endpoint when none is given, its region and profile when not
/// given again. A recorded URL whose credentials were redacted cannot be reused: it must be given again.
pub(crate) fn recorded_endpoint(
    args: &EndpointArgs,
    metadata: &RunMetadata,
    run_dir: &Path,
) -> Result<EndpointArgs, InputError> {
    let mut merged = args.clone();
    if let Some(url) = &args.endpoint_url {
        if has_redacted_credentials(url) {
            return Err(InputError::in_file(
                Path::new("--endpoint-url"),
                format!("{url} has {REDACTED} where its credentials were: pass the URL with them"),
            ));
        }
    }
    let launch = metadata.launch.as_ref();
    if !endpoint_given(args) {
        match (launch, &metadata.endpoint) {
            (Some(launch), _) => {
                merged.local = launch.local;
                merged.endpoint_url = launch.endpoint_url.clone();
            }
            (None, EndpointInfo::Simulated { external: false, .. }) => merged.local = true,
            (None, EndpointInfo::Simulated { url, external: true }) => merged.endpoint_url = Some(url.clone()),
            (None, EndpointInfo::Bedrock { endpoint_url, .. }) => merged.endpoint_url = endpoint_url.clone(),
        }
        if let Some(url) = merged.endpoint_url.as_deref().filter(|u| has_redacted_credentials(u)) {
            return Err(InputError::in_file(
                &run_dir.join(RUN_FILE),
                format!(
                    "this run's endpoint URL carried credentials, which are never kept ({url}): pass --endpoint-url \
                     again, with them"
                ),
            )
            .field("launch.endpoint_url"));
        }
    }
    if !merged.local {
        let recorded_region = launch
            .and_then(|l| l.region.clone())
            .or_else(|| match &metadata.endpoint {
                EndpointInfo::Bedrock { region, .. } => region.clone(),
                EndpointInfo::Simulated { .. } => None,
            });
        merged.region = args.region.clone().or(recorded_region);
        merged.profile = args.profile.clone().or_else(|| launch.and_then(|l| l.profile.clone()));
    }
    Ok(merged)
}

/// What `run` was asked to do, once a resumed run's recorded settings are filled in.
pub(crate) struct RunSettings {
    /// Where calls go.
    pub(crate) endpoint: EndpointArgs,
    /// `--concurrency`, else the recorded one.
    pub(crate) concurrency: Option<usize>,
    /// `--mode`, else the recorded one, else live.
    pub(crate) mode: Mode,
    /// `--s3-endpoint-url`, else the recorded one.
    pub(crate) s3_endpoint_url: Option<String>,
    /// `--alpha`, else the recorded one: the report's significance level (and the comparison's, with --baseline).
    pub(crate) alpha: Option<f64>,
    /// `--max-error-rate`, else the recorded one (else the suite's).
    pub(crate) max_error_rate: Option<f64>,
}

impl RunSettings {
    /// The user's settings, completed from `previous` (the run being resumed) where not given again.
    pub(crate) fn new(args: &RunArgs, previous: Option<(&RunMetadata, &Path)>) -> Result<RunSettings, InputError> {
        let Some((previous, run_dir)) = previous else {
            return Ok(RunSettings {
                endpoint: args.endpoint.clone(),
                concurrency: args.concurrency.map(usize::from),
                mode: args.mode.unwrap_or(Mode::Live),
                s3_endpoint_url: args.s3_endpoint_url.clone(),
                alpha: args.rule.alpha,
                max_error_rate: args.max_error_rate,
            });
        };
        let launch = previous.launch.as_ref();
        Ok(RunSettings {
            endpoint: recorded_endpoint(&args.endpoint, previous, run_dir)?,
            concurrency: args
                .concurrency
                .map(usize::from)
                .or_else(|| launch.and_then(|l| l.concurrency)),
            mode: args.mode.unwrap_or(match previous.mode {
                RunMode::Live => Mode::Live,
                RunMode::Batch => Mode::Batch,
            }),
            s3_endpoint_url: args
                .s3_endpoint_url
                .clone()
                .or_else(|| launch.and_then(|l| l.s3_endpoint_url.clone())),
            alpha: args.rule.alpha.or_else(|| launch.and_then(|l| l.alpha)),
            max_error_rate: args.max_error_rate.or_else(|| launch.and_then(|l| l.max_error_rate)),
        })
    }

    /// What `run.json` records of it.
    pub(crate) fn launch(&self, results: &Path, region: Option<String>) -> run::Launch {
        run::Launch {
            local: self.endpoint.local,
            endpoint_url: if self.endpoint.local {
                None
            } else {
                self.endpoint
                    .endpoint_url
                    .clone()
                    .or_else(endpoint_url_from_environment)
            },
            region,
            profile: self.endpoint.profile.clone(),
            results: std::path::absolute(results).unwrap_or_else(|_| results.to_path_buf()),
            concurrency: self.concurrency,
            s3_endpoint_url: self.s3_endpoint_url.clone(),
            alpha: self.alpha,
            max_error_rate: self.max_error_rate,
        }
    }
}

/// Refuses to continue a run on another endpoint than the one it was started on, unless `allowed`
/// (`--endpoint-change`).
pub(crate) fn check_same_endpoint(
    previous: &RunMetadata,
    now: &EndpointInfo,
    allowed: bool,
    run_dir: &Path,
) -> Result<(), InputError> {
    let now = now.clone().redacted();
    if allowed || previous.endpoint.same_endpoint(&now) {
        return Ok(());
    }
    Err(InputError::in_file(
        &run_dir.join(RUN_FILE),
        format!(
            "this run was made on {}, not {}; resuming it there would mix two endpoints in one run. Leave out \
             --local, --endpoint-url, --region and AWS_ENDPOINT_URL* to continue where it was made, or pass \
             --endpoint-change to mix them deliberately (the report then says which records came from where)",
            previous.endpoint.describe(),
            now.describe()
        ),
    )
    .field("endpoint"))
}

/// The complete command that continues the run in `run_dir` (from its `run.json`), and whether a URL in it had
/// its credentials redacted (then they must be put back by hand).
pub(crate) fn resume_command(metadata: &RunMetadata, run_dir: &Path, retry_errors: bool) -> (String, bool) {
    let program = std::env::args().next().unwrap_or_else(|| "bedrock-eval".to_string());
    let run_id = run_dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let results = run_dir
        .parent()
        .and_then(Path::parent)
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    let mut words: Vec<String> = vec![program, "run".into(), metadata.suite_path.display().to_string()];
    if let Some(results) = results {
        words.extend(["--results".into(), results.display().to_string()]);
    }
    words.extend(["--run-id".into(), run_id, "--resume".into()]);
    let mut redacted = false;
    if let Some(launch) = &metadata.launch {
        if launch.local {
            words.push("--local".into());
        }
        let mut flag = |name: &str, value: &Option<String>| {
            if let Some(value) = value {
                redacted |= has_redacted_credentials(value);
                words.extend([name.to_string(), value.clone()]);
            }
        };
        flag("--endpoint-url", &launch.endpoint_url);
        flag("--region", &launch.region);
        flag("--profile", &launch.profile);
        flag("--s3-endpoint-url", &launch.s3_endpoint_url);
        if let Some(concurrency) = launch.concurrency {
            words.extend(["--concurrency".into(), concurrency.to_string()]);
        }
        if let Some(alpha) = launch.alpha {
            words.extend(["--alpha".into(), alpha.to_string()]);
        }
        if let Some(rate) = launch.max_error_rate {
            words.extend(["--max-error-rate".into(), rate.to_string()]);
        }
    }
    if metadata.mode == RunMode::Batch {
        words.extend(["--mode".into(), "batch".into()]);
    }
    if retry_errors {
        words.push("--retry-errors".into());
    }
    let line = shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "));
    (line, redacted)
}

/// Prints `lead` (which ends in "resume it with:" or the like) and the command that resumes the run in `run_dir`.
pub(crate) fn print_resume(lead: &str, run_dir: &Path, retry_errors: bool) {
    let Ok(metadata) = run::read_metadata(run_dir) else {
        eprintln!(
            "the run folder {} has no readable run.json to resume from",
            run_dir.display()
        );
        return;
    };
    let (line, redacted) = resume_command(&metadata, run_dir, retry_errors);
    eprintln!("{lead}\n  {line}");
    if redacted {
        eprintln!(
            "  (the endpoint URL carried credentials, which are never printed or kept: put them back in place of \
             {REDACTED})"
        );
    }
}
