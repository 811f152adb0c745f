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
//! still checked: a row's latest record is parsed whole by the scoring pass, and the few superseded by a later record
//! of the same key are read back and parsed once the scan is done. Any other line, and one no planned row has, is
//! parsed here.

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
    // Each row's latest line, as [`noted`] keeps it; 0 for none yet.
    let latest: Vec<AtomicU64> = (0..planned.rows.len()).map(|_| AtomicU64::new(0)).collect();
    let scanned = in_parts(records, |range| scan(records, range, &planned, &latest))?;
    drop(planned);
    let mut stale: HashSet<FingerprintKey> = HashSet::new();
    let mut unkeyed: HashSet<String> = HashSet::new();
    let mut superseded = Vec::new();
    for part in scanned {
        stale.extend(part.stale);
        unkeyed.extend(part.unkeyed);
        superseded.extend(part.superseded);
    }
    parse_superseded(records, superseded)?;
    // Converted in place (the same allocation, as `collect` reuses a vector's own for an element of the same size).
    let offsets: Vec<u64> = latest
        .into_iter()
        .map(|noted| (noted.into_inner() >> 1).checked_sub(1).unwrap_or(NOT_RECORDED))
        .collect();
    Ok((offsets, stale.len() + unkeyed.len()))
}

/// A line as a row's latest keeps it: its offset plus one, doubled, and 1 added when the line was not parsed. The
/// greater is the later line, as offsets are.
fn noted(offset: u64, parsed: bool) -> u64 {
    ((offset + 1) << 1) | u64::from(!parsed)
}

/// A record line as the scan parses it: its fingerprint, the rest of the line checked to be JSON.
#[derive(serde::Deserialize)]
struct Head {
    fingerprint: RequestFingerprint,
}

/// What a part of the scan found.
struct Scanned {
    /// Recorded keys that no planned row has.
    stale: HashSet<FingerprintKey>,
    /// Recorded fingerprints that are not keys at all.
    unkeyed: HashSet<String>,
    /// Where lines start that were not parsed and are superseded by a later line of the same key (each once per row
    /// of that key).
    superseded: Vec<u64>,
}

/// Parses the lines that start at `offsets`, as the scan would have: superseded, they are read by no one else. A line
/// that is not a record is an error naming it.
fn parse_superseded(records: &Path, mut offsets: Vec<u64>) -> anyhow::Result<()> {
    if offsets.is_empty() {
        return Ok(());
    }
    offsets.sort_unstable();
    offsets.dedup();
    let mut reader = super::RecordReader::for_lookups(records)?;
    for offset in offsets {
        reader.parse_at::<Head>(offset)?;
    }
    Ok(())
}

/// Notes, for the lines of `records` that start within `range`, each planned row's latest record in `latest`.
///
/// A line that begins as `run` writes a record gives its key unparsed, unless no planned row has the key (then it is
/// parsed here). Such a line is still parsed whole: by the scoring pass when it is a row's latest; otherwise it is
/// superseded, and whichever part of the scan notes a later line over it, or finds one already noted, lists it.
fn scan(records: &Path, range: Range<u64>, planned: &PlannedKeys, latest: &[AtomicU64]) -> anyhow::Result<Scanned> {
    let superseded = std::cell::RefCell::new(Vec::new());
    let note = |rows: &[(FingerprintKey, u32)], offset: u64, parsed: bool| {
        let line = noted(offset, parsed);
        for &(_, row) in rows {
            let before = latest[row as usize].fetch_max(line, Ordering::Relaxed);
            // The earlier of the two lines is superseded; listed when it was not parsed (no line before: 0, even).
            let earlier = before.min(line);
            if earlier & 1 == 1 {
                superseded.borrow_mut().push((earlier >> 1) - 1);
            }
        }
    };
    let (mut stale, mut unkeyed) = (HashSet::new(), HashSet::new());
    for_each_line_or_quick_in(
        records,
        range,
        |offset, line| {
            let Some(key) = leading_key(line) else { return false };
            let rows = planned.rows_of(&key);
            if rows.is_empty() {
                return false;
            }
            note(rows, offset, false);
            true
        },
        |offset, head: Head| {
            match head.fingerprint.key() {
                Some(key) => {
                    let rows = planned.rows_of(&key);
                    if rows.is_empty() {
                        stale.insert(key);
                    }
                    note(rows, offset, true);
                }
                None => {
                    unkeyed.insert(head.fingerprint.0);
                }
            }
            Ok(())
        },
    )?;
    Ok(Scanned {
        stale,
        unkeyed,
        superseded: superseded.into_inner(),
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
    fn an_unparsed_line_superseded_is_listed_whichever_part_is_scanned_first() {
        let line = |key: char, tail: &str| {
            format!(
                r#"{{"example_id":"e","config":"c","repeat":0,"fingerprint":"{}"{tail}"#,
                key.to_string().repeat(64)
            ) + "\n"
        };
        let lines = [
            line('a', ",not a record"),
            line('a', "}"),
            line('b', "}"),
            line('a', "}"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        std::fs::write(&path, lines.concat()).unwrap();
        let starts: Vec<u64> = lines
            .iter()
            .scan(0, |at, line| {
                let start = *at;
                *at += line.len() as u64;
                Some(start)
            })
            .collect();
        let keys = ['a', 'b'].map(|c| FingerprintKey::from_hex(c.to_string().repeat(64).as_bytes()).unwrap());
        let planned = PlannedKeys::from_rows(vec![(keys[0], 0), (keys[1], 1), (keys[0], 2)]).unwrap();
        // Parts scanned later lines first, and earlier lines first.
        for parts in [[starts[1]..u64::MAX, 0..starts[1]], [0..starts[2], starts[2]..u64::MAX]] {
            let latest: Vec<AtomicU64> = (0..3).map(|_| AtomicU64::new(0)).collect();
            let mut superseded: Vec<u64> = parts
                .into_iter()
                .flat_map(|range| scan(&path, range, &planned, &latest).unwrap().superseded)
                .collect();
            superseded.sort_unstable();
            superseded.dedup();
            assert_eq!(superseded, [starts[0], starts[1]]);
            let kept: Vec<u64> = latest.iter().map(|l| l.load(Ordering::Relaxed)).collect();
            assert_eq!(
                kept,
                [
                    noted(starts[3], false),
                    noted(starts[2], false),
                    noted(starts[3], false)
                ]
            );
            let error = parse_superseded(&path, superseded).unwrap_err().to_string();
            assert!(error.contains(":1: invalid record"), "{error}");
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
