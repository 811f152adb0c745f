//! How planned rows meet records: two held-out examples with the same input share one request, and so one record,
//! yet each row is scored against its own example; and a report leaves no file of an earlier report that it no
//! longer writes.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{command, labels_suite, run_local_ok};

fn scores_lines(run_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run_dir.join("scores.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .map(str::to_string)
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

#[test]
fn examples_with_the_same_input_share_one_record_and_are_each_scored_against_their_own_labels() {
    let dir = tempfile::tempdir().unwrap();
    let suite = labels_suite(dir.path());
    let held_out = dir.path().join("held-out.jsonl");
    let text = std::fs::read_to_string(&held_out).unwrap();
    let mut twin: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(twin["category"], "billing");
    twin["id"] = "l1-twin".into();
    twin["category"] = "outage".into();
    twin["urgency"] = "low".into();
    twin["completion"] = r#"{"category": "outage", "urgency": "low"}"#.into();
    std::fs::write(&held_out, format!("{text}{twin}\n")).unwrap();
    let results = dir.path().join("results");
    run_local_ok(&suite, &results);
    let run_dir = results.join("labels").join("r");

    // A rebuild sees the same: two configs × 9 rows, none stale, none missing.
    let output = command().arg("report").arg(&run_dir).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["stale_records"], 0);
    for config in report["configs"].as_array().unwrap() {
        assert_eq!(config["requests"]["planned"], 9, "{config}");
        assert_eq!(config["requests"]["ok"], 9, "{config}");
        assert_eq!(config["requests"]["missing"], 0, "{config}");
    }

    let lines = scores_lines(&run_dir);
    let examples = csv_rows(&run_dir.join("examples.csv"));
    for config in ["terse", "careful"] {
        let line = |id: &str| {
            lines
                .iter()
                .find(|l| l["example_id"] == id && l["config"] == config)
                .unwrap_or_else(|| panic!("no scores for {id} in {config}"))
        };
        let (first, twin) = (line("l1"), line("l1-twin"));
        assert_eq!(first["fingerprint"], twin["fingerprint"], "one request for both");
        let label = |l: &serde_json::Value| l["criteria"][1]["label"].clone();
        assert_eq!(label(first)["expected"], "billing");
        assert_eq!(label(twin)["expected"], "outage");
        assert_eq!(
            label(first)["predicted"],
            label(twin)["predicted"],
            "one reply for both"
        );
        let row = |id: &str| {
            examples
                .iter()
                .find(|r| r["example_id"] == id && r["config"] == config)
                .unwrap_or_else(|| panic!("no row for {id} in {config}"))
        };
        assert_eq!(row("l1")["output"], row("l1-twin")["output"]);
    }
}

#[test]
fn a_rescore_without_structured_criteria_removes_the_structured_files_of_the_earlier_report() {
    let dir = tempfile::tempdir().unwrap();
    let suite = labels_suite(dir.path());
    let results = dir.path().join("results");
    run_local_ok(&suite, &results);
    let run_dir = results.join("labels").join("r");
    let structured = ["fields.csv", "classification.csv", "classes.csv", "confusion.csv"];
    for name in structured {
        assert!(run_dir.join(name).is_file(), "{name} written for the label rubric");
    }
    std::fs::write(run_dir.join("notes.csv"), "mine\n").unwrap();
    let rubric = dir.path().join("plain.yaml");
    std::fs::write(
        &rubric,
        "name: plain\npass_threshold: 0.5\ncriteria:\n  - id: mentions_category\n    kind: contains_any\n    \
         terms: [category]\n",
    )
    .unwrap();
    let output = command()
        .arg("score")
        .arg(&run_dir)
        .arg("--rubric")
        .arg(&rubric)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    for name in structured {
        assert!(!run_dir.join(name).exists(), "{name} left from the earlier rubric");
    }
    assert_eq!(std::fs::read_to_string(run_dir.join("notes.csv")).unwrap(), "mine\n");
    for name in ["examples.csv", "report.md", "report.html", "scores.jsonl"] {
        assert!(run_dir.join(name).is_file(), "{name}");
    }
    let names: Vec<String> = std::fs::read_dir(&run_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "temporary files left: {names:?}");
}
