//! The real SDK reaches a separately running endpoint through `--endpoint-url` and through
//! `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, for a model id and for a provisioned-model ARN.

mod common;

use common::{command_with_test_credentials, mini_suite, records, Server};

const ARN: &str = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/m1n1t3st0001";

fn requests_for(stats: &serde_json::Value, model: &str) -> u64 {
    stats["models"][model]["requests"].as_u64().unwrap_or(0)
}

fn check_run(use_flag: bool) {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let server = Server::start(&["--suite", suite.to_str().unwrap()]);
    let mut command = command_with_test_credentials();
    command
        .args(["run", suite.to_str().unwrap(), "--run-id", "r", "--results"])
        .arg(dir.path().join("results"));
    if use_flag {
        command.args(["--endpoint-url", &server.url]);
    } else {
        command.env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", &server.url);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let records = records(&dir.path().join("results/mini/r"));
    assert_eq!(records.len(), 24);
    assert!(records.iter().all(|r| r["status"] == "ok"), "{records:?}");
    let stats = server.stats();
    assert_eq!(requests_for(&stats, "amazon.nova-lite-v1:0"), 16, "{stats}");
    assert_eq!(requests_for(&stats, ARN), 8, "{stats}");
    let metadata: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results/mini/r/run.json")).unwrap()).unwrap();
    // The URL is bedrock-eval's own endpoint, so the run is labelled simulated, with that URL.
    assert_eq!(metadata["endpoint"]["kind"], "simulated");
    assert_eq!(metadata["endpoint"]["url"], server.url.as_str());
}

#[test]
fn endpoint_url_flag_reaches_the_endpoint_for_model_ids_and_arns() {
    check_run(true);
}

#[test]
fn sdk_environment_variable_reaches_the_endpoint_for_model_ids_and_arns() {
    check_run(false);
}
