//! Resume continues the same run, nowhere else: `run.json` records how the run was started, the printed resume
//! line is complete, another endpoint is refused unless asked for, and credentials in a URL are never written.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Child;

use common::{
    command, edit, mini_suite, records, resume_line, run_json, run_local_with, send_signal, shell, slow_run, spawn_run,
    total_requests, wait_for_records, Server,
};

/// Interrupts a run (Ctrl-C) once it has recorded `records` requests; returns its standard error.
#[cfg(unix)]
fn interrupt_after(child: Child, run_dir: &Path, records: usize) -> String {
    assert!(wait_for_records(run_dir, records) >= records);
    send_signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[cfg(unix)]
#[test]
fn the_printed_resume_line_continues_on_the_same_endpoint_and_records_each_request_once() {
    let dir = tempfile::tempdir().unwrap();
    let (suite, server, results, run_dir) = slow_run(dir.path());
    let run = spawn_run(
        &suite,
        &results,
        &["--run-id", "r", "--endpoint-url", &server.url, "--concurrency", "2"],
    );
    let stderr = interrupt_after(run, &run_dir, 20);

    let metadata = run_json(&run_dir);
    assert_eq!(metadata["status"], "interrupted");
    let launch = &metadata["launch"];
    assert_eq!(launch["endpoint_url"], server.url.as_str(), "{metadata}");
    assert_eq!(launch["region"], "us-east-1");
    assert_eq!(launch["concurrency"], 2);
    assert_eq!(launch["local"], false);
    assert_eq!(
        launch["results"].as_str().map(Path::new),
        Some(std::path::absolute(&results).unwrap().as_path())
    );

    // Pasted verbatim from another folder, in a shell with credentials but no region and no endpoint variable:
    // the line alone takes the rest of the run to the same endpoint.
    let line = resume_line(&stderr);
    let elsewhere = tempfile::tempdir().unwrap();
    let output = shell(&line)
        .current_dir(elsewhere.path())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`{line}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = records(&run_dir);
    let unique: HashSet<&str> = records.iter().map(|r| r["fingerprint"].as_str().unwrap()).collect();
    assert_eq!((records.len(), unique.len()), (96, 96), "every request recorded once");
    assert!(records.iter().all(|r| r["status"] == "ok"));
    assert_eq!(total_requests(&server), 96, "{}", server.stats());
    assert_eq!(run_json(&run_dir)["status"], "finished");
}

#[test]
fn another_endpoint_is_refused_unless_asked_for_and_the_report_says_which_records_came_from_where() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let first = Server::for_suite(&suite, &[]);
    let second = Server::for_suite(&suite, &[]);
    let results = dir.path().join("results");
    let run_dir = results.join("mini/r");
    let done = spawn_run(&suite, &results, &["--run-id", "r", "--endpoint-url", &first.url])
        .wait_with_output()
        .unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    // Two repeats instead of one: 24 more requests to make.
    edit(&suite, "baseline: prompt", "baseline: prompt\nrepeats: 2");

    let resume = |extra: &[&str]| {
        spawn_run(&suite, &results, &[&["--run-id", "r", "--resume"], extra].concat())
            .wait_with_output()
            .unwrap()
    };
    let refused = resume(&["--endpoint-url", &second.url]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--endpoint-change") && stderr.contains(&first.url),
        "{stderr}"
    );
    let refused_local = resume(&["--local"]);
    assert_eq!(refused_local.status.code(), Some(2));
    assert_eq!(total_requests(&second), 0, "nothing was sent to the other endpoint");
    assert_eq!(records(&run_dir).len(), 24);

    let changed = resume(&["--endpoint-url", &second.url, "--endpoint-change"]);
    assert!(changed.status.success(), "{}", String::from_utf8_lossy(&changed.stderr));
    assert_eq!((total_requests(&first), total_requests(&second)), (24, 24));
    let history = run_json(&run_dir)["endpoint_history"].clone();
    assert_eq!(history[0]["first_record"], 1, "{history}");
    assert_eq!(history[1]["first_record"], 25, "{history}");
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        report.contains(&format!(
            "records 1–24 from embedded endpoint (simulated models) at {}",
            first.url
        )) && report.contains(&format!(
            "records 25 onward from embedded endpoint (simulated models) at {}",
            second.url
        )),
        "{report}"
    );
}

#[test]
fn resume_without_a_run_id_continues_the_run_started_last() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let results = dir.path().join("results");
    // Started first, but last by name.
    for id in ["zz-earlier", "aa-later"] {
        assert!(run_local_with(&suite, &results, &["--run-id", id]).status.success());
    }
    edit(&suite, "baseline: prompt", "baseline: prompt\nrepeats: 2");
    let output = command()
        .args(["run", suite.to_str().unwrap(), "--resume", "--results"])
        .arg(&results)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(records(&results.join("mini/aa-later")).len(), 48);
    assert_eq!(records(&results.join("mini/zz-earlier")).len(), 24);
    assert_eq!(
        run_json(&results.join("mini/aa-later"))["endpoint"]["kind"],
        "simulated",
        "a --local run resumes on the embedded endpoint without --local"
    );
}

#[cfg(unix)]
#[test]
fn credentials_in_the_endpoint_url_are_never_written_and_must_be_given_again() {
    let dir = tempfile::tempdir().unwrap();
    let (suite, server, results, run_dir) = slow_run(dir.path());
    let secret_url = server.url.replace("http://", "http://alice:s3cret-pw@");
    let run = spawn_run(&suite, &results, &["--run-id", "r", "--endpoint-url", &secret_url]);
    let stderr = interrupt_after(run, &run_dir, 10);
    let redacted_url = server.url.replace("http://", "http://REDACTED@");
    let line = resume_line(&stderr);
    assert!(line.contains(&redacted_url), "{line}");
    assert!(stderr.contains("put them back in place of REDACTED"), "{stderr}");

    let resume = |extra: &[&str]| {
        spawn_run(&suite, &results, &[&["--run-id", "r", "--resume"], extra].concat())
            .wait_with_output()
            .unwrap()
    };
    let calls = total_requests(&server);
    for refused in [
        shell(&line)
            .env("AWS_ACCESS_KEY_ID", "t")
            .env("AWS_SECRET_ACCESS_KEY", "t")
            .output()
            .unwrap(),
        resume(&[]),
    ] {
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--endpoint-url"), "{stderr}");
    }
    assert_eq!(total_requests(&server), calls, "nothing sent without the credentials");
    let finished = resume(&["--endpoint-url", &secret_url]);
    assert!(
        finished.status.success(),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    assert_eq!(records(&run_dir).len(), 96);

    for entry in std::fs::read_dir(&run_dir).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        assert!(!text.contains("s3cret-pw"), "{} holds the password", path.display());
    }
    let printed = [
        &stderr,
        &*String::from_utf8_lossy(&finished.stderr),
        &*String::from_utf8_lossy(&finished.stdout),
    ];
    assert!(printed.iter().all(|text| !text.contains("s3cret-pw")), "{printed:?}");
    assert!(run_json(&run_dir)["launch"]["endpoint_url"] == redacted_url.as_str());
}
