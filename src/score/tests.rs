use super::*;
use crate::dataset::parse_line;
use std::io::Write;

fn rubric_in(dir: &std::path::Path, yaml: &str) -> Result<Rubric, crate::error::InputErrors> {
    let path = dir.join("rubric.yaml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    Rubric::load(&path)
}

fn load(yaml: &str) -> Result<Rubric, crate::error::InputErrors> {
    let dir = tempfile::tempdir().unwrap();
    rubric_in(dir.path(), yaml)
}

fn example() -> Example {
    parse_line(
        r#"{"id":"h1","prompt":"q","completion":"Calibrate the Kestrel Lock.","products":["Kestrel Lock","Kestrel Hub"],"none":[]}"#,
        1,
    )
    .unwrap()
}

fn no_judge(_: &str) -> Option<JudgeOutcome> {
    None
}

fn score(rubric: &Rubric, output: &str) -> OutputScore {
    score_output(rubric, &example(), output, &no_judge)
}

fn one(kind_yaml: &str, output: &str) -> Option<f64> {
    let rubric = load(&format!("pass_threshold: 0.5\ncriteria:\n  - id: c\n{kind_yaml}")).unwrap();
    score(&rubric, output).criteria[0].score
}

const RUBRIC: &str = r#"
pass_threshold: 0.75
criteria:
  - id: products
    kind: contains_all
    terms_from: products
    weight: 2
  - id: boilerplate
    kind: not_contains
    terms: ["I apologize for any inconvenience", "As an AI"]
    gate: true
  - id: steps
    kind: regex
    pattern: '(?m)^1\. '
  - id: empty_field
    kind: contains_any
    terms_from: none
"#;

#[test]
fn weighted_mean_with_fractions_and_not_applicable_criteria() {
    let rubric = load(RUBRIC).unwrap();
    // One of two products (0.5 × 2), no boilerplate (1 × 1), no steps (0 × 1); `empty_field` does not apply.
    let result = score(&rubric, "Your KESTREL LOCK needs a reset.");
    let scores: Vec<Option<f64>> = result.criteria.iter().map(|c| c.score).collect();
    assert_eq!(scores, vec![Some(0.5), Some(1.0), Some(0.0), None]);
    assert_eq!(result.quality, Some(2.0 / 4.0));
    assert_eq!(result.pass, Some(false));
}

#[test]
fn weights_and_gates_combined() {
    let rubric = load(RUBRIC).unwrap();
    let result = score(&rubric, "Kestrel Lock and Kestrel Hub:\n1. As an AI I cannot help.");
    // Everything else is met, but the gate scored 0.5: the example scores 0.
    assert_eq!(result.criteria[1].score, Some(0.5));
    assert_eq!(result.quality, Some(0.0));
    let result = score(&rubric, "kestrel lock, KESTREL HUB\n1. Do this.");
    assert_eq!(result.quality, Some(1.0));
    assert_eq!(result.pass, Some(true));
}

#[test]
fn empty_output() {
    let rubric = load(RUBRIC).unwrap();
    let result = score(&rubric, "");
    assert_eq!(result.criteria[0].score, Some(0.0));
    assert_eq!(result.criteria[1].score, Some(1.0));
    assert_eq!(result.criteria[2].score, Some(0.0));
    assert_eq!(one("    kind: length\n    unit: words\n    min: 1\n", ""), Some(0.0));
    assert_eq!(one("    kind: json\n", ""), Some(0.0));
    assert_eq!(one("    kind: reference\n    method: rouge_l\n", ""), Some(0.0));
}

#[test]
fn unicode_case_folding_and_normalisation() {
    let terms = "    kind: contains_all\n    terms: [\"STRASSE\", \"ﬁle\"]\n";
    assert_eq!(one(terms, "die straße, the file"), Some(1.0));
    let exact = "    kind: contains_all\n    terms: [\"STRASSE\"]\n    case_sensitive: true\n";
    assert_eq!(one(exact, "die straße"), Some(0.0));
    // Full case folding alone also maps the ﬁ ligature to "fi"; without either, it stays distinct.
    let raw = "    kind: contains_all\n    terms: [\"ﬁle\"]\n    normalize_unicode: false\n    case_sensitive: true\n";
    assert_eq!(one(raw, "the file"), Some(0.0));
}

#[test]
fn overlapping_terms_are_each_counted() {
    // "Kestrel" and "Kestrel Hub" overlap in the output; each term is found on its own.
    let terms = "    kind: contains_all\n    terms: [\"Kestrel\", \"Kestrel Hub\", \"Hub\"]\n";
    assert_eq!(one(terms, "Reset the Kestrel Hub."), Some(1.0));
    let any = "    kind: not_contains\n    terms: [\"ai\"]\n    whole_words: true\n";
    assert_eq!(one(any, "It was paid."), Some(1.0));
    assert_eq!(one(any, "As an AI, no."), Some(0.0));
}

#[test]
fn json_in_a_fenced_block_with_keys_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.json"),
        r#"{"type":"object","properties":{"priority":{"enum":["low","high"]}},"required":["priority"]}"#,
    )
    .unwrap();
    let rubric = rubric_in(
        dir.path(),
        "pass_threshold: 0.5\ncriteria:\n  - id: j\n    kind: json\n    required_keys: [priority, team]\n    schema: schema.json\n",
    )
    .unwrap();
    let check = |output: &str| score(&rubric, output).criteria[0].score;
    assert_eq!(
        check("```json\n{\"priority\": \"high\", \"team\": \"locks\"}\n```"),
        Some(1.0)
    );
    // One of two keys (0.5) and valid against the schema (1): mean 0.75.
    assert_eq!(check("{\"priority\": \"low\"}"), Some(0.75));
    // Both keys, schema violated.
    assert_eq!(check("{\"priority\": \"urgent\", \"team\": \"x\"}"), Some(0.5));
    assert_eq!(check("not json at all"), Some(0.0));
    let strict = "    kind: json\n    allow_fenced: false\n";
    assert_eq!(one(strict, "```json\n{}\n```"), Some(0.0));
}

#[test]
fn invalid_schema_is_a_load_time_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), r#"{"type": 12}"#).unwrap();
    let errors = rubric_in(
        dir.path(),
        "pass_threshold: 0.5\ncriteria:\n  - id: j\n    kind: json\n    schema: bad.json\n",
    )
    .unwrap_err()
    .0;
    assert_eq!(errors[0].field.as_deref(), Some("criteria[0].schema"));
    assert_eq!(errors[0].line, Some(5));
    assert!(
        errors[0].message.contains("not a valid JSON Schema"),
        "{}",
        errors[0].message
    );
}

#[test]
fn a_credentials_file_given_as_a_schema_is_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("key.json"),
        r#"{"type": "service_account", "private_key_id": "k3y-1d-0123456789", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIB\n"}"#,
    )
    .unwrap();
    let errors = rubric_in(
        dir.path(),
        "pass_threshold: 0.5\ncriteria:\n  - id: j\n    kind: json\n    schema: key.json\n",
    )
    .unwrap_err()
    .0;
    let message = &errors[0].message;
    assert!(message.contains("the value at `/type`"), "{message}");
    for secret in ["service_account", "k3y-1d", "PRIVATE KEY", "MIIEvQIB"] {
        assert!(!message.contains(secret), "{message}");
    }
}

#[test]
fn length_and_reference() {
    let words = "    kind: length\n    unit: words\n    min: 2\n    max: 3\n";
    assert_eq!(one(words, "one two three"), Some(1.0));
    assert_eq!(one(words, "one two three four"), Some(0.0));
    let chars = "    kind: length\n    unit: characters\n    max: 3\n";
    assert_eq!(one(chars, "héé"), Some(1.0));
    let exact = "    kind: reference\n    method: exact\n";
    assert_eq!(one(exact, "  Calibrate the Kestrel Lock.\n"), Some(1.0));
    let normalized = "    kind: reference\n    method: normalized_exact\n";
    assert_eq!(one(normalized, "calibrate THE kestrel lock"), Some(1.0));
    assert_eq!(one(exact, "calibrate THE kestrel lock"), Some(0.0));
    let f1 = "    kind: reference\n    method: token_f1\n";
    assert_eq!(one(f1, "Calibrate the lock"), Some(2.0 * 1.0 * 0.75 / 1.75));
}

#[test]
fn a_length_maximum_decided_without_counting_agrees_with_the_count() {
    // Replies at and around the byte bound of a maximum alone (words: two bytes per word but the last), where the
    // count is skipped, against the count itself.
    let replies = [
        "a b c",
        "a b c ",
        "a b cd",
        "ab c",
        "a  b c",
        "a\u{3000}b\u{3000}c",
        "é é é",
        "a b c d",
        "a\tb\nc",
        "",
        " ",
        "abcdef",
    ];
    for max in 0..=4u64 {
        for unit in ["words", "characters"] {
            let yaml = format!("    kind: length\n    unit: {unit}\n    max: {max}\n");
            for reply in replies {
                let length = match unit {
                    "words" => reply.split_whitespace().count(),
                    _ => reply.chars().count(),
                } as u64;
                let expected = f64::from(u8::from(length <= max));
                assert_eq!(one(&yaml, reply), Some(expected), "{unit} max {max}: {reply:?}");
            }
        }
    }
}

#[test]
fn judge_outcomes_scale_errors_and_gates() {
    let yaml = "pass_threshold: 0.5\ncriteria:\n  - id: tone\n    kind: judge\n    instructions: Is it warm?\n    scale: {1: cold, 2: neutral, 3: ok, 4: warm, 5: lovely}\n  - id: steps\n    kind: regex\n    pattern: 'x'\n";
    let rubric = load(yaml).unwrap();
    let judged = |level: JudgeOutcome| move |_: &str| Some(level.clone());
    let result = score_output(
        &rubric,
        &example(),
        "x",
        &judged(Ok(judge::Judged {
            level: 4.0,
            reasons: vec!["ok".into()],
        })),
    );
    assert_eq!(result.criteria[0].score, Some(0.75));
    assert_eq!(result.quality, Some((0.75 + 1.0) / 2.0));
    // A judge error is recorded for the criterion, never as a zero; the others still score.
    let result = score_output(&rubric, &example(), "x", &judged(Err("malformed verdict".into())));
    assert_eq!(result.criteria[0].score, None);
    assert_eq!(result.criteria[0].error.as_deref(), Some("malformed verdict"));
    assert_eq!(result.quality, Some(1.0));
    // A gate that could not be judged leaves the example unscored.
    let gated = load(&yaml.replace("    instructions", "    gate: true\n    instructions")).unwrap();
    let result = score_output(&gated, &example(), "x", &judged(Err("malformed verdict".into())));
    assert_eq!((result.quality, result.pass), (None, None));
}

#[test]
fn malformed_rubrics_name_line_and_field() {
    let cases = [
        ("pass_threshold: 1.5\ncriteria:\n  - {id: a, kind: regex, pattern: x}\n", "pass_threshold", 1),
        ("pass_threshold: 0.5\ncriteria:\n  - {id: a, kind: regex, pattern: '(['}\n", "criteria[0].pattern", 3),
        ("pass_threshold: 0.5\ncriteria:\n  - id: a\n    kind: regex\n    pattern: x\n    weight: -1\n", "criteria[0].weight", 6),
        ("pass_threshold: 0.5\ncriteria:\n  - id: a\n    kind: contains_all\n", "criteria[0].kind", 4),
        ("pass_threshold: 0.5\ncriteria:\n  - {id: a, kind: regex, pattern: x}\n  - {id: a, kind: regex, pattern: y}\n", "criteria[1].id", 4),
        ("pass_threshold: 0.5\ncriteria:\n  - {id: a, kind: telepathy}\n", "criteria[0].kind", 3),
        ("pass_threshold: 0.5\ncriteria:\n  - id: a\n    kind: judge\n    instructions: Be fair.\n", "criteria[0].kind", 4),
        ("pass_threshold: 0.5\ncriteria:\n  - id: a\n    kind: judge\n    instructions: x\n    scale: {1: bad, 3: good}\n", "criteria[0].scale", 6),
        ("pass_threshold: 0.5\ncriteria:\n  - id: a\n    kind: regex\n    pattern: x\n    terms: [y]\n", "criteria[0].terms", 6),
        ("pass_threshold: 0.5\ncriteria:\n  - id: a\n    kind: length\n    unit: words\n    min: 9\n    max: 2\n", "criteria[0].min", 6),
        ("pass_threshold: 0.5\ncriteria:\n  - id: a\n    kind: judge\n    instructions: x\n    scale: {1: a, 2: b}\n    samples: 0\n", "criteria[0].samples", 7),
        ("pass_threshold: 0.5\ncriteria:\n  - id: a\n    kind: json\n    schema: missing.json\n", "criteria[0].schema", 5),
        ("pass_threshold: 0.5\ncriteria:\n  - id: a\n    kind: regex\n    patern: x\n", "criteria[0]", 5),
    ];
    for (yaml, field, line) in cases {
        let errors = load(yaml).unwrap_err().0;
        assert_eq!(errors[0].field.as_deref(), Some(field), "{yaml}: {errors:?}");
        assert_eq!(errors[0].line, Some(line), "{yaml}: {errors:?}");
    }
}
