//! Malformed suites, datasets and rubrics: each is refused with exit code 2 and a message naming the file, the line
//! and the field, before any model is called and without creating or touching a results directory.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

const TRAIN: &str = r#"{"id":"t1","prompt":"My lock jams","completion":"Calibrate it.","products":["Kestrel Lock"]}
{"id":"t2","prompt":"Camera offline","completion":"Use 2.4 GHz.","products":["Kestrel Cam Mini"]}
{"id":"t3","prompt":"Thermostat cycles","completion":"Raise minimum run time.","products":["Kestrel Thermo"]}
"#;

const HELD_OUT: &str = r#"{"id":"h1","prompt":"Lock stuck half way","completion":"Calibrate.","products":["Kestrel Lock"]}
{"id":"h2","prompt":"Cam Mini went offline","completion":"2.4 GHz.","products":["Kestrel Cam Mini"]}
"#;

const RUBRIC: &str =
    "pass_threshold: 0.5\ncriteria:\n  - id: product\n    kind: contains_all\n    terms_from: products\n";

const SUITE: &str = r#"name: tiny
dataset:
  held_out: held-out.jsonl
  training: train.jsonl
rubric: rubric.yaml
configs:
  - name: base
    kind: prompt
    model: amazon.nova-lite-v1:0
    system: Be helpful.
    inference:
      temperature: 0
  - name: shots
    kind: few-shot
    model: amazon.nova-lite-v1:0
    shots:
      k: 2
      select: similar
  - name: tuned
    kind: custom
    model: arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefghijkl
baseline: base
"#;

struct Case {
    name: &'static str,
    /// (file, find, replace) edits to the valid fixture.
    edits: &'static [(&'static str, &'static str, &'static str)],
    /// The file:line the message must start with (file name only).
    location: &'static str,
    /// Text the message must contain (the field, and what is wrong).
    mentions: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "unknown key",
        edits: &[("suite.yaml", "      temperature: 0", "      temprature: 0")],
        location: "suite.yaml:12:",
        mentions: &["configs[0].inference", "unknown field `temprature`"],
    },
    Case {
        name: "wrong type",
        edits: &[("suite.yaml", "baseline: base", "baseline: base\nrepeats: three")],
        location: "suite.yaml:23:",
        mentions: &["repeats", "invalid type"],
    },
    Case {
        name: "bad yaml",
        edits: &[("suite.yaml", "configs:\n", "configs: [\n")],
        location: "suite.yaml:",
        mentions: &["did not find expected"],
    },
    Case {
        name: "missing held-out file",
        edits: &[("suite.yaml", "held_out: held-out.jsonl", "held_out: nowhere.jsonl")],
        location: "suite.yaml:3:",
        mentions: &["dataset.held_out", "file not found", "nowhere.jsonl"],
    },
    Case {
        name: "bad jsonl line",
        edits: &[("held-out.jsonl", r#"{"id":"h2","#, r#"{"id":"h2",,"#)],
        location: "held-out.jsonl:2",
        mentions: &["invalid JSON"],
    },
    Case {
        name: "unknown baseline",
        edits: &[("suite.yaml", "baseline: base", "baseline: bsae")],
        location: "suite.yaml:22:",
        mentions: &["baseline", "`bsae` names no config", "base, shots, tuned"],
    },
    Case {
        name: "k larger than the pool",
        edits: &[("suite.yaml", "k: 2", "k: 5")],
        location: "suite.yaml:17:",
        mentions: &["configs[1].shots.k", "only 3 eligible"],
    },
    Case {
        name: "duplicate config name",
        edits: &[("suite.yaml", "  - name: tuned", "  - name: base")],
        location: "suite.yaml:19:",
        mentions: &["configs[2].name", "duplicate config name `base`"],
    },
    Case {
        name: "unknown kind",
        edits: &[("suite.yaml", "kind: prompt", "kind: zero-shot")],
        location: "suite.yaml:8:",
        mentions: &["configs[0].kind", "unknown variant `zero-shot`"],
    },
    Case {
        name: "temperature out of range",
        edits: &[("suite.yaml", "temperature: 0", "temperature: 1.5")],
        location: "suite.yaml:12:",
        mentions: &["configs[0].inference.temperature", "between 0 and 1"],
    },
    Case {
        name: "custom model not an ARN",
        edits: &[(
            "suite.yaml",
            "model: arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefghijkl",
            "model: amazon.nova-lite-v1:0",
        )],
        location: "suite.yaml:21:",
        mentions: &["configs[2].model", "ARN"],
    },
    Case {
        name: "few-shot without a training pool",
        edits: &[("suite.yaml", "  training: train.jsonl\n", "")],
        location: "suite.yaml:",
        mentions: &["configs[1].kind", "dataset.training"],
    },
    Case {
        name: "bad role order",
        edits: &[(
            "held-out.jsonl",
            r#"{"id":"h2","prompt":"Cam Mini went offline","completion":"2.4 GHz.","#,
            r#"{"id":"h2","messages":[{"role":"assistant","content":"A"},{"role":"user","content":"Q"}],"#,
        )],
        location: "held-out.jsonl:2",
        mentions: &["messages[0].role", "alternate"],
    },
    Case {
        name: "duplicate example id",
        edits: &[("held-out.jsonl", r#"{"id":"h2""#, r#"{"id":"h1""#)],
        location: "held-out.jsonl:2",
        mentions: &["id", "duplicate example id `h1`"],
    },
    Case {
        name: "missing rubric",
        edits: &[("suite.yaml", "rubric: rubric.yaml", "rubric: rubrics/none.yaml")],
        location: "suite.yaml:5:",
        mentions: &["rubric", "file not found"],
    },
    Case {
        name: "template names a missing field",
        edits: &[(
            "suite.yaml",
            "    system: Be helpful.",
            "    system: Be helpful.\n    template: \"{{ticket}}\"",
        )],
        location: "suite.yaml:11:",
        mentions: &["configs[0].template", "no field `ticket`"],
    },
    Case {
        name: "limits for no config's model",
        edits: &[(
            "suite.yaml",
            "baseline: base",
            "baseline: base\nlimits:\n  amazon.nova-pro-v1:0:\n    requests_per_minute: 10",
        )],
        location: "suite.yaml:24:",
        mentions: &["limits.amazon.nova-pro-v1:0", "not the model of any config"],
    },
    Case {
        name: "fault rate out of range",
        edits: &[(
            "suite.yaml",
            "baseline: base\n",
            "baseline: base\nlocal_endpoint:\n  faults:\n    throttle_rate: 2\n",
        )],
        location: "suite.yaml:25:",
        mentions: &["local_endpoint.faults.throttle_rate", "not a fraction"],
    },
    Case {
        name: "planted regression out of range",
        edits: &[(
            "suite.yaml",
            "baseline: base\n",
            "baseline: base\nlocal_endpoint:\n  degrade:\n    amazon.nova-lite-v1:0: -0.5\n",
        )],
        location: "suite.yaml:25:",
        mentions: &["local_endpoint.degrade.amazon.nova-lite-v1:0", "not a fraction"],
    },
    Case {
        name: "bad regex in rubric",
        edits: &[(
            "rubric.yaml",
            "  - id: product",
            "  - id: steps\n    kind: regex\n    pattern: '(['\n  - id: product",
        )],
        location: "rubric.yaml:5:",
        mentions: &["criteria[0].pattern", "invalid regular expression"],
    },
    Case {
        name: "rubric: unknown kind",
        edits: &[("rubric.yaml", "  - id: product", "  - id: mood\n    kind: telepathy\n  - id: product")],
        location: "rubric.yaml:4:",
        mentions: &["criteria[0].kind", "telepathy"],
    },
    Case {
        name: "rubric: negative weight",
        edits: &[("rubric.yaml", "  - id: product", "  - id: steps\n    kind: regex\n    pattern: x\n    weight: -2\n  - id: product")],
        location: "rubric.yaml:6:",
        mentions: &["criteria[0].weight", "-2"],
    },
    Case {
        name: "rubric: judge without a scale",
        edits: &[("rubric.yaml", "  - id: product", "  - id: tone\n    kind: judge\n    instructions: Is it warm?\n  - id: product")],
        location: "rubric.yaml:4:",
        mentions: &["criteria[0]", "scale"],
    },
    Case {
        name: "rubric: scale with a gap",
        edits: &[("rubric.yaml", "  - id: product", "  - id: tone\n    kind: judge\n    instructions: Is it warm?\n    scale: {1: cold, 3: warm}\n  - id: product")],
        location: "rubric.yaml:6:",
        mentions: &["criteria[0].scale", "consecutive"],
    },
    Case {
        name: "rubric: duplicate id",
        edits: &[("rubric.yaml", "  - id: product", "  - id: product\n    kind: regex\n    pattern: x\n  - id: product")],
        location: "rubric.yaml:6:",
        mentions: &["criteria[1].id", "duplicate"],
    },
    Case {
        name: "rubric: key of another kind",
        edits: &[("rubric.yaml", "  - id: product", "  - id: steps\n    kind: regex\n    pattern: x\n    terms: [a]\n  - id: product")],
        location: "rubric.yaml:6:",
        mentions: &["criteria[0].terms", "does not apply"],
    },
    Case {
        name: "rubric: length bounds reversed",
        edits: &[("rubric.yaml", "  - id: product", "  - id: short\n    kind: length\n    unit: words\n    min: 90\n    max: 20\n  - id: product")],
        location: "rubric.yaml:6:",
        mentions: &["criteria[0].min", "above max"],
    },
    Case {
        name: "rubric: missing schema file",
        edits: &[("rubric.yaml", "  - id: product", "  - id: shape\n    kind: json\n    schema: nowhere.json\n  - id: product")],
        location: "rubric.yaml:5:",
        mentions: &["criteria[0].schema", "nowhere.json"],
    },
    Case {
        name: "rubric: judge criterion but no judge in the suite",
        edits: &[("rubric.yaml", "  - id: product", "  - id: tone\n    kind: judge\n    instructions: Is it warm?\n    scale: {1: cold, 2: warm}\n  - id: product")],
        location: "suite.yaml:5:",
        mentions: &["rubric", "judge:"],
    },
    Case {
        name: "rubric: threshold out of range",
        edits: &[("rubric.yaml", "pass_threshold: 0.5", "pass_threshold: 80")],
        location: "rubric.yaml:1:",
        mentions: &["pass_threshold", "between 0 and 1"],
    },
];

fn write_fixture(dir: &Path, edits: &[(&str, &str, &str)]) {
    for (name, content) in [
        ("suite.yaml", SUITE),
        ("train.jsonl", TRAIN),
        ("held-out.jsonl", HELD_OUT),
        ("rubric.yaml", RUBRIC),
    ] {
        let mut content = content.to_string();
        for (file, find, replace) in edits {
            if *file == name {
                assert!(content.contains(find), "fixture edit `{find}` not found in {name}");
                content = content.replacen(find, replace, 1);
            }
        }
        fs::write(dir.join(name), content).unwrap();
    }
}

#[test]
fn the_valid_fixture_validates() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &[]);
    Command::cargo_bin("bedrock-eval")
        .unwrap()
        .args(["validate", "suite.yaml"])
        .current_dir(dir.path())
        .assert()
        .success();
}

#[test]
fn every_malformed_input_is_refused_with_its_location() {
    let mut failures = Vec::new();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), case.edits);
        for command in [
            &["validate", "suite.yaml"][..],
            &["run", "suite.yaml", "--local", "--results", "out"][..],
        ] {
            let output = Command::cargo_bin("bedrock-eval")
                .unwrap()
                .args(command)
                .current_dir(dir.path())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            let problems: Vec<String> = [
                (output.status.code() != Some(2)).then(|| format!("exit code {:?}", output.status.code())),
                (!stderr.contains(case.location)).then(|| format!("no `{}`", case.location)),
                dir.path()
                    .join("out")
                    .exists()
                    .then(|| "created a results directory".to_string()),
            ]
            .into_iter()
            .flatten()
            .chain(
                case.mentions
                    .iter()
                    .filter(|m| !stderr.contains(*m))
                    .map(|m| format!("no `{m}`")),
            )
            .collect();
            if !problems.is_empty() {
                failures.push(format!(
                    "{} ({}): {}\n  stderr: {stderr}",
                    case.name,
                    command[0],
                    problems.join(", ")
                ));
            }
        }
    }
    assert!(CASES.len() >= 12);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
