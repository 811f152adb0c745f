//! Stopping and writing safely: SIGTERM stops a run as Ctrl-C does, `run.json` says `interrupted` whenever a run
//! stops early (in the judge phase too), a full disk never leaves half a report, and a closed pipe ends a command
//! quietly.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use common::{
    binary, command, edit, example_suite, mini_suite, records, resume_line, run_json, run_local_with, send_signal,
    shell, slow_run, spawn_run, total_requests, wait_for_records, Server,
};

#[cfg(unix)]
#[test]
fn sigterm_stops_a_run_like_ctrl_c_and_the_printed_line_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (suite, server, results, run_dir) = slow_run(dir.path());
    let run = spawn_run(&suite, &results, &["--run-id", "r", "--endpoint-url", &server.url]);
    assert!(wait_for_records(&run_dir, 20) >= 20);
    send_signal(&run, "TERM");
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    let metadata = run_json(&run_dir);
    assert_eq!(metadata["status"], "interrupted", "{metadata}");
    assert!(
        run_dir.join("report.md").is_file(),
        "the reports of what was recorded are written"
    );
    // Every call made was recorded: the calls in flight finished before the run stopped.
    let calls = server.stats()["total_requests"].as_u64().unwrap();
    assert_eq!(records(&run_dir).len() as u64, calls);

    let resumed = shell(&resume_line(&stderr))
        .env("AWS_ACCESS_KEY_ID", "t")
        .env("AWS_SECRET_ACCESS_KEY", "t")
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let records = records(&run_dir);
    let unique: HashSet<&str> = records.iter().map(|r| r["fingerprint"].as_str().unwrap()).collect();
    assert_eq!((records.len(), unique.len()), (96, 96));
    assert_eq!(server.stats()["total_requests"], 96);
}

/// Polls `server` until it has received `count` requests (30 s at most); returns how many it has.
#[cfg(unix)]
fn wait_for_requests(server: &Server, count: u64) -> u64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let received = total_requests(server);
        if received >= count || std::time::Instant::now() > deadline {
            return received;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// What [`stop_mini_run`] saw: the endpoint's requests when the signal was sent and once the run had ended, and
/// the run's output and folder.
#[cfg(unix)]
struct Stopped {
    at_signal: u64,
    after: u64,
    output: std::process::Output,
    run_dir: std::path::PathBuf,
}

/// Runs the mini suite, its `find` text replaced by `replace`, against an endpoint started with `flags`; once
/// `ready` says so, sends `signal` and waits for the run to end.
#[cfg(unix)]
fn stop_mini_run(
    dir: &Path,
    (find, replace): (&str, &str),
    flags: &[&str],
    ready: impl Fn(&Server, &Path) -> bool,
    signal: &str,
) -> Stopped {
    let suite = mini_suite(dir);
    edit(&suite, find, replace);
    let server = Server::for_suite(&suite, flags);
    let results = dir.join("results");
    let run_dir = results.join("mini/r");
    let run = spawn_run(&suite, &results, &["--run-id", "r", "--endpoint-url", &server.url]);
    assert!(ready(&server, &run_dir), "the run did not get going");
    let at_signal = total_requests(&server);
    send_signal(&run, signal);
    let output = run.wait_with_output().unwrap();
    Stopped {
        at_signal,
        after: total_requests(&server),
        output,
        run_dir,
    }
}

#[cfg(unix)]
#[test]
fn a_stopped_run_retries_no_failing_call_and_records_none_short_of_its_attempts() {
    // Every call is throttled, and retried with backoff of 200 ms and more: unstopped, each of the four calls in
    // flight would try up to ten times.
    let dir = tempfile::tempdir().unwrap();
    let stopped = stop_mini_run(
        dir.path(),
        (
            "  max_attempts: 10\n  base_delay_ms: 5\n  max_delay_ms: 50",
            "  max_attempts: 10\n  base_delay_ms: 400\n  max_delay_ms: 2000",
        ),
        &["--throttle-rate", "1"],
        |server, _| wait_for_requests(server, 8) >= 8,
        "TERM",
    );
    let (at_signal, after) = (stopped.at_signal, stopped.after);
    let stderr = String::from_utf8_lossy(&stopped.output.stderr);
    assert_eq!(stopped.output.status.code(), Some(143), "{stderr}");
    // At most the attempts already on their way when the signal came (one per call in flight), and any that left
    // while it was being sent: none is retried.
    assert!(
        after <= at_signal + 8,
        "{at_signal} requests at the signal, {after} after: {stderr}"
    );
    let stdout = String::from_utf8_lossy(&stopped.output.stdout);
    assert!(stdout.contains(" not retried"), "{stdout}");
    // A call given up on is not recorded as a failure: only a call that used all its attempts would be.
    for record in records(&stopped.run_dir) {
        assert_eq!(record["attempts"], 10, "{record}");
    }
    assert_eq!(run_json(&stopped.run_dir)["status"], "interrupted");
    assert!(stderr.contains("resume it with:"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_stopped_run_sends_no_call_still_waiting_for_its_rate_limit() {
    // Nova Lite at 20 requests a minute: one call is sent, then one every three seconds, while the other calls in
    // flight wait for the limiter.
    let dir = tempfile::tempdir().unwrap();
    let stopped = stop_mini_run(
        dir.path(),
        (
            "concurrency: 4\n",
            "concurrency: 4\nlimits:\n  amazon.nova-lite-v1:0:\n    requests_per_minute: 20\n",
        ),
        &[],
        |_, run_dir| {
            let started = wait_for_records(run_dir, 1) >= 1;
            std::thread::sleep(std::time::Duration::from_millis(500));
            started
        },
        "INT",
    );
    let (at_signal, after) = (stopped.at_signal, stopped.after);
    let stderr = String::from_utf8_lossy(&stopped.output.stderr);
    assert_eq!(stopped.output.status.code(), Some(130), "{stderr}");
    assert!(
        after <= at_signal + 1,
        "{at_signal} requests at the signal, {after} after: {stderr}"
    );
    // Every call that was made is recorded; the ones still waiting were not sent, and a resume asks them.
    assert_eq!(records(&stopped.run_dir).len() as u64, after, "{stderr}");
    let stdout = String::from_utf8_lossy(&stopped.output.stdout);
    assert!(stdout.contains(" not started"), "{stdout}");
}

#[cfg(unix)]
#[test]
fn a_run_interrupted_while_judging_says_so_in_run_json() {
    let dir = tempfile::tempdir().unwrap();
    let suite = example_suite(dir.path(), "");
    let server = Server::for_suite(&suite, &["--latency-ms", "40"]);
    let results = dir.path().join("results");
    let run_dir = results.join("support-tone/r");
    let run = spawn_run(&suite, &results, &["--run-id", "r", "--endpoint-url", &server.url]);
    let judgements = run_dir.join("judgements.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_to_string(&judgements).map_or(0, |t| t.lines().count()) < 2
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(judgements.is_file(), "the judge phase began");
    send_signal(&run, "INT");
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let metadata = run_json(&run_dir);
    assert_eq!(metadata["status"], "interrupted", "{metadata}");
    assert_eq!(metadata["stop_reason"], "interrupted");
    assert!(stderr.contains("resume it with:"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_full_disk_leaves_no_truncated_report_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let results = dir.path().join("results");
    let output = run_local_with(&suite, &results, &["--run-id", "r"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let run_dir = results.join("mini/r");
    let examples = run_dir.join("examples.csv");
    assert!(
        std::fs::metadata(&examples).unwrap().len() > 8192,
        "the file must outgrow the limit below"
    );
    std::fs::remove_file(&examples).unwrap();

    // A file-size limit of a few kB stands in for a full disk: every write past it fails with EFBIG (the signal
    // that would otherwise kill the process is ignored, and stays ignored across exec).
    let script = format!(
        "trap '' XFSZ; ulimit -f 8; exec '{}' report '{}'",
        binary().display(),
        run_dir.display()
    );
    let output = Command::new("sh").args(["-c", &script]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&examples.display().to_string()),
        "the error names the file: {stderr}"
    );
    assert!(!examples.exists(), "no truncated examples.csv is left behind");
    let leftovers: Vec<String> = std::fs::read_dir(&run_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Runs the binary with `args`, its standard output a pipe whose reading end is already closed; returns the exit
/// code and standard error.
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = command().args(args).stdout(writer).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_plan_and_data_check_quietly_with_their_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("tests/fixtures/data/duplicates.jsonl");
    for args in [
        vec!["plan", suite.to_str().unwrap(), "--json"],
        vec!["plan", suite.to_str().unwrap()],
        vec!["data", "check", data.to_str().unwrap(), "--json"],
        vec!["data", "check", data.to_str().unwrap()],
        vec!["validate", suite.to_str().unwrap()],
    ] {
        let expected = command().args(&args).output().unwrap().status.code();
        let (code, stderr) = with_closed_stdout(&args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(code, expected, "{args:?} keeps its exit code: {stderr}");
        assert!(
            !stderr.contains("standard output"),
            "a closed pipe is not an error: {args:?}: {stderr}"
        );
    }
}

#[cfg(unix)]
#[test]
fn serve_stops_on_sigterm_as_on_ctrl_c_and_exits_cleanly() {
    use std::io::{BufRead, BufReader};
    for signal in ["TERM", "INT"] {
        let mut serve = command()
            .arg("serve")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut url = String::new();
        BufReader::new(serve.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        let url = url.trim().to_string();
        assert_eq!(
            common::get_json(&url, "/_local/health")["status"],
            "ok",
            "{url} answers"
        );
        send_signal(&serve, signal);
        let status = common::wait_bounded(&mut serve, std::time::Duration::from_secs(30));
        assert_eq!(status.code(), Some(0), "{signal}: a server stopped by a signal exits 0");
        let address = url.trim_start_matches("http://");
        assert!(
            std::net::TcpStream::connect(address).is_err(),
            "{signal}: {url} no longer listens"
        );
    }
}
