//! Which record is each planned row's latest: the plan's fingerprints matched against `records.jsonl`'s, on every
//! core.
//!
//! The plan's keys are built by several threads (each a contiguous share of the plan) and sorted with their rows; an
//! index of where each 16-bit key prefix starts in that sorted list makes a lookup one or two cache misses rather
//! than the twenty of a binary search over a million keys. `records.jsonl` is then read in as many byte ranges as
//! threads, each parsing its lines' fingerprints. A row's latest record is the one that starts last in the file, kept
//! as an atomic maximum, so the ranges need no order between them.
//!
//! A line as `run` writes it has its fingerprint near its start, after the example's id, the config and the repeat:
//! the scan reads it there and leaves the rest of the line (mostly the reply's text) unparsed. Every such line is
//! still checked: a row's latest record is parsed whole by the scoring pass, and the few others (superseded by a
//! later record, or no planned row's) are read back and parsed once the scan is done. Any other line is parsed here.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::InputErrors;
use crate::run::plan::{plan_keys, FingerprintKey, RequestFingerprint};
use crate::run::records::{for_each_line_or_quick_in, in_parts};
use crate::suite::Suite;

/// Marks a planned row without a record in the row-to-offset table.
pub(super) const NOT_RECORDED: u64 = u64::MAX;

/// Per planned row, where its latest record starts in `records.jsonl` ([`NOT_RECORDED`] if nowhere), and how many
/// distinct fingerprints were recorded that no planned row has.
pub(super) fn latest_record_offsets(suite: &Suite, records: &Path) -> anyhow::Result<(Vec<u64>, usize)> {
    let planned = PlannedKeys::build(suite)?;
    // Each row's latest offset plus one; 0 for none yet.
    let latest: Vec<AtomicU64> = (0..planned.rows.len()).map(|_| AtomicU64::new(0)).collect();
    let scanned = in_parts(records, |range| scan(records, range, &planned, &latest))?;
    drop(planned);
    let mut stale: HashSet<FingerprintKey> = HashSet::new();
    let mut unkeyed: HashSet<String> = HashSet::new();
    let mut unparsed = Vec::new();
    for part in scanned {
        stale.extend(part.stale);
        unkeyed.extend(part.unkeyed);
        unparsed.extend(part.unparsed);
    }
    let offsets: Vec<u64> = latest
        .iter()
        .map(|offset| offset.load(Ordering::Relaxed).checked_sub(1).unwrap_or(NOT_RECORDED))
        .collect();
    check_unused(records, &unparsed, &offsets)?;
    Ok((offsets, stale.len() + unkeyed.len()))
}

/// What a part of the scan found.
struct Scanned {
    /// Recorded keys that no planned row has.
    stale: HashSet<FingerprintKey>,
    /// Recorded fingerprints that are not keys at all.
    unkeyed: HashSet<String>,
    /// Where the lines whose fingerprint was read without parsing them start, in ascending order.
    unparsed: Vec<u64>,
}

/// Parses the lines at `unparsed` (ascending) that are no row's latest record (`latest`, per row), as the scan would
/// have parsed them: they are read by no one else. A line that is not a record is an error naming it.
fn check_unused(records: &Path, unparsed: &[u64], latest: &[u64]) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct Head {
        #[allow(dead_code)] // only checked to be there
        fingerprint: RequestFingerprint,
    }
    let mut used = latest.to_vec();
    used.sort_unstable();
    let mut used = used.into_iter().peekable();
    let mut reader = None;
    for &offset in unparsed {
        while used.next_if(|&u| u < offset).is_some() {}
        if used.peek() == Some(&offset) {
            continue;
        }
        let reader = match &mut reader {
            Some(reader) => reader,
            None => reader.insert(super::RecordReader::for_lookups(records)?),
        };
        reader.parse_at::<Head>(offset)?;
    }
    Ok(())
}

/// Notes, for the lines of `records` that start within `range`, each planned row's latest record in `latest`.
fn scan(records: &Path, range: Range<u64>, planned: &PlannedKeys, latest: &[AtomicU64]) -> anyhow::Result<Scanned> {
    #[derive(serde::Deserialize)]
    struct Head {
        fingerprint: RequestFingerprint,
    }
    // Notes a line's key; whether a planned row has it.
    let note = |offset: u64, key: &FingerprintKey| {
        let rows = planned.rows_of(key);
        for &(_, row) in rows {
            latest[row as usize].fetch_max(offset + 1, Ordering::Relaxed);
        }
        !rows.is_empty()
    };
    let (mut stale, mut unparsed_stale) = (HashSet::new(), HashSet::new());
    let (mut unkeyed, mut unparsed) = (HashSet::new(), Vec::new());
    for_each_line_or_quick_in(
        records,
        range,
        |offset, line| {
            let Some(key) = leading_key(line) else { return false };
            if !note(offset, &key) {
                unparsed_stale.insert(key);
            }
            unparsed.push(offset);
            true
        },
        |offset, head: Head| {
            match head.fingerprint.key() {
                Some(key) if !note(offset, &key) => {
                    stale.insert(key);
                }
                Some(_) => {}
                None => {
                    unkeyed.insert(head.fingerprint.0);
                }
            }
            Ok(())
        },
    )?;
    stale.extend(unparsed_stale);
    Ok(Scanned {
        stale,
        unkeyed,
        unparsed,
    })
}

/// The key of a record line as `run` writes it — `{"example_id":"…","config":"…","repeat":N,"fingerprint":"<64 hex
/// digits>"`, then the rest — read from there; `None` for a line that begins any other way.
fn leading_key(line: &[u8]) -> Option<FingerprintKey> {
    let rest = skip_string(line.strip_prefix(br#"{"example_id":"#)?)?;
    let rest = skip_string(rest.strip_prefix(br#","config":"#)?)?;
    let rest = rest.strip_prefix(br#","repeat":"#)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = rest[digits..]
        .strip_prefix(br#","fingerprint":""#)
        .filter(|_| digits > 0)?;
    (rest.get(64) == Some(&b'"')).then_some(())?;
    FingerprintKey::from_hex(&rest[..64])
}

/// The text after the JSON string `text` begins with (at its opening quote); `None` when it does not begin with one
/// that ends.
fn skip_string(text: &[u8]) -> Option<&[u8]> {
    let mut rest = text.strip_prefix(b"\"")?;
    loop {
        let at = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
        if rest[at] == b'"' {
            return Some(&rest[at + 1..]);
        }
        // An escape: the backslash and the character it escapes (a `\u` escape's digits hold no quote).
        rest = rest.get(at + 2..)?;
    }
}

/// The plan's keys, sorted with their rows (several rows may share a key: examples with the same input), and where
/// each 16-bit key prefix starts among them.
struct PlannedKeys {
    rows: Vec<(FingerprintKey, u32)>,
    /// `starts[p]`: the first index whose key's prefix is at least `p`; 65,537 entries.
    starts: Vec<u32>,
}

impl PlannedKeys {
    fn build(suite: &Suite) -> anyhow::Result<Self> {
        Self::from_rows(plan_keys(suite).map_err(InputErrors::from)?)
    }

    /// The keys of `rows`, sorted and indexed.
    fn from_rows(mut rows: Vec<(FingerprintKey, u32)>) -> anyhow::Result<Self> {
        // The tuples' own order, with the keys' first eight bytes compared as one integer first: keys are hashes, so
        // that almost always settles it without a call to compare 32 bytes.
        rows.sort_unstable_by(|a, b| u64_of(&a.0, 0).cmp(&u64_of(&b.0, 0)).then_with(|| a.cmp(b)));
        let mut starts = Vec::with_capacity(PREFIXES + 1);
        let mut index = 0;
        for prefix in 0..=PREFIXES {
            while index < rows.len() && usize::from(prefix_of(&rows[index].0)) < prefix {
                index += 1;
            }
            starts.push(u32::try_from(index)?);
        }
        Ok(PlannedKeys { rows, starts })
    }

    /// The planned rows whose key is `key` (none when no row has it).
    fn rows_of(&self, key: &FingerprintKey) -> &[(FingerprintKey, u32)] {
        let prefix = usize::from(prefix_of(key));
        let bucket = &self.rows[self.starts[prefix] as usize..self.starts[prefix + 1] as usize];
        // Keys are compared by their next eight bytes first (as one integer, not a call to compare 32 bytes): keys are
        // hashes, so those almost always settle it.
        let head = head_of(key);
        let first = bucket.partition_point(|(k, _)| head_of(k) < head || (head_of(k) == head && k < key));
        let count = bucket[first..].iter().take_while(|(k, _)| k == key).count();
        &bucket[first..first + count]
    }
}

/// How many 16-bit prefixes there are.
const PREFIXES: usize = 1 << 16;

fn prefix_of(key: &FingerprintKey) -> u16 {
    u16::from_be_bytes([key.0[0], key.0[1]])
}

/// The key's eight bytes after its prefix, in the keys' order.
fn head_of(key: &FingerprintKey) -> u64 {
    u64_of(key, 2)
}

/// The key's eight bytes from byte `at`, as an integer in the keys' order.
fn u64_of(key: &FingerprintKey, at: usize) -> u64 {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&key.0[at..at + 8]);
    u64::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(prefix: [u8; 2], last: u8) -> FingerprintKey {
        let mut key = [0u8; 32];
        key[..2].copy_from_slice(&prefix);
        key[31] = last;
        FingerprintKey(key)
    }

    #[test]
    fn a_record_line_as_run_writes_it_gives_its_key_where_it_begins() {
        let fingerprint = RequestFingerprint("0123456789abcdefABCDEF".repeat(3)[..64].to_string());
        let record: crate::run::records::Record = serde_json::from_value(serde_json::json!({
            "example_id": "a \"quoted\" id \\ ending in a backslash \\", "config": "c\u{1}\"", "repeat": 12,
            "fingerprint": fingerprint, "model": "m", "status": "ok", "output": "\"fingerprint\":\"00\"",
            "input_tokens": 1, "output_tokens": 1, "latency_ms": 1, "attempts": 1, "started_at": "t"
        }))
        .unwrap();
        // The line as `run` appends it (the field order of `Record` is what the scan relies on).
        let line = serde_json::to_string(&record).unwrap() + "\n";
        assert_eq!(leading_key(line.as_bytes()), fingerprint.key());
        assert!(fingerprint.key().is_some());
        // Any other beginning is declined, and left to be parsed whole.
        let declined = [
            line.replacen("{\"example_id\"", "{ \"example_id\"", 1),
            line.replacen("\"repeat\":12", "\"repeat\":\"12\"", 1),
            line.replacen("\"repeat\":12", "\"repeat\":", 1),
            line.replacen(&fingerprint.0, &fingerprint.0[..63], 1),
            line.replacen(&fingerprint.0, &format!("{}g", &fingerprint.0[..63]), 1),
            line.replacen(&fingerprint.0, &format!("{}0", fingerprint.0), 1),
            r#"{"attempts":1,"config":"c","example_id":"a","fingerprint":"00"}"#.to_string(),
            r#"{"example_id":"a\"#.to_string(),
            String::new(),
        ];
        for text in declined {
            assert_eq!(leading_key(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn the_keys_are_in_the_order_of_the_tuples() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // Keys that differ anywhere: in the first eight bytes, only after them, or not at all (rows share a key).
        let mut rows: Vec<(FingerprintKey, u32)> = (0..5000u32)
            .map(|row| {
                let mut key = [0u8; 32];
                key[rng.random_range(0..32)] = rng.random_range(0..4);
                key[rng.random_range(0..32)] = rng.random_range(0..4);
                (FingerprintKey(key), row)
            })
            .collect();
        rows.reverse();
        let planned = PlannedKeys::from_rows(rows.clone()).unwrap();
        rows.sort();
        assert_eq!(planned.rows, rows);
    }

    #[test]
    fn a_key_finds_every_row_that_has_it_and_no_other() {
        let rows = vec![
            (key([0xff, 0xff], 9), 0),
            (key([0x12, 0x34], 1), 1),
            (key([0x00, 0x00], 0), 2),
            (key([0x12, 0x34], 1), 3),
            (key([0x12, 0x34], 2), 4),
            (key([0x12, 0x35], 0), 5),
        ];
        let planned = PlannedKeys::from_rows(rows).unwrap();
        let rows_of = |k| planned.rows_of(&k).iter().map(|(_, row)| *row).collect::<Vec<_>>();
        assert_eq!(rows_of(key([0x12, 0x34], 1)), [1, 3]);
        assert_eq!(rows_of(key([0x12, 0x34], 2)), [4]);
        assert_eq!(rows_of(key([0x12, 0x35], 0)), [5]);
        assert_eq!(rows_of(key([0x00, 0x00], 0)), [2]);
        assert_eq!(rows_of(key([0xff, 0xff], 9)), [0]);
        assert!(rows_of(key([0x12, 0x34], 0)).is_empty());
        assert!(rows_of(key([0xff, 0xff], 8)).is_empty());
        assert!(rows_of(key([0x80, 0x00], 0)).is_empty());
        assert!(PlannedKeys::from_rows(Vec::new())
            .unwrap()
            .rows_of(&key([0, 0], 0))
            .is_empty());
    }
}
