//! The LLM judge end to end on the embedded endpoint: verdicts recorded apart from generation, re-scoring without
//! generation calls, only changed judge requests asked again, malformed verdicts re-asked then recorded as errors.

mod common;

use std::path::{Path, PathBuf};

use common::{command_with_test_credentials, edit, mini_suite, records, Server};

const JUDGE_MODEL: &str = "amazon.nova-pro-v1:0";
const GENERATION_MODELS: [&str; 2] = [
    "amazon.nova-lite-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/m1n1t3st0001",
];

/// Two judge criteria added to the support-tone rubric, and a `judge:` section in the suite.
fn judged_suite(dir: &Path, samples: u32) -> PathBuf {
    let suite = mini_suite(dir);
    let rubric = dir.join("rubric.yaml");
    let mut text = std::fs::read_to_string(&rubric).unwrap();
    text.push_str(&format!(
        "  - id: helpful
    kind: judge
    weight: 2
    sees_reference: true
    samples: {samples}
    instructions: Does the reply give the customer the fix the reference gives, clearly enough to follow?
    scale:
      1: Wrong or no fix.
      2: A generic fix that might help.
      3: Part of the right fix.
      4: The right fix, with small gaps.
      5: The right fix, complete and easy to follow.
  - id: tone
    kind: judge
    instructions: Is the reply warm, direct and free of stock phrases?
    scale:
      1: Cold or scripted.
      2: Polite but generic.
      3: Warm and direct.
"
    ));
    std::fs::write(&rubric, text).unwrap();
    let mut suite_text = std::fs::read_to_string(&suite).unwrap();
    suite_text.push_str(&format!("judge:\n  model: {JUDGE_MODEL}\n  reasks: 2\n"));
    std::fs::write(&suite, suite_text).unwrap();
    suite
}

fn requests(server: &Server, model: &str) -> u64 {
    server.stats()["models"][model]["requests"].as_u64().unwrap_or(0)
}

fn generation_requests(server: &Server) -> u64 {
    GENERATION_MODELS.iter().map(|m| requests(server, m)).sum()
}

fn bedrock_eval(server: &Server, args: &[&str]) -> std::process::Output {
    let output = command_with_test_credentials()
        .args(args)
        .args(["--endpoint-url", &server.url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn verdicts_are_recorded_reused_and_only_changed_requests_asked_again() {
    let dir = tempfile::tempdir().unwrap();
    let suite = judged_suite(dir.path(), 1);
    let server = Server::for_suite(&suite, &[]);
    let run_dir = server.run(&suite, &dir.path().join("results"));

    // 24 replies; two judge criteria each; identical replies share a verdict, so at most 48 judge calls.
    assert_eq!(generation_requests(&server), 24);
    let judge_calls = requests(&server, JUDGE_MODEL);
    let judgements: Vec<serde_json::Value> = std::fs::read_to_string(run_dir.join("judgements.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(judgements.len() as u64, judge_calls);
    assert!((24..=48).contains(&judge_calls), "{judge_calls}");
    assert!(judgements
        .iter()
        .all(|j| j["model"] == JUDGE_MODEL && j["criterion"].is_string()));
    assert_eq!(
        records(&run_dir).len(),
        24,
        "judge calls are kept out of the generation records"
    );

    // Every reply has a verdict for both criteria, on [0, 1], and a reason.
    let (header, rows) = csv_rows(&run_dir.join("examples.csv"));
    let (helpful, tone) = (column(&header, "criterion:helpful"), column(&header, "criterion:tone"));
    let reason = column(&header, "reason:helpful");
    for row in &rows {
        for i in [helpful, tone] {
            let score: f64 = row[i].parse().unwrap_or_else(|_| panic!("unscored: {row:?}"));
            assert!((0.0..=1.0).contains(&score));
        }
        assert!(!row[reason].is_empty());
    }
    // The judge tells replies apart: the fine-tuned model's fixes match the references better than the prompt's.
    let config = column(&header, "config");
    let mean = |name: &str| {
        let scores: Vec<f64> = rows
            .iter()
            .filter(|r| r[config] == name)
            .map(|r| r[helpful].parse().unwrap())
            .collect();
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    assert!(
        mean("fine-tuned") > mean("prompt"),
        "{} vs {}",
        mean("fine-tuned"),
        mean("prompt")
    );
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains("## Judge"), "{report}");
    // Per-criterion results, judge levels and reasons included, are also kept per reply in scores.jsonl.
    let scores: Vec<serde_json::Value> = std::fs::read_to_string(run_dir.join("scores.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(scores.len(), 24);
    for line in &scores {
        let helpful = line["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "helpful")
            .unwrap();
        let level = helpful["judged"]["level"].as_f64().unwrap();
        assert!(
            (1.0..=5.0).contains(&level) && helpful["judged"]["reasons"][0].is_string(),
            "{line}"
        );
        assert_eq!(helpful["score"].as_f64().unwrap(), (level - 1.0) / 4.0);
    }

    // Re-scoring the same run with the same rubric: no model call at all, same scores.
    let before = std::fs::read(run_dir.join("examples.csv")).unwrap();
    let output = bedrock_eval(&server, &["score", run_dir.to_str().unwrap()]);
    assert_eq!(generation_requests(&server), 24);
    assert_eq!(requests(&server, JUDGE_MODEL), judge_calls);
    assert!(String::from_utf8_lossy(&output.stdout).contains("0 judge calls made now"));
    assert_eq!(std::fs::read(run_dir.join("examples.csv")).unwrap(), before);

    // Editing one judge criterion's instructions asks again for that criterion only; generation is untouched.
    let edited = dir.path().join("edited-rubric.yaml");
    std::fs::copy(dir.path().join("rubric.yaml"), &edited).unwrap();
    edit(&edited, "Is the reply warm, direct", "Is the reply friendly, direct");
    bedrock_eval(
        &server,
        &["score", run_dir.to_str().unwrap(), "--rubric", edited.to_str().unwrap()],
    );
    assert_eq!(generation_requests(&server), 24);
    let tone_calls = requests(&server, JUDGE_MODEL) - judge_calls;
    let distinct_replies: std::collections::HashSet<(String, String)> = records(&run_dir)
        .iter()
        .map(|r| {
            (
                r["example_id"].as_str().unwrap().to_string(),
                r["output"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(tone_calls, distinct_replies.len() as u64);
    let metadata: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    assert!(metadata["rubric_override"]["path"]
        .as_str()
        .unwrap()
        .ends_with("edited-rubric.yaml"));

    // `report` keeps scoring with the rubric the run was re-scored with, without calling anything.
    let after_score = std::fs::read(run_dir.join("examples.csv")).unwrap();
    let output = common::command()
        .args(["report", run_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(std::fs::read(run_dir.join("examples.csv")).unwrap(), after_score);
}

#[test]
fn malformed_verdicts_are_asked_again_then_recorded_as_judge_errors() {
    for (rate, all_failed) in [("1.0", true), ("0.4", false)] {
        let dir = tempfile::tempdir().unwrap();
        let suite = judged_suite(dir.path(), 3);
        let server = Server::for_suite(&suite, &["--malformed-verdict-rate", rate]);
        let run_dir = server.run(&suite, &dir.path().join("results"));
        let (header, rows) = csv_rows(&run_dir.join("examples.csv"));
        let helpful = column(&header, "criterion:helpful");
        let errors = column(&header, "criterion_errors");
        let quality = column(&header, "quality");
        let judge_calls = requests(&server, JUDGE_MODEL);
        if all_failed {
            // First ask plus two re-asks for every sample of every verdict, then an error — never a zero.
            for row in &rows {
                assert_eq!(row[helpful], "", "{row:?}");
                assert!(
                    row[errors].contains("helpful: malformed verdict after 3 asks"),
                    "{row:?}"
                );
                assert!(!row[quality].is_empty(), "deterministic criteria still score: {row:?}");
            }
            assert_eq!(judge_calls % 3, 0);
            let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
            assert!(report.contains("could not be judged"), "{report}");
        } else {
            // Re-asks recover most verdicts; every one that remains unscored says why.
            let scored = rows.iter().filter(|r| !r[helpful].is_empty()).count();
            assert!(scored * 10 >= rows.len() * 8, "{scored} of {}", rows.len());
            assert!(rows
                .iter()
                .all(|r| !r[helpful].is_empty() || r[errors].contains("helpful: ")));
            let malformed = server.stats()["models"][JUDGE_MODEL]["malformed_verdicts"]
                .as_u64()
                .unwrap();
            assert!(malformed > 0);
            let judgements = std::fs::read_to_string(run_dir.join("judgements.jsonl")).unwrap();
            assert_eq!(
                judgements.lines().count() as u64,
                judge_calls,
                "every paid judge call is recorded"
            );
        }
    }
}

/// Runs a suite on the embedded endpoint as run `r` under `results`, and asserts it succeeded.
fn run_locally(suite: &Path, results: &Path) {
    let output = common::command()
        .args(["run", suite.to_str().unwrap(), "--local", "--run-id", "r", "--results"])
        .arg(results)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Adds human labels for the `helpful` criterion to the mini suite's held-out examples (`labels[i]` for line i).
fn label_examples(dir: &Path, labels: &[Option<serde_json::Value>]) {
    let path = dir.join("held-out.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .zip(labels.iter().chain(std::iter::repeat(&None)))
        .map(|(line, label)| {
            let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(label) = label {
                value["human"] = label.clone();
            }
            value.to_string()
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn judge_agreement_with_human_labels_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let suite = judged_suite(dir.path(), 1);
    edit(
        &dir.path().join("rubric.yaml"),
        "    samples: 1\n",
        "    samples: 1\n    human_score_field: human\n",
    );
    let labels: Vec<Option<serde_json::Value>> = (0..8)
        .map(|i| (i != 3).then(|| serde_json::json!({"prompt": 1 + i % 3, "fine-tuned": 5 - i % 2})))
        .collect();
    label_examples(dir.path(), &labels);
    let results = dir.path().join("results");
    run_locally(&suite, &results);

    // Recompute the pairs from examples.csv (judge level = 1 + 4 × score) and the labels, and the agreement from
    // them with the library's (reference-checked) statistics.
    let (header, rows) = csv_rows(&results.join("mini/r/examples.csv"));
    let (id, config, helpful) = (
        column(&header, "example_id"),
        column(&header, "config"),
        column(&header, "criterion:helpful"),
    );
    let held_out: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("held-out.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (mut human, mut judge) = (Vec::new(), Vec::new());
    for row in &rows {
        let example = held_out.iter().find(|e| e["id"] == row[id].as_str()).unwrap();
        if let Some(label) = example["human"][row[config].as_str()].as_f64() {
            human.push(label);
            judge.push(1.0 + 4.0 * row[helpful].parse::<f64>().unwrap());
        }
    }
    assert_eq!(human.len(), 14);
    let expected = bedrock_eval::stats::agreement(&human, &judge).unwrap();
    let report = std::fs::read_to_string(results.join("mini/r/report.md")).unwrap();
    let line = report
        .lines()
        .find(|l| l.starts_with("| helpful | `human`"))
        .unwrap_or_else(|| panic!("no calibration row in\n{report}"));
    let cells: Vec<&str> = line.split('|').map(str::trim).collect();
    assert_eq!(cells[3], "14");
    let shown = |i: usize, value: Option<f64>, decimals: usize| {
        assert_eq!(
            cells[i],
            value.map_or(String::new(), |v| format!("{v:.decimals$}")),
            "{line}"
        );
    };
    shown(4, expected.spearman.rho, 3);
    shown(5, expected.kappa_quadratic, 3);
    shown(6, expected.kappa_linear, 3);
    shown(7, expected.mean_absolute_difference, 2);

    // A label off the scale is an input error naming the file, line and field, before any call.
    let mut bad = labels.clone();
    bad[5] = Some(serde_json::json!({"prompt": 7}));
    label_examples(dir.path(), &bad);
    let output = common::command()
        .args(["validate", suite.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("held-out.jsonl:6") && stderr.contains("human") && stderr.contains("not a level"),
        "{stderr}"
    );
}

#[test]
fn a_criterion_one_side_lacks_is_left_out_of_both_sides_of_each_pair() {
    let dir = tempfile::tempdir().unwrap();
    let suite = judged_suite(dir.path(), 1);
    let results = dir.path().join("results");
    run_locally(&suite, &results);
    let run_dir = results.join("mini/r");

    // A judge phase cut short for one config: none of few-shot's `helpful` verdicts were recorded. A reply another
    // config gave word for word shares few-shot's verdict (one judge call serves both), so it loses it too.
    let replies: std::collections::HashMap<(String, String), String> = records(&run_dir)
        .iter()
        .map(|r| {
            (
                (
                    r["example_id"].as_str().unwrap().to_string(),
                    r["config"].as_str().unwrap().to_string(),
                ),
                r["output"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reply = |example: &str, config: &str| replies[&(example.to_string(), config.to_string())].clone();
    let judgements = std::fs::read_to_string(run_dir.join("judgements.jsonl")).unwrap();
    let kept: Vec<&str> = judgements
        .lines()
        .filter(|l| {
            let j: serde_json::Value = serde_json::from_str(l).unwrap();
            let example = j["example_id"].as_str().unwrap();
            let few_shot_reply = reply(example, "few-shot") == reply(example, j["config"].as_str().unwrap());
            !(j["criterion"] == "helpful" && few_shot_reply)
        })
        .collect();
    assert!(kept.len() < judgements.lines().count());
    std::fs::write(run_dir.join("judgements.jsonl"), kept.join("\n") + "\n").unwrap();
    let output = common::command().arg("report").arg(&run_dir).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // Recompute each side's quality on the criteria both sides scored (helpful left out of both), from the
    // per-criterion scores in examples.csv and the rubric's weights.
    let (header, rows) = csv_rows(&run_dir.join("examples.csv"));
    let (id, config, helpful) = (
        column(&header, "example_id"),
        column(&header, "config"),
        column(&header, "criterion:helpful"),
    );
    let weights = [
        ("right_fix", 3.0),
        ("names_product", 2.0),
        ("greets_by_name", 1.0),
        ("numbered_steps", 1.0),
        ("sign_off", 1.0),
        ("no_boilerplate", 1.0),
        ("no_ai_disclaimer", 1.0),
        ("tone", 1.0),
    ];
    let quality_without_helpful = |row: &Vec<String>| -> f64 {
        let (mut sum, mut total) = (0.0, 0.0);
        for (criterion, weight) in weights {
            if let Ok(score) = row[column(&header, &format!("criterion:{criterion}"))].parse::<f64>() {
                if criterion == "no_ai_disclaimer" && score < 1.0 {
                    return 0.0;
                }
                sum += weight * score;
                total += weight;
            }
        }
        100.0 * sum / total
    };
    let side = |name: &str| -> std::collections::BTreeMap<String, f64> {
        rows.iter()
            .filter(|r| r[config] == name)
            .map(|r| (r[id].clone(), quality_without_helpful(r)))
            .collect()
    };
    assert!(rows
        .iter()
        .filter(|r| r[config] == "few-shot")
        .all(|r| r[helpful].is_empty()));
    assert!(rows
        .iter()
        .filter(|r| r[config] == "prompt")
        .all(|r| !r[helpful].is_empty()));
    let (baseline, candidate) = (side("prompt"), side("few-shot"));
    let expected: f64 = candidate.iter().map(|(id, c)| c - baseline[id]).sum::<f64>() / candidate.len() as f64;

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    let few_shot = json["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["family"] == "baseline" && c["candidate"] == "few-shot")
        .unwrap();
    let reported = few_shot["paired"]["mean_difference"].as_f64().unwrap();
    assert!(
        (reported - expected).abs() < 1e-3,
        "{reported} vs {expected} (scores rounded to 4 decimals)"
    );
    assert_eq!(few_shot["pairs_on_common_criteria"], 8);
    assert_eq!(few_shot["pairs_excluded"], 0);
    assert_eq!(few_shot["criteria_left_out"], serde_json::json!(["helpful"]));
    // Fine-tuned is rescored only where it or the baseline lost its verdict with few-shot's (identical replies):
    // elsewhere both sides have every criterion.
    let missing_helpful = |name: &str| -> std::collections::HashSet<String> {
        rows.iter()
            .filter(|r| r[config] == name && r[helpful].is_empty())
            .map(|r| r[id].clone())
            .collect()
    };
    let rescored = missing_helpful("fine-tuned").union(&missing_helpful("prompt")).count();
    let fine_tuned = json["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["family"] == "baseline" && c["candidate"] == "fine-tuned")
        .unwrap();
    assert_eq!(fine_tuned["pairs_on_common_criteria"], rescored);
    assert!(rescored < 8);

    // The gap is a warning at the top of the verdict and in report.json.
    let gap = &json["criterion_gaps"][0];
    assert_eq!(
        (gap["config"].as_str(), gap["criterion"].as_str()),
        (Some("few-shot"), Some("helpful"))
    );
    assert_eq!(
        (gap["missing"].as_u64(), gap["no_scores"].as_bool()),
        (Some(8), Some(true))
    );
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    let verdict = &report[report.find("## Verdict").unwrap()..report.find("Against the baseline").unwrap()];
    assert!(
        verdict.contains(
            "> **Warning:** few-shot: criterion helpful could not be scored — none of its 8 replies has a score for it"
        ),
        "{report}"
    );
    assert!(report
        .contains("few-shot vs prompt: 8 pairs were compared on the criteria both sides scored (left out: helpful)"));
}

#[test]
fn a_judge_that_fails_fails_the_run_with_its_reports_written() {
    let dir = tempfile::tempdir().unwrap();
    let suite = judged_suite(dir.path(), 1);
    let results = dir.path().join("results");
    let results_arg = results.to_str().unwrap();
    let working = Server::for_suite(&suite, &[]);
    bedrock_eval(
        &working,
        &[
            "run",
            suite.to_str().unwrap(),
            "--run-id",
            "r",
            "--results",
            results_arg,
        ],
    );
    // New judge requests (an edited criterion), sent to an endpoint whose every answer is a 5xx: generation is all
    // recorded already, so only the judge's calls fail.
    edit(
        &dir.path().join("rubric.yaml"),
        "Is the reply warm, direct",
        "Is the reply friendly, direct",
    );
    let failing = Server::for_suite(&suite, &["--server-error-rate", "1"]);
    let output = command_with_test_credentials()
        .args([
            "run",
            suite.to_str().unwrap(),
            "--run-id",
            "r",
            "--results",
            results_arg,
            "--resume",
        ])
        .args(["--endpoint-url", &failing.url, "--endpoint-change"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("judge calls failed, more than --max-error-rate 0.1 allows"),
        "{stderr}"
    );
    assert!(
        stderr.contains("internal_server (") || stderr.contains("service_unavailable ("),
        "{stderr}"
    );
    assert!(
        stderr.contains("--retry-errors"),
        "the resume line asks the failed calls again: {stderr}"
    );
    assert_eq!(generation_requests(&failing), 0, "generation was complete");
    assert!(requests(&failing, JUDGE_MODEL) > 0);
    let run_dir = results.join("mini/r");
    assert!(run_dir.join("report.md").is_file() && run_dir.join("examples.csv").is_file());
}
