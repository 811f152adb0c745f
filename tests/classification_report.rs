//! Structured output in the reports: per-field accuracy, classification metrics and confusion matrices per config,
//! and McNemar's test deciding the verdict when the rubric is a single label criterion. The replies are set by hand
//! (the run's records rewritten, then `bedrock-eval report` and `score` rebuild everything), so every count is known.

mod common;

use std::path::{Path, PathBuf};

use common::{command, labels_suite, run_local_ok};

/// Runs the `labels` fixture on the embedded endpoint in `dir`; returns the run folder.
fn run_labels(dir: &Path) -> PathBuf {
    run_local_ok(&labels_suite(dir), &dir.join("results"));
    dir.join("results/labels/r")
}

/// The baseline's replies, by example: right, wrong, unreadable, a synonym, fenced.
const TERSE: [(&str, &str); 8] = [
    ("l1", r#"{"category": "billing", "urgency": "high"}"#),
    ("l2", r#"{"urgency": "HIGH", "category": "billing"}"#),
    ("l3", r#"{"category": "login", "urgency": "high"}"#),
    ("l4", "It is an outage, urgent."),
    ("l5", r#"{"category": "Sign-in", "urgency": " medium"}"#),
    ("l6", r#"{"category": "billing", "urgency": "low"}"#),
    ("l7", "```json\n{\"category\": \"feature\", \"urgency\": \"low\"}\n```"),
    ("l8", r#"{"category": "refund", "urgency": "low"}"#),
];

/// Sets every reply: the baseline's from [`TERSE`], the candidate's to the reference (all right).
fn rewrite_replies(run_dir: &Path) {
    let held_out: Vec<serde_json::Value> = std::fs::read_to_string(run_dir.join("../../../held-out.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let text = std::fs::read_to_string(run_dir.join("records.jsonl")).unwrap();
    let mut lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for line in &mut lines {
        let id = line["example_id"].as_str().unwrap().to_string();
        let reply = if line["config"] == "terse" {
            TERSE.iter().find(|(e, _)| *e == id).unwrap().1.to_string()
        } else {
            let example = held_out.iter().find(|e| e["id"] == id.as_str()).unwrap();
            example["completion"].as_str().unwrap().to_string()
        };
        line["output"] = serde_json::Value::from(reply);
    }
    let rewritten: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(run_dir.join("records.jsonl"), rewritten.join("\n") + "\n").unwrap();
}

fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn fields_classification_metrics_and_confusion_matrices_per_config() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = run_labels(dir.path());
    rewrite_replies(&run_dir);
    let output = command().arg("report").arg(&run_dir).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // Per field: `category` is compared exactly ("Sign-in" and "login" differ), `urgency` as text.
    let fields = csv_rows(&run_dir.join("fields.csv"));
    let accuracy = |path: &str, config: &str| -> (String, String) {
        let row = fields
            .iter()
            .find(|r| r["path"] == path && r["config"] == config)
            .unwrap();
        (row["correct"].clone(), row["replies"].clone())
    };
    assert_eq!(accuracy("category", "terse"), ("3".into(), "8".into()));
    assert_eq!(accuracy("urgency", "terse"), ("6".into(), "8".into()));
    assert_eq!(accuracy("category", "careful"), ("8".into(), "8".into()));

    // The label criterion: synonyms resolved, unreadable replies counted as "(no label)".
    let summary = csv_rows(&run_dir.join("classification.csv"));
    let terse = summary.iter().find(|r| r["config"] == "terse").unwrap();
    assert_eq!((terse["correct"].as_str(), terse["replies"].as_str()), ("4", "8"));
    assert_eq!(terse["accuracy"], "0.5000");
    // Wilson for 4 of 8 at 95% (statsmodels): 0.2152 to 0.7848.
    assert_eq!(
        (terse["accuracy_ci_low"].as_str(), terse["accuracy_ci_high"].as_str()),
        ("0.2152", "0.7848")
    );
    // F1: billing 2/3, outage 0, login 1/2, feature 1 → macro (2/3 + 0 + 1/2 + 1)/4.
    assert_eq!(terse["macro_f1"], format!("{:.4}", (2.0 / 3.0 + 0.5 + 1.0) / 4.0));
    let low: f64 = terse["macro_f1_ci_low"].parse().unwrap();
    let high: f64 = terse["macro_f1_ci_high"].parse().unwrap();
    assert!(low < 0.5417 && 0.5417 < high, "{terse:?}");
    let careful = summary.iter().find(|r| r["config"] == "careful").unwrap();
    assert_eq!(
        (careful["accuracy"].as_str(), careful["macro_f1"].as_str()),
        ("1.0000", "1.0000")
    );

    let classes = csv_rows(&run_dir.join("classes.csv"));
    let outage = classes
        .iter()
        .find(|r| r["config"] == "terse" && r["class"] == "outage")
        .unwrap();
    assert_eq!(
        (
            outage["precision"].as_str(),
            outage["recall"].as_str(),
            outage["support"].as_str()
        ),
        ("0.0000", "0.0000", "2"),
        "never predicted: precision 0/0 is 0"
    );

    let confusion = csv_rows(&run_dir.join("confusion.csv"));
    let count = |expected: &str, predicted: &str| -> String {
        confusion
            .iter()
            .find(|r| r["config"] == "terse" && r["expected"] == expected && r["predicted"] == predicted)
            .map_or_else(|| panic!("no cell {expected} → {predicted}"), |r| r["count"].clone())
    };
    assert_eq!(count("billing", "billing"), "2");
    assert_eq!(count("billing", "refund"), "1");
    assert_eq!(count("outage", "(no label)"), "1");
    assert_eq!(count("outage", "login"), "1");
    assert_eq!(count("login", "login"), "1");
    assert_eq!(count("feature", "outage"), "0");

    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    for section in [
        "## Fields",
        "## Classification: category",
        "Confusion matrix, **terse**",
        "Confusion matrix, **careful**",
    ] {
        assert!(report.contains(section), "no {section}:\n{report}");
    }
    assert!(report.contains("| `urgency` | 75.0 (6/8) | 100.0 (8/8) |"), "{report}");
    assert!(report.contains("| outage | 0 | 0 | 1 | 0 | 0 | 1 |"), "{report}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["classification"][0]["metrics"]["correct"], 4);
    assert_eq!(json["fields"].as_array().unwrap().len(), 4);
    // With two criteria the verdict stays with the paired t-test.
    assert_eq!(json["comparisons"][0]["verdict_test"], "paired_t");
}

#[test]
fn a_single_label_criterion_is_decided_by_mcnemar() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = run_labels(dir.path());
    rewrite_replies(&run_dir);
    let output = command()
        .arg("score")
        .arg(&run_dir)
        .arg("--rubric")
        .arg(dir.path().join("label-only.yaml"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let comparisons = csv_rows(&run_dir.join("comparisons.csv"));
    let row = &comparisons[0];
    assert_eq!(row["verdict_test"], "mcnemar_exact");
    // b = 0 (right only for the baseline), c = 4: exact p = 2 · P(X ≤ 0 | 4, ½) = 0.125, not the t-test's.
    assert_eq!((row["mcnemar_b"].as_str(), row["mcnemar_c"].as_str()), ("0", "4"));
    assert_eq!(row["p_holm"], row["p_mcnemar"]);
    assert_eq!(row["p_holm"].parse::<f64>().unwrap(), 0.125);
    assert_ne!(row["p_t"], row["p_holm"]);
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains("McNemar's exact test on correctness"), "{report}");
}
