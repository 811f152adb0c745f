//! A suite whose configs and judge all use OpenAI-compatible servers needs no AWS region or credentials; one that
//! sends anything to Bedrock still does.

mod common;

use std::path::Path;

use common::{command, Server};

fn suite(dir: &Path, base_url: &str, judge: &str) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini");
    std::fs::copy(root.join("held-out.jsonl"), dir.join("held-out.jsonl")).unwrap();
    let mut rubric = std::fs::read_to_string(root.join("rubric.yaml")).unwrap();
    if !judge.is_empty() {
        rubric.push_str(
            "  - id: helpful\n    kind: judge\n    instructions: Does the reply help?\n    scale: {1: no, 2: somewhat, 3: yes}\n",
        );
    }
    std::fs::write(dir.join("rubric.yaml"), rubric).unwrap();
    let text = format!(
        "name: self-hosted
dataset: {{held_out: held-out.jsonl}}
rubric: rubric.yaml
configs:
  - {{name: small, kind: prompt, provider: openai, base_url: '{base_url}', model: llama-3.1-8b-instruct, system: You are a support agent for Kestrel Home.}}
  - {{name: large, kind: prompt, provider: openai, base_url: '{base_url}', model: llama-3.1-70b-instruct, system: You are a support agent for Kestrel Home.}}
baseline: small
{judge}"
    );
    let path = dir.join("suite.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(suite: &Path, results: &Path) -> std::process::Output {
    command()
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .arg("run")
        .arg(suite)
        .args(["--run-id", "r", "--results"])
        .arg(results)
        .output()
        .unwrap()
}

#[test]
fn no_region_is_needed_when_nothing_goes_to_bedrock() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[]);
    let base_url = format!("{}/v1", server.url);
    let output = run(&suite(dir.path(), &base_url, ""), &dir.path().join("results"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stats = server.stats();
    assert_eq!(stats["models"]["llama-3.1-8b-instruct"]["requests"], 8, "{stats}");
    assert_eq!(stats["models"]["llama-3.1-70b-instruct"]["requests"], 8, "{stats}");

    // A judge served by one of the OpenAI-compatible models keeps Bedrock out of it.
    let judged = tempfile::tempdir().unwrap();
    let suite_path = suite(judged.path(), &base_url, "judge: {model: llama-3.1-70b-instruct}\n");
    let output = run(&suite_path, &judged.path().join("results"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        server.stats()["models"]["llama-3.1-70b-instruct"]["requests"]
            .as_u64()
            .unwrap()
            > 8
    );

    // A judge on Bedrock needs the region again, and says so.
    let bedrock = tempfile::tempdir().unwrap();
    let suite_path = suite(bedrock.path(), &base_url, "judge: {model: amazon.nova-pro-v1:0}\n");
    let output = run(&suite_path, &bedrock.path().join("results"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no AWS region configured"), "{stderr}");
}
