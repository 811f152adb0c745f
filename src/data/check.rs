//! `data check`: is a JSONL file acceptable to Bedrock fine-tuning, and is it clean?
//!
//! Errors are what Bedrock (or its documented rules) would refuse: schema problems, empty texts, role order, record
//! counts and lengths outside the model family's limits, reserved strings in prompts. Warnings are what it would
//! accept but is likely a mistake: duplicates, near duplicates, a prompt taught with two replies, blank lines.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::dataset::Role;
use crate::error::InputError;
use crate::run::limits::estimate_tokens;

use super::duplicates::duplicate_findings;
use super::family::{FamilyLimits, ModelFamily};
use super::parse::parse_line;
use super::record::{detect_format, Format, Purpose, Record};
use super::similarity::Threshold;
use super::{Finding, FindingKind};

/// What to check a file against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckOptions {
    /// The file's format; `Auto` detects it from the first valid line (or takes the family's).
    pub format: Format,
    /// The model family to check limits and reserved strings for, if known.
    pub family: Option<ModelFamily>,
    /// What the file is for.
    pub purpose: Purpose,
    /// Jaccard similarity at or above which two records are near duplicates.
    pub near_duplicate_threshold: Threshold,
}

impl CheckOptions {
    /// Options for a training file, with the default near-duplicate threshold.
    pub fn new(format: Format, family: Option<ModelFamily>) -> Self {
        CheckOptions {
            format,
            family,
            purpose: Purpose::Training,
            near_duplicate_threshold: Threshold::DEFAULT,
        }
    }
}

/// Smallest, median, 95th percentile and largest of a per-record token estimate (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TokenStats {
    /// Smallest.
    pub min: u64,
    /// Median (nearest rank).
    pub median: u64,
    /// 95th percentile (nearest rank).
    pub p95: u64,
    /// Largest.
    pub max: u64,
}

impl TokenStats {
    /// Statistics of `values`, or `None` when there are none.
    pub fn of(values: &[u64]) -> Option<TokenStats> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let rank = |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        Some(TokenStats {
            min: *sorted.first()?,
            median: rank(0.5),
            p95: rank(0.95),
            max: *sorted.last()?,
        })
    }
}

/// Counts and sizes of the records that could be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Non-blank lines: what Bedrock counts as records.
    pub lines: usize,
    /// Lines whose text could be read.
    pub records: usize,
    /// Estimated input tokens per record: system prompt and every turn before the reply.
    pub input_tokens: Option<TokenStats>,
    /// Estimated output tokens per record: the reply.
    pub output_tokens: Option<TokenStats>,
}

/// Everything found in one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The file checked.
    pub path: PathBuf,
    /// The format the file was read in (`None` when no line says).
    pub format: Option<Format>,
    /// The line the format was detected from, when it was detected.
    pub format_detected_from_line: Option<usize>,
    /// The model family checked for.
    pub family: Option<ModelFamily>,
    /// What the file was checked as.
    pub purpose: Purpose,
    /// Problems that would make the file unacceptable, by line.
    pub errors: Vec<Finding>,
    /// Problems worth a look, by line.
    pub warnings: Vec<Finding>,
    /// Counts and token sizes.
    pub summary: Summary,
}

impl CheckReport {
    /// Whether the file has no errors (warnings allowed).
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks a training file in `format`, against `family`'s limits when given.
pub fn check_file(path: &Path, format: Format, family: Option<ModelFamily>) -> Result<CheckReport, InputError> {
    check_file_with(path, &CheckOptions::new(format, family))
}

/// Checks a file with every option. Only an unreadable file is an `Err`; everything wrong inside it is in the report.
pub fn check_file_with(path: &Path, options: &CheckOptions) -> Result<CheckReport, InputError> {
    let text = crate::input_file::read_text(path, "data file")?.text;
    Ok(check_text(path, &text, options))
}

/// Checks JSONL `text` read from `path` (used only to label the report).
pub fn check_text(path: &Path, text: &str, options: &CheckOptions) -> CheckReport {
    let limits = options.family.map(ModelFamily::limits);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let (format, detected_from) = resolve_format(text, options, &mut errors);
    let mut records = Vec::new();
    let mut lines = 0;
    let last_record_line = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .last()
        .map_or(0, |(i, _)| i + 1);
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() {
            // Blank lines after the last record are harmless trailing newlines; between records they are not.
            if line_number < last_record_line {
                warnings.push(Finding::at_line(
                    FindingKind::BlankLine,
                    line_number,
                    "blank line between records; AWS's dataset validators reject it, so remove it",
                ));
            }
            continue;
        }
        lines += 1;
        let Some(format) = format else { continue };
        let outcome = parse_line(line, line_number, format, options.purpose);
        errors.extend(outcome.errors);
        warnings.extend(outcome.warnings);
        if let Some(record) = outcome.record {
            if let (Some(family), Some(limits)) = (options.family, &limits) {
                errors.extend(family_record_findings(&record, family, limits));
                warnings.extend(reserved_in_replies(&record, family, limits));
            }
            records.push(record);
        }
    }
    if let (Some(family), Some(limits)) = (options.family, &limits) {
        errors.extend(record_count_finding(lines, family, limits, options.purpose));
    }
    if lines == 0 {
        errors.push(Finding::file(FindingKind::RecordCount, "the file has no records"));
    }
    let mut warnings = collapse_unknown_keys(warnings);
    warnings.extend(duplicate_findings(
        &records,
        options.near_duplicate_threshold,
        options.purpose,
    ));
    sort_by_line(&mut errors);
    sort_by_line(&mut warnings);
    CheckReport {
        path: path.to_path_buf(),
        format,
        format_detected_from_line: detected_from,
        family: options.family,
        purpose: options.purpose,
        errors,
        warnings,
        summary: summarise(lines, &records),
    }
}

/// The format to read every line in: the requested one, else the first detectable line's, else the family's. A
/// file in another format than its family's is one file-level error; its lines are still read in their own format,
/// so their other problems are reported too.
fn resolve_format(text: &str, options: &CheckOptions, errors: &mut Vec<Finding>) -> (Option<Format>, Option<usize>) {
    let (format, detected_from) = match options.format {
        Format::Auto => match detect_file_format(text) {
            Some((format, line)) => (Some(format), Some(line)),
            None => (options.family.map(|f| f.limits().format), None),
        },
        requested => (Some(requested), None),
    };
    match (format, options.family) {
        (Some(format), Some(family)) if family.limits().format != format => {
            let origin = detected_from.map_or(String::new(), |line| format!(" (detected from line {line})"));
            errors.push(Finding::file(
                FindingKind::WrongFormat,
                format!(
                    "{family} is fine-tuned on {} records, but this file is {format}{origin}",
                    family.limits().format
                ),
            ));
        }
        (None, _) => errors.push(Finding::file(
            FindingKind::WrongFormat,
            "cannot tell the format: no line is a JSON object with `prompt` or `messages`",
        )),
        _ => {}
    }
    (format, detected_from)
}

/// The format of the first line that says, and that line.
fn detect_file_format(text: &str) -> Option<(Format, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        Some((detect_format(value.as_object()?)?, i + 1))
    })
}

/// Per-record family limits: length, and reserved strings in prompts (user turns and the system prompt).
/// A record's estimated tokens: its system prompt and every turn (what a fine-tuning job trains on).
pub fn record_tokens(record: &Record) -> u64 {
    record
        .system
        .iter()
        .chain(record.turns.iter().map(|t| &t.text))
        .map(|t| estimate_tokens(t))
        .sum()
}

fn family_record_findings(record: &Record, family: ModelFamily, limits: &FamilyLimits) -> Vec<Finding> {
    let mut findings = Vec::new();
    let texts = record.system.iter().chain(record.turns.iter().map(|t| &t.text));
    let tokens = record_tokens(record);
    let chars: usize = texts.map(|t| t.chars().count()).sum();
    if let Some(max) = limits.max_tokens_per_record.filter(|&max| tokens > max) {
        findings.push(Finding::at_line(
            FindingKind::RecordLength,
            record.line,
            format!("about {tokens} tokens (estimated); {family} accepts at most {max} per record"),
        ));
    }
    if let Some(max) = limits.max_chars_per_record.filter(|&max| chars > max) {
        findings.push(Finding::at_line(
            FindingKind::RecordLength,
            record.line,
            format!("{chars} characters; {family} accepts at most {max} per record"),
        ));
    }
    let mut prompts: Vec<(String, &str)> = Vec::new();
    if let Some(system) = &record.system {
        prompts.push(("system".to_string(), system));
    }
    for (i, turn) in record.turns.iter().enumerate().filter(|(_, t)| t.role == Role::User) {
        prompts.push((turn_field(record, i), &turn.text));
    }
    for (field, text) in prompts {
        let found = limits.reserved_strings_in(text);
        if !found.is_empty() {
            findings.push(
                Finding::at_line(
                    FindingKind::ReservedString,
                    record.line,
                    format!("contains {}, reserved by {family}; reword it", quoted(&found)),
                )
                .field(field),
            );
        }
    }
    findings
}

/// Nova's reserved strings in a reply: the documentation reserves them in prompts, AWS's validator rejects them in
/// any text, so in replies they are a warning.
fn reserved_in_replies(record: &Record, family: ModelFamily, limits: &FamilyLimits) -> Vec<Finding> {
    if !limits.reserved_case_insensitive {
        return Vec::new();
    }
    record
        .turns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.role == Role::Assistant)
        .filter_map(|(i, turn)| {
            let found = limits.reserved_strings_in(&turn.text);
            (!found.is_empty()).then(|| {
                Finding::at_line(
                    FindingKind::ReservedString,
                    record.line,
                    format!(
                        "reply contains {}, reserved by {family}; AWS's dataset validator rejects it in any text",
                        quoted(&found)
                    ),
                )
                .field(turn_field(record, i))
            })
        })
        .collect()
}

fn turn_field(record: &Record, index: usize) -> String {
    match record.format {
        Format::PromptCompletion if index == 0 => "prompt".to_string(),
        Format::PromptCompletion => "completion".to_string(),
        _ => format!("messages[{index}].content"),
    }
}

fn quoted(strings: &[&str]) -> String {
    strings.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
}

fn record_count_finding(lines: usize, family: ModelFamily, limits: &FamilyLimits, purpose: Purpose) -> Option<Finding> {
    let range = limits.records_for(purpose);
    let file = match purpose {
        Purpose::Validation => "validation file",
        _ => "training file",
    };
    let message = match (range.min, range.max) {
        (Some(min), _) if lines < min => format!("{lines} records; a {family} {file} needs at least {min}"),
        (_, Some(max)) if lines > max => format!("{lines} records; a {family} {file} takes at most {max}"),
        _ => return None,
    };
    Some(Finding::file(FindingKind::RecordCount, message))
}

fn summarise(lines: usize, records: &[Record]) -> Summary {
    let input: Vec<u64> = records
        .iter()
        .map(|r| r.system.as_deref().map_or(0, estimate_tokens) + estimate_tokens(&r.input_text()))
        .collect();
    let output: Vec<u64> = records
        .iter()
        .filter_map(|r| r.reference().map(estimate_tokens))
        .collect();
    Summary {
        lines,
        records: records.len(),
        input_tokens: TokenStats::of(&input),
        output_tokens: TokenStats::of(&output),
    }
}

/// One `UnknownKey` warning per key (a message key counted across messages), at its first line, saying on how many
/// lines it appears: a file of 10,000 records with an `id` each needs one line of advice, not 10,000.
fn collapse_unknown_keys(warnings: Vec<Finding>) -> Vec<Finding> {
    let mut kept: Vec<Finding> = Vec::with_capacity(warnings.len());
    let mut by_key: HashMap<String, (usize, BTreeSet<usize>)> = HashMap::new();
    for warning in warnings {
        if warning.kind != FindingKind::UnknownKey {
            kept.push(warning);
            continue;
        }
        let key = without_indices(warning.field.as_deref().unwrap_or(""));
        let line = warning.line.unwrap_or(0);
        match by_key.get_mut(&key) {
            Some((_, lines)) => {
                lines.insert(line);
            }
            None => {
                by_key.insert(key, (kept.len(), BTreeSet::from([line])));
                kept.push(warning);
            }
        }
    }
    for (key, (index, lines)) in by_key {
        if lines.len() > 1 {
            let finding = &mut kept[index];
            finding.field = Some(key);
            finding.message = format!("{} (on {} lines; the first is this one)", finding.message, lines.len());
        }
    }
    kept
}

/// `messages[3].name` → `messages[].name`.
fn without_indices(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' if in_index => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// File-level findings first, then by line; the order found is kept within a line.
fn sort_by_line(findings: &mut [Finding]) {
    findings.sort_by_key(|f| f.line.unwrap_or(0));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, options: CheckOptions) -> CheckReport {
        check_text(Path::new("t.jsonl"), text, &options)
    }

    #[test]
    fn token_stats_use_nearest_rank() {
        assert_eq!(TokenStats::of(&[]), None);
        let stats = TokenStats::of(&[5, 1, 3, 2, 4]).unwrap();
        assert_eq!((stats.min, stats.median, stats.p95, stats.max), (1, 3, 5, 5));
        let hundred: Vec<u64> = (1..=100).collect();
        let stats = TokenStats::of(&hundred).unwrap();
        assert_eq!((stats.median, stats.p95), (50, 95));
    }

    #[test]
    fn family_limits_and_reserved_strings() {
        let line = r#"{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"text":"Answer as Assistant: please"}]},{"role":"assistant","content":[{"text":"OK"}]}]}"#;
        let report = check(line, CheckOptions::new(Format::Auto, Some(ModelFamily::Nova)));
        let kinds: Vec<_> = report
            .errors
            .iter()
            .map(|f| (f.kind, f.line, f.field.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (FindingKind::RecordCount, None, None),
                (FindingKind::ReservedString, Some(1), Some("messages[0].content")),
            ]
        );
        assert!(report.errors[0].message.contains("at least 8"));
    }

    #[test]
    fn a_family_with_another_format_is_one_file_error() {
        let report = check(
            r#"{"prompt":"Q","completion":"A"}"#,
            CheckOptions::new(Format::PromptCompletion, Some(ModelFamily::Claude3Haiku)),
        );
        assert_eq!(report.format, Some(Format::PromptCompletion));
        let found: Vec<_> = report.errors.iter().map(|f| (f.kind, f.line)).collect();
        assert_eq!(
            found,
            vec![(FindingKind::WrongFormat, None), (FindingKind::RecordCount, None)]
        );
        assert!(report.errors[0].message.contains("claude-conversation"));
    }

    #[test]
    fn titan_length_limits() {
        let long = "word ".repeat(5_000);
        let line = format!(r#"{{"prompt":"{long}","completion":"A"}}"#);
        let report = check(
            &line,
            CheckOptions::new(Format::Auto, Some(ModelFamily::TitanTextExpress)),
        );
        let lengths: Vec<_> = report
            .errors
            .iter()
            .filter(|f| f.kind == FindingKind::RecordLength)
            .map(|f| f.message.clone())
            .collect();
        assert_eq!(lengths.len(), 2, "{lengths:?}");
        assert!(lengths[0].contains("about 6251 tokens"), "{}", lengths[0]);
        assert!(lengths[1].contains("25001 characters"), "{}", lengths[1]);
    }

    #[test]
    fn unknown_keys_are_one_warning_per_key() {
        let text = (1..=4)
            .map(|i| format!(r#"{{"id":"r{i}","prompt":"Question {i}","completion":"Answer {i}"}}"#))
            .collect::<Vec<_>>()
            .join("\n");
        let report = check(&text, CheckOptions::new(Format::Auto, None));
        assert!(report.passed());
        let found: Vec<_> = report
            .warnings
            .iter()
            .map(|f| (f.kind, f.line, f.field.as_deref()))
            .collect();
        assert_eq!(found, vec![(FindingKind::UnknownKey, Some(1), Some("id"))]);
        assert!(report.warnings[0]
            .message
            .ends_with("(on 4 lines; the first is this one)"));
        assert_eq!(without_indices("messages[12].content[0].x"), "messages[].content[].x");
    }

    #[test]
    fn blank_lines_inside_but_not_at_the_end_are_warned() {
        let text = "{\"prompt\":\"Q\",\"completion\":\"A\"}\n\n{\"prompt\":\"Q2\",\"completion\":\"A2\"}\n\n";
        let report = check(text, CheckOptions::new(Format::Auto, None));
        assert!(report.passed());
        let blanks: Vec<_> = report.warnings.iter().map(|f| (f.kind, f.line)).collect();
        assert_eq!(blanks, vec![(FindingKind::BlankLine, Some(2))]);
        assert_eq!((report.summary.lines, report.summary.records), (2, 2));
        assert_eq!(report.format_detected_from_line, Some(1));
    }
}
