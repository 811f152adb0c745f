//! Text normalisation, word shingles, exact Jaccard similarity, and MinHash with banded locality-sensitive hashing
//! to find near-duplicate pairs without comparing every pair.
//!
//! MinHash (Broder, 1997): for a random hash function, the probability that two sets share their minimum hash equals
//! their Jaccard similarity. With `NUM_HASHES` hash functions split into bands of `r` rows, two sets become a
//! candidate pair when all rows of some band agree, with probability `1 − (1 − s^r)^(NUM_HASHES/r)` for Jaccard `s`
//! (Leskovec, Rajaraman & Ullman, *Mining of Massive Datasets*, ch. 3). Candidates are then verified with the exact
//! Jaccard, so MinHash only decides which pairs are compared: it can miss a pair (rarely: `r` is chosen so a pair at
//! the threshold is a candidate with probability ≥ 0.999) but never reports a false one.

use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;
use std::str::FromStr;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Words per shingle.
pub const SHINGLE_WORDS: usize = 3;
/// Hash functions per MinHash signature.
pub const NUM_HASHES: usize = 128;
/// Seed of the MinHash hash functions: fixed, so results never change between runs or machines.
pub const MINHASH_SEED: u64 = 0x6265_6472_6f63_6b21;

/// A Jaccard similarity threshold in (0, 1], checked once at construction.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Threshold(f64);

impl Threshold {
    /// The default near-duplicate threshold: 0.8.
    pub const DEFAULT: Threshold = Threshold(0.8);

    /// A threshold, if `value` is in (0, 1].
    pub fn new(value: f64) -> Result<Threshold, String> {
        if value > 0.0 && value <= 1.0 {
            Ok(Threshold(value))
        } else {
            Err(format!(
                "a Jaccard threshold must be above 0 and at most 1, not {value}"
            ))
        }
    }

    /// The value.
    pub fn value(self) -> f64 {
        self.0
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::DEFAULT
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Threshold {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let value: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a number; expected a Jaccard threshold such as 0.8"))?;
        Threshold::new(value)
    }
}

/// `text` for exact comparison: Unicode NFKC, lowercased, runs of whitespace collapsed to one space, trimmed.
pub fn normalise(text: &str) -> String {
    let lowered = text.nfkc().collect::<String>().to_lowercase();
    lowered.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The words of `text` for shingling: normalised, then split on anything that is not a letter or digit, so
/// punctuation does not make two texts differ.
pub fn words(text: &str) -> Vec<String> {
    normalise(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The set of `SHINGLE_WORDS`-word shingles of `text`, hashed, sorted and deduplicated. A text shorter than a
/// shingle is one shingle of all its words; a text without words has no shingles.
pub fn shingles(text: &str) -> Vec<u64> {
    let words = words(text);
    let mut hashes: Vec<u64> = if words.is_empty() {
        Vec::new()
    } else if words.len() < SHINGLE_WORDS {
        vec![hash_words(&words)]
    } else {
        words.windows(SHINGLE_WORDS).map(hash_words).collect()
    };
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// Shingles found in more than this share of a collection's texts are boilerplate (a shared instruction or template)
/// and left out of comparisons: they say nothing about whether two examples are the same, and a long one would make
/// every pair of records look alike.
pub const BOILERPLATE_SHARE: f64 = 0.5;
/// Boilerplate is only looked for in collections of at least this many texts; in smaller ones "more than half" is too
/// few texts to tell a template from a repeated example.
pub const BOILERPLATE_MIN_TEXTS: usize = 20;

/// The shingle sets of a collection of texts, without boilerplate shingles (see `BOILERPLATE_SHARE`).
pub fn shingle_sets(texts: &[&str]) -> Vec<Vec<u64>> {
    let mut sets: Vec<Vec<u64>> = texts.iter().map(|t| shingles(t)).collect();
    if sets.len() >= BOILERPLATE_MIN_TEXTS {
        let mut texts_with: HashMap<u64, usize> = HashMap::new();
        for set in &sets {
            for &shingle in set {
                *texts_with.entry(shingle).or_default() += 1;
            }
        }
        let most = (sets.len() as f64 * BOILERPLATE_SHARE).floor() as usize;
        for set in &mut sets {
            set.retain(|shingle| texts_with.get(shingle).is_some_and(|&n| n <= most));
        }
    }
    sets
}

/// FNV-1a over the words, separated by a byte no word contains: stable across platforms and versions (std's
/// hasher is not guaranteed to be).
fn hash_words(words: &[String]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for word in words {
        for byte in word.bytes().chain(std::iter::once(0x1f)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// Exact Jaccard similarity |A ∩ B| / |A ∪ B| of two sorted, deduplicated sets; two empty sets are identical (1).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

/// SplitMix64's finaliser: a bijection on u64 that mixes every input bit into every output bit.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The seeds of the `NUM_HASHES` hash functions `h_i(x) = mix(x ^ seed_i)`.
fn hash_seeds() -> Vec<u64> {
    (0..NUM_HASHES as u64)
        .map(|i| mix(MINHASH_SEED.wrapping_add(i.wrapping_mul(0x9e37_79b9_7f4a_7c15))))
        .collect()
}

/// The MinHash signature of a non-empty shingle set: the minimum of each hash function over the set.
pub fn signature(shingles: &[u64]) -> Vec<u64> {
    hash_seeds()
        .iter()
        .map(|&seed| shingles.iter().map(|&s| mix(s ^ seed)).min().unwrap_or(u64::MAX))
        .collect()
}

/// Rows per band: the largest of 8, 4, 2, 1 for which a pair exactly at `threshold` becomes a candidate with
/// probability at least 0.999.
pub fn rows_per_band(threshold: Threshold) -> usize {
    for rows in [8usize, 4, 2] {
        let bands = (NUM_HASHES / rows) as i32;
        let hit = 1.0 - (1.0 - threshold.value().powi(rows as i32)).powi(bands);
        if hit >= 0.999 {
            return rows;
        }
    }
    1
}

/// A pair of similar texts: indices into the compared lists and their exact Jaccard similarity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SimilarPair {
    /// Index of the first text (the earlier one, or the one in the left list).
    pub first: usize,
    /// Index of the second text.
    pub second: usize,
    /// Exact Jaccard similarity of their shingle sets.
    pub jaccard: f64,
}

/// The band keys of one shingle set (none for an empty set, which never pairs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BandKeys(Vec<(usize, u64)>);

/// A banded MinHash index: shingle sets are inserted one at a time, and a query offers the inserted sets that share a
/// band with it, each once. Callers verify candidates with the exact `jaccard`, and can stop early, so the work done
/// follows what they need rather than the number of similar pairs (which is quadratic in templated data).
#[derive(Debug, Clone)]
pub struct LshIndex {
    rows: usize,
    seeds: Vec<u64>,
    buckets: HashMap<(usize, u64), Vec<usize>>,
    /// `seen[j] == stamp` when `j` was already offered during the current query.
    seen: Vec<u32>,
    stamp: u32,
}

impl LshIndex {
    /// An empty index banded for `threshold` (see `rows_per_band`).
    pub fn new(threshold: Threshold) -> Self {
        LshIndex {
            rows: rows_per_band(threshold),
            seeds: hash_seeds(),
            buckets: HashMap::new(),
            seen: Vec::new(),
            stamp: 0,
        }
    }

    /// The band keys of a sorted shingle set.
    pub fn band_keys(&self, set: &[u64]) -> BandKeys {
        if set.is_empty() {
            return BandKeys(Vec::new());
        }
        let signature: Vec<u64> = self
            .seeds
            .iter()
            .map(|&seed| set.iter().map(|&s| mix(s ^ seed)).min().unwrap_or(u64::MAX))
            .collect();
        BandKeys(
            signature
                .chunks(self.rows)
                .enumerate()
                .map(|(band, values)| (band, values.iter().fold(band as u64, |h, &v| mix(h ^ v))))
                .collect(),
        )
    }

    /// Adds item `index` with its band keys.
    pub fn insert(&mut self, index: usize, keys: &BandKeys) {
        for key in &keys.0 {
            self.buckets.entry(*key).or_default().push(index);
        }
        if self.seen.len() <= index {
            self.seen.resize(index + 1, 0);
        }
    }

    /// Offers `visit` every inserted item sharing a band with `keys`, each once, in band order and insertion order
    /// within a band, until `visit` breaks.
    pub fn for_each_candidate(&mut self, keys: &BandKeys, mut visit: impl FnMut(usize) -> ControlFlow<()>) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.fill(0);
            self.stamp = 1;
        }
        let (buckets, seen, stamp) = (&self.buckets, &mut self.seen, self.stamp);
        for key in &keys.0 {
            for &candidate in buckets.get(key).into_iter().flatten() {
                if seen[candidate] == stamp {
                    continue;
                }
                seen[candidate] = stamp;
                if visit(candidate).is_break() {
                    return;
                }
            }
        }
    }
}

/// For each text, an earlier text whose shingle set (boilerplate left out) has Jaccard similarity ≥ `threshold` with
/// it (the first found, in band order), or `None`. Linear in the number of texts when near duplicates abound, since each text stops at
/// its first verified match.
pub fn earlier_near_duplicates(texts: &[&str], threshold: Threshold) -> Vec<Option<SimilarPair>> {
    let sets = shingle_sets(texts);
    let mut index = LshIndex::new(threshold);
    let mut found = Vec::with_capacity(sets.len());
    for (i, set) in sets.iter().enumerate() {
        let keys = index.band_keys(set);
        let mut hit = None;
        index.for_each_candidate(&keys, |j| {
            let similarity = jaccard(&sets[j], set);
            if similarity >= threshold.value() {
                hit = Some(SimilarPair {
                    first: j,
                    second: i,
                    jaccard: similarity,
                });
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        found.push(hit);
        index.insert(i, &keys);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_folds_case_width_and_whitespace() {
        assert_eq!(normalise("  Hello\t\nＷＯＲＬＤ  "), "hello world");
        assert_eq!(normalise("ﬁle"), "file");
        assert_eq!(normalise(""), "");
    }

    #[test]
    fn jaccard_edge_cases() {
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1, 2], &[]), 0.0);
        assert_eq!(jaccard(&[1, 2, 3], &[1, 2, 3]), 1.0);
        assert_eq!(jaccard(&[1, 2], &[3, 4]), 0.0);
        assert!((jaccard(&[1, 2, 3], &[2, 3, 4]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn shingles_of_short_empty_and_punctuated_texts() {
        assert!(shingles("").is_empty());
        assert!(shingles(" ?! ").is_empty());
        assert_eq!(shingles("two words").len(), 1);
        assert_eq!(shingles("a b c d").len(), 2);
        // Punctuation and case do not matter; word order does.
        assert_eq!(
            shingles("Reset the lock, then pair it."),
            shingles("reset the lock then pair it")
        );
        assert_ne!(shingles("the lock jams"), shingles("jams the lock"));
        // Repeated shingles count once.
        assert_eq!(shingles("a b c a b c").len(), 3);
    }

    #[test]
    fn signatures_are_deterministic_and_estimate_jaccard() {
        let a = shingles(&(0..200).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" "));
        let b = shingles(&(50..250).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" "));
        assert_eq!(signature(&a), signature(&a.clone()));
        let exact = jaccard(&a, &b);
        let (sa, sb) = (signature(&a), signature(&b));
        let agree = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / NUM_HASHES as f64;
        assert!((agree - exact).abs() < 0.15, "estimate {agree} vs exact {exact}");
    }

    #[test]
    fn rows_per_band_keep_recall_at_the_threshold() {
        assert_eq!(rows_per_band(Threshold::new(0.8).unwrap()), 4);
        assert_eq!(rows_per_band(Threshold::new(0.95).unwrap()), 8);
        assert_eq!(rows_per_band(Threshold::new(0.5).unwrap()), 2);
        assert_eq!(rows_per_band(Threshold::new(0.2).unwrap()), 1);
    }

    #[test]
    fn near_duplicates_are_found_and_verified() {
        let base = "my kestrel lock jams half way when i turn the key from outside and the app shows it as unlocked";
        let edited =
            "my kestrel lock jams half way when i turn the key from outside, and the app shows it as unlocked!";
        let other = "the camera went offline after the router update and will not reconnect to the network";
        let found = earlier_near_duplicates(&[base, other, edited, "", ""], Threshold::DEFAULT);
        assert_eq!(found[..2], [None, None]);
        assert_eq!(
            found[2],
            Some(SimilarPair {
                first: 0,
                second: 2,
                jaccard: 1.0
            })
        );
        // Texts without words never pair, even with each other.
        assert_eq!(found[3..], [None, None]);
        // One substituted word of 20: 15 of 21 distinct shingles shared (0.71), below 0.8 but above 0.6.
        let substituted = base.replace("outside", "inside");
        assert_eq!(
            earlier_near_duplicates(&[base, &substituted], Threshold::DEFAULT),
            vec![None, None]
        );
        let found = earlier_near_duplicates(&[base, &substituted], Threshold::new(0.6).unwrap());
        assert!((found[1].unwrap().jaccard - 15.0 / 21.0).abs() < 1e-12);
    }

    #[test]
    fn boilerplate_shingles_are_left_out_of_large_collections() {
        let instruction = "read the customer's ticket below and answer with exactly one label from billing shipping \
                           returns setup connectivity battery firmware account or other without any explanation";
        let tickets: Vec<String> = (0..30)
            .map(|i| {
                format!(
                    "{instruction} ticket: item {i} arrived broken on day {} of month {}",
                    i * 3,
                    i % 7
                )
            })
            .collect();
        let mut texts: Vec<&str> = tickets.iter().map(String::as_str).collect();
        // Without the instruction's shingles, distinct tickets are not alike…
        assert!(earlier_near_duplicates(&texts, Threshold::DEFAULT)
            .iter()
            .all(Option::is_none));
        // …but the same ticket twice still is.
        let repeat = format!("{instruction} ticket: item 7 arrived broken on day 21 of month 0!");
        texts.push(&repeat);
        let found = earlier_near_duplicates(&texts, Threshold::DEFAULT);
        assert_eq!(found[30].map(|p| p.first), Some(7));
        // Small collections keep every shingle.
        assert_eq!(shingle_sets(&texts[..2])[0], shingles(texts[0]));
        assert!(shingle_sets(&texts)[0].len() < shingles(texts[0]).len());
    }

    #[test]
    fn candidates_are_offered_once_and_the_query_can_stop() {
        let threshold = Threshold::DEFAULT;
        let mut index = LshIndex::new(threshold);
        let set = shingles("one two three four five six");
        let keys = index.band_keys(&set);
        assert!(index.band_keys(&[]).0.is_empty());
        for i in 0..3 {
            index.insert(i, &keys);
        }
        let mut offered = Vec::new();
        index.for_each_candidate(&keys, |j| {
            offered.push(j);
            ControlFlow::Continue(())
        });
        assert_eq!(offered, vec![0, 1, 2]);
        let mut first = Vec::new();
        index.for_each_candidate(&keys, |j| {
            first.push(j);
            ControlFlow::Break(())
        });
        assert_eq!(first, vec![0]);
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(Threshold::new(0.0).is_err());
        assert!(Threshold::new(1.5).is_err());
        assert!(Threshold::new(f64::NAN).is_err());
        assert_eq!("0.9".parse::<Threshold>().unwrap().value(), 0.9);
        assert!("x".parse::<Threshold>().is_err());
    }
}
