//! Checks `bedrock_eval::stats::classification` against scikit-learn, statsmodels and scipy
//! (`tests/fixtures/classification/reference.json`, written by `tests/fixtures/classification/make_reference.py`).
//!
//! Tolerances: closed forms (accuracy, precision, recall, F1, macro-F1, Wilson, McNemar) to 1e-12 absolute; the
//! confusion counts exactly; the seeded bootstrap percentile interval of macro-F1 (our ChaCha8 draws versus numpy's)
//! within 0.25 bootstrap standard errors of scipy's at each end (the Monte-Carlo error of a 2.5% quantile at
//! B = 10,000 is about 0.03 standard errors).

use std::path::Path;

use bedrock_eval::stats::classification::{classification, NO_LABEL};
use bedrock_eval::stats::{mcnemar_exact, BootstrapSettings};
use serde_json::Value;

const CLOSE: f64 = 1e-12;
const BOOTSTRAP_SE_FRACTION: f64 = 0.25;
const SEED: u64 = 20_240_611;

fn reference() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/classification/reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference.json is committed")).expect("valid JSON")
}

fn labels(value: &Value) -> Vec<Option<String>> {
    value
        .as_array()
        .expect("a list of labels")
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("a list of numbers")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

fn close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= CLOSE,
        "{what}: {actual} against {expected}"
    );
}

#[test]
fn classification_metrics_match_scikit_learn_statsmodels_and_scipy() {
    let reference = reference();
    let expected: Vec<String> = labels(&reference["expected"]).into_iter().map(|l| l.unwrap()).collect();
    let settings = BootstrapSettings {
        resamples: reference["resamples"].as_u64().unwrap() as usize,
        seed: SEED,
        confidence_level: reference["confidence"].as_f64().unwrap(),
    };
    for side in ["baseline", "candidate"] {
        let predicted = labels(&reference[side]);
        let examples: Vec<Vec<(String, Option<String>)>> = expected
            .iter()
            .zip(&predicted)
            .map(|(e, p)| vec![(e.clone(), p.clone())])
            .collect();
        let result = classification(&examples, 1, &settings).unwrap();
        let want = &reference["metrics"][side];
        let classes: Vec<&str> = result.classes.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            classes,
            labels(&want["classes"])
                .iter()
                .map(|l| l.as_deref().unwrap())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            result.confusion.predicted,
            labels(&want["columns"])
                .into_iter()
                .map(|l| l.unwrap())
                .collect::<Vec<_>>()
        );
        assert!(result.confusion.predicted.iter().any(|l| l == NO_LABEL));
        let counts: Vec<Vec<usize>> = want["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_u64().unwrap() as usize)
                    .collect()
            })
            .collect();
        assert_eq!(result.confusion.counts, counts, "{side} confusion matrix");
        for (i, class) in result.classes.iter().enumerate() {
            close(
                class.precision,
                floats(&want["precision"])[i],
                &format!("{side} precision {}", class.label),
            );
            close(
                class.recall,
                floats(&want["recall"])[i],
                &format!("{side} recall {}", class.label),
            );
            close(class.f1, floats(&want["f1"])[i], &format!("{side} f1 {}", class.label));
            assert_eq!(class.support as f64, floats(&want["support"])[i]);
        }
        close(result.macro_f1.unwrap(), want["macro_f1"].as_f64().unwrap(), "macro-F1");
        close(result.accuracy.unwrap(), want["accuracy"].as_f64().unwrap(), "accuracy");
        let wilson = result.accuracy_interval.unwrap();
        let wilson_want = floats(&want["wilson"]);
        close(wilson.lower, wilson_want[0], "Wilson lower");
        close(wilson.upper, wilson_want[1], "Wilson upper");
        let bootstrap = result.macro_f1_interval.unwrap();
        let bootstrap_want = floats(&want["macro_f1_bootstrap"]["interval"]);
        let tolerance = BOOTSTRAP_SE_FRACTION * want["macro_f1_bootstrap"]["standard_error"].as_f64().unwrap();
        for (actual, wanted) in [
            (bootstrap.lower, bootstrap_want[0]),
            (bootstrap.upper, bootstrap_want[1]),
        ] {
            assert!(
                (actual - wanted).abs() <= tolerance,
                "{side} macro-F1 bootstrap endpoint {actual} against scipy's {wanted} (tolerance {tolerance})"
            );
        }
    }

    // Correctness of the two sides, paired by example: McNemar's exact test as statsmodels computes it.
    let right = |side: &str| -> Vec<bool> {
        expected
            .iter()
            .zip(labels(&reference[side]))
            .map(|(e, p)| p.as_deref() == Some(e.as_str()))
            .collect()
    };
    let test = mcnemar_exact(&right("baseline"), &right("candidate")).unwrap();
    assert_eq!(
        test.baseline_only as u64,
        reference["mcnemar"]["baseline_only"].as_u64().unwrap()
    );
    assert_eq!(
        test.candidate_only as u64,
        reference["mcnemar"]["candidate_only"].as_u64().unwrap()
    );
    let p = reference["mcnemar"]["p_value"].as_f64().unwrap();
    assert!((test.p_value - p).abs() <= 1e-9 * p, "{} against {p}", test.p_value);
}
