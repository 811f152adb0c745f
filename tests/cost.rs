//! Cost on the example suite: the plan's estimate against what the run records, the budget check, and cost
//! settings that are wrong or incomplete.

mod common;

use std::path::Path;

use common::{command, example_suite, mini_suite};

fn plan(suite: &Path) -> serde_json::Value {
    let output = command().arg("plan").arg(suite).arg("--json").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn within(estimate: u64, actual: u64, tolerance: f64) -> bool {
    (estimate as f64 - actual as f64).abs() <= tolerance * actual as f64
}

#[test]
fn the_plan_estimates_tokens_within_20_percent_and_the_budget_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let suite = example_suite(dir.path(), "");
    let plan = plan(&suite);
    let parts = plan["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 5, "four configs and the judge");
    let total = plan["total_cost"].as_f64().unwrap();
    assert!(total > 0.0);
    // 66 examples × 4 configs; the judge's calls on top.
    assert_eq!(plan["total_requests"], 264);
    assert!(plan["total_calls"].as_u64().unwrap() > 264);
    // The fine-tuned config needs its model unit for at least an hour: 1 × 1 h × $60.50, counted in the total.
    let tuned = parts.iter().find(|p| p["part"] == "fine-tuned").unwrap();
    assert_eq!(tuned["minimum"]["cost"].as_f64(), Some(60.5));
    assert_eq!(tuned["cost"].as_f64(), Some(60.5));
    let per_token: f64 = parts
        .iter()
        .filter(|p| p["part"] != "fine-tuned")
        .map(|p| p["cost"].as_f64().unwrap())
        .sum();
    assert!((total - per_token - 60.5).abs() < 1e-9);

    // A budget that covers the tokens but not the model unit's hour refuses to start: exit 2, nothing called, no
    // results folder.
    let results = dir.path().join("results");
    let refused = command()
        .arg("run")
        .arg(&suite)
        .args(["--local", "--results"])
        .arg(&results)
        .args(["--max-cost", &format!("{}", per_token + 1.0)])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(!results.exists());
    let refused = command()
        .arg("run")
        .arg(&suite)
        .args(["--local", "--results"])
        .arg(&results)
        .args(["--max-cost", &format!("{}", total / 2.0)])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("above --max-cost"));
    assert!(!results.exists());

    // Within budget it runs; the recorded tokens are within 20% of the plan, per part.
    let output = command()
        .arg("run")
        .arg(&suite)
        .args(["--local", "--run-id", "r", "--results"])
        .arg(&results)
        .args(["--max-cost", &format!("{}", total * 2.0)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("this run cost $"), "{stdout}");
    let run_dir = results.join("support-tone/r");
    // Input tokens read from or written to the prompt cache are input tokens too (Converse reports them apart).
    let mut cached: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for record in common::records(&run_dir) {
        let tokens = |field: &str| record[field].as_u64().unwrap_or(0);
        *cached
            .entry(record["config"].as_str().unwrap().to_string())
            .or_default() += tokens("cache_read_input_tokens") + tokens("cache_write_input_tokens");
    }
    // The cached config wrote its prefix once and read it for every other example.
    let cached_config: Vec<serde_json::Value> = common::records(&run_dir)
        .into_iter()
        .filter(|r| r["config"] == "few-shot-cached")
        .collect();
    let writes = cached_config
        .iter()
        .filter(|r| r["cache_write_input_tokens"].as_u64().is_some())
        .count();
    let reads = cached_config
        .iter()
        .filter(|r| r["cache_read_input_tokens"].as_u64().is_some())
        .count();
    assert_eq!((writes, reads), (1, 65));
    let mut reader = csv::Reader::from_path(run_dir.join("summary.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (input, output_tokens) = (column("input_tokens"), column("output_tokens"));
    let mut planned_total = 0;
    let mut recorded_total = 0;
    for row in reader.records().map(|r| r.unwrap()) {
        let part = parts.iter().find(|p| p["part"] == row[0]).unwrap();
        // Input tokens come from the prompts as sent, so they match closely; outputs are an estimate.
        let planned_input = part["input_tokens"].as_u64().unwrap();
        let recorded_input = row[input].parse::<u64>().unwrap() + cached.get(&row[0]).copied().unwrap_or(0);
        assert!(
            within(planned_input, recorded_input, 0.05),
            "{}: input {planned_input} vs {recorded_input}",
            &row[0]
        );
        planned_total += planned_input + part["output_tokens"].as_u64().unwrap();
        recorded_total += recorded_input + row[output_tokens].parse::<u64>().unwrap();
    }
    assert!(
        within(planned_total, recorded_total, 0.2),
        "planned {planned_total}, recorded {recorded_total}"
    );
    let judge = parts.iter().find(|p| p["part"] == "judge").unwrap();
    let judged: Vec<serde_json::Value> = std::fs::read_to_string(run_dir.join("judgements.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let judge_recorded: u64 = judged
        .iter()
        .map(|j| j["input_tokens"].as_u64().unwrap() + j["output_tokens"].as_u64().unwrap())
        .sum();
    let judge_planned = judge["input_tokens"].as_u64().unwrap() + judge["output_tokens"].as_u64().unwrap();
    assert!(
        within(judge_planned, judge_recorded, 0.2),
        "judge: planned {judge_planned}, recorded {judge_recorded}"
    );

    // The run's own cost is in run.json and the report; the cost section and its charts are written.
    let metadata: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    assert!(metadata["run_cost"]["total_priced"].as_f64().unwrap() > 0.0);
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains("## Cost") && report.contains("## This run's cost") && report.contains("Break-even"));
    // The serving options side by side, and the recommendation first.
    assert!(report.contains("Serving options for **fine-tuned**"), "{report}");
    assert!(report.contains("| on-demand custom-model deployment |"), "{report}");
    // The figures the suite set itself are named as such.
    assert!(
        report.contains("not read from the catalogue: `amazon.nova-lite-v1:0`: cache_write_input_per_million, training_per_million_tokens"),
        "{report}"
    );
    assert!(
        report.lines().nth(2).unwrap().starts_with("**Recommendation:** **"),
        "{report}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    assert!(json["recommendation"]["pick"].is_string(), "{}", json["recommendation"]);
    // Every break-even volume it states is within what the units it names serve.
    for even in json["cost"]["break_evens"].as_array().unwrap() {
        if let (Some(volume), Some(units), Some(one)) = (
            even["volume"].as_f64(),
            even["units"].as_u64(),
            even["per_unit_capacity"].as_f64(),
        ) {
            assert!(volume <= units as f64 * one, "{even}");
        }
    }
    for chart in ["cost-volume.svg", "cost-quality.svg"] {
        assert!(std::fs::read_to_string(run_dir.join(chart))
            .unwrap()
            .starts_with("<svg"));
    }
}

/// Runs the mini suite at `suite` on the embedded endpoint as run `r` under `dir/results`; returns the run folder.
fn run_mini(suite: &Path, dir: &Path) -> std::path::PathBuf {
    let results = dir.join("results");
    let output = command()
        .arg("run")
        .arg(suite)
        .args(["--local", "--run-id", "r", "--results"])
        .arg(&results)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    results.join("mini/r")
}

fn refused(suite: &Path, location: &str, mentions: &[&str]) {
    let output = command().arg("validate").arg(suite).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(location), "no {location}: {stderr}");
    for m in mentions {
        assert!(stderr.contains(m), "no {m}: {stderr}");
    }
}

#[test]
fn wrong_cost_settings_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let original = std::fs::read_to_string(&suite).unwrap();
    let with_cost = |cost: &str| std::fs::write(&suite, format!("{original}{cost}")).unwrap();

    with_cost("cost:\n  monthly_requests: [1000, -5]\n  custom:\n    fine-tuned: {model_units: 1, base_model: amazon.nova-lite-v1:0}\n");
    refused(&suite, "suite.yaml:", &["cost.monthly_requests", "positive", "-5"]);

    with_cost("cost:\n  monthly_requests: 1000\n");
    refused(
        &suite,
        "suite.yaml:",
        &["configs[2].model", "cost.custom.fine-tuned.model_units"],
    );

    with_cost(
        "cost:\n  monthly_requests: 1000\n  custom:\n    prompt: {model_units: 1}\n    fine-tuned: {model_units: 1}\n",
    );
    refused(&suite, "suite.yaml:", &["cost.custom.prompt", "not a custom one"]);

    // Caching needs a prefix to cache: the fine-tuned config of the mini suite has no system prompt.
    let cached = original.replace(
        "    model: arn:aws:bedrock:us-east-1:123456789012:provisioned-model/m1n1t3st0001\n",
        "    model: arn:aws:bedrock:us-east-1:123456789012:provisioned-model/m1n1t3st0001\n    cache: true\n",
    );
    assert_ne!(cached, original);
    std::fs::write(&suite, cached).unwrap();
    refused(&suite, "suite.yaml:", &["configs[2].cache", "nothing to cache"]);
}

#[test]
fn an_unpriced_model_is_reported_as_unpriced_never_zero() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    // The fine-tuned model's base has no Provisioned Throughput price at this commitment in the catalogue
    // (Claude 3 Haiku's PT is by arrangement), so it cannot be costed.
    let mut text = std::fs::read_to_string(&suite).unwrap();
    text.push_str(
        "cost:\n  monthly_requests: 50000\n  custom:\n    fine-tuned:\n      model_units: 1\n      base_model: anthropic.claude-3-haiku-20240307-v1:0\n",
    );
    std::fs::write(&suite, text).unwrap();
    let run_dir = run_mini(&suite, dir.path());
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains("> **Unpriced.** fine-tuned is unpriced"), "{report}");
    let mut reader = csv::Reader::from_path(run_dir.join("summary.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let (billing, monthly) = (
        header.iter().position(|h| h == "billing").unwrap(),
        header.iter().position(|h| h == "monthly_cost").unwrap(),
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let tuned = rows.iter().find(|r| &r[0] == "fine-tuned").unwrap();
    assert_eq!((&tuned[billing], &tuned[monthly]), ("unpriced", ""));
    let prompt = rows.iter().find(|r| &r[0] == "prompt").unwrap();
    assert!(prompt[monthly].parse::<f64>().unwrap() > 0.0);
}

#[test]
fn without_a_cost_section_the_report_still_prices_what_it_can_and_says_how_to_price_the_rest() {
    // The mini suite has no `cost:` section and a custom config on a provisioned-model ARN.
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    assert!(!std::fs::read_to_string(&suite).unwrap().contains("cost:"));
    let run_dir = run_mini(&suite, dir.path());
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains("the default 100,000 requests a month"), "{report}");
    assert!(report.contains("per quality point"), "{report}");
    assert!(report.contains("fine-tuned is unpriced"), "{report}");
    assert!(report.contains("`cost.custom.fine-tuned.base_model`"), "{report}");
    let mut reader = csv::Reader::from_path(run_dir.join("summary.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let per_point = header.iter().position(|h| h == "cost_per_quality_point").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let prompt = rows.iter().find(|r| &r[0] == "prompt").unwrap();
    assert!(prompt[per_point].parse::<f64>().unwrap() > 0.0);
    let tuned = rows.iter().find(|r| &r[0] == "fine-tuned").unwrap();
    assert_eq!(&tuned[per_point], "");
}

#[test]
fn an_imported_model_is_billed_through_custom_model_import_not_provisioned_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let text = std::fs::read_to_string(&suite)
        .unwrap()
        .replace("provisioned-model/m1n1t3st0001", "imported-model/m1n1t3st0001");
    std::fs::write(
        &suite,
        format!(
            "{text}cost:\n  monthly_requests: 1000000\n  custom:\n    fine-tuned:\n      custom_model_units: 2\n      \
             requests_per_minute_per_unit: 400\n"
        ),
    )
    .unwrap();
    let run_dir = run_mini(&suite, dir.path());
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        report.contains("| fine-tuned | Custom Model Import, 2 CMU per copy |"),
        "{report}"
    );
    assert!(
        report.contains("Custom Model Import: $0.05718 per Custom Model Unit per minute"),
        "{report}"
    );
    assert!(!report.contains("fine-tuned is unpriced"), "{report}");
    // 1,000,000 requests keep every 5-minute window of the month active: 8,760 × 2 × $0.05718 × 5 + 2 × $1.95.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    let tuned = json["cost"]["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["config"] == "fine-tuned")
        .unwrap();
    assert_eq!(tuned["serving"]["billing"], "imported");
    let monthly = tuned["at_volumes"][0]["monthly_cost"].as_f64().unwrap();
    assert_eq!(format!("{monthly:.2}"), "5012.87");
}
