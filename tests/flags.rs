//! Every flag is checked before the first call: a bad number is exit 2 at start, never after the run was paid for;
//! and `--alpha` without `--baseline` sets the level of the run's own report.

mod common;

use common::{command, command_with_test_credentials, mini_suite, run_json, run_local_with, Server};

#[test]
fn bad_numbers_stop_a_run_before_any_call_or_folder() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let server = Server::for_suite(&suite, &[]);
    let baseline = server.run(&suite, &dir.path().join("baseline"));
    let calls = server.stats()["total_requests"].as_u64().unwrap();
    let results = dir.path().join("results");
    for flags in [
        ["--alpha", "NaN"],
        ["--alpha", "inf"],
        ["--alpha", "0.5"],
        ["--alpha", "0"],
        ["--max-drop", "NaN"],
        ["--max-drop", "-1"],
        ["--max-drop", "inf"],
        ["--target-diff", "NaN"],
        ["--target-diff", "inf"],
        ["--target-diff", "0"],
        ["--max-cost", "NaN"],
        ["--max-cost", "-0.5"],
        ["--concurrency", "0"],
        ["--concurrency", "NaN"],
    ] {
        let output = command_with_test_credentials()
            .arg("run")
            .arg(&suite)
            .args(["--endpoint-url", &server.url, "--baseline"])
            .arg(&baseline)
            .arg("--results")
            .arg(&results)
            .args(flags)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(flags[0]), "{flags:?} is named: {stderr}");
        assert_eq!(
            server.stats()["total_requests"].as_u64().unwrap(),
            calls,
            "{flags:?}: nothing was called"
        );
        assert!(!results.exists(), "{flags:?}: no results folder");
    }
    let refused = command()
        .args(["report", baseline.to_str().unwrap(), "--target-diff", "NaN"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn alpha_without_a_baseline_is_the_level_of_the_runs_report_and_stays_so() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let results = dir.path().join("results");
    let output = run_local_with(&suite, &results, &["--run-id", "r", "--alpha", "0.01"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let run_dir = results.join("mini/r");
    let alpha = || {
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
        report["options"]["alpha"].as_f64()
    };
    assert_eq!(alpha(), Some(0.01));
    assert_eq!(run_json(&run_dir)["launch"]["alpha"], 0.01);
    let rebuilt = command().arg("report").arg(&run_dir).output().unwrap();
    assert!(rebuilt.status.success());
    assert_eq!(
        alpha(),
        Some(0.01),
        "`report` rebuilds the run's report at the run's level"
    );

    let help = command().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("with or without --baseline") && help.contains("analysis.alpha"),
        "{help}"
    );
}

#[test]
fn bad_flags_of_the_other_commands_are_input_errors_too() {
    let dir = tempfile::tempdir().unwrap();
    // `serve`'s fault rates: exit 2 naming the field, before anything is bound.
    for flags in [
        ["--throttle-rate", "3"],
        ["--malformed-rate", "1.5"],
        ["--server-error-rate", "NaN"],
    ] {
        let output = command().arg("serve").args(flags).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        let field = flags[0].trim_start_matches("--").replace('-', "_");
        assert!(stderr.contains(&field), "{flags:?} is named: {stderr}");
        assert!(output.stdout.is_empty(), "{flags:?}: no URL printed, nothing served");
    }
    // `data split`'s shares.
    let data = dir.path().join("train.jsonl");
    std::fs::write(&data, "{\"prompt\": \"a\", \"completion\": \"b\"}\n").unwrap();
    for flags in [["--validation", "NaN"], ["--test", "inf"], ["--validation", "1.5"]] {
        let output = command()
            .args(["data", "split"])
            .arg(&data)
            .args(flags)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(flags[0]), "{flags:?} is named: {stderr}");
    }
    // A run id with a control character never becomes a folder.
    let suite = mini_suite(dir.path());
    let results = dir.path().join("results");
    let output = command()
        .arg("run")
        .arg(&suite)
        .args(["--local", "--run-id", "bell\u{7}", "--results"])
        .arg(&results)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!results.exists());
}
