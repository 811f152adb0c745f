//! Leakage that means leakage: on classification data whose labels recur across the training rows, only the one
//! planted input leak is reported — by `data leakage`, by `run` (where `--strict` refuses it) and in the report —
//! and `data split`'s output passes `data leakage` against itself.

mod common;

use std::path::{Path, PathBuf};

use common::command;

fn fixture(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/leakage");
    for name in ["train.jsonl", "held-out.jsonl", "suite.yaml", "rubric.yaml"] {
        std::fs::copy(root.join(name), dir.join(name)).unwrap();
    }
    dir.join("suite.yaml")
}

fn leakage(train: &Path, held_out: &Path) -> std::process::Output {
    command()
        .args(["data", "leakage", "--train"])
        .arg(train)
        .arg("--held-out")
        .arg(held_out)
        .output()
        .unwrap()
}

fn run(suite: &Path, results: &Path, extra: &[&str]) -> std::process::Output {
    command()
        .arg("run")
        .arg(suite)
        .args(["--local", "--run-id", "r", "--results"])
        .arg(results)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn repeated_labels_are_not_leaks_and_the_planted_input_leak_is_the_only_one() {
    let dir = tempfile::tempdir().unwrap();
    let suite = fixture(dir.path());
    let output = leakage(&dir.path().join("train.jsonl"), &dir.path().join("held-out.jsonl"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let leaks: Vec<&str> = stdout.lines().filter(|l| l.starts_with("held-out line")).collect();
    assert_eq!(leaks, ["held-out line 5: same input as training line 18"], "{stdout}");
    assert!(stdout.contains("1 of 16 held-out examples leak"), "{stdout}");
    assert!(stdout.contains("16 held-out references equal a label or answer that 3 or more training rows share"));

    // `--strict` refuses exactly that one; without it the run goes ahead and the report says so.
    let refused = run(&suite, &dir.path().join("strict"), &["--strict"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("1 held-out examples leak into the training pool"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("held-out line").count(), 1, "{stderr}");

    let output = run(&suite, &dir.path().join("results"), &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let run_dir = dir.path().join("results/leakage/r");
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    let care =
        &report[report.find("Read with care").expect("a Read with care list")..report.find("## Configs").unwrap()];
    assert!(
        care.contains(
            "Leakage: 1 of 16 held-out examples also appear in the training data (train.jsonl): 1 with the same input"
        ),
        "{care}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["leakage"]["leaks"].as_array().unwrap().len(), 1);
    assert_eq!(json["leakage"]["leaks"][0]["kind"], "exact_input");
    assert_eq!(json["leakage"]["shared_references"], 16);

    // Without the planted line, --strict is usable on this classification data.
    let held_out = std::fs::read_to_string(dir.path().join("held-out.jsonl")).unwrap();
    let kept: Vec<&str> = held_out
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(dir.path().join("held-out.jsonl"), kept.join("\n") + "\n").unwrap();
    let output = run(&suite, &dir.path().join("clean"), &["--strict"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = std::fs::read_to_string(dir.path().join("clean/leakage/r/report.md")).unwrap();
    assert!(!report.contains("Leakage:"), "{report}");
}

#[test]
fn data_split_output_passes_data_leakage_against_itself() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    // Everything in one file, the planted pair included: split keeps it in one part.
    let all = dir.path().join("all.jsonl");
    let text = std::fs::read_to_string(dir.path().join("train.jsonl")).unwrap()
        + &std::fs::read_to_string(dir.path().join("held-out.jsonl")).unwrap();
    std::fs::write(&all, text).unwrap();
    for seed in ["1", "2", "3"] {
        let out = dir.path().join(format!("split-{seed}"));
        let output = command()
            .args(["data", "split"])
            .arg(&all)
            .args(["--validation", "0.15", "--test", "0.15", "--seed", seed, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        for part in ["all.test.jsonl", "all.validation.jsonl"] {
            let output = leakage(&out.join("all.train.jsonl"), &out.join(part));
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert_eq!(output.status.code(), Some(0), "seed {seed}, {part}: {stdout}");
            assert!(stdout.contains("0 of "), "{stdout}");
        }
    }
}
