//! Repeated lines in a suite's data are a warning naming the lines, not an error about an id nobody set, and a
//! training file that cannot be read is one error, not a cascade about its few-shot pool.

mod common;

use common::{command, mini_suite};

/// The mini suite's training file without ids (ids derived from the content), with lines 3 and 5 repeated at the
/// end (lines 13 and 14).
fn training_without_ids(dir: &std::path::Path) {
    let path = dir.join("train.jsonl");
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut value: serde_json::Value = serde_json::from_str(l).unwrap();
            value.as_object_mut().unwrap().remove("id");
            value.to_string()
        })
        .collect();
    lines.push(lines[2].clone());
    lines.push(lines[4].clone());
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn repeated_training_lines_are_warnings_naming_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    training_without_ids(dir.path());
    let output = command().arg("validate").arg(&suite).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("train.jsonl:13: this training example repeats line 3 exactly"),
        "{stderr}"
    );
    assert!(
        stderr.contains("train.jsonl:14: this training example repeats line 5 exactly"),
        "{stderr}"
    );
    assert!(!stderr.contains("duplicate example id"), "{stderr}");
    assert!(!stderr.contains("eligible demonstrations"), "{stderr}");
    assert!(
        stdout.contains("12 training examples"),
        "each repeated line is read once: {stdout}"
    );

    // The run goes ahead on the same data.
    let output = command()
        .arg("run")
        .arg(&suite)
        .args(["--local", "--run-id", "r", "--results"])
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("train.jsonl:13: this training example repeats line 3"),
        "{stderr}"
    );
}

#[test]
fn ids_the_user_set_must_still_be_unique() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let path = dir.path().join("train.jsonl");
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.push(lines[0].clone());
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let output = command().arg("validate").arg(&suite).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("train.jsonl:13: id: duplicate example id"), "{stderr}");
    assert!(
        !stderr.contains("eligible demonstrations"),
        "no cascade from the unreadable pool: {stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{stderr}"
    );
}
