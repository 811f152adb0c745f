//! The fine-tuning data tools on crafted fixtures (`tests/fixtures/data/`): each planted problem is caught on the
//! right lines, a clean file passes, the split is reproducible and keeps near duplicates together, and the loss
//! diagnosis calls overfitting at the right epoch.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use bedrock_eval::data::check::{check_file, check_file_with, CheckOptions};
use bedrock_eval::data::leakage::{find_leakage_in_files, LeakKind};
use bedrock_eval::data::loss::{curves_svg, diagnose, read_metrics, Verdict};
use bedrock_eval::data::split::{split, SplitOptions};
use bedrock_eval::data::{DataError, FindingKind, Format, ModelFamily, Purpose, Threshold};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/data")
        .join(name)
}

#[test]
fn a_clean_file_passes_with_a_summary() {
    let report = check_file(&fixture("clean.jsonl"), Format::Auto, None).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.format, Some(Format::PromptCompletion));
    assert_eq!((report.summary.lines, report.summary.records), (10, 10));
    let input = report.summary.input_tokens.unwrap();
    let output = report.summary.output_tokens.unwrap();
    assert!(input.min <= input.median && input.median <= input.p95 && input.p95 <= input.max);
    assert!(output.max > input.max, "replies are longer than prompts here");

    let nova = check_file(&fixture("clean-nova.jsonl"), Format::Auto, Some(ModelFamily::Nova)).unwrap();
    assert!(nova.passed(), "{:?}", nova.errors);
    assert_eq!(nova.format, Some(Format::BedrockConversation2024));
}

#[test]
fn limits_depend_on_the_family() {
    // Ten records: enough for Nova's 8, too few for Claude 3 Haiku's 32 (and in the wrong format for it).
    let haiku = check_file(&fixture("clean.jsonl"), Format::Auto, Some(ModelFamily::Claude3Haiku)).unwrap();
    let kinds: Vec<_> = haiku
        .errors
        .iter()
        .filter(|f| f.line.is_none())
        .map(|f| f.kind)
        .collect();
    assert_eq!(kinds, vec![FindingKind::WrongFormat, FindingKind::RecordCount]);
    let llama = check_file(&fixture("clean.jsonl"), Format::Auto, Some(ModelFamily::Llama31)).unwrap();
    assert!(llama.passed(), "{:?}", llama.errors);
}

#[test]
fn bad_role_order_is_caught_on_its_lines() {
    let report = check_file(&fixture("bad-role-order.jsonl"), Format::Auto, None).unwrap();
    assert_eq!(report.format, Some(Format::ClaudeConversation));
    let found: Vec<_> = report
        .errors
        .iter()
        .map(|f| (f.kind, f.line, f.field.as_deref()))
        .collect();
    assert_eq!(
        found,
        vec![
            (FindingKind::RoleOrder, Some(2), Some("messages[0].role")),
            (FindingKind::RoleOrder, Some(4), Some("messages[1].role")),
        ]
    );
    assert!(report.errors[1].message.contains("two user messages in a row"));
}

#[test]
fn an_empty_completion_is_caught_on_its_line() {
    let report = check_file(&fixture("empty-completion.jsonl"), Format::PromptCompletion, None).unwrap();
    let found: Vec<_> = report
        .errors
        .iter()
        .map(|f| (f.kind, f.line, f.field.as_deref()))
        .collect();
    assert_eq!(found, vec![(FindingKind::EmptyText, Some(3), Some("completion"))]);
    // Held-out data may leave the reply out, but not leave it blank.
    let options = CheckOptions {
        purpose: Purpose::HeldOut,
        ..CheckOptions::new(Format::Auto, None)
    };
    assert_eq!(
        check_file_with(&fixture("empty-completion.jsonl"), &options)
            .unwrap()
            .errors
            .len(),
        1
    );
}

#[test]
fn a_duplicate_pair_is_a_warning_naming_both_lines() {
    let report = check_file(&fixture("duplicates.jsonl"), Format::Auto, None).unwrap();
    assert!(
        report.passed(),
        "duplicates are warnings, not errors: {:?}",
        report.errors
    );
    let found: Vec<_> = report.warnings.iter().map(|f| (f.kind, f.line, f.other_line)).collect();
    assert_eq!(found, vec![(FindingKind::Duplicate, Some(5), Some(2))]);
    assert!(report.warnings[0].to_string().starts_with("line 5: duplicates line 2"));
}

#[test]
fn a_near_duplicate_across_train_and_held_out_is_a_leak() {
    let report = find_leakage_in_files(
        &fixture("leak-train.jsonl"),
        &fixture("leak-held-out.jsonl"),
        Threshold::DEFAULT,
    )
    .unwrap();
    assert_eq!((report.train_records, report.held_out_records), (6, 3));
    assert_eq!(report.leaks.len(), 1, "{:?}", report.leaks);
    let leak = &report.leaks[0];
    assert_eq!(
        (leak.kind, leak.train_line, leak.held_out_line),
        (LeakKind::NearInput, 4, 2)
    );
    assert!(leak.jaccard >= 0.8 && leak.jaccard < 1.0, "{}", leak.jaccard);
    // A stricter threshold lets it pass.
    let strict = find_leakage_in_files(
        &fixture("leak-train.jsonl"),
        &fixture("leak-held-out.jsonl"),
        Threshold::new(0.9).unwrap(),
    )
    .unwrap();
    assert!(strict.leaks.is_empty());
}

fn split_into(dir: &Path, seed: u64) -> bedrock_eval::data::SplitResult {
    let options = SplitOptions {
        validation: 0.15,
        test: 0.15,
        seed,
        ..SplitOptions::new(dir)
    };
    split(&fixture("split.jsonl"), &options).unwrap()
}

#[test]
fn the_split_is_reproducible_and_keeps_near_duplicates_together() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let first = split_into(a.path(), 11);
    let again = split_into(b.path(), 11);
    let other = split_into(c.path(), 12);
    for part in ["train", "validation", "test"] {
        let name = format!("split.{part}.jsonl");
        assert_eq!(
            fs::read(a.path().join(&name)).unwrap(),
            fs::read(b.path().join(&name)).unwrap(),
            "{name} differs between runs with the same seed"
        );
    }
    assert_eq!(
        (&first.train.lines, &first.validation.lines, &first.test.lines),
        (&again.train.lines, &again.validation.lines, &again.test.lines)
    );
    assert_ne!(first.test.lines, other.test.lines, "another seed gives another split");
    assert_eq!(first.groups, vec![vec![5, 17, 33]]);
    assert_eq!(
        (
            first.train.lines.len(),
            first.validation.lines.len(),
            first.test.lines.len()
        ),
        (27, 6, 6)
    );
    let all: BTreeSet<usize> = [&first.train, &first.validation, &first.test]
        .iter()
        .flat_map(|p| p.lines.iter().copied())
        .collect();
    assert_eq!(all, (1..=39).collect());
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);

    // Lines are copied verbatim, in input order.
    let source: Vec<String> = fs::read_to_string(fixture("split.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let test_text = fs::read_to_string(&first.test.path).unwrap();
    let expected: Vec<&str> = first.test.lines.iter().map(|&l| source[l - 1].as_str()).collect();
    assert_eq!(test_text.lines().collect::<Vec<_>>(), expected);

    for seed in 0..25 {
        let dir = tempfile::tempdir().unwrap();
        let result = split_into(dir.path(), seed);
        let holding: Vec<_> = [&result.train, &result.validation, &result.test]
            .iter()
            .filter(|p| p.lines.iter().any(|l| [5, 17, 33].contains(l)))
            .map(|p| p.lines.iter().filter(|l| [5, 17, 33].contains(l)).count())
            .collect();
        assert_eq!(holding, vec![3], "seed {seed}: the group was split");
    }
}

#[test]
fn the_split_refuses_to_overwrite_and_warns_about_the_validation_share() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("split.validation.jsonl");
    fs::write(&existing, "keep me\n").unwrap();
    let error = split(&fixture("split.jsonl"), &SplitOptions::new(dir.path())).unwrap_err();
    match error {
        DataError::Input(error) => assert_eq!(error.file, existing),
        other => panic!("expected an input error, got {other}"),
    }
    assert_eq!(fs::read_to_string(&existing).unwrap(), "keep me\n");
    assert!(
        !dir.path().join("split.train.jsonl").exists(),
        "nothing is written on refusal"
    );

    let fresh = tempfile::tempdir().unwrap();
    let options = SplitOptions {
        validation: 0.3,
        test: 0.0,
        ..SplitOptions::new(fresh.path())
    };
    let result = split(&fixture("split.jsonl"), &options).unwrap();
    assert_eq!(result.warnings.len(), 1);
    assert!(result.warnings[0].contains("outside the recommended 10–20%"));
    assert!(result.test.lines.is_empty());
}

#[test]
fn overfitting_after_epoch_two_is_called_at_epoch_two() {
    let curves = read_metrics(&[fixture("loss/overfit")]).unwrap();
    assert_eq!((curves.training.len(), curves.validation.len()), (20, 5));
    assert!(curves.training[0].perplexity.is_some());
    let diagnosis = diagnose(&curves);
    assert_eq!(diagnosis.verdict, Verdict::Overfitting);
    assert_eq!(
        (diagnosis.best_validation_epoch, diagnosis.stop_epoch),
        (Some(2), Some(2))
    );
    assert_eq!(diagnosis.epochs.len(), 5);
    assert!((diagnosis.epochs[1].training_loss.unwrap() - 1.05).abs() < 1e-9);
    assert!(diagnosis.explanation.contains("stop at epoch 2"));
    let svg = curves_svg(&diagnosis).unwrap();
    assert!(svg.contains("<svg") && svg.contains("stop at epoch 2"));
}

#[test]
fn still_improving_curves_are_not_flagged() {
    let curves = read_metrics(&[
        fixture("loss/improving/step_wise_training_metrics.csv"),
        fixture("loss/improving"),
    ])
    .unwrap();
    let diagnosis = diagnose(&curves);
    assert_eq!(diagnosis.verdict, Verdict::StillImproving);
    assert_eq!((diagnosis.best_validation_epoch, diagnosis.stop_epoch), (Some(4), None));
}

#[test]
fn unexpected_columns_are_a_clear_error() {
    let path = fixture("loss/bad-columns/step_wise_training_metrics.csv");
    let error = read_metrics(&[fixture("loss/bad-columns")]).unwrap_err();
    assert_eq!(error.file, path);
    let message = error.to_string();
    assert!(message.contains("step_wise_training_metrics.csv"), "{message}");
    assert!(
        message.contains("found step, epoch, train_loss, learning_rate"),
        "{message}"
    );
    assert!(
        message.contains("expected step_number, epoch_number, training_loss[, perplexity]"),
        "{message}"
    );
}
