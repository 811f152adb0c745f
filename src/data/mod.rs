//! Fine-tuning data and training diagnostics: the tools to use before and after a Bedrock customization job.
//!
//! - [`check`]: is a JSONL file acceptable to Bedrock fine-tuning, and is it clean (schema, empty texts, role order,
//!   per-family limits, reserved strings, duplicates and near duplicates)?
//! - [`split`]: a seeded train/validation/test split that keeps near-duplicate groups in one part.
//! - [`leakage`]: held-out examples that also appear, exactly or nearly, in the training data.
//! - [`loss`]: the customization job's metrics files, read into loss curves, diagnosed (overfitting, where to stop)
//!   and drawn.
//!
//! Everything here is plain functions over plain data, plus small file reading and writing at the edges
//! (`check_file`, `split`, `find_leakage_in_files`, `read_metrics`). See `docs/data.md`.

pub mod check;
mod duplicates;
pub mod family;
pub mod leakage;
pub mod loss;
mod parse;
pub mod record;
pub mod similarity;
pub mod split;

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::InputError;

pub use check::{
    check_file, check_file_with, check_text, record_tokens, CheckOptions, CheckReport, Summary, TokenStats,
};
pub use family::{FamilyLimits, ModelFamily};
pub use leakage::{find_leakage, find_leakage_in_files, Leak, LeakKind, LeakageReport};
pub use record::{load_records, Format, Purpose, Record};
pub use similarity::Threshold;
pub use split::{split, SplitOptions, SplitPart, SplitResult};

/// What a finding is about; whether it is an error or a warning is decided by the list it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The line is not valid JSON.
    InvalidJson,
    /// A key is missing, unknown (where the format forbids extra keys) or of the wrong type.
    Schema,
    /// A key outside the format, where extra keys are ignored rather than refused.
    UnknownKey,
    /// The line is in another format than the file's (or the model family's).
    WrongFormat,
    /// A prompt, completion, message or system prompt is empty or whitespace only.
    EmptyText,
    /// Turns do not start with the user, alternate, and end with the assistant.
    RoleOrder,
    /// Too few or too many records for the model family.
    RecordCount,
    /// A record longer than the model family accepts.
    RecordLength,
    /// A string the model family reserves appears in a prompt.
    ReservedString,
    /// A blank line between records.
    BlankLine,
    /// The same record (after normalisation) appears twice.
    Duplicate,
    /// The same prompt (after normalisation) appears twice with different replies.
    SamePromptDifferentReply,
    /// Two records whose word shingles overlap at or above the threshold.
    NearDuplicate,
    /// Two held-out examples with the same input (and system prompt): a run makes their call once.
    SharedInput,
}

/// One problem found in a data file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What the problem is about.
    pub kind: FindingKind,
    /// 1-based line, when the problem is on a line.
    pub line: Option<usize>,
    /// The other line of a pair (the earlier occurrence of a duplicate).
    pub other_line: Option<usize>,
    /// The field concerned, as a path such as `messages[1].content`.
    pub field: Option<String>,
    /// Jaccard similarity of a near-duplicate pair.
    pub similarity: Option<f64>,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl Finding {
    /// A finding about the whole file.
    pub fn file(kind: FindingKind, message: impl Into<String>) -> Self {
        Finding {
            kind,
            line: None,
            other_line: None,
            field: None,
            similarity: None,
            message: message.into(),
        }
    }

    /// A finding at a line.
    pub fn at_line(kind: FindingKind, line: usize, message: impl Into<String>) -> Self {
        Finding {
            line: Some(line),
            ..Finding::file(kind, message)
        }
    }

    /// Names the field concerned.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The finding as an input error in `file`, for callers that stop at the first problem.
    pub fn to_input_error(&self, file: &std::path::Path) -> InputError {
        let error = match self.line {
            Some(line) => InputError::at_line(file, line, self.message.clone()),
            None => InputError::in_file(file, self.message.clone()),
        };
        match &self.field {
            Some(field) => error.field(field.clone()),
            None => error,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Why a data command could not finish.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A mistake in an input file or an option (exit code 2).
    #[error(transparent)]
    Input(#[from] InputError),
    /// An output file could not be written (exit code 3).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}
