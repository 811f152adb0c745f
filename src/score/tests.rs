use super::*;
use crate::dataset::parse_line;
use std::io::Write;

fn rubric(yaml: &str) -> Result<Rubric, crate::error::InputErrors> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(yaml.as_bytes()).unwrap();
    Rubric::load(file.path())
}

fn example() -> Example {
    parse_line(
        r#"{"id":"h1","prompt":"q","products":["Kestrel Lock","Kestrel Hub"],"none":[]}"#,
        1,
    )
    .unwrap()
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
    let rubric = rubric(RUBRIC).unwrap();
    // One of two products (0.5 × 2), no boilerplate (1 × 1), no steps (0 × 1); `empty_field` does not apply.
    let score = score_output(&rubric, &example(), "Your KESTREL LOCK needs a reset.");
    let ids: Vec<Option<f64>> = score.criteria.iter().map(|c| c.score).collect();
    assert_eq!(ids, vec![Some(0.5), Some(1.0), Some(0.0), None]);
    assert!((score.quality - 2.0 / 4.0).abs() < 1e-12);
    assert!(!score.pass);
}

#[test]
fn a_failed_gate_zeroes_the_score() {
    let rubric = rubric(RUBRIC).unwrap();
    let output = "Kestrel Lock and Kestrel Hub:\n1. As an AI I cannot help.";
    let score = score_output(&rubric, &example(), output);
    assert_eq!(score.criteria[1].score, Some(0.5));
    assert_eq!(score.quality, 0.0);
}

#[test]
fn all_met_passes_and_case_folding_is_unicode_aware() {
    let rubric = rubric(RUBRIC).unwrap();
    let score = score_output(
        &rubric,
        &example(),
        "kestrel lock, KESTREL HUB\n1. Do this.",
    );
    assert_eq!(score.quality, 1.0);
    assert!(score.pass);
    let folded = rubric_with_term("STRASSE");
    assert_eq!(score_output(&folded, &example(), "straße").quality, 0.0);
    assert_eq!(
        score_output(&rubric_with_term("ÉCLAIR"), &example(), "un éclair").quality,
        1.0
    );
}

fn rubric_with_term(term: &str) -> Rubric {
    rubric(&format!("pass_threshold: 0.5\ncriteria:\n  - id: t\n    kind: contains_all\n    terms: [\"{term}\"]\n")).unwrap()
}

#[test]
fn empty_output_scores_zero_on_contains_and_full_on_not_contains() {
    let rubric = rubric(RUBRIC).unwrap();
    let score = score_output(&rubric, &example(), "");
    assert_eq!(score.criteria[0].score, Some(0.0));
    assert_eq!(score.criteria[1].score, Some(1.0));
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
    ];
    for (yaml, field, line) in cases {
        let errors = rubric(yaml).unwrap_err().0;
        assert_eq!(
            errors[0].field.as_deref(),
            Some(field),
            "{yaml}: {errors:?}"
        );
        assert_eq!(errors[0].line, Some(line), "{yaml}: {errors:?}");
    }
}
