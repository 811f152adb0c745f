//! Committed run folders (`tests/fixtures/runs/`) whose reports are rebuilt by `bedrock-eval report` and compared
//! byte for byte with the files they produced when they were recorded: however the records are read, every number,
//! row and reply in the reports stays the same.
//!
//! - `judged`: the mini suite with a three-sample judge criterion, two repeats, failed calls and malformed verdicts;
//! - `scored`: the labels suite with `label`, `json_fields`, `command` (one crashing, one printing garbage) and judge
//!   criteria, two repeats;
//! - `interrupted`: a label-only suite whose records lack their last three requests, hold a failed record superseded
//!   by its retry and a record of a request the suite no longer makes; compared with its complete run (`base`).
//!
//! Each fixture's `run.json` names its suite as `SUITE_DIR/suite.yaml`; the test copies the fixture to a temporary
//! folder, points `run.json` there, and writes `SUITE_DIR` back in place of that folder before comparing. After a
//! deliberate change to a report's format, `BEDROCK_EVAL_BLESS=1 cargo test --test report_rebuild` rewrites the
//! expected files (review the diff before committing it).

mod common;

use std::path::{Path, PathBuf};

use common::command;

/// Files `report` writes that are compared whole (those a fixture does not produce are skipped).
const REPORT_FILES: [&str; 14] = [
    "report.md",
    "report.json",
    "examples.csv",
    "summary.csv",
    "comparisons.csv",
    "scores.jsonl",
    "fields.csv",
    "classification.csv",
    "classes.csv",
    "confusion.csv",
    "quality.svg",
    "differences.svg",
    "cost-volume.svg",
    "cost-quality.svg",
];

/// Files `compare` writes that are compared whole.
const COMPARE_FILES: [&str; 4] = ["compare.md", "compare.csv", "compare.json", "compare-junit.xml"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/runs")
        .join(name)
}

fn bless() -> bool {
    std::env::var("BEDROCK_EVAL_BLESS").as_deref() == Ok("1")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The fixture copied into `dir`: its suite in `dir/suite`, and each run folder (`run`, and `base` when it has one)
/// with `run.json` pointing at that suite.
fn install(name: &str, dir: &Path) -> PathBuf {
    let suite_dir = dir.join("suite");
    copy_dir(&fixture(name).join("suite"), &suite_dir);
    for run in ["run", "base"] {
        let from = fixture(name).join(run);
        if !from.exists() {
            continue;
        }
        copy_dir(&from, &dir.join(run));
        let metadata = dir.join(run).join("run.json");
        let text = std::fs::read_to_string(&metadata).unwrap();
        let placed = text.replace("SUITE_DIR", suite_dir.to_str().unwrap());
        assert_ne!(text, placed, "{name}/{run}/run.json names no SUITE_DIR");
        std::fs::write(&metadata, placed).unwrap();
    }
    suite_dir
}

/// `path`'s text with the temporary suite folder written back as `SUITE_DIR` (and the run folders as `RUN_DIR`).
fn placeholders(path: &Path, dir: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.replace(dir.join("suite").to_str().unwrap(), "SUITE_DIR")
        .replace(dir.to_str().unwrap(), "RUN_DIR")
}

/// The per-example data a page embeds (`report.html`'s or `compare.html`'s `examples`), pretty-printed.
fn page_examples(page: &Path) -> String {
    let html = std::fs::read_to_string(page).unwrap();
    let data = html
        .split("<script type=\"application/json\" id=\"data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap_or_else(|| panic!("{} has no data element", page.display()));
    let data: serde_json::Value = serde_json::from_str(data).unwrap();
    let mut pick = serde_json::Map::new();
    for key in ["examples", "texts"] {
        if let Some(value) = data.get(key) {
            pick.insert(key.to_string(), value.clone());
        }
    }
    serde_json::to_string_pretty(&pick).unwrap() + "\n"
}

/// Compares `actual` with the fixture's expected file `name` (or writes it, when blessing).
fn check(fixture_name: &str, name: &str, actual: &str) {
    let expected_path = fixture(fixture_name).join("expected").join(name);
    if bless() {
        std::fs::create_dir_all(expected_path.parent().unwrap()).unwrap();
        std::fs::write(&expected_path, actual).unwrap();
        return;
    }
    let expected =
        std::fs::read_to_string(&expected_path).unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{fixture_name}: {name} differs from its recorded version, first at line {}:\n  recorded: {:?}\n  rebuilt:  {:?}",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

/// Rebuilds the reports of fixture `name` and compares every one with its recorded version.
fn rebuild_and_compare(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    install(name, dir.path());
    let run_dir = dir.path().join("run");
    let output = command().arg("report").arg(&run_dir).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut compared = 0;
    for file in REPORT_FILES {
        let path = run_dir.join(file);
        let expected = fixture(name).join("expected").join(file);
        if path.exists() || expected.exists() {
            check(name, file, &placeholders(&path, dir.path()));
            compared += 1;
        }
    }
    assert!(compared >= 10, "{name}: only {compared} report files");
    check(
        name,
        "report.html-examples.json",
        &page_examples(&run_dir.join("report.html")),
    );
    (dir, run_dir)
}

#[test]
fn a_judged_run_with_repeats_and_failures_rebuilds_the_same_reports() {
    rebuild_and_compare("judged");
}

#[test]
fn a_run_with_labels_fields_scorers_and_a_judge_rebuilds_the_same_reports() {
    rebuild_and_compare("scored");
}

#[test]
fn an_interrupted_run_with_superseded_and_stale_records_rebuilds_the_same_reports_and_comparison() {
    let (dir, run_dir) = rebuild_and_compare("interrupted");
    let out = dir.path().join("compared");
    let output = command()
        .arg("compare")
        .arg(dir.path().join("base"))
        .arg(&run_dir)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.code().is_some_and(|c| c == 0 || c == 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in COMPARE_FILES {
        check("interrupted", file, &placeholders(&out.join(file), dir.path()));
    }
    check(
        "interrupted",
        "compare.html-examples.json",
        &page_examples(&out.join("compare.html")),
    );
}
