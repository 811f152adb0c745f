//! A suite mixing a Bedrock config with an OpenAI-compatible one runs and compares them in one report.

mod common;

use common::{command, command_with_test_credentials, edit, mini_suite, records, Server};

const LOCAL_CONFIG: &str = "  - name: self-hosted
    kind: prompt
    provider: openai
    base_url: BASE_URL
    model: llama-3.1-8b-instruct
    system: You are a support agent for Kestrel Home.
    inference:
      max_tokens: 300
      temperature: 0
";

#[test]
fn bedrock_and_openai_configs_share_one_run_and_one_report() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let server = Server::for_suite(&suite, &[]);
    edit(
        &suite,
        "  - name: few-shot",
        &format!(
            "{}  - name: few-shot",
            LOCAL_CONFIG.replace("BASE_URL", &format!("{}/v1", server.url))
        ),
    );
    let run_dir = server.run(&suite, &dir.path().join("results"));

    // Bedrock configs went through Converse, the self-hosted one through /v1/chat/completions, all recorded.
    let records = records(&run_dir);
    assert_eq!(records.len(), 8 * 4);
    assert!(records.iter().all(|r| r["status"] == "ok"), "{records:?}");
    let stats = server.stats();
    assert_eq!(stats["models"]["llama-3.1-8b-instruct"]["requests"], 8, "{stats}");
    assert_eq!(stats["models"]["amazon.nova-lite-v1:0"]["requests"], 16, "{stats}");
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        report.contains("- **self-hosted** — "),
        "a verdict against the baseline: {report}"
    );
    assert!(report.contains("| self-hosted vs prompt |"));

    // With --local, the OpenAI-compatible config is served by the embedded endpoint too, whatever its base_url.
    let offline = command()
        .arg("run")
        .arg(&suite)
        .args(["--local", "--run-id", "offline", "--results"])
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    assert!(offline.status.success(), "{}", String::from_utf8_lossy(&offline.stderr));

    // A key variable that is not set is an input error before any call.
    edit(
        &suite,
        "    base_url: ",
        "    api_key_env: BEDROCK_EVAL_TEST_UNSET_KEY\n    base_url: ",
    );
    let output = command_with_test_credentials()
        .arg("run")
        .arg(&suite)
        .args(["--run-id", "nokey", "--endpoint-url", &server.url, "--results"])
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("BEDROCK_EVAL_TEST_UNSET_KEY"));
    assert!(!dir.path().join("results/mini/nokey").exists());
}
