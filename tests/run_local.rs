//! The whole pipeline on the embedded endpoint: suite in, records and reports out.

mod common;

use common::{command, mini_suite, records};

#[test]
fn local_run_records_every_request_and_writes_reports() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let output = command()
        .args(["run", suite.to_str().unwrap(), "--local", "--results"])
        .arg(dir.path().join("results"))
        .args(["--run-id", "first"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let run_dir = dir.path().join("results/mini/first");

    // 8 examples × 3 configs, once each, all answered.
    let records = records(&run_dir);
    assert_eq!(records.len(), 24);
    let mut keys: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                r["example_id"].as_str().unwrap().to_string(),
                r["config"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 24);
    assert!(records
        .iter()
        .all(|r| r["status"] == "ok" && r["input_tokens"].as_u64().unwrap() > 0));

    let examples = std::fs::read_to_string(run_dir.join("examples.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(examples.as_bytes());
    assert!(reader.headers().unwrap().iter().any(|h| h == "criterion:right_fix"));
    assert_eq!(reader.records().count(), 24, "{examples}");
    let summary = std::fs::read_to_string(run_dir.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 4, "{summary}");
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains("Simulated run"), "{report}");
    let metadata: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(metadata["endpoint"]["kind"], "simulated");
    assert_eq!(metadata["status"], "finished");

    // The simulated models differ for the right reasons: the fine-tuned model writes in the house voice.
    let quality = |config: &str| -> f64 {
        let mut reader = csv::Reader::from_reader(summary.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let column = headers.iter().position(|h| h == "mean_quality").unwrap();
        reader
            .records()
            .map(|r| r.unwrap())
            .find(|r| &r[0] == config)
            .map(|r| r[column].parse().unwrap())
            .unwrap()
    };
    assert!(quality("fine-tuned") > quality("prompt"), "{summary}");
    assert!(quality("few-shot") > quality("prompt"), "{summary}");
}

#[test]
fn a_second_run_into_the_same_folder_needs_resume_and_then_calls_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let results = dir.path().join("results");
    let run = |extra: &[&str]| {
        command()
            .args(["run", suite.to_str().unwrap(), "--local", "--run-id", "r"])
            .arg("--results")
            .arg(&results)
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(run(&[]).status.success());
    let before = std::fs::read(results.join("mini/r/records.jsonl")).unwrap();

    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));

    let resumed = run(&["--resume"]);
    assert!(resumed.status.success());
    assert!(String::from_utf8_lossy(&resumed.stdout).contains("24 recorded earlier, 0 recorded now"));
    assert_eq!(std::fs::read(results.join("mini/r/records.jsonl")).unwrap(), before);
}

/// Runs a shipped example suite (`suites/NAME`) offline as run `demo` under `dir`, with `extra` flags; asserts it
/// succeeded and that every request was answered; returns the run folder and what it printed on stderr.
fn run_example(dir: &std::path::Path, name: &str, extra: &[&str], requests: usize) -> (std::path::PathBuf, String) {
    let suite = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("suites/{name}/suite.yaml"));
    let output = command()
        .args([
            "run",
            suite.to_str().unwrap(),
            "--local",
            "--run-id",
            "demo",
            "--results",
        ])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    let run_dir = dir.join(format!("{name}/demo"));
    let records = records(&run_dir);
    assert_eq!(records.len(), requests);
    assert!(records.iter().all(|r| r["status"] == "ok"));
    (run_dir, stderr)
}

/// Asserts that on each `summary.csv` column, prompt < few-shot < fine-tuned.
fn assert_ranked(run_dir: &std::path::Path, columns: &[&str]) {
    let mut reader = csv::Reader::from_path(run_dir.join("summary.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    for name in columns {
        let i = headers.iter().position(|h| h == *name).unwrap();
        let value = |config: &str| -> f64 { rows.iter().find(|r| &r[0] == config).unwrap()[i].parse().unwrap() };
        assert!(value("prompt") < value("few-shot"), "{name}: {rows:?}");
        assert!(value("few-shot") < value("fine-tuned"), "{name}: {rows:?}");
    }
}

/// Asserts that the report leads with a verdict of "better" for few-shot and fine-tuned against the baseline, with
/// its interval and adjusted p; returns the report.
fn assert_better_verdicts(run_dir: &std::path::Path) -> String {
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.find("## Verdict").unwrap() < report.find("## Configs").unwrap());
    for config in ["few-shot", "fine-tuned"] {
        let line = report
            .lines()
            .find(|l| l.starts_with(&format!("- **{config}** — ")))
            .unwrap_or_else(|| panic!("no verdict for {config}:\n{report}"));
        assert!(
            line.contains("**better**") && line.contains("95% CI +") && line.contains("adjusted p"),
            "{line}"
        );
    }
    report
}

/// The README's first command, on the example suite as shipped: every request answered and judged, and the three
/// ways of customising the model ranked as the data makes them (few-shot and fine-tuned learn the fixes).
#[test]
fn the_example_suite_runs_offline_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (run_dir, _) = run_example(dir.path(), "support-tone", &[], 66 * 4);
    assert_ranked(&run_dir, &["mean_quality", "criterion:resolves_issue"]);
    // The report leads with a verdict for each config against the baseline, with its interval and adjusted p.
    let report = assert_better_verdicts(&run_dir);
    for chart in ["quality.svg", "differences.svg"] {
        assert!(report.contains(&format!("]({chart})")));
        assert!(std::fs::read_to_string(run_dir.join(chart))
            .unwrap()
            .starts_with("<svg"));
    }
}

/// The second example, ticket → JSON triage, as shipped and offline: per-field accuracy, a confusion matrix per
/// config, macro-F1 with its interval and the verdicts, with the three kinds of model told apart the way the data
/// makes them (the prompt lists the allowed values; demonstrations and tuning teach the categories and urgencies).
#[test]
fn the_ticket_triage_example_runs_offline_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (run_dir, stderr) = run_example(dir.path(), "ticket-triage", &["--strict"], 64 * 3);
    assert!(!stderr.contains("leak"), "the shipped split has no leaks: {stderr}");
    assert_ranked(
        &run_dir,
        &["mean_quality", "criterion:category", "criterion:urgency_distance"],
    );

    // Per-field accuracy: the prompt, which lists the products, names them best; the others learn the rest.
    let mut fields = csv::Reader::from_path(run_dir.join("fields.csv")).unwrap();
    let fields: Vec<csv::StringRecord> = fields.records().map(|r| r.unwrap()).collect();
    let accuracy = |path: &str, config: &str| -> f64 {
        fields.iter().find(|r| &r[1] == path && &r[2] == config).unwrap()[5]
            .parse()
            .unwrap()
    };
    assert!(accuracy("product", "prompt") > accuracy("product", "few-shot"));
    assert!(accuracy("category", "prompt") < accuracy("category", "fine-tuned"));

    let report = assert_better_verdicts(&run_dir);
    assert!(
        report.contains("## Fields") && report.contains("| fields | `product` |"),
        "{report}"
    );
    for config in ["prompt", "few-shot", "fine-tuned"] {
        assert!(report.contains(&format!("Confusion matrix, **{config}**")), "{report}");
    }
    // The suite prices every config, so the report leads with a pick and the fine-tune's serving options.
    assert!(
        report.starts_with("# ticket-triage\n\n**Recommendation:** **fine-tuned** served as "),
        "{report}"
    );
    assert!(report.contains("Serving options for **fine-tuned**"), "{report}");
    assert!(
        !report.contains("is unpriced") && !report.contains("| unpriced |"),
        "{report}"
    );
    let classification = std::fs::read_to_string(run_dir.join("classification.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(classification.as_bytes());
    let headers = reader.headers().unwrap().clone();
    for row in reader.records().map(|r| r.unwrap()) {
        let get = |name: &str| -> f64 { row[headers.iter().position(|h| h == name).unwrap()].parse().unwrap() };
        assert!(
            get("macro_f1_ci_low") <= get("macro_f1") && get("macro_f1") <= get("macro_f1_ci_high"),
            "{row:?}"
        );
    }
    // The command scorer ran once per distinct reply, none failed.
    let calls: Vec<serde_json::Value> = std::fs::read_to_string(run_dir.join("commands.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!calls.is_empty() && calls.len() <= 64 * 3);
    assert!(calls.iter().all(|c| c["status"] == "ok"), "{calls:?}");
}
