//! Structured-output and classification results per config: the accuracy of each `json_fields` field, and for each
//! `label` criterion accuracy, macro-F1, per-class precision, recall and F1 and the confusion matrix
//! (`stats::classification`); with their CSV files (`fields.csv`, `classification.csv`, `classes.csv`,
//! `confusion.csv`).

use serde::Serialize;

use super::csv_files::finish;
use super::table::{csv_text, number};
use super::ReportData;
use crate::stats::classification::Classification;

/// One `json_fields` field's accuracy in one config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldAccuracy {
    /// The criterion.
    pub criterion: String,
    /// The field's path in the reply.
    pub path: String,
    /// The config.
    pub config: String,
    /// Replies where the field applied (the example had an expected value).
    pub replies: usize,
    /// Of which the reply's value was right.
    pub correct: usize,
    /// correct / replies.
    pub accuracy: Option<f64>,
}

/// One `label` criterion's metrics in one config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelMetrics {
    /// The criterion.
    pub criterion: String,
    /// The config.
    pub config: String,
    /// Accuracy, macro-F1, per-class metrics and confusion matrix.
    pub metrics: Classification,
}

/// Every structured-output result of a run, in rubric then config order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StructuredResults {
    /// Per `json_fields` field and config.
    pub fields: Vec<FieldAccuracy>,
    /// Per `label` criterion and config.
    pub labels: Vec<LabelMetrics>,
}

impl StructuredResults {
    /// Whether the rubric has neither `json_fields` nor `label` criteria.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.labels.is_empty()
    }
}

/// `fields.csv`: one row per `json_fields` field and config.
fn fields_csv(results: &StructuredResults) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["criterion", "path", "config", "replies", "correct", "accuracy"])?;
    for f in &results.fields {
        writer.write_record([
            csv_text(&f.criterion),
            csv_text(&f.path),
            csv_text(&f.config),
            f.replies.to_string(),
            f.correct.to_string(),
            number(f.accuracy, 4),
        ])?;
    }
    finish(writer)
}

/// `classification.csv`: one row per `label` criterion and config.
fn classification_csv(results: &StructuredResults) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "criterion",
        "config",
        "examples",
        "replies",
        "correct",
        "accuracy",
        "accuracy_ci_low",
        "accuracy_ci_high",
        "accuracy_ci_method",
        "macro_f1",
        "macro_f1_ci_low",
        "macro_f1_ci_high",
        "bootstrap_resamples",
        "bootstrap_seed",
    ])?;
    for l in &results.labels {
        let m = &l.metrics;
        writer.write_record([
            csv_text(&l.criterion),
            csv_text(&l.config),
            m.examples.to_string(),
            m.replies.to_string(),
            m.correct.to_string(),
            number(m.accuracy, 4),
            number(m.accuracy_interval.map(|i| i.lower), 4),
            number(m.accuracy_interval.map(|i| i.upper), 4),
            m.accuracy_interval_method.to_string(),
            number(m.macro_f1, 4),
            number(m.macro_f1_interval.map(|i| i.lower), 4),
            number(m.macro_f1_interval.map(|i| i.upper), 4),
            m.bootstrap.resamples.to_string(),
            m.bootstrap.seed.to_string(),
        ])?;
    }
    finish(writer)
}

/// `classes.csv`: one row per `label` criterion, config and class.
fn classes_csv(results: &StructuredResults) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "criterion",
        "config",
        "class",
        "precision",
        "recall",
        "f1",
        "support",
        "predicted",
    ])?;
    for l in &results.labels {
        for c in &l.metrics.classes {
            writer.write_record([
                csv_text(&l.criterion),
                csv_text(&l.config),
                csv_text(&c.label),
                number(Some(c.precision), 4),
                number(Some(c.recall), 4),
                number(Some(c.f1), 4),
                c.support.to_string(),
                c.predicted.to_string(),
            ])?;
        }
    }
    finish(writer)
}

/// `confusion.csv`: one row per `label` criterion, config, expected and predicted label (zero counts included, so
/// every matrix is complete).
fn confusion_csv(results: &StructuredResults) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["criterion", "config", "expected", "predicted", "count"])?;
    for l in &results.labels {
        let matrix = &l.metrics.confusion;
        for (row, expected) in matrix.expected.iter().enumerate() {
            for (column, predicted) in matrix.predicted.iter().enumerate() {
                writer.write_record([
                    csv_text(&l.criterion),
                    csv_text(&l.config),
                    csv_text(expected),
                    csv_text(predicted),
                    matrix.counts[row][column].to_string(),
                ])?;
            }
        }
    }
    finish(writer)
}

/// The CSV files for the rubric's structured criteria (none when it has no `json_fields` or `label` criteria).
pub fn csv_files(data: &ReportData) -> std::io::Result<Vec<(&'static str, Vec<u8>)>> {
    let results = &data.structured;
    let mut files = Vec::new();
    if !results.fields.is_empty() {
        files.push(("fields.csv", fields_csv(results)?));
    }
    if !results.labels.is_empty() {
        files.push(("classification.csv", classification_csv(results)?));
        files.push(("classes.csv", classes_csv(results)?));
        files.push(("confusion.csv", confusion_csv(results)?));
    }
    Ok(files)
}
