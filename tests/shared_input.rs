//! Held-out examples with the same input share one request per config: it is sent once per invocation (and never
//! again on resume), and `validate` and `data check` say so, naming both lines.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use common::{command, command_with_test_credentials, mini_suite, records, total_requests, Server};

/// The mini suite with its first held-out line repeated as line 9, under another id and with another reference.
fn suite_with_a_repeated_input(dir: &Path) -> PathBuf {
    let suite = mini_suite(dir);
    let held_out = dir.join("held-out.jsonl");
    let text = std::fs::read_to_string(&held_out).unwrap();
    let first = text.lines().next().unwrap();
    let repeated = first
        .replace("\"id\": \"ho-lock\"", "\"id\": \"ho-lock-again\"")
        .replace("If that doesn't do it", "If the bolt still stops");
    assert_ne!(repeated, first);
    assert_eq!(text.lines().count(), 8);
    std::fs::write(&held_out, format!("{text}{repeated}\n")).unwrap();
    suite
}

fn run(server: &Server, suite: &Path, results: &Path, extra: &[&str]) -> String {
    let output = command_with_test_credentials()
        .arg("run")
        .arg(suite)
        .args(["--run-id", "r", "--endpoint-url", &server.url, "--results"])
        .arg(results)
        .args(extra)
        .output()
        .expect("run bedrock-eval");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

#[test]
fn a_request_two_examples_share_is_sent_once_and_not_again_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let suite = suite_with_a_repeated_input(dir.path());
    let server = Server::for_suite(&suite, &[]);
    let results = dir.path().join("results");
    // 9 examples x 3 configs, of which the repeated example's 3 requests are those of line 1.
    let stderr = run(&server, &suite, &results, &[]);
    assert!(
        stderr.contains("held-out examples `ho-lock` (line 1) and `ho-lock-again` (line 9) have the same input"),
        "{stderr}"
    );
    assert_eq!(total_requests(&server), 24, "{}", server.stats());
    let run_dir = results.join("mini").join("r");
    let recorded = records(&run_dir);
    let fingerprints: HashSet<&str> = recorded.iter().map(|r| r["fingerprint"].as_str().unwrap()).collect();
    assert_eq!((recorded.len(), fingerprints.len()), (24, 24));
    let run_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["planned_requests"], 24);
    // The report has a row per example and config: the shared reply appears under both ids.
    let examples = std::fs::read_to_string(run_dir.join("examples.csv")).unwrap();
    let rows = |id: &str| examples.lines().filter(|l| l.starts_with(&format!("{id},"))).count();
    assert_eq!((rows("ho-lock"), rows("ho-lock-again")), (3, 3), "{examples}");

    run(&server, &suite, &results, &["--resume"]);
    assert_eq!(total_requests(&server), 24, "a resume asks nothing: {}", server.stats());
    assert_eq!(records(&run_dir).len(), 24);
}

#[test]
fn validate_and_data_check_name_both_lines_of_a_shared_input() {
    let dir = tempfile::tempdir().unwrap();
    let suite = suite_with_a_repeated_input(dir.path());
    let output = command().arg("validate").arg(&suite).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "held-out.jsonl:9: held-out examples `ho-lock` (line 1) and `ho-lock-again` (line 9) have the same input \
             and share one call (every config)"
        ),
        "{stderr}"
    );
    assert!(stdout.contains("9 held-out examples"), "{stdout}");
    assert!(stdout.contains("24 requests per run"), "{stdout}");

    let output = command()
        .args(["data", "check", "--purpose", "held-out", "--json"])
        .arg(dir.path().join("held-out.jsonl"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let shared: Vec<_> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "shared_input")
        .map(|w| (w["line"].as_u64(), w["other_line"].as_u64()))
        .collect();
    assert_eq!(shared, vec![(Some(9), Some(1))], "{report}");
    let same_prompt = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["kind"] == "same_prompt_different_reply");
    assert!(!same_prompt, "a held-out file is not taught two answers: {report}");
}
