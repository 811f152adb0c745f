//! Reading the metrics CSV files of a customization job, found by name under folders or given directly.

use std::path::{Path, PathBuf};

use crate::error::InputError;

use super::{LossCurves, LossPoint};

/// Name of the training metrics file.
pub const TRAINING_FILE: &str = "step_wise_training_metrics.csv";
/// Name of the validation metrics file.
pub const VALIDATION_FILE: &str = "validation_metrics.csv";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Training,
    Validation,
}

impl Kind {
    fn file_name(self) -> &'static str {
        match self {
            Kind::Training => TRAINING_FILE,
            Kind::Validation => VALIDATION_FILE,
        }
    }

    fn loss_column(self) -> &'static str {
        match self {
            Kind::Training => "training_loss",
            Kind::Validation => "validation_loss",
        }
    }

    fn optional_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Training => &["perplexity"],
            Kind::Validation => &["perplexity", "validation_perplexity"],
        }
    }

    fn expected(self) -> String {
        let optional = self.optional_columns().join(" or ");
        format!("step_number, epoch_number, {}[, {optional}]", self.loss_column())
    }
}

/// Reads the training (required) and validation (optional) metrics from `paths`: folders are searched recursively
/// for `step_wise_training_metrics.csv` and `validation_metrics.csv`; a file is taken as training or validation
/// metrics by its name, or else by its loss column. Two files of the same kind, a missing training file, or a file
/// with unexpected columns are errors naming the files.
pub fn read_metrics(paths: &[PathBuf]) -> Result<LossCurves, InputError> {
    let mut found: Vec<(Kind, PathBuf)> = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files = Vec::new();
            find_metrics_files(path, &mut files)?;
            found.extend(files);
        } else if path.is_file() {
            found.push((kind_of_file(path)?, path.clone()));
        } else {
            return Err(InputError::in_file(path, "no such file or folder"));
        }
    }
    let training = one_of(&found, Kind::Training)?;
    let validation = one_of(&found, Kind::Validation)?;
    let Some(training_file) = training else {
        let searched = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(InputError::in_file(
            paths.first().map_or(Path::new("."), PathBuf::as_path),
            format!("no {TRAINING_FILE} found in {searched}"),
        ));
    };
    Ok(LossCurves {
        training: read_file(&training_file, Kind::Training)?,
        validation: match &validation {
            Some(file) => read_file(file, Kind::Validation)?,
            None => Vec::new(),
        },
        training_file: Some(training_file),
        validation_file: validation,
    })
}

fn one_of(found: &[(Kind, PathBuf)], kind: Kind) -> Result<Option<PathBuf>, InputError> {
    let mut files: Vec<&PathBuf> = found.iter().filter(|(k, _)| *k == kind).map(|(_, p)| p).collect();
    files.sort();
    files.dedup();
    match files.as_slice() {
        [] => Ok(None),
        [file] => Ok(Some((*file).clone())),
        [first, rest @ ..] => {
            let others = rest
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            Err(InputError::in_file(
                first,
                format!(
                    "more than one {} metrics file (also {others}); pass the one job's folder or files you mean",
                    match kind {
                        Kind::Training => "training",
                        Kind::Validation => "validation",
                    }
                ),
            ))
        }
    }
}

/// Metrics files under `dir`, by name, in sorted path order.
fn find_metrics_files(dir: &Path, found: &mut Vec<(Kind, PathBuf)>) -> Result<(), InputError> {
    let read_error = |e: std::io::Error| InputError::in_file(dir, format!("cannot read folder: {e}"));
    let mut entries = std::fs::read_dir(dir)
        .map_err(read_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_error)?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        let file_type = entry.file_type().map_err(read_error)?;
        if file_type.is_dir() {
            find_metrics_files(&path, found)?;
        } else if let Some(kind) = kind_by_name(&path) {
            found.push((kind, path));
        }
    }
    Ok(())
}

fn kind_by_name(path: &Path) -> Option<Kind> {
    match path.file_name()?.to_str()? {
        TRAINING_FILE => Some(Kind::Training),
        VALIDATION_FILE => Some(Kind::Validation),
        _ => None,
    }
}

/// A file's kind by its name, or else by which loss column its header has.
fn kind_of_file(path: &Path) -> Result<Kind, InputError> {
    if let Some(kind) = kind_by_name(path) {
        return Ok(kind);
    }
    let columns = header(path, &read_text(path)?)?;
    if columns.iter().any(|c| c == "training_loss") {
        Ok(Kind::Training)
    } else if columns.iter().any(|c| c == "validation_loss") {
        Ok(Kind::Validation)
    } else {
        Err(InputError::in_file(
            path,
            format!(
                "not a metrics file: found columns {}; expected {} or {}",
                columns.join(", "),
                Kind::Training.expected(),
                Kind::Validation.expected()
            ),
        ))
    }
}

fn read_text(path: &Path) -> Result<String, InputError> {
    std::fs::read_to_string(path).map_err(|e| InputError::in_file(path, format!("cannot read metrics file: {e}")))
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .has_headers(true)
        .from_reader(text.as_bytes())
}

/// Column names, trimmed and lowercased.
fn header(path: &Path, text: &str) -> Result<Vec<String>, InputError> {
    let mut reader = reader(text);
    let headers = reader
        .headers()
        .map_err(|e| InputError::at_line(path, 1, format!("cannot read the header: {e}")))?;
    Ok(headers.iter().map(|h| h.trim().to_ascii_lowercase()).collect())
}

/// Where each needed column is: (step, epoch, loss, perplexity).
type Columns = (usize, usize, usize, Option<usize>);

fn columns(path: &Path, found: &[String], kind: Kind) -> Result<Columns, InputError> {
    let position = |name: &str| found.iter().position(|c| c == name);
    let unexpected = found.iter().any(|c| {
        !["step_number", "epoch_number", kind.loss_column()].contains(&c.as_str())
            && !kind.optional_columns().contains(&c.as_str())
    });
    let required = (
        position("step_number"),
        position("epoch_number"),
        position(kind.loss_column()),
    );
    match required {
        (Some(step), Some(epoch), Some(loss)) if !unexpected => {
            let perplexity = kind.optional_columns().iter().find_map(|c| position(c));
            Ok((step, epoch, loss, perplexity))
        }
        _ => Err(InputError::at_line(
            path,
            1,
            format!(
                "unexpected columns for {}: found {}; expected {}",
                kind.file_name(),
                found.join(", "),
                kind.expected()
            ),
        )),
    }
}

fn read_file(path: &Path, kind: Kind) -> Result<Vec<LossPoint>, InputError> {
    let text = read_text(path)?;
    let (step, epoch, loss, perplexity) = columns(path, &header(path, &text)?, kind)?;
    let mut points = Vec::new();
    for row in reader(&text).records() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(1, |p| p.line() as usize);
            InputError::at_line(path, line, format!("cannot read this row: {e}"))
        })?;
        let line = row.position().map_or(0, |p| p.line() as usize);
        let number = |index: usize, name: &str| -> Result<f64, InputError> {
            let cell = row.get(index).unwrap_or("");
            cell.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                InputError::at_line(path, line, format!("expected a finite number, found `{cell}`")).field(name)
            })
        };
        let step_value = number(step, "step_number")?;
        let epoch_value = number(epoch, "epoch_number")?;
        if step_value < 0.0 || epoch_value < 0.0 {
            return Err(InputError::at_line(
                path,
                line,
                "step and epoch numbers must not be negative",
            ));
        }
        let perplexity = match perplexity {
            Some(index) if !row.get(index).unwrap_or("").is_empty() => Some(number(index, "perplexity")?),
            _ => None,
        };
        points.push(LossPoint {
            step: step_value as u64,
            epoch: epoch_value.floor() as u32,
            loss: number(loss, kind.loss_column())?,
            perplexity,
        });
    }
    if points.is_empty() {
        return Err(InputError::in_file(path, "has a header but no rows"));
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn files_are_found_by_name_with_spaces_and_optional_perplexity() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "job/training_artifacts/step_wise_training_metrics.csv",
            "step_number, epoch_number, training_loss, perplexity\n0, 0, 2.5, 12.2\n1, 0, 2.1, 8.1\n",
        );
        write(
            dir.path(),
            "job/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv",
            "step_number,epoch_number,validation_loss\n1,0,2.2\n",
        );
        let curves = read_metrics(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(curves.training.len(), 2);
        assert_eq!(curves.training[1].perplexity, Some(8.1));
        assert_eq!(curves.validation[0].loss, 2.2);
        assert_eq!(curves.validation[0].perplexity, None);
    }

    #[test]
    fn unexpected_columns_name_the_file_and_both_column_lists() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), TRAINING_FILE, "step,epoch,loss\n0,0,1.0\n");
        let error = read_metrics(std::slice::from_ref(&path)).unwrap_err();
        assert_eq!(error.file, path);
        assert!(error.message.contains("found step, epoch, loss"), "{}", error.message);
        assert!(error
            .message
            .contains("expected step_number, epoch_number, training_loss"));
    }

    #[test]
    fn a_bad_value_names_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "metrics.csv",
            "step_number,epoch_number,training_loss\n0,0,1.0\n1,0,nan\n",
        );
        let error = read_metrics(&[path]).unwrap_err();
        assert_eq!((error.line, error.field.as_deref()), (Some(3), Some("training_loss")));
    }

    #[test]
    fn two_training_files_or_none_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_metrics(&[dir.path().to_path_buf()])
            .unwrap_err()
            .message
            .contains("no step_wise_training_metrics.csv"));
        let csv = "step_number,epoch_number,training_loss\n0,0,1.0\n";
        write(dir.path(), "a/step_wise_training_metrics.csv", csv);
        write(dir.path(), "b/step_wise_training_metrics.csv", csv);
        assert!(read_metrics(&[dir.path().to_path_buf()])
            .unwrap_err()
            .message
            .contains("more than one training metrics file"));
    }
}
