//! Reading the text files a user points at (suites, rubrics, datasets, JSON Schemas) so that a wrong file fails at
//! once and says why.
//!
//! - Only regular files are opened: a directory, FIFO or device is "not a regular file" (a FIFO would block the
//!   read forever, `/dev/zero` would never end), told apart from a file that does not exist.
//! - Lines are read one at a time and none may be longer than [`MAX_LINE_BYTES`]; reading stops as soon as a line
//!   passes the cap, so a huge line is refused without being held in memory.
//! - The text must be UTF-8; an invalid byte is reported by line and column. A UTF-8 byte-order mark at the start
//!   (as some Windows editors write) is dropped.
//! - [`excerpt`] and [`is_plain_name`] keep what a message quotes from a file short, so an error never prints a
//!   file's content.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::InputError;

/// The longest line accepted in any input file, in bytes (without its line break): 8 MiB.
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// The most characters of a file's content an error message quotes.
pub const EXCERPT_CHARS: usize = 32;

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A text file read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFile {
    /// The text, without a leading byte-order mark.
    pub text: String,
    /// Lowercase hex SHA-256 of the file's bytes, as they are on disk.
    pub sha256: String,
}

/// Why a path cannot be read as an input file.
#[derive(Debug)]
pub enum Unreadable {
    /// Nothing is there.
    Missing,
    /// Something is there, but not a regular file: what it is ("a directory", "a FIFO", "a device").
    NotRegular(&'static str),
    /// The system refused to say (permissions, a broken link).
    Other(std::io::Error),
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::Missing => write!(f, "file not found"),
            Unreadable::NotRegular(kind) => write!(f, "not a regular file ({kind})"),
            Unreadable::Other(e) => write!(f, "{e}"),
        }
    }
}

/// Checks that `path` is a regular file (following links) before anything opens it.
pub fn check_regular(path: &Path) -> Result<(), Unreadable> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(()),
        Ok(metadata) => Err(Unreadable::NotRegular(kind_of(&metadata))),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(Unreadable::Missing),
        Err(e) => Err(Unreadable::Other(e)),
    }
}

fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let file_type = metadata.file_type();
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if metadata.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// Reads the text file at `path` (`what` names it in messages, e.g. "rubric"), line by line under the line cap.
pub fn read_text(path: &Path, what: &str) -> Result<TextFile, InputError> {
    let mut text = String::new();
    let sha256 = for_each_line(path, what, |_, line| {
        text.push_str(line);
        Ok(())
    })?;
    Ok(TextFile { text, sha256 })
}

/// Reads the text file at `path` under the same checks as [`read_text`], but hands each line (1-based number, and
/// text with its line break, if any) to `each` as it is read instead of holding the file: a large dataset is
/// parsed as it streams in. Stops at the first error, from the file or from `each`. Returns the lowercase hex
/// SHA-256 of the file's bytes.
pub fn for_each_line(
    path: &Path,
    what: &str,
    each: impl FnMut(usize, &str) -> Result<(), InputError>,
) -> Result<String, InputError> {
    check_regular(path).map_err(|problem| InputError::in_file(path, format!("cannot read {what}: {problem}")))?;
    let file = File::open(path).map_err(|e| InputError::in_file(path, format!("cannot read {what}: {e}")))?;
    read_lines(path, what, BufReader::new(file), MAX_LINE_BYTES, each)
}

/// Reads `reader` (the content of `path`) line by line into `each`, refusing a line longer than `max_line_bytes`
/// as soon as it passes the cap, and bytes that are not UTF-8.
fn read_lines(
    path: &Path,
    what: &str,
    mut reader: impl BufRead,
    max_line_bytes: usize,
    mut each: impl FnMut(usize, &str) -> Result<(), InputError>,
) -> Result<String, InputError> {
    let mut hasher = Sha256::new();
    let mut line = Vec::new();
    for line_number in 1.. {
        line.clear();
        // The cap, plus room for "\r\n": a line that fills it without ending is too long.
        let limit = max_line_bytes as u64 + 2;
        (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .map_err(|e| InputError::at_line(path, line_number, format!("cannot read {what}: {e}")))?;
        if line.is_empty() {
            break;
        }
        hasher.update(&line);
        let content = line.strip_suffix(b"\n").unwrap_or(&line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.len() > max_line_bytes {
            return Err(InputError::at_line(
                path,
                line_number,
                format!(
                    "line is longer than {}, the most one line may hold; is this the right file?",
                    byte_size(max_line_bytes)
                ),
            ));
        }
        let bytes = match line_number {
            1 => line.strip_prefix(BOM).unwrap_or(&line),
            _ => &line,
        };
        match std::str::from_utf8(bytes) {
            Ok(valid) => each(line_number, valid)?,
            Err(e) => {
                let valid = &bytes[..e.valid_up_to()];
                let column = String::from_utf8_lossy(valid).chars().count() + 1;
                return Err(InputError::at_line(
                    path,
                    line_number,
                    format!(
                        "{what} is not UTF-8: byte 0x{:02x} cannot start or continue a character; save the file as \
                         UTF-8",
                        bytes[e.valid_up_to()]
                    ),
                )
                .position(Some((line_number, column))));
            }
        }
    }
    let digest = hasher.finalize();
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn byte_size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// At most [`EXCERPT_CHARS`] characters of `text` on one line, with `…` where it was cut, for quoting a value
/// from a file in a message without printing the file.
pub fn excerpt(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Whether a value from a file is short and plain enough to quote back in a message: a name (letters, digits, `_`,
/// `-`, `.`, at most [`EXCERPT_CHARS`]), not a sentence, a line of a file or a secret's shape.
pub fn is_plain_name(text: &str) -> bool {
    text.chars().count() <= EXCERPT_CHARS
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], max: usize) -> Result<TextFile, InputError> {
        let mut text = String::new();
        let sha256 = read_lines(Path::new("d.jsonl"), "dataset", bytes, max, |_, line| {
            text.push_str(line);
            Ok(())
        })?;
        Ok(TextFile { text, sha256 })
    }

    #[test]
    fn a_bom_is_dropped_and_the_hash_is_of_the_bytes() {
        let file = read(b"\xEF\xBB\xBF{\"a\":1}\n{\"b\":2}\n", 100).unwrap();
        assert_eq!(file.text, "{\"a\":1}\n{\"b\":2}\n");
        let plain = read(b"{\"a\":1}\n{\"b\":2}\n", 100).unwrap();
        assert_ne!(file.sha256, plain.sha256);
    }

    #[test]
    fn invalid_utf8_is_reported_at_its_line_and_column() {
        let error = read(b"ok\n\xC3\xA9t\xE9\n", 100).unwrap_err();
        assert_eq!((error.line, error.column), (Some(2), Some(3)));
        assert!(error.message.contains("0xe9"), "{}", error.message);
    }

    #[test]
    fn a_line_over_the_cap_is_refused_without_reading_past_it() {
        let mut bytes = b"short\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 11));
        bytes.extend(b"\nnever read\n");
        let error = read(&bytes, 10).unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("longer than 10 bytes"), "{}", error.message);
        // Exactly the cap, with a CRLF, is fine.
        assert_eq!(read(b"0123456789\r\n", 10).unwrap().text, "0123456789\r\n");
        assert_eq!(read(b"0123456789", 10).unwrap().text, "0123456789");
    }

    #[test]
    fn a_directory_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_text(dir.path(), "dataset").unwrap_err();
        assert_eq!(error.message, "cannot read dataset: not a regular file (a directory)");
        let error = read_text(&dir.path().join("nope"), "dataset").unwrap_err();
        assert_eq!(error.message, "cannot read dataset: file not found");
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt("a\nb"), "a b");
        let long = "k".repeat(100);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
        assert!(excerpt(&long).ends_with('…'));
    }
}
