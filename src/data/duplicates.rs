//! Duplicate, conflicting and near-duplicate records within one file.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::record::{Purpose, Record};
use super::similarity::{earlier_near_duplicates, normalise, Threshold, SHINGLE_WORDS};
use super::{Finding, FindingKind};

/// Warnings about repeated records, each naming both lines, ordered by line:
/// - the same exchange (prompt and reply, normalised) as an earlier record;
/// - the same prompt as an earlier record but a different reply (the model is taught two answers);
/// - exchanges whose word shingles overlap at or above `threshold`: each record names one earlier near duplicate
///   (records already reported as exact duplicates are compared once, through their first occurrence), so a file
///   of templated records gets one warning per record, not one per pair.
///
/// In a held-out file, two examples with exactly the same input (turns and system prompt) are one request per
/// config: a run sends it once and scores the reply against each example, which the warning says instead.
pub(crate) fn duplicate_findings(records: &[Record], threshold: Threshold, purpose: Purpose) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut first_exchange: HashMap<String, usize> = HashMap::new();
    let mut first_input: HashMap<String, (usize, String)> = HashMap::new();
    let mut first_exact_input: HashMap<(Option<&str>, String), usize> = HashMap::new();
    // Indices of records that are the first of their exchange: the ones compared for near duplicates.
    let mut distinct: Vec<usize> = Vec::new();
    for (index, record) in records.iter().enumerate() {
        if purpose == Purpose::HeldOut {
            match first_exact_input.entry((record.system.as_deref(), record.input_text())) {
                Entry::Occupied(first) => {
                    let first_line = records[*first.get()].line;
                    findings.push(pair_finding(
                        FindingKind::SharedInput,
                        record.line,
                        first_line,
                        None,
                        format!(
                            "held-out examples on lines {first_line} and {} have the same input and share one call \
                             per config: it is made once and its reply scored against each example's own reference",
                            record.line
                        ),
                    ));
                    continue;
                }
                Entry::Vacant(slot) => {
                    slot.insert(index);
                }
            }
        }
        let exchange = normalise(&record.exchange_text());
        if let Some(&first) = first_exchange.get(&exchange) {
            findings.push(pair_finding(
                FindingKind::Duplicate,
                record.line,
                records[first].line,
                None,
                format!(
                    "duplicates line {} (same prompt and reply after normalisation)",
                    records[first].line
                ),
            ));
            continue;
        }
        first_exchange.insert(exchange, index);
        distinct.push(index);
        let input = normalise(&record.input_text());
        let reply = normalise(record.reference().unwrap_or(""));
        match first_input.get(&input) {
            Some((first, first_reply)) if *first_reply != reply => findings.push(pair_finding(
                FindingKind::SamePromptDifferentReply,
                record.line,
                records[*first].line,
                None,
                format!(
                    "same prompt as line {} with a different reply: the model is taught two answers",
                    records[*first].line
                ),
            )),
            Some(_) => {}
            None => {
                first_input.insert(input, (index, reply));
            }
        }
    }
    let texts: Vec<String> = distinct.iter().map(|&i| records[i].exchange_text()).collect();
    let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for pair in earlier_near_duplicates(&text_refs, threshold).into_iter().flatten() {
        let (earlier, later) = (&records[distinct[pair.first]], &records[distinct[pair.second]]);
        findings.push(pair_finding(
            FindingKind::NearDuplicate,
            later.line,
            earlier.line,
            Some(pair.jaccard),
            format!(
                "near duplicate of line {} (Jaccard {:.2} over {}-word shingles)",
                earlier.line, pair.jaccard, SHINGLE_WORDS
            ),
        ));
    }
    findings.sort_by_key(|f| (f.line, f.other_line));
    findings
}

fn pair_finding(
    kind: FindingKind,
    line: usize,
    other_line: usize,
    similarity: Option<f64>,
    message: String,
) -> Finding {
    Finding {
        other_line: Some(other_line),
        similarity,
        ..Finding::at_line(kind, line, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse::parse_line;
    use crate::data::record::{Format, Purpose};

    fn records(lines: &[&str]) -> Vec<Record> {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| parse_line(l, i + 1, Format::Auto, Purpose::Training).record.unwrap())
            .collect()
    }

    #[test]
    fn exact_conflicting_and_near_duplicates_name_both_lines() {
        let long = "the kestrel lock jams half way when turned from outside and the app says unlocked";
        let records = records(&[
            r#"{"prompt":"Reset my lock","completion":"Hold the button."}"#,
            r#"{"prompt":"reset  MY lock","completion":"hold the button."}"#,
            r#"{"prompt":"Reset my lock","completion":"Call us."}"#,
            &format!(r#"{{"prompt":"{long}","completion":"Calibrate it."}}"#),
            &format!(r#"{{"prompt":"{long}!","completion":"Calibrate it!"}}"#),
        ]);
        let found: Vec<_> = duplicate_findings(&records, Threshold::DEFAULT, Purpose::Training)
            .into_iter()
            .map(|f| (f.kind, f.line, f.other_line))
            .collect();
        assert_eq!(
            found,
            vec![
                (FindingKind::Duplicate, Some(2), Some(1)),
                (FindingKind::SamePromptDifferentReply, Some(3), Some(1)),
                (FindingKind::NearDuplicate, Some(5), Some(4)),
            ]
        );
    }
}
