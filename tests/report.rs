//! The decision report: verdicts with intervals and adjusted p-values, no NaN for tiny or degenerate data, and
//! model output that cannot inject formulas into spreadsheets or break Markdown tables.

mod common;

use std::path::Path;

use common::{command, edit, mini_suite, run_local};

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
        verdict_line(&report, "few-shot")
            .contains("**not enough data**: 1 matched example; a verdict needs at least 6"),
        "{report}"
    );
    assert!(report.contains("A verdict needs at least 6 matched examples."));
    assert_no_nan(&run_dir);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["comparisons"][0]["verdict"], "not_enough_data");
    assert_eq!(json["comparisons"][0]["left_out_of_holm"], "too_few_pairs");
    assert!(json["comparisons"][0]["paired"]["t_test"]["p_value"].is_null());
    assert!(json["comparisons"][0]["paired"]["wilcoxon"]["statistic"].is_number());
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

/// Writes `n` held-out examples (the mini suite's eight, repeated under new ids, each ticket numbered so that no two
/// requests are the same) and returns them as JSON.
fn held_out_of(dir: &Path, n: usize) -> Vec<serde_json::Value> {
    let path = dir.join("held-out.jsonl");
    let originals: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let examples: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut e = originals[i % originals.len()].clone();
            e["id"] = serde_json::Value::from(format!("{}-{i}", e["id"].as_str().unwrap()));
            let ticket = &mut e["messages"][0]["content"][0]["text"];
            *ticket = serde_json::Value::from(format!("{} (ticket {i})", ticket.as_str().unwrap()));
            e
        })
        .collect();
    let lines: Vec<String> = examples.iter().map(|e| e.to_string()).collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    examples
}

/// A reply to `example` meeting a different subset of the rubric's criteria for each `k`, never signing off.
fn varied_reply(example: &serde_json::Value, k: usize) -> String {
    let terms = |field: &str| -> String {
        example[field]
            .as_array()
            .map(|a| a.iter().filter_map(|t| t.as_str()).collect::<Vec<_>>().join(" and "))
            .unwrap_or_default()
    };
    let mut parts = vec![if k & 1 == 1 {
        format!("Hi {},", example["customer"].as_str().unwrap())
    } else {
        "Hello,".to_string()
    }];
    if k & 2 == 2 {
        parts.push(format!("About your {}.", terms("products")));
    }
    if k & 4 == 4 {
        parts.push(format!("Try this: {}.", terms("must_mention")));
    }
    if k & 8 == 8 {
        parts.push("1. Restart it.\n2. Check again.".to_string());
    }
    if k & 16 == 16 {
        parts.push("I apologize for any inconvenience.".to_string());
    }
    parts.join("\n")
}

/// Runs the mini suite on `n` examples, then rewrites the replies so that few-shot always meets exactly one more
/// criterion than the baseline (its sign-off) and fine-tuned answers as the baseline does, and rebuilds the reports
/// with a bounded `report`. The boilerplate criterion weighs 2, so qualities are elevenths: the differences are
/// +9.09 points each, apart from floating-point rounding — the data that used to hang the power computation.
fn constant_shift_run(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    edit(
        &dir.path().join("rubric.yaml"),
        "  - id: no_boilerplate\n    kind: not_contains\n    terms: [\"I apologize for any inconvenience\", \"Dear customer\", \"valued customer\"]\n    weight: 1",
        "  - id: no_boilerplate\n    kind: not_contains\n    terms: [\"I apologize for any inconvenience\", \"Dear customer\", \"valued customer\"]\n    weight: 2",
    );
    let examples = held_out_of(dir.path(), n);
    let run_dir = run_local(&suite, &dir.path().join("results"));
    let records = std::fs::read_to_string(run_dir.join("records.jsonl")).unwrap();
    let mut lines: Vec<serde_json::Value> = records.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for line in &mut lines {
        let k = examples.iter().position(|e| e["id"] == line["example_id"]).unwrap();
        let reply = varied_reply(&examples[k], k);
        line["output"] = serde_json::Value::from(match line["config"].as_str().unwrap() {
            "few-shot" => format!("{reply}\n\n— Kestrel Support"),
            _ => reply,
        });
    }
    let rewritten: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(run_dir.join("records.jsonl"), rewritten.join("\n") + "\n").unwrap();
    // Bounded: a regression that loops fails here instead of hanging the test run.
    let output = assert_cmd::Command::from_std(command())
        .arg("report")
        .arg(&run_dir)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (dir, run_dir)
}

fn comparison_row(run_dir: &Path, candidate: &str) -> std::collections::HashMap<String, String> {
    let mut reader = csv::Reader::from_path(run_dir.join("comparisons.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| r.unwrap())
        .find(|r| r[0] == *"baseline" && r[2] == *candidate)
        .map(|r| {
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_else(|| panic!("no {candidate} row"))
}

#[test]
fn a_constant_shift_with_rounding_noise_finishes_and_is_decided_by_the_sign_test() {
    let (_dir, run_dir) = constant_shift_run(60);
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        verdict_line(&report, "few-shot").contains(
            "**better**: every one of the 60 matched examples differs by +9.1 quality points (no spread, so the \
             exact sign test decides"
        ),
        "{report}"
    );
    assert!(
        verdict_line(&report, "fine-tuned").contains("**no difference observed**"),
        "{report}"
    );
    let row = comparison_row(&run_dir, "few-shot");
    assert_eq!(row["verdict_test"], "sign_test");
    assert_eq!(row["verdict"], "better");
    assert_eq!(row["sd_difference"], "0.0000");
    assert_eq!(
        row["min_detectable_difference"], "",
        "no spread: no detectable difference to scale"
    );
    assert_eq!(row["ties"], "0");
    let fine_tuned = comparison_row(&run_dir, "fine-tuned");
    assert_eq!(fine_tuned["left_out_of_holm"], "no_difference_observed");
    assert_eq!(fine_tuned["p_holm"], "");
    assert_eq!(fine_tuned["wilcoxon_statistic"], "", "nothing was ranked");
    assert_no_nan(&run_dir);
}

#[test]
fn two_examples_with_a_constant_shift_finish_without_a_verdict() {
    let (_dir, run_dir) = constant_shift_run(2);
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        verdict_line(&report, "few-shot")
            .contains("**not enough data**: 2 matched examples; a verdict needs at least 6"),
        "{report}"
    );
    let row = comparison_row(&run_dir, "few-shot");
    assert_eq!((row["verdict"].as_str(), row["p_t"].as_str()), ("not enough data", "0"));
    assert_eq!(row["left_out_of_holm"], "too_few_pairs");
    assert_no_nan(&run_dir);
}

#[test]
fn every_label_follows_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    edit(&suite, "baseline: prompt", "baseline: prompt\nanalysis:\n  alpha: 0.1");
    let run_dir = run_local(&suite, &dir.path().join("results"));
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(!report.contains("95%"), "{report}");
    for label in [
        "intervals are 90%",
        "| 90% CI (t) | 90% CI (BCa) |",
        "| pass 90% CI |",
        "| 90% CI (t) | 90% CI (bootstrap) |",
        "Every interval is 90% (1 − α, α = 0.1)",
        "pass rate with a Wilson interval",
        "A verdict needs at least 5 matched examples.",
    ] {
        assert!(report.contains(label), "{label}:\n{report}");
    }
    for chart in ["quality.svg", "differences.svg"] {
        let svg = std::fs::read_to_string(run_dir.join(chart)).unwrap();
        assert!(svg.contains("90% CI") && !svg.contains("95%"), "{chart}");
    }
    let row = comparison_row(&run_dir, "few-shot");
    assert_eq!(row["confidence_level"], "0.9");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["comparisons"][0]["paired"]["t_test"]["confidence_level"], 0.9);
    assert_eq!(json["comparisons"][0]["bootstrap"]["confidence_level"], 0.9);
    assert_eq!(json["configs"][0]["statistics"]["quality"]["confidence_level"], 0.9);
    // The same verdict words in every format.
    let verdict = json["comparisons"][0]["verdict"].as_str().unwrap().replace('_', " ");
    assert_eq!(row["verdict"], verdict);
    assert!(verdict_line(&report, "few-shot").contains(&format!("**{verdict}**")));
}

/// `report` reads a record's fingerprint where `run` writes it, near the line's start, and parses the rest of the
/// line later or not at all: every line must still be checked, whether it is a row's latest record, one superseded
/// by a later line, or no planned row's.
#[test]
fn a_damaged_record_line_is_named_whether_it_is_the_latest_superseded_or_stale() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let run_dir = run_local(&suite, &dir.path().join("results"));
    let path = run_dir.join("records.jsonl");
    let original = std::fs::read_to_string(&path).unwrap();
    let examples = std::fs::read(run_dir.join("examples.csv")).unwrap();
    let lines: Vec<String> = original.lines().map(str::to_string).collect();
    let (first, rest) = (&lines[0], &lines[1..]);
    // A record cut off after its fingerprint: it begins as a record does, but is not one.
    let cut = |line: &str| line[..line.find(r#","model":"#).unwrap()].to_string() + r#","model":"#;
    let fingerprint = |line: &str| {
        serde_json::from_str::<serde_json::Value>(line).unwrap()["fingerprint"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let stale = first.replace(&fingerprint(first), &"0".repeat(64));
    let cases = [
        (
            "superseded",
            [vec![cut(first), first.clone()], rest.to_vec()].concat(),
            1,
        ),
        ("latest", [vec![first.clone(), cut(first)], rest.to_vec()].concat(), 2),
        (
            "stale",
            [vec![first.clone()], rest.to_vec(), vec![cut(&stale)]].concat(),
            lines.len() + 1,
        ),
    ];
    for (case, content, bad) in cases {
        std::fs::write(&path, content.join("\n") + "\n").unwrap();
        let output = command().arg("report").arg(&run_dir).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{case}: {stderr}");
        assert!(
            stderr.contains(&format!("records.jsonl:{bad}: invalid record")),
            "{case}: {stderr}"
        );
        assert_eq!(
            std::fs::read(run_dir.join("examples.csv")).unwrap(),
            examples,
            "{case}: nothing replaced"
        );
    }
    // Intact, a superseded copy and a stale line change nothing.
    let content = [vec![first.clone(), first.clone()], rest.to_vec(), vec![stale]].concat();
    std::fs::write(&path, content.join("\n") + "\n").unwrap();
    let output = command().arg("report").arg(&run_dir).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read(run_dir.join("examples.csv")).unwrap(), examples);
}
