//! The data and loss commands from the command line: exit codes, line numbers, and the suite's own leakage check.

mod common;

use std::path::{Path, PathBuf};

use common::{command, mini_suite};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/data")
        .join(name)
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let output = command().args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

#[test]
fn data_check_exits_1_on_errors_with_line_numbers_and_0_on_a_clean_file() {
    let bad = fixture("bad-role-order.jsonl");
    let (code, text) = run(&["data", "check", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("error: line "), "{text}");
    let clean = fixture("clean.jsonl");
    let (code, text) = run(&["data", "check", clean.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("0 errors"), "{text}");
    let (code, text) = run(&["data", "check", clean.to_str().unwrap(), "--format", "yaml"]);
    assert_eq!(code, Some(2), "an unknown format is a usage error: {text}");
}

#[test]
fn leakage_and_loss_from_the_command_line() {
    let (train, held_out) = (fixture("leak-train.jsonl"), fixture("leak-held-out.jsonl"));
    let (code, text) = run(&[
        "data",
        "leakage",
        "--train",
        train.to_str().unwrap(),
        "--held-out",
        held_out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("held-out line"), "{text}");

    let out = tempfile::tempdir().unwrap();
    let overfit = fixture("loss/overfit");
    let (code, text) = run(&["loss", overfit.to_str().unwrap(), "--out", out.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("stop at epoch 2"), "{text}");
    for name in ["loss.md", "loss.json", "loss.svg"] {
        assert!(out.path().join(name).is_file(), "{name}");
    }
    let bad = fixture("loss/bad-columns");
    let (code, text) = run(&["loss", bad.to_str().unwrap(), "--out", out.path().to_str().unwrap()]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("unexpected columns"), "{text}");
}

#[test]
fn a_held_out_example_in_the_few_shot_pool_is_warned_about_and_refused_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    // Copy the first held-out ticket into the training pool, under another id.
    let held_out = std::fs::read_to_string(dir.path().join("held-out.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(held_out.lines().next().unwrap()).unwrap();
    let ticket = first["messages"][0]["content"][0]["text"].as_str().unwrap();
    let reply = first["messages"][1]["content"][0]["text"].as_str().unwrap();
    let leaked = serde_json::json!({"id": "tr-leak", "prompt": ticket, "completion": reply,
        "products": first["products"], "must_mention": first["must_mention"], "customer": first["customer"]});
    let mut train = std::fs::read_to_string(dir.path().join("train.jsonl")).unwrap();
    train.push_str(&format!("{leaked}\n"));
    std::fs::write(dir.path().join("train.jsonl"), train).unwrap();

    let (code, text) = run(&["validate", suite.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("held-out line 1: same input as training line 13"),
        "{text}"
    );
    assert!(text.contains("held-out examples leak into the training pool"), "{text}");
    let results = dir.path().join("results");
    let (code, text) = run(&[
        "run",
        suite.to_str().unwrap(),
        "--local",
        "--strict",
        "--results",
        results.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("refusing (--strict)"), "{text}");
    assert!(!results.exists());
}
