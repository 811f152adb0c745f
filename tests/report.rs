//! The decision report: verdicts with intervals and adjusted p-values, no NaN for tiny or degenerate data, and
//! model output that cannot inject formulas into spreadsheets or break Markdown tables.

mod common;

use std::path::Path;

use common::{command, edit, mini_suite};

/// Runs a suite on the embedded endpoint as run `r`; returns the run folder.
fn run_local(suite: &Path, results: &Path) -> std::path::PathBuf {
    common::run_local_ok(suite, results);
    results.join("mini/r")
}

fn report_files(run_dir: &Path) -> Vec<(String, String)> {
    [
        "report.md",
        "report.json",
        "summary.csv",
        "comparisons.csv",
        "examples.csv",
        "scores.jsonl",
    ]
    .iter()
    .map(|name| (name.to_string(), std::fs::read_to_string(run_dir.join(name)).unwrap()))
    .collect()
}

fn assert_no_nan(run_dir: &Path) {
    for (name, text) in report_files(run_dir) {
        for bad in ["NaN", "nan,", "inf,", "Infinity", "null,\n  \"p_holm\": NaN"] {
            assert!(!text.contains(bad), "{name} contains {bad}:\n{text}");
        }
    }
}

fn verdict_line<'a>(report: &'a str, config: &str) -> &'a str {
    let start = format!("- **{config}** — ");
    report
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no verdict for {config}:\n{report}"))
}

#[test]
fn one_example_is_not_enough_data_and_nothing_is_nan() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let held_out = std::fs::read_to_string(dir.path().join("held-out.jsonl")).unwrap();
    std::fs::write(
        dir.path().join("held-out.jsonl"),
        held_out.lines().next().unwrap().to_string() + "\n",
    )
    .unwrap();
    let run_dir = run_local(&suite, &dir.path().join("results"));
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        verdict_line(&report, "few-shot").contains("not enough data (1 matched examples)"),
        "{report}"
    );
    assert!(report.contains("fewer than two matched examples"));
    assert_no_nan(&run_dir);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["comparisons"][0]["verdict"], "no_detectable_difference");
    assert!(json["comparisons"][0]["paired"]["t_test"]["p_value"].is_null());
}

#[test]
fn two_examples_give_defined_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let held_out = std::fs::read_to_string(dir.path().join("held-out.jsonl")).unwrap();
    let two: Vec<&str> = held_out.lines().take(2).collect();
    std::fs::write(dir.path().join("held-out.jsonl"), two.join("\n") + "\n").unwrap();
    let run_dir = run_local(&suite, &dir.path().join("results"));
    assert_no_nan(&run_dir);
    let mut reader = csv::Reader::from_path(run_dir.join("comparisons.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (df, p, low, high) = (column("df"), column("p_t"), column("ci_t_low"), column("ci_t_high"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3, "two against the baseline, one other pair");
    for row in &rows {
        assert_eq!(&row[df], "1", "{row:?}");
        let p: f64 = row[p].parse().unwrap();
        assert!((0.0..=1.0).contains(&p));
        assert!(
            row[low].parse::<f64>().unwrap() < row[high].parse::<f64>().unwrap(),
            "{row:?}"
        );
    }
}

#[test]
fn identical_configs_show_no_difference_observed() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    // A second config sending exactly the baseline's requests: deterministic models answer identically.
    let text = std::fs::read_to_string(&suite).unwrap();
    let prompt = text[text.find("  - name: prompt").unwrap()..text.find("  - name: few-shot").unwrap()].to_string();
    edit(
        &suite,
        "  - name: few-shot",
        &format!("{}  - name: few-shot", prompt.replace("name: prompt", "name: replica")),
    );
    let run_dir = run_local(&suite, &dir.path().join("results"));
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        verdict_line(&report, "replica").contains("no difference observed"),
        "{report}"
    );
    assert!(report.contains("replica vs prompt: every example scored the same"));
    assert_no_nan(&run_dir);
    // The replica's calls were made and recorded under its own name, not merged with the baseline's.
    let records = common::records(&run_dir);
    assert_eq!(records.iter().filter(|r| r["config"] == "replica").count(), 8);
}

#[test]
fn crafted_output_is_inert_in_csv_and_intact_in_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let run_dir = run_local(&suite, &dir.path().join("results"));
    // Replace two replies with hostile text, then rebuild the reports from the records.
    // Each also trips the rubric's gate ("As an AI"), so it scores 0 and is listed among the lowest in report.md.
    let crafted = [
        "=HYPERLINK(\"http://example.invalid\",\"click\") As an AI",
        "left | right\nsecond | line\r\nthird As an AI",
    ];
    let records = std::fs::read_to_string(run_dir.join("records.jsonl")).unwrap();
    let mut lines: Vec<serde_json::Value> = records.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (line, text) in lines.iter_mut().filter(|l| l["config"] == "prompt").zip(crafted) {
        line["output"] = serde_json::Value::from(text);
    }
    let rewritten: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(run_dir.join("records.jsonl"), rewritten.join("\n") + "\n").unwrap();
    let output = command().arg("report").arg(&run_dir).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let examples = std::fs::read_to_string(run_dir.join("examples.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(examples.as_bytes());
    let column = reader.headers().unwrap().iter().position(|h| h == "output").unwrap();
    let outputs: Vec<String> = reader.records().map(|r| r.unwrap()[column].to_string()).collect();
    assert!(
        outputs.contains(&format!("'{}", crafted[0])),
        "the formula is quoted: {outputs:?}"
    );
    assert!(
        outputs.contains(&crafted[1].to_string()),
        "text survives a CSV round trip: {outputs:?}"
    );
    assert!(!examples.lines().any(|l| l.starts_with('=')));

    // Both are the prompt config's lowest-scoring replies; in Markdown they stay in their cells.
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        report.contains("=HYPERLINK(\"http://example.invalid\",\"click\") As an AI"),
        "{report}"
    );
    assert!(
        report.contains("left \\| right second \\| line third As an AI"),
        "{report}"
    );
    let table_rows: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("| prompt |") && l.contains("right"))
        .collect();
    assert_eq!(table_rows.len(), 1);
    let cells = table_rows[0].replace("\\|", "").matches('|').count();
    assert_eq!(cells, 5, "4 cells: {}", table_rows[0]);
}

#[test]
fn repeats_are_averaged_per_example_and_their_spread_reported() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    edit(&suite, "baseline: prompt", "baseline: prompt\nrepeats: 3");
    // Sampling above temperature 0, so repeats differ.
    let text = std::fs::read_to_string(&suite)
        .unwrap()
        .replace("temperature: 0\n", "temperature: 0.9\n");
    std::fs::write(&suite, text).unwrap();
    let run_dir = run_local(&suite, &dir.path().join("results"));
    assert_eq!(common::records(&run_dir).len(), 8 * 3 * 3);
    let mut reader = csv::Reader::from_path(run_dir.join("summary.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in reader.records().map(|r| r.unwrap()) {
        assert_eq!(
            &row[column("examples")],
            "8",
            "the unit is the example, not the reply: {row:?}"
        );
        assert!(row[column("within_example_sd")].parse::<f64>().is_ok(), "{row:?}");
    }
    let mut reader = csv::Reader::from_path(run_dir.join("comparisons.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let (n, b) = (
        header.iter().position(|h| h == "n").unwrap(),
        header.iter().position(|h| h == "mcnemar_b").unwrap(),
    );
    for row in reader.records().map(|r| r.unwrap()) {
        assert_eq!(
            (&row[n], &row[b]),
            ("8", ""),
            "pairs are examples; McNemar needs one reply each: {row:?}"
        );
    }
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        report.contains("Each example was asked 3 times; repeats are averaged per example"),
        "{report}"
    );
    assert!(report.contains("Within-example SD across repeats"));
    assert_no_nan(&run_dir);
}
