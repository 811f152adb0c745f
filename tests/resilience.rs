//! Faults on the endpoint: a throttle storm, and a crash (SIGKILL) followed by a resume.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{command_with_test_credentials, edit, mini_suite, records, Server};

fn fingerprints(records: &[serde_json::Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn throttle_storm_records_every_request_once_and_counts_retries() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let server = Server::for_suite(&suite, &["--throttle-rate", "0.3", "--seed", "11"]);
    let records = records(&server.run(&suite, &dir.path().join("results")));
    let unique: HashSet<String> = fingerprints(&records).into_iter().collect();
    assert_eq!((records.len(), unique.len()), (24, 24));
    assert!(records.iter().all(|r| r["status"] == "ok"));
    let retries: u64 = records.iter().map(|r| r["attempts"].as_u64().unwrap() - 1).sum();
    let throttled = server.throttled();
    assert!(throttled > 0, "{}", server.stats());
    assert_eq!(
        retries,
        throttled,
        "every throttled call is retried and counted: {}",
        server.stats()
    );
    let recorded_causes: usize = records
        .iter()
        .map(|r| r["retried"].as_array().map_or(0, |a| a.len()))
        .sum();
    assert_eq!(recorded_causes as u64, retries);
}

#[test]
fn broken_bodies_and_server_errors_are_retried_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let server = Server::for_suite(
        &suite,
        &["--malformed-rate", "0.2", "--server-error-rate", "0.2", "--seed", "5"],
    );
    let records = records(&server.run(&suite, &dir.path().join("results")));
    assert_eq!(records.len(), 24);
    assert!(records.iter().all(|r| r["status"] == "ok"), "{records:?}");
    let causes: Vec<&str> = records
        .iter()
        .flat_map(|r| r["retried"].as_array().unwrap_or(&Vec::new()).clone())
        .map(|e| match e["kind"].as_str().unwrap() {
            "malformed_response" => "malformed",
            "internal_server" | "service_unavailable" => "server",
            other => panic!("unexpected retry cause {other}"),
        })
        .collect();
    let stats = server.stats();
    let model_totals = |key: &str| -> u64 {
        stats["models"]
            .as_object()
            .unwrap()
            .values()
            .map(|m| m[key].as_u64().unwrap())
            .sum()
    };
    assert_eq!(
        causes.iter().filter(|c| **c == "malformed").count() as u64,
        model_totals("malformed"),
        "{stats}"
    );
    assert_eq!(
        causes.iter().filter(|c| **c == "server").count() as u64,
        model_totals("server_errors"),
        "{stats}"
    );
    assert!(
        model_totals("malformed") > 0 && model_totals("server_errors") > 0,
        "{stats}"
    );
}

#[cfg(unix)]
#[test]
fn sigkill_then_resume_records_every_request_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    edit(&suite, "baseline: prompt", "baseline: prompt\nrepeats: 4");
    let server = Server::start(&["--suite", suite.to_str().unwrap(), "--latency-ms", "60"]);
    let results = dir.path().join("results");
    let run_dir = results.join("mini/r");
    let start = |resume: bool| {
        let mut command = command_with_test_credentials();
        command
            .args([
                "run",
                suite.to_str().unwrap(),
                "--run-id",
                "r",
                "--endpoint-url",
                &server.url,
                "--results",
            ])
            .arg(&results)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if resume {
            command.arg("--resume");
        }
        command.spawn().unwrap()
    };

    let mut first = start(false);
    let deadline = Instant::now() + Duration::from_secs(30);
    while records(&run_dir).len() < 30 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let recorded_at_kill = records(&run_dir).len();
    assert!(
        (30..96).contains(&recorded_at_kill),
        "killed after {recorded_at_kill} records"
    );
    let calls_at_kill = server.stats()["total_requests"].as_u64().unwrap();

    let status = start(true).wait().unwrap();
    assert!(status.success());
    let records = records(&run_dir);
    let unique: HashSet<String> = fingerprints(&records).into_iter().collect();
    assert_eq!(
        (records.len(), unique.len()),
        (96, 96),
        "every request recorded exactly once"
    );

    // Calls beyond the 96 needed are at most the calls in flight at the kill (concurrency 4).
    let total_calls = server.stats()["total_requests"].as_u64().unwrap();
    assert!(calls_at_kill >= recorded_at_kill as u64);
    assert!(
        total_calls >= 96 && total_calls - 96 <= 4,
        "{total_calls} calls for 96 requests"
    );
}
