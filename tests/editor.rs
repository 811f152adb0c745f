//! What editors and shells get: JSON Schemas for suites and rubrics — the committed files are what the types generate
//! today, the shipped example files point at them and pass them, a misspelt key fails them — and completion scripts
//! for bash, zsh, fish and PowerShell that know every subcommand.

mod common;

use std::path::{Path, PathBuf};

use common::command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `bedrock-eval schema KIND`'s output.
fn generated(kind: &str) -> String {
    let output = command().args(["schema", kind]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn schema(kind: &str) -> serde_json::Value {
    serde_json::from_str(&generated(kind)).unwrap()
}

/// A YAML file as the JSON value a schema validator checks (mapping keys as strings, as editors read them).
fn yaml_as_json(path: &Path) -> serde_json::Value {
    let yaml: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    fn convert(value: serde_yaml::Value) -> serde_json::Value {
        match value {
            serde_yaml::Value::Mapping(map) => serde_json::Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let key = match k {
                            serde_yaml::Value::String(s) => s,
                            other => serde_yaml::to_string(&other).unwrap().trim().to_string(),
                        };
                        (key, convert(v))
                    })
                    .collect(),
            ),
            serde_yaml::Value::Sequence(items) => serde_json::Value::Array(items.into_iter().map(convert).collect()),
            serde_yaml::Value::Tagged(tagged) => convert(tagged.value),
            other => serde_json::to_value(other).unwrap(),
        }
    }
    convert(yaml)
}

/// The problems `schema` finds in `instance`, as "path: message" lines.
fn problems(schema: &serde_json::Value, instance: &serde_json::Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).expect("a valid JSON Schema");
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

#[test]
fn the_committed_schemas_are_what_the_types_generate() {
    for kind in ["suite", "rubric"] {
        let path = root().join(format!("schemas/{kind}.schema.json"));
        let text = generated(kind);
        if std::env::var("BEDROCK_EVAL_UPDATE_SCHEMAS").as_deref() == Ok("1") {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} is out of date with the {kind} types: regenerate it with `cargo run -- schema {kind} > \
             schemas/{kind}.schema.json` (or run this test with BEDROCK_EVAL_UPDATE_SCHEMAS=1)",
            path.display()
        );
    }
}

/// The shipped suites and rubrics (examples and test fixtures), with the schema each should pass.
fn shipped_files() -> Vec<(PathBuf, &'static str)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root().join("suites")).unwrap() {
        files.push((entry.unwrap().path().join("suite.yaml"), "suite"));
    }
    for entry in std::fs::read_dir(root().join("rubrics")).unwrap() {
        let path = entry.unwrap().path();
        // Rubrics are the YAML files; `rubrics/scorers/` holds the programs of `command` criteria.
        if path.extension().is_some_and(|e| e == "yaml") {
            files.push((path, "rubric"));
        }
    }
    files.push((root().join("tests/fixtures/mini/suite.yaml"), "suite"));
    files.push((root().join("tests/fixtures/mini/rubric.yaml"), "rubric"));
    files.sort();
    files
}

#[test]
fn the_shipped_suites_and_rubrics_pass_their_schema_and_the_examples_name_it() {
    for (path, kind) in shipped_files() {
        let found = problems(&schema(kind), &yaml_as_json(&path));
        assert!(found.is_empty(), "{}:\n{}", path.display(), found.join("\n"));
        if path.starts_with(root().join("tests")) {
            continue;
        }
        // The editor's pointer: the first line, naming the committed schema by a path relative to the file.
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap();
        let target = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{} does not start with its $schema comment: {first}", path.display()));
        let schema_path = path.parent().unwrap().join(target);
        assert_eq!(
            std::fs::canonicalize(&schema_path).unwrap(),
            root().join(format!("schemas/{kind}.schema.json")),
            "{}",
            path.display()
        );
    }
}

#[test]
fn a_misspelt_key_or_a_wrong_type_fails_the_schema() {
    let suite = yaml_as_json(&root().join("suites/support-tone/suite.yaml"));
    let mut misspelt = suite.clone();
    misspelt["concurency"] = 4.into();
    let found = problems(&schema("suite"), &misspelt);
    assert!(found.iter().any(|p| p.contains("concurency")), "{found:?}");
    let mut wrong = suite;
    wrong["configs"][0]["kind"] = "fine-tune".into();
    let found = problems(&schema("suite"), &wrong);
    assert!(found.iter().any(|p| p.starts_with("/configs/0/kind")), "{found:?}");

    let mut rubric = yaml_as_json(&root().join("rubrics/support-tone.yaml"));
    rubric["criteria"][0]["wieght"] = 2.into();
    let found = problems(&schema("rubric"), &rubric);
    assert!(found.iter().any(|p| p.contains("wieght")), "{found:?}");
}

/// Every subcommand, as `--help` lists them.
const SUBCOMMANDS: [&str; 11] = [
    "run",
    "plan",
    "validate",
    "report",
    "score",
    "compare",
    "data",
    "loss",
    "serve",
    "schema",
    "completions",
];

#[test]
fn completions_for_each_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = command().args(["completions", shell]).output().unwrap();
        assert!(
            output.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.len() > 1000, "{shell}: {script}");
        for subcommand in SUBCOMMANDS {
            assert!(
                script.contains(subcommand),
                "{shell}'s completions do not name `{subcommand}`"
            );
        }
        assert!(
            script.contains("quiet") && script.contains("endpoint-url"),
            "{shell}: flags missing"
        );
        if shell == "bash" {
            // The script is valid bash.
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("bedrock-eval.bash");
            std::fs::write(&path, &script).unwrap();
            let status = std::process::Command::new("bash")
                .arg("-n")
                .arg(&path)
                .status()
                .unwrap();
            assert!(status.success(), "bash -n refused the completion script");
        }
    }
    let output = command().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

/// The placeholders `--help` may show: each says what the value is, the same word for the same kind of value in
/// every command.
const PLACEHOLDERS: [&str; 25] = [
    "SUITE",
    "RUN_DIR",
    "BASE_RUN",
    "NEW_RUN",
    "FILE",
    "PATH",
    "DIR",
    "URL",
    "ADDR",
    "ID",
    "REGION",
    "PROFILE",
    "MODE",
    "FORMAT",
    "FAMILY",
    "PURPOSE",
    "SHELL",
    "N",
    "MS",
    "FRACTION",
    "SIMILARITY",
    "POINTS",
    "ALPHA",
    "USD",
    "MODEL=FRACTION",
];

#[test]
fn every_commands_help_uses_the_same_placeholders_and_default_notation() {
    let placeholder = regex::Regex::new(r"<([A-Z][A-Z_=]*)>(\.\.\.)?").unwrap();
    let commands: [&[&str]; 13] = [
        &["run"],
        &["plan"],
        &["validate"],
        &["report"],
        &["score"],
        &["compare"],
        &["data", "check"],
        &["data", "split"],
        &["data", "leakage"],
        &["loss"],
        &["serve"],
        &["schema"],
        &["completions"],
    ];
    for args in commands {
        let output = command().args(args).arg("--help").output().unwrap();
        assert!(output.status.success(), "{args:?}");
        let help = String::from_utf8(output.stdout).unwrap();
        for found in placeholder.captures_iter(&help) {
            assert!(
                PLACEHOLDERS.contains(&&found[1]),
                "`{} --help` shows the placeholder <{}>",
                args.join(" "),
                &found[1]
            );
        }
        // Defaults clap does not show are written as it writes the ones it does: "default: …".
        assert!(
            !help.contains("(default "),
            "`{} --help`: a default without a colon",
            args.join(" ")
        );
    }
}
