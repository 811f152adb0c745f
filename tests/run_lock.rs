//! One writer per run folder: a second process on a run folder stops before calling anything (exit 3, naming the
//! folder and the holder's pid), and new runs started together never share a folder.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    command, example_suite, mini_suite, records, slow_run, spawn_run, total_requests, wait_for_records, Server,
};

/// `run` of `suite` against `server` into `results`, with `extra` flags, as a child process.
fn start_run(suite: &Path, server: &Server, results: &Path, extra: &[&str]) -> Child {
    spawn_run(
        suite,
        results,
        &[&["--endpoint-url", server.url.as_str()], extra].concat(),
    )
}

/// Asserts that `refused` stopped at once as the second writer of `run_dir`, held by `holder`.
fn assert_turned_away(refused: &Output, run_dir: &Path, holder: &Child) {
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&run_dir.display().to_string()),
        "names the folder: {stderr}"
    );
    assert!(
        stderr.contains(&format!("pid {}", holder.id())),
        "names the holder: {stderr}"
    );
}

#[test]
fn a_second_process_on_a_running_folder_calls_nothing_and_every_request_is_paid_once() {
    let dir = tempfile::tempdir().unwrap();
    let suite = example_suite(dir.path(), "");
    let server = Server::for_suite(&suite, &["--latency-ms", "40"]);
    let results = dir.path().join("results");
    let run_dir = results.join("support-tone/nightly");

    // Two runs of the same nightly started together: one runs it, the other is turned away before any call.
    let mut runs = [0, 1].map(|_| start_run(&suite, &server, &results, &["--run-id", "nightly"]));
    let deadline = Instant::now() + Duration::from_secs(30);
    let loser = loop {
        if let Some(i) = (0..2).find(|&i| runs[i].try_wait().unwrap().is_some()) {
            break i;
        }
        assert!(Instant::now() < deadline, "neither run was turned away");
        std::thread::sleep(Duration::from_millis(10));
    };
    let [a, b] = runs;
    let (first, again) = if loser == 0 { (b, a) } else { (a, b) };
    assert_turned_away(&again.wait_with_output().unwrap(), &run_dir, &first);
    // Resuming it while it runs, by id or as the latest run: turned away too.
    for extra in [vec!["--run-id", "nightly", "--resume"], vec!["--resume"]] {
        let resumed = start_run(&suite, &server, &results, &extra).wait_with_output().unwrap();
        assert_turned_away(&resumed, &run_dir, &first);
    }

    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let records = records(&run_dir);
    let planned = records.len() as u64;
    let unique: HashSet<&str> = records.iter().map(|r| r["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(unique.len() as u64, planned, "every request recorded once");
    let judge_calls =
        std::fs::read_to_string(run_dir.join("judgements.jsonl")).map_or(0, |text| text.lines().count() as u64);
    assert_eq!(
        total_requests(&server),
        planned + judge_calls,
        "each request paid for exactly once in total: {}",
        server.stats()
    );
}

#[test]
fn score_and_report_wait_their_turn_too() {
    let dir = tempfile::tempdir().unwrap();
    let (suite, server, results, run_dir) = slow_run(dir.path());
    let mut first = start_run(&suite, &server, &results, &["--run-id", "r"]);
    assert!(wait_for_records(&run_dir, 3) >= 3);
    for args in [vec!["report"], vec!["score", "--local"]] {
        let output = command().args(&args).arg(&run_dir).output().unwrap();
        assert_turned_away(&output, &run_dir, &first);
    }
    assert!(first.wait().unwrap().success());
    let report = command().arg("report").arg(&run_dir).output().unwrap();
    assert!(report.status.success(), "free once the run ended");
}

#[test]
fn new_runs_started_together_get_folders_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let results = dir.path().join("results");
    let runs: Vec<Child> = (0..3)
        .map(|_| {
            command()
                .args(["run", suite.to_str().unwrap(), "--local", "--results"])
                .arg(&results)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let output = run.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let folders: Vec<_> = std::fs::read_dir(results.join("mini"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    assert_eq!(folders.len(), 3, "{folders:?}");
    for folder in folders {
        assert_eq!(
            records(&folder).len(),
            24,
            "{} holds one run's records",
            folder.display()
        );
    }
}
