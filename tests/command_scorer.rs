//! The `command` criterion end to end: the user's programs run once per reply, their failures (a crash, a hang, a
//! flood of output, garbage on stdout) become recorded criterion errors in a finished report, and `score` reuses
//! every call whose input and program did not change.

mod common;

use std::path::{Path, PathBuf};

use common::{command, labels_suite, run_local_ok};

const SCORERS: [(&str, &str); 5] = [
    // Counts the calls running at the same moment (one marker file each), and says how many it saw.
    (
        "count.sh",
        "cat > /dev/null\nmkdir -p running\ntouch running/$$\nn=$(ls running | wc -l)\nsleep 0.2\nrm running/$$\necho \"{\\\"score\\\": 1, \\\"reason\\\": \\\"$n\\\"}\"\n",
    ),
    (
        "crash.sh",
        "echo 'something broke' >&2\necho 'Traceback: KeyError urgency' >&2\nexit 3\n",
    ),
    ("hang.sh", "exec sleep 30\n"),
    ("garbage.sh", "cat > /dev/null\necho 'score: high'\n"),
    (
        "flood.sh",
        "cat > /dev/null\nwhile :; do echo '{\"score\": 1, \"reason\": \"again and again\"}'; done\n",
    ),
];

const RUBRIC: &str = "name: scorers
pass_threshold: 0.5
criteria:
  - id: category
    kind: label
    from: json
    path: category
    field: category
  - id: urgency_distance
    kind: command
    argv: [python3, urgency_distance.py]
    params: {levels: [low, medium, high]}
  - id: crash
    kind: command
    argv: [sh, crash.sh]
  - id: hang
    kind: command
    argv: [sh, hang.sh]
    timeout_ms: 300
    concurrency: 8
  - id: garbage
    kind: command
    argv: [sh, garbage.sh]
  - id: flood
    kind: command
    argv: [sh, flood.sh]
    timeout_ms: 20000
  - id: count
    kind: command
    argv: [sh, count.sh]
    concurrency: 2
  - id: helpful
    kind: judge
    instructions: Is the category right?
    scale: {1: no, 2: yes}
";

/// The `labels` fixture with the rubric above and its scorers, run on the embedded endpoint; the run folder.
fn run_with_scorers(dir: &Path) -> PathBuf {
    let suite = labels_suite(dir);
    std::fs::write(dir.join("rubric.yaml"), RUBRIC).unwrap();
    let mut text = std::fs::read_to_string(&suite).unwrap();
    text.push_str("judge: {model: amazon.nova-pro-v1:0}\n");
    std::fs::write(&suite, text).unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("rubrics/scorers/urgency_distance.py");
    std::fs::copy(example, dir.join("urgency_distance.py")).unwrap();
    for (name, script) in SCORERS {
        std::fs::write(dir.join(name), script).unwrap();
    }
    // A failing scorer never fails the run.
    run_local_ok(&suite, &dir.join("results"));
    dir.join("results/labels/r")
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn failing_scorers_are_criterion_errors_and_unchanged_calls_are_not_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = run_with_scorers(dir.path());

    // 8 examples × 2 configs: each distinct reply scored by each of the six programs once (the same reply to the
    // same example from both configs is one call).
    let mut distinct: Vec<(String, String)> = lines(&run_dir.join("records.jsonl"))
        .iter()
        .map(|r| (r["example_id"].to_string(), r["output"].to_string()))
        .collect();
    distinct.sort();
    distinct.dedup();
    let distinct = distinct.len();
    let calls = lines(&run_dir.join("commands.jsonl"));
    assert_eq!(calls.len(), distinct * 6, "{calls:#?}");
    let by = |criterion: &'static str| calls.iter().filter(move |c| c["criterion"] == criterion);
    assert!(by("urgency_distance").all(|c| c["status"] == "ok"));
    assert!(by("crash").all(|c| c["error"]["message"]
        .as_str()
        .unwrap()
        .contains("failed (exit status: 3)")
        && c["error"]["message"].as_str().unwrap().contains("KeyError urgency")));
    assert!(by("hang").all(|c| c["error"]["kind"] == "timeout"));
    assert!(by("flood").all(|c| c["error"]["message"]
        .as_str()
        .unwrap()
        .contains("more than 65536 bytes")));
    assert!(by("garbage").all(|c| c["status"] == "ok" && c["output"] == "score: high\n"));
    // Never more than the criterion's `concurrency` of its program at once.
    let seen: Vec<u64> = by("count")
        .map(|c| {
            let output: serde_json::Value = serde_json::from_str(c["output"].as_str().unwrap()).unwrap();
            output["reason"].as_str().unwrap().trim().parse().unwrap()
        })
        .collect();
    assert!(seen.iter().all(|n| (1..=2).contains(n)), "{seen:?}");

    // Every reply: the working scorer's score, and four criterion errors — never a zero.
    for line in lines(&run_dir.join("scores.jsonl")) {
        let criteria = line["criteria"].as_array().unwrap();
        let find = |id: &str| criteria.iter().find(|c| c["id"] == id).unwrap();
        let score = find("urgency_distance")["score"].as_f64().unwrap();
        assert!([0.0, 0.5, 1.0].contains(&score), "{line}");
        assert!(
            !find("urgency_distance")["reason"].as_str().unwrap().is_empty(),
            "{line}"
        );
        for id in ["crash", "hang", "garbage", "flood"] {
            assert!(find(id).get("score").is_none(), "{id} scored: {line}");
            assert!(find(id)["error"].is_string(), "{id} has no error: {line}");
        }
        assert!(
            find("garbage")["error"].as_str().unwrap().contains("`score: high`"),
            "{line}"
        );
    }
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains("## Scorers"), "{report}");
    assert!(report.contains("| hang | terse | 0 | 8 |"), "{report}");
    assert!(report.contains("| urgency_distance | terse | 8 | 0 |"), "{report}");
    // The judge's own count leaves the scorers' errors out.
    assert!(!report.contains("could not be judged"), "{report}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["judge"]["criterion_errors"], 0);
    let examples = std::fs::read_to_string(run_dir.join("examples.csv")).unwrap();
    assert!(
        examples.contains("hang: the scorer did not finish within 300 ms"),
        "{examples}"
    );

    // Re-scoring makes no call; editing one program re-runs only its calls.
    let before = std::fs::read(run_dir.join("commands.jsonl")).unwrap();
    let score = || command().arg("score").arg(&run_dir).output().unwrap();
    let output = score();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("96 results reused from earlier calls, 0 calls made now"));
    assert_eq!(std::fs::read(run_dir.join("commands.jsonl")).unwrap(), before);
    let report_only = command().arg("report").arg(&run_dir).output().unwrap();
    assert!(report_only.status.success());
    assert_eq!(
        std::fs::read(run_dir.join("commands.jsonl")).unwrap(),
        before,
        "report never runs a scorer"
    );

    std::fs::write(
        dir.path().join("garbage.sh"),
        "cat > /dev/null\necho '{\"score\": 0.25, \"reason\": \"fixed\"}'\n",
    )
    .unwrap();
    let output = score();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let expected = format!("80 results reused from earlier calls, {distinct} calls made now");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&expected),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let fixed: Vec<f64> = lines(&run_dir.join("scores.jsonl"))
        .iter()
        .map(|l| {
            l["criteria"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == "garbage")
                .unwrap()["score"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert_eq!(fixed, vec![0.25; 16]);
}
