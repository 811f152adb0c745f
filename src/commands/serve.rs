//! `bedrock-eval serve`: the embedded endpoint, for other tools, tests and benchmarks.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use bedrock_eval::endpoint::{self, EndpointOptions};
use bedrock_eval::error::InputError;
use bedrock_eval::note;
use bedrock_eval::suite;

use super::signals::Interrupts;
use crate::cli::ServeArgs;
use crate::commands::output::outln;

pub(crate) async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
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
    if let Some(timeout) = args.header_read_timeout_ms {
        options.header_read_timeout_ms = timeout;
    }
    if let Some(max) = args.max_connections {
        options.max_connections = max;
    }
    // A wrong flag is the user's mistake, said before anything is bound.
    options.validate().map_err(|e| match e {
        endpoint::EndpointError::InvalidOption { field, message } => {
            InputError::in_file(Path::new("serve"), format!("{field}: {message}")).field(field)
        }
        other => InputError::in_file(Path::new("serve"), other.to_string()),
    })?;
    // Listening before the URL is printed: a signal sent as soon as a script has read it is caught, not fatal.
    let mut interrupts = Interrupts::listen();
    let running = endpoint::start(options, args.bind)
        .await
        .with_context(|| format!("cannot serve on {}", args.bind))?;
    // The URL on stdout, alone on its line, so scripts can read it.
    outln!("{}", running.url());
    note!("bedrock-eval embedded endpoint (simulated models); Ctrl-C or SIGTERM to stop");
    // Either signal is how a server is meant to stop: the answers in flight finish, then the process ends, exit 0.
    interrupts.receiver().recv().await;
    running.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
