//! The `json_fields`, `label` and `command` kinds: loading, their errors, and scoring.

use super::*;
use crate::dataset::parse_line;

fn load(yaml: &str) -> Result<Rubric, crate::error::InputErrors> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rubric.yaml");
    std::fs::write(&path, yaml).unwrap();
    Rubric::load(&path)
}

fn ticket() -> Example {
    parse_line(
        r#"{"id":"t1","prompt":"My card was charged twice","completion":"billing","category":"billing","urgency":"high","minutes":30,"tags":["card","refund"],"products":["Kestrel Pay","Pay"],"none":null}"#,
        1,
    )
    .unwrap()
}

fn one(criterion_yaml: &str, output: &str) -> CriterionScore {
    let rubric = load(&format!("pass_threshold: 0.5\ncriteria:\n  - id: c\n{criterion_yaml}")).unwrap();
    score_output(&rubric, &ticket(), output, &|_| None).criteria.remove(0)
}

const FIELDS: &str = "    kind: json_fields
    fields:
      - {path: category, compare: exact}
      - {path: triage.urgency, field: urgency, compare: text}
      - {path: minutes, compare: number, tolerance: 5}
      - {path: tags, compare: set}
      - {path: product, field: products, compare: one_of}
";

#[test]
fn json_fields_scores_the_fraction_right_and_reports_each_field() {
    let reply = r#"{"category": "billing", "triage": {"urgency": " HIGH "}, "minutes": "33", "tags": ["refund", "Card"], "product": "pay"}"#;
    let result = one(FIELDS, reply);
    assert_eq!(result.score, Some(1.0));
    assert_eq!(result.fields.len(), 5);
    assert!(result.fields.iter().all(|f| f.correct == Some(true)));

    // Key order does not matter; wrong values, a missing key and a fenced block with prose around it.
    let reply = "Here you go:\n```json\n{\"product\": \"Kestrel Lock\", \"minutes\": 40, \"category\": \"billing\", \"tags\": [\"card\"]}\n```";
    let result = one(FIELDS, reply);
    let correct: Vec<Option<bool>> = result.fields.iter().map(|f| f.correct).collect();
    assert_eq!(
        correct,
        [Some(true), Some(false), Some(false), Some(false), Some(false)]
    );
    assert_eq!(result.score, Some(0.2));

    // Invalid or missing JSON scores 0; prose around unfenced JSON is not JSON.
    assert_eq!(one(FIELDS, "billing, high").score, Some(0.0));
    assert_eq!(
        one(FIELDS, "The answer is {\"category\": \"billing\"}").score,
        Some(0.0)
    );
    assert_eq!(
        one(&format!("{FIELDS}    allow_fenced: false\n"), reply).score,
        Some(0.0)
    );
}

#[test]
fn json_fields_leaves_out_fields_the_example_has_no_value_for() {
    let yaml = "    kind: json_fields\n    fields:\n      - {path: none}\n      - {path: category}\n";
    let result = one(yaml, r#"{"category": "billing"}"#);
    assert_eq!(result.score, Some(1.0));
    assert_eq!(result.fields[0].correct, None);
    let only_missing = "    kind: json_fields\n    fields:\n      - {path: none}\n";
    assert_eq!(one(only_missing, "{}").score, None, "not applicable, not 0");
    let accepted =
        "    kind: json_fields\n    fields:\n      - {path: level, compare: one_of, accepted: [low, medium, high]}\n";
    assert_eq!(one(accepted, r#"{"level": "Medium"}"#).score, Some(1.0));
    assert_eq!(one(accepted, r#"{"level": "urgent"}"#).score, Some(0.0));
}

#[test]
fn label_from_the_reply_a_regex_group_or_a_json_path_with_synonyms() {
    let reply = "    kind: label\n    from: reply\n    field: category\n";
    let result = one(reply, "  Billing \n");
    assert_eq!(result.score, Some(1.0));
    assert_eq!(
        result.label,
        Some(fields::LabelResult {
            expected: "billing".into(),
            predicted: Some("billing".into())
        })
    );
    assert_eq!(one(reply, "It is billing.").score, Some(0.0));

    let synonyms = format!("{reply}    synonyms: {{billing: [invoice, \"Payment  issue\"]}}\n");
    assert_eq!(one(&synonyms, "payment issue").score, Some(1.0));
    assert_eq!(
        one(&synonyms, "payment issue").label.unwrap().predicted.as_deref(),
        Some("billing")
    );

    let regex = "    kind: label\n    from: regex\n    pattern: 'Category: (\\w+)'\n    field: category\n";
    assert_eq!(one(regex, "Category: BILLING, urgency high").score, Some(1.0));
    let no_match = one(regex, "no idea");
    assert_eq!(no_match.score, Some(0.0));
    assert_eq!(no_match.label.unwrap().predicted, None);
    let named = "    kind: label\n    from: regex\n    pattern: 'U=(?P<u>\\w+)'\n    group: u\n    field: urgency\n";
    assert_eq!(one(named, "U=high").score, Some(1.0));

    let json = "    kind: label\n    from: json\n    path: triage.category\n    field: category\n";
    assert_eq!(
        one(json, "```json\n{\"triage\": {\"category\": \"Billing\"}}\n```").score,
        Some(1.0)
    );
    assert_eq!(one(json, "{\"triage\": {}}").label.unwrap().predicted, None);

    // The reference reply as the label (prompt/completion classification data).
    let reference = "    kind: label\n    from: reply\n    field: reference\n";
    assert_eq!(one(reference, "BILLING").score, Some(1.0));
    let missing = "    kind: label\n    from: reply\n    field: none\n";
    assert_eq!(one(missing, "billing").score, None);
}

#[test]
fn structured_kinds_reject_keys_and_values_that_do_not_belong() {
    let cases = [
        ("    kind: json_fields\n", "criteria[0].kind", 4),
        (
            "    kind: json_fields\n    fields:\n      - {path: 'a..b'}\n",
            "criteria[0].fields[0].path",
            6,
        ),
        (
            "    kind: json_fields\n    fields:\n      - {path: a, compare: text, tolerance: 1}\n",
            "criteria[0].fields[0].tolerance",
            6,
        ),
        (
            "    kind: json_fields\n    fields:\n      - {path: a, compare: number, tolerance: -1}\n",
            "criteria[0].fields[0].tolerance",
            6,
        ),
        (
            "    kind: json_fields\n    fields:\n      - {path: a, compare: exact, accepted: [x]}\n",
            "criteria[0].fields[0].accepted",
            6,
        ),
        (
            "    kind: json_fields\n    fields:\n      - {path: a, compare: fuzzy}\n",
            "criteria[0].fields[0].compare",
            6,
        ),
        (
            "    kind: json_fields\n    fields:\n      - {path: a, colour: red}\n",
            "criteria[0].fields[0]",
            6,
        ),
        (
            "    kind: json_fields\n    fields:\n      - {path: a}\n      - {path: a}\n",
            "criteria[0].fields[1].path",
            7,
        ),
        (
            "    kind: json_fields\n    fields:\n      - {path: a}\n    pattern: x\n",
            "criteria[0].pattern",
            7,
        ),
        ("    kind: label\n", "criteria[0].kind", 4),
        ("    kind: label\n    from: regex\n", "criteria[0].from", 5),
        (
            "    kind: label\n    from: regex\n    pattern: '(a)'\n    group: 2\n",
            "criteria[0].group",
            7,
        ),
        (
            "    kind: label\n    from: regex\n    pattern: '(?P<x>a)'\n    group: y\n",
            "criteria[0].group",
            7,
        ),
        ("    kind: label\n    from: reply\n    path: a\n", "criteria[0].path", 6),
        ("    kind: label\n    from: json\n", "criteria[0].from", 5),
        (
            "    kind: label\n    from: json\n    path: a\n    fields: []\n",
            "criteria[0].fields",
            7,
        ),
        (
            "    kind: label\n    from: reply\n    synonyms: {a: [x], b: [x]}\n",
            "criteria[0].synonyms.b",
            6,
        ),
        ("    kind: command\n", "criteria[0].kind", 4),
        (
            "    kind: command\n    argv: [no-such-program-here]\n",
            "criteria[0].argv[0]",
            5,
        ),
        (
            "    kind: command\n    argv: [python3, missing.py]\n",
            "criteria[0].argv[1]",
            5,
        ),
        (
            "    kind: command\n    argv: [sh]\n    timeout_ms: 0\n",
            "criteria[0].timeout_ms",
            6,
        ),
        (
            "    kind: command\n    argv: [sh]\n    concurrency: 0\n",
            "criteria[0].concurrency",
            6,
        ),
        (
            "    kind: command\n    argv: [sh]\n    from: reply\n",
            "criteria[0].from",
            6,
        ),
    ];
    for (criterion, field, line) in cases {
        let yaml = format!("pass_threshold: 0.5\ncriteria:\n  - id: c\n{criterion}");
        let errors = load(&yaml).unwrap_err().0;
        assert_eq!(errors[0].field.as_deref(), Some(field), "{yaml}: {errors:?}");
        assert_eq!(errors[0].line, Some(line), "{yaml}: {errors:?}");
    }
}

#[test]
fn command_argv_paths_are_resolved_beside_the_rubric_and_hashed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("score.py"), "print('{\"score\": 1}')\n").unwrap();
    let path = dir.path().join("rubric.yaml");
    let yaml = "pass_threshold: 0.5\ncriteria:\n  - id: c\n    kind: command\n    argv: [python3, score.py, --strict]\n    params: {scale: 3}\n";
    std::fs::write(&path, yaml).unwrap();
    let rubric = Rubric::load(&path).unwrap();
    let check = rubric.criteria[0].command().unwrap().clone();
    let script = std::fs::canonicalize(dir.path().join("score.py")).unwrap();
    assert_eq!(check.argv, ["python3", script.to_str().unwrap(), "--strict"]);
    assert_eq!((check.timeout_ms, check.concurrency), (10_000, 4));
    assert_eq!(check.params, serde_json::json!({"scale": 3}));

    // The program's bytes are part of every call's fingerprint; the reply and the example are too.
    let input = command::command_input("c", &check, &ticket(), "reply");
    let before = command::command_fingerprint(&check, &input);
    std::fs::write(dir.path().join("score.py"), "print('{\"score\": 0}')\n").unwrap();
    let edited = Rubric::load(&path).unwrap();
    let edited = edited.criteria[0].command().unwrap();
    assert_ne!(before, command::command_fingerprint(edited, &input));
    let other_reply = command::command_input("c", &check, &ticket(), "other");
    assert_ne!(before, command::command_fingerprint(&check, &other_reply));
    let document: serde_json::Value = serde_json::from_slice(&input).unwrap();
    assert_eq!(document["reply"], "reply");
    assert_eq!(document["example"]["fields"]["category"], "billing");
    assert_eq!(document["example"]["reference"], "billing");
    assert_eq!(document["params"]["scale"], 3);
}

#[test]
fn command_outcomes_are_scores_or_criterion_errors_never_zeros() {
    let rubric = load("pass_threshold: 0.5\ncriteria:\n  - id: c\n    kind: command\n    argv: [sh]\n  - id: r\n    kind: regex\n    pattern: x\n").unwrap();
    let verdict = |outcome: command::CommandOutcome| move |_: &str| Some(outcome.clone());
    let ok = score_output_with(
        &rubric,
        &ticket(),
        "x",
        &|_| None,
        &verdict(Ok(command::CommandVerdict {
            score: 0.5,
            reason: "half".into(),
        })),
    );
    assert_eq!(ok.criteria[0].score, Some(0.5));
    assert_eq!(ok.criteria[0].reason.as_deref(), Some("half"));
    assert_eq!(ok.quality, Some(0.75));
    let failed = score_output_with(&rubric, &ticket(), "x", &|_| None, &verdict(Err("timed out".into())));
    assert_eq!(failed.criteria[0].score, None);
    assert_eq!(failed.criteria[0].error.as_deref(), Some("timed out"));
    assert_eq!(failed.quality, Some(1.0), "left out of the mean, not counted as 0");
}
