//! Stopping and writing safely: a full disk never leaves half a report, and a closed pipe ends a command quietly.

mod common;

use std::path::Path;
use std::process::Command;

use common::{binary, command, mini_suite};

/// Runs the mini suite on the embedded endpoint into `results` as run `r`; returns the run folder.
fn local_run(suite: &Path, results: &Path) -> std::path::PathBuf {
    let output = command()
        .args(["run", suite.to_str().unwrap(), "--local", "--run-id", "r", "--results"])
        .arg(results)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    results.join("mini/r")
}

#[cfg(unix)]
#[test]
fn a_full_disk_leaves_no_truncated_report_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let run_dir = local_run(&suite, &dir.path().join("results"));
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
