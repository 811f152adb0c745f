//! Which fingerprints a records file holds, kept compact: one 48-byte entry per fingerprint (its 32-byte key, where
//! its latest record's line starts, and that record's status and error kind), sorted by key. Resume, the error
//! tally, the judge and the scorers ask it what is done instead of holding every record (and read the few records
//! they need back by offset): a million records take about 48 MB here, against gigabytes as records.

use std::path::Path;

use super::plan::{FingerprintKey, RequestFingerprint};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::records::{for_each_line_in, in_parts, Record, RecordAt, RecordStatus};
use crate::error::InputError;
use crate::provider::CallErrorKind;

/// The latest record of one fingerprint, in brief.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latest {
    /// Where its line starts in the file.
    pub offset: u64,
    /// `ok` or `error`.
    pub status: RecordStatus,
    /// The kind of its error, when it has one.
    pub error: Option<CallErrorKind>,
}

impl Latest {
    /// Whether the latest record is an error.
    pub fn failed(&self) -> bool {
        self.status == RecordStatus::Error
    }
}

/// Every fingerprint of a records file with its latest record (a retried error is superseded by its later record).
#[derive(Debug, Default)]
pub struct RecordedIndex {
    /// Sorted by key, one entry per key.
    entries: Vec<(FingerprintKey, Latest)>,
    /// Records read, superseded ones included.
    records: usize,
}

impl RecordedIndex {
    /// Reads `path` as a stream, in byte ranges on every core (a missing file is an empty index). A line must be a
    /// whole record, but only what the index keeps is taken from it: the texts are skipped, not copied.
    pub fn read(path: &Path) -> Result<RecordedIndex, InputError> {
        let parts = in_parts(path, |range| {
            let (mut entries, mut records) = (Vec::new(), 0);
            for_each_line_in(path, range, |offset, brief: Brief| {
                records += 1;
                if let Some(key) = brief.fingerprint.key() {
                    let error = brief.error.map(|e| e.kind);
                    entries.push((
                        key,
                        Latest {
                            offset,
                            status: brief.status,
                            error,
                        },
                    ));
                }
                Ok(())
            })?;
            Ok((entries, records))
        })
        .map_err(|error| match error.downcast::<InputError>() {
            Ok(error) => error,
            Err(other) => InputError::in_file(path, format!("cannot read records: {other:#}")),
        })?;
        // The first part grows to hold the others, each freed once it is in: no second copy of the whole index.
        let mut parts = parts.into_iter();
        let (mut entries, mut records) = parts.next().unwrap_or_default();
        for (part, count) in parts {
            entries.extend(part);
            records += count;
        }
        Ok(RecordedIndex::from_entries(entries, records))
    }

    fn from_entries(mut entries: Vec<(FingerprintKey, Latest)>, records: usize) -> RecordedIndex {
        // The later of two records of one fingerprint supersedes the earlier: sort by key then offset, keep the last.
        entries.sort_unstable_by_key(|(key, latest)| (*key, latest.offset));
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                *kept = *later;
            }
            same
        });
        entries.shrink_to_fit();
        RecordedIndex { entries, records }
    }

    /// The latest record of `fingerprint`, if it has one.
    pub fn latest(&self, fingerprint: &RequestFingerprint) -> Option<Latest> {
        self.latest_by_key(&fingerprint.key()?)
    }

    /// The latest record of the fingerprint with `key`, if it has one.
    pub fn latest_by_key(&self, key: &FingerprintKey) -> Option<Latest> {
        let index = self.entries.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        Some(self.entries[index].1)
    }

    /// Whether `record`, read at `at`, is the latest record of its fingerprint.
    pub fn is_latest(&self, at: RecordAt, record: &Record) -> bool {
        self.latest(&record.fingerprint)
            .is_some_and(|latest| latest.offset == at.offset)
    }

    /// Every fingerprint's latest record, in key order.
    pub fn iter(&self) -> impl Iterator<Item = &Latest> {
        self.entries.iter().map(|(_, latest)| latest)
    }

    /// Records read, superseded ones included.
    pub fn records(&self) -> usize {
        self.records
    }

    /// Distinct fingerprints recorded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Requests to make once each, as compact keys: gathered in a first pass (every occurrence), then taken in a second
/// pass that rebuilds the requests, each the first time its key comes up.
#[derive(Debug, Default)]
pub struct OnceKeys {
    /// Sorted, distinct.
    keys: Vec<FingerprintKey>,
    /// One bit per key: taken already.
    taken: Vec<u64>,
}

impl OnceKeys {
    /// The distinct keys among `keys`.
    pub fn new(mut keys: Vec<FingerprintKey>) -> OnceKeys {
        keys.sort_unstable();
        keys.dedup();
        keys.shrink_to_fit();
        let taken = vec![0; keys.len().div_ceil(64)];
        OnceKeys { keys, taken }
    }

    /// How many distinct keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// True the first time `fingerprint` is taken, when it is one of the keys.
    pub fn take(&mut self, fingerprint: &RequestFingerprint) -> bool {
        let Some(index) = fingerprint.key().and_then(|key| self.keys.binary_search(&key).ok()) else {
            return false;
        };
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        let first = self.taken[word] & bit == 0;
        self.taken[word] |= bit;
        first
    }
}

/// What the index reads of a record: its fingerprint, status and error kind. Every other field a record must have is
/// checked to be there, and its numbers to be numbers; the strings are skipped without being copied, so a string
/// field of the wrong type, or an error without its message, is refused only when the record itself is read.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Brief {
    example_id: IgnoredAny,
    config: IgnoredAny,
    repeat: u32,
    fingerprint: RequestFingerprint,
    model: IgnoredAny,
    status: RecordStatus,
    input_tokens: u64,
    output_tokens: u64,
    latency_ms: u64,
    attempts: u32,
    started_at: IgnoredAny,
    #[serde(default)]
    error: Option<BriefError>,
}

/// A record's error, as far as the index reads it.
#[derive(Deserialize)]
struct BriefError {
    kind: CallErrorKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> FingerprintKey {
        FingerprintKey([byte; 32])
    }

    fn latest(offset: u64, status: RecordStatus) -> Latest {
        Latest {
            offset,
            status,
            error: (status == RecordStatus::Error).then_some(CallErrorKind::Throttling),
        }
    }

    #[test]
    fn a_line_without_a_record_s_fields_is_refused_by_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let line = |fields: &str| {
            format!(
                "{{\"example_id\":\"a\",\"config\":\"c\",\"repeat\":0,\"fingerprint\":\"{}\",\"status\":\"ok\",{fields}\"input_tokens\":1,\"output_tokens\":1,\"latency_ms\":1,\"attempts\":1,\"started_at\":\"t\"}}\n",
                "ab".repeat(32)
            )
        };
        std::fs::write(&path, line("\"model\":\"m\",") + &line("")).unwrap();
        let error = RecordedIndex::read(&path).unwrap_err().to_string();
        assert!(error.contains("records.jsonl:2") && error.contains("model"), "{error}");
        std::fs::write(&path, line("\"model\":\"m\",").repeat(2)).unwrap();
        let index = RecordedIndex::read(&path).unwrap();
        assert_eq!((index.records(), index.len()), (2, 1));
    }

    #[test]
    fn the_latest_record_of_each_fingerprint_wins_whatever_the_order() {
        let entries = vec![
            (key(2), latest(1, RecordStatus::Error)),
            (key(1), latest(2, RecordStatus::Ok)),
            (key(2), latest(3, RecordStatus::Ok)),
            (key(3), latest(4, RecordStatus::Ok)),
            (key(3), latest(5, RecordStatus::Error)),
        ];
        let index = RecordedIndex::from_entries(entries, 5);
        assert_eq!(index.len(), 3);
        assert_eq!(index.records(), 5);
        assert_eq!(index.latest_by_key(&key(1)), Some(latest(2, RecordStatus::Ok)));
        assert_eq!(index.latest_by_key(&key(2)), Some(latest(3, RecordStatus::Ok)));
        assert_eq!(index.latest_by_key(&key(3)), Some(latest(5, RecordStatus::Error)));
        assert_eq!(index.latest_by_key(&key(4)), None);
    }

    #[test]
    fn each_key_is_taken_once_and_only_keys_gathered_are() {
        let fingerprint = |byte: u8| RequestFingerprint(format!("{byte:02x}").repeat(32));
        let mut once = OnceKeys::new(vec![key(7), key(3), key(7)]);
        assert_eq!(once.len(), 2);
        assert!(once.take(&fingerprint(7)));
        assert!(!once.take(&fingerprint(7)));
        assert!(once.take(&fingerprint(3)));
        assert!(!once.take(&fingerprint(5)));
    }
}
