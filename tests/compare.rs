//! Nightly regression: two runs compared config by config, with CI's formats and exit codes.

mod common;

use std::path::Path;
use std::process::Output;

use common::{command, command_with_test_credentials, edit, example_suite, mini_suite, records, Server};

const TUNED: &str = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/k3str3lsupp0";

fn run_on(server: &Server, suite: &Path, results: &Path, id: &str, extra: &[&str]) -> Output {
    command_with_test_credentials()
        .arg("run")
        .arg(suite)
        .args(["--run-id", id, "--endpoint-url", &server.url, "--results"])
        .arg(results)
        .args(extra)
        .output()
        .unwrap()
}

fn compare(base: &Path, new: &Path, extra: &[&str]) -> Output {
    command()
        .arg("compare")
        .arg(base)
        .arg(new)
        .args(extra)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_planted_drop_fails_only_its_config_and_a_tolerance_absorbs_it() {
    let dir = tempfile::tempdir().unwrap();
    let suite = example_suite(dir.path(), "");
    let results = dir.path().join("results");
    let healthy = Server::for_suite(&suite, &[]);
    assert!(run_on(&healthy, &suite, &results, "base", &[]).status.success());
    let base = results.join("support-tone/base");

    // Compared with itself: nothing regressed, exit 0, a JUnit file without failures.
    let out = dir.path().join("self");
    let output = compare(&base, &base, &["--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let junit = std::fs::read_to_string(out.join("compare-junit.xml")).unwrap();
    assert!(
        junit.contains("tests=\"4\" failures=\"0\"") && !junit.contains("<failure"),
        "{junit}"
    );
    for name in ["compare.md", "compare.csv", "compare.json"] {
        assert!(out.join(name).is_file());
    }

    // The fine-tuned model degraded on about a fifth of its answers: a drop of roughly ten quality points.
    let degraded = Server::for_suite(&suite, &["--degrade", &format!("{TUNED}=0.2")]);
    let output = run_on(
        &degraded,
        &suite,
        &results,
        "new",
        &["--baseline", base.to_str().unwrap()],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "run --baseline exits 1 on a regression: {}",
        text(&output)
    );
    let new = results.join("support-tone/new");
    let comparison: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new.join("compare.json")).unwrap()).unwrap();
    let change = |config: &str| {
        comparison["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["config"] == config)
            .unwrap()
            .clone()
    };
    let tuned = change("fine-tuned");
    assert_eq!(tuned["change"], "regressed", "{tuned}");
    let drop = tuned["paired"]["mean_difference"].as_f64().unwrap();
    assert!(
        (-20.0..-5.0).contains(&drop),
        "planted drop of about 10 points, measured {drop}"
    );
    assert_eq!(change("prompt")["change"], "unchanged");
    assert_eq!(change("few-shot")["change"], "unchanged");
    assert_eq!(change("few-shot-cached")["change"], "unchanged");
    let junit = std::fs::read_to_string(new.join("compare-junit.xml")).unwrap();
    assert!(junit.contains("failures=\"1\""), "{junit}");
    assert!(
        junit.contains("<testcase classname=\"bedrock-eval.support-tone\" name=\"fine-tuned\">\n      <failure"),
        "{junit}"
    );
    let markdown = std::fs::read_to_string(new.join("compare.md")).unwrap();
    assert!(markdown.contains("**Regressed: fine-tuned.**"), "{markdown}");

    // The same drop under a tolerance larger than it: significant, but not a regression.
    let output = compare(
        &base,
        &new,
        &[
            "--max-drop",
            "30",
            "--out",
            dir.path().join("tolerant").to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("fine-tuned: unchanged — "), "{}", text(&output));
    assert!(
        text(&output).contains("significant but within the 30-point tolerance"),
        "{}",
        text(&output)
    );
}

#[test]
fn mismatched_suites_warn_and_disjoint_examples_are_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let results = dir.path().join("results");
    let local = |id: &str| {
        command()
            .arg("run")
            .arg(&suite)
            .args(["--local", "--run-id", id, "--results"])
            .arg(&results)
            .output()
            .unwrap()
    };
    assert!(local("a").status.success());
    edit(&suite, "concurrency: 4", "concurrency: 3");
    assert!(local("b").status.success());
    let output = compare(&results.join("mini/a"), &results.join("mini/b"), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("warning: The runs used different suite files"),
        "{}",
        text(&output)
    );

    // Every example renamed and asked differently: nothing pairs. (Renamed alone, each example would still make
    // the same request, so the base run's records, read with the suite as it is now, would answer to the new ids.)
    let held_out = std::fs::read_to_string(dir.path().join("held-out.jsonl")).unwrap();
    std::fs::write(
        dir.path().join("held-out.jsonl"),
        held_out.replace("\"id\": \"ho-", "\"id\": \"renamed-").replace(
            "\"role\": \"user\", \"content\": [{\"text\": \"",
            "\"role\": \"user\", \"content\": [{\"text\": \"Again: ",
        ),
    )
    .unwrap();
    assert!(local("c").status.success());
    let output = compare(&results.join("mini/a"), &results.join("mini/c"), &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("no example pairs"), "{}", text(&output));
    assert!(text(&output).contains("different held-out data"), "{}", text(&output));
}

#[test]
fn the_same_records_give_byte_identical_reports() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let results = dir.path().join("results");
    let output = command()
        .arg("run")
        .arg(&suite)
        .args(["--local", "--run-id", "r", "--results"])
        .arg(&results)
        .output()
        .unwrap();
    assert!(output.status.success());
    let run_dir = results.join("mini/r");
    let files = [
        "report.md",
        "report.json",
        "summary.csv",
        "comparisons.csv",
        "examples.csv",
        "scores.jsonl",
        "quality.svg",
        "differences.svg",
        "report.html",
    ];
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(run_dir.join(f)).unwrap()).collect();
    let output = command().arg("report").arg(&run_dir).output().unwrap();
    assert!(output.status.success());
    for (file, bytes) in files.iter().zip(before) {
        assert!(std::fs::read(run_dir.join(file)).unwrap() == bytes, "{file} changed");
    }
}

/// The data `compare.html` embeds.
fn page_data(page: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(page).unwrap();
    let data = html
        .split("<script type=\"application/json\" id=\"data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    serde_json::from_str(data).unwrap()
}

#[test]
fn examples_pair_by_id_in_any_order_and_the_page_shows_each_runs_own_replies() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let (base_dir, new_dir) = (dir.path().join("base"), dir.path().join("new"));
    std::fs::create_dir_all(&base_dir).unwrap();
    std::fs::create_dir_all(&new_dir).unwrap();
    let base_suite = mini_suite(&base_dir);
    let server = Server::for_suite(&base_suite, &[]);
    assert!(run_on(&server, &base_suite, &results, "a", &[]).status.success());
    // A copy of the suite listing the same examples backwards, and half of one model's answers degraded: examples
    // pair by their ids, not by where they stand.
    let suite = mini_suite(&new_dir);
    let held_out = new_dir.join("held-out.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&held_out)
        .unwrap()
        .lines()
        .rev()
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&held_out, lines.concat()).unwrap();
    let degraded = Server::for_suite(&suite, &["--degrade", "amazon.nova-lite-v1:0=0.5"]);
    assert!(run_on(&degraded, &suite, &results, "b", &[]).status.success());
    let (a, b) = (results.join("mini/a"), results.join("mini/b"));
    let out = dir.path().join("compared");
    let output = compare(&a, &b, &["--out", out.to_str().unwrap()]);
    assert!(text(&output).contains("different held-out data"), "{}", text(&output));

    let comparison: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    for config in comparison["configs"].as_array().unwrap() {
        assert_eq!(
            (
                config["pairs"].as_u64(),
                config["base_only"].as_u64(),
                config["new_only"].as_u64()
            ),
            (Some(8), Some(0), Some(0)),
            "{config}"
        );
    }
    // Every example listed shows, for each run, the replies that run recorded for that example and config.
    let replies = |run: &Path, id: &str, config: &str| -> Vec<serde_json::Value> {
        records(run)
            .into_iter()
            .filter(|r| r["example_id"] == id && r["config"] == config)
            .map(|r| r["output"].clone())
            .collect()
    };
    let page = page_data(&out.join("compare.html"));
    let examples = page["examples"].as_array().unwrap();
    assert!(!examples.is_empty(), "degraded answers change some examples");
    for example in examples {
        let (id, config) = (example["id"].as_str().unwrap(), example["config"].as_str().unwrap());
        assert_eq!(
            example["base"]["replies"].as_array().unwrap(),
            &replies(&a, id, config),
            "{id} {config}"
        );
        assert_eq!(
            example["new"]["replies"].as_array().unwrap(),
            &replies(&b, id, config),
            "{id} {config}"
        );
        assert_ne!(example["base"]["replies"], example["new"]["replies"], "{id} {config}");
        let input = page["texts"][id]["input"].as_str().unwrap();
        let held_out_line = std::fs::read_to_string(&held_out)
            .unwrap()
            .lines()
            .find(|line| line.contains(&format!("\"id\": \"{id}\"")))
            .unwrap()
            .to_string();
        assert!(
            held_out_line.contains(&serde_json::to_string(input).unwrap()),
            "{id}: {input}"
        );
    }
}
