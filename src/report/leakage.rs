//! The leak summary of a run's report: held-out examples that also appear in the suite's training data, in
//! `report.md`'s "Read with care" and in `report.json`.

use crate::data::{find_leakage_in_files, LeakKind, LeakageReport, Threshold};
use crate::error::InputError;
use crate::suite::Suite;

/// The leaks between the suite's training pool and its held-out set (at the default near-duplicate threshold);
/// `None` without a training pool.
pub fn suite_leakage(suite: &Suite) -> Result<Option<LeakageReport>, InputError> {
    let Some(training) = &suite.training else {
        return Ok(None);
    };
    find_leakage_in_files(&training.path, &suite.held_out.path, Threshold::DEFAULT).map(Some)
}

/// The caution for "Read with care", when some held-out example leaks.
pub fn leak_warning(report: &LeakageReport) -> Option<String> {
    let leaked = report.leaked_held_out_lines().len();
    if leaked == 0 {
        return None;
    }
    let kinds: Vec<String> = report
        .leaked_by_kind()
        .into_iter()
        .map(|(kind, n)| {
            let what = match kind {
                LeakKind::ExactInput => "the same input as a training example",
                LeakKind::NearInput => "an input nearly the same as a training example's",
                LeakKind::ReferenceIsTrainingReply => "a reference that is a distinctive training reply",
            };
            format!("{n} with {what}")
        })
        .collect();
    let file = report.train_path.file_name().map_or_else(
        || report.train_path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    Some(format!(
        "Leakage: {leaked} of {} held-out examples also appear in the training data ({file}): {}. Models that saw them \
         (few-shot demonstrations, a model tuned on that file) may score higher on them than on new inputs; `bedrock-eval \
         data leakage` lists each one. Answers that several training rows share (labels) are not counted.",
        report.held_out_records,
        kinds.join("; ")
    ))
}
