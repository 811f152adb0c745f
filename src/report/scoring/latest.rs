//! Which record is each planned row's latest: the plan's fingerprints matched against `records.jsonl`'s, on every
//! core.
//!
//! The plan's keys are built by several threads (each a contiguous share of the plan) and sorted with their rows; an
//! index of where each 16-bit key prefix starts in that sorted list makes a lookup one or two cache misses rather
//! than the twenty of a binary search over a million keys. `records.jsonl` is then read in as many byte ranges as
//! threads, each parsing its lines' fingerprints. A row's latest record is the one that starts last in the file, kept
//! as an atomic maximum, so the ranges need no order between them.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::InputErrors;
use crate::run::plan::{plan_keys, FingerprintKey, RequestFingerprint};
use crate::run::records::{for_each_line_in, in_parts};
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
    let mut stale: HashSet<FingerprintKey> = HashSet::new();
    let mut unkeyed: HashSet<String> = HashSet::new();
    for (part_stale, part_unkeyed) in scanned {
        stale.extend(part_stale);
        unkeyed.extend(part_unkeyed);
    }
    let offsets = latest
        .iter()
        .map(|offset| offset.load(Ordering::Relaxed).checked_sub(1).unwrap_or(NOT_RECORDED))
        .collect();
    Ok((offsets, stale.len() + unkeyed.len()))
}

/// Notes, for the lines of `records` that start within `range`, each planned row's latest record in `latest`; returns
/// the recorded keys no row has, and the fingerprints that are not keys at all.
fn scan(
    records: &Path,
    range: Range<u64>,
    planned: &PlannedKeys,
    latest: &[AtomicU64],
) -> anyhow::Result<(HashSet<FingerprintKey>, HashSet<String>)> {
    #[derive(serde::Deserialize)]
    struct Head {
        fingerprint: RequestFingerprint,
    }
    let mut stale: HashSet<FingerprintKey> = HashSet::new();
    let mut unkeyed: HashSet<String> = HashSet::new();
    for_each_line_in(records, range, |offset, head: Head| {
        let Some(key) = head.fingerprint.key() else {
            unkeyed.insert(head.fingerprint.0);
            return Ok(());
        };
        let rows = planned.rows_of(&key);
        for &(_, row) in rows {
            latest[row as usize].fetch_max(offset + 1, Ordering::Relaxed);
        }
        if rows.is_empty() {
            stale.insert(key);
        }
        Ok(())
    })?;
    Ok((stale, unkeyed))
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
