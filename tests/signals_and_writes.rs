//! Stopping and writing safely: a full disk never leaves half a report, and a closed pipe ends a command quietly.

mod common;

use std::path::Path;
use std::process::Command;

use common::{binary, command, mini_suite, run_local};

#[cfg(unix)]
#[test]
fn a_full_disk_leaves_no_truncated_report_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let results = dir.path().join("results");
    let output = run_local(&suite, &results, &["--run-id", "r"]);
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
