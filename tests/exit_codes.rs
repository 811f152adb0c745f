//! Exit codes a nightly job can trust: a run with no credentials, refused credentials, no access, an unreachable
//! endpoint or too many failed requests exits 3 — never 0 after a storm of retried "network" failures.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{
    binary, command_with_test_credentials, edit, mini_suite, records, resume_line, run_json, shell, total_requests,
    Server,
};

const ARN: &str = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/m1n1t3st0001";

/// The mini suite, whose embedded endpoint refuses two access keys and denies nothing unless told.
fn suite_refusing_keys(dir: &Path, extra_endpoint_settings: &str) -> std::path::PathBuf {
    let suite = mini_suite(dir);
    edit(
        &suite,
        "local_endpoint:\n",
        &format!(
            "local_endpoint:\n  rejected_access_keys: {{AKIDEXPIRED: expired, AKIDUNKNOWN: invalid}}\n{extra_endpoint_settings}"
        ),
    );
    suite
}

/// `run` of `suite` into `results` as run `r`, with `command`'s environment and `extra` flags.
fn run(mut command: Command, suite: &Path, results: &Path, extra: &[&str]) -> Output {
    command
        .arg("run")
        .arg(suite)
        .args(["--run-id", "r", "--results"])
        .arg(results)
        .args(extra)
        .output()
        .unwrap()
}

/// `run` against `url` with placeholder credentials, which must fail with exit code 3; returns its standard error.
fn failing_run(suite: &Path, results: &Path, url: &str) -> String {
    let output = run(
        command_with_test_credentials(),
        suite,
        results,
        &["--endpoint-url", url],
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    stderr
}

#[test]
fn no_credentials_anywhere_stops_the_run_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let server = Server::for_suite(&suite, &[]);
    let home = tempfile::tempdir().unwrap();
    let (config, credentials) = (home.path().join("config"), home.path().join("credentials"));
    std::fs::write(&config, "").unwrap();
    std::fs::write(&credentials, "").unwrap();
    let mut command = Command::new(binary());
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("AWS_")) {
        command.env_remove(name);
    }
    command
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1");
    let results = dir.path().join("results");
    let output = run(command, &suite, &results, &["--endpoint-url", &server.url]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("no usable AWS credentials") && stderr.contains("nothing was called"),
        "{stderr}"
    );
    assert_eq!(total_requests(&server), 0);
    assert!(!results.exists(), "no run folder for a run that could not start");
}

#[test]
fn expired_or_unknown_credentials_stop_the_run_at_the_first_calls_with_the_aws_message() {
    for (key, message) in [
        ("AKIDEXPIRED", "The security token included in the request is expired"),
        ("AKIDUNKNOWN", "The security token included in the request is invalid."),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let suite = suite_refusing_keys(dir.path(), "");
        let server = Server::for_suite(&suite, &[]);
        let results = dir.path().join("results");
        let mut command = command_with_test_credentials();
        command.env("AWS_ACCESS_KEY_ID", key);
        let output = run(command, &suite, &results, &["--endpoint-url", &server.url]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{key}: {stderr}");
        assert!(stderr.contains(message), "{key}: the AWS message: {stderr}");
        // Only the first calls (at most the suite's concurrency of 4), each once: no retries, nothing recorded.
        let calls = total_requests(&server);
        assert!((1..=4).contains(&calls), "{key}: {calls} calls: {}", server.stats());
        let run_dir = results.join("mini/r");
        assert!(records(&run_dir).is_empty());
        let metadata = run_json(&run_dir);
        assert_eq!(metadata["status"], "interrupted");
        assert!(
            metadata["stop_reason"].as_str().unwrap().contains(message),
            "{metadata}"
        );

        // With credentials that work, the printed line finishes the run.
        let line = resume_line(&stderr);
        let resumed = shell(&line)
            .env("AWS_ACCESS_KEY_ID", "AKIDGOOD")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .output()
            .unwrap();
        assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
        assert_eq!(records(&run_dir).len(), 24);
    }
}

#[test]
fn access_denied_stops_the_run_and_keeps_what_was_answered() {
    let dir = tempfile::tempdir().unwrap();
    let suite = suite_refusing_keys(dir.path(), &format!("  denied_models: ['{ARN}']\n"));
    let server = Server::for_suite(&suite, &[]);
    let results = dir.path().join("results");
    let stderr = failing_run(&suite, &results, &server.url);
    assert!(
        stderr.contains("access_denied (403): You don't have access to the model"),
        "{stderr}"
    );
    let stats = server.stats();
    assert!(stats["models"][ARN]["requests"].as_u64().unwrap() <= 4, "{stats}");
    assert!(total_requests(&server) < 24, "{stats}");
    let records = records(&results.join("mini/r"));
    assert!(
        records.iter().all(|r| r["status"] == "ok" && r["model"] != ARN),
        "{records:?}"
    );
}

#[test]
fn too_many_failed_requests_stop_the_run_write_the_reports_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let server = Server::for_suite(&suite, &["--server-error-rate", "1"]);
    let results = dir.path().join("results");
    let stderr = failing_run(&suite, &results, &server.url);
    assert!(
        stderr.contains("planned requests failed, more than --max-error-rate 0.1 allows (2)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("internal_server (") || stderr.contains("service_unavailable ("),
        "{stderr}"
    );
    let run_dir = results.join("mini/r");
    // Stopped once three had failed: the calls in flight then (at most 4) finish, the rest are never made.
    let recorded = records(&run_dir).len();
    assert!((3..=6).contains(&recorded), "{recorded} records");
    assert!(run_dir.join("examples.csv").is_file() && run_dir.join("report.md").is_file());
    assert_eq!(run_json(&run_dir)["status"], "interrupted");
    assert!(resume_line(&stderr).ends_with("--retry-errors"), "{stderr}");

    // Allowed by the flag (or the suite's max_error_rate): every request made, recorded, and the run passes.
    let output = run(
        command_with_test_credentials(),
        &suite,
        &results,
        &["--resume", "--endpoint-url", &server.url, "--max-error-rate", "1"],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(records(&run_dir).len(), 24);
    edit(&suite, "baseline: prompt", "baseline: prompt\nmax_error_rate: 1.5");
    let refused = common::command().arg("validate").arg(&suite).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("max_error_rate"));
}

#[test]
fn an_unreachable_endpoint_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    // A loopback port nobody listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let results = dir.path().join("results");
    let url = format!("http://127.0.0.1:{port}");
    let stderr = failing_run(&suite, &results, &url);
    assert!(stderr.contains("network ("), "{stderr}");
    assert!(records(&results.join("mini/r")).len() < 24, "the run stopped early");
}
