//! Error types shared by the stages that read user input.
//!
//! A user's mistake (`InputError`, exit code 2) is kept apart from an internal failure; every input error names the
//! file and, where one is known, the line, column and field it concerns.

use std::fmt;
use std::path::{Path, PathBuf};

/// A mistake in a file the user wrote or pointed at: a suite, a dataset, a rubric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file the mistake is in.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field concerned, as a path such as `configs[1].shots.k`.
    pub field: Option<String>,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl InputError {
    /// An error about a whole file, with no position.
    pub fn in_file(file: &Path, message: impl Into<String>) -> Self {
        InputError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }

    /// An error at a line of a file (JSONL datasets).
    pub fn at_line(file: &Path, line: usize, message: impl Into<String>) -> Self {
        InputError {
            line: Some(line),
            ..InputError::in_file(file, message)
        }
    }

    /// Names the field concerned.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Sets the position, when one is known.
    pub fn position(mut self, position: Option<(usize, usize)>) -> Self {
        if let Some((line, column)) = position {
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for InputError {}

/// One or more input errors, reported together so the user can fix them in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputErrors(pub Vec<InputError>);

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

impl From<InputError> for InputErrors {
    fn from(error: InputError) -> Self {
        InputErrors(vec![error])
    }
}
