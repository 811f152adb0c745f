//! `data split`: a seeded train/validation/test split that never puts near-duplicate prompts in two parts.
//!
//! Records whose prompts are the same after normalisation, or near duplicates (Jaccard ≥ threshold over word
//! shingles), are joined into groups (union-find), so a paraphrase of a test prompt cannot sit in the training part.
//! Groups are shuffled with a ChaCha8 generator seeded by `seed` and dealt to validation, then test, then training;
//! each output keeps the input's line order and copies lines verbatim, so the format is unchanged.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::InputError;

use super::record::{load_records, Record};
use super::similarity::{jaccard, normalise, shingle_sets, LshIndex, Threshold};
use super::DataError;

/// The validation share bedrock-eval recommends (see `docs/data.md`); outside it, `split` warns.
pub const RECOMMENDED_VALIDATION: (f64, f64) = (0.10, 0.20);

/// How to split a file.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitOptions {
    /// Share of records for validation, in [0, 1).
    pub validation: f64,
    /// Share of records for test, in [0, 1); validation + test must stay below 1.
    pub test: f64,
    /// Seed of the shuffle: the same seed and file give the same split.
    pub seed: u64,
    /// Jaccard similarity at or above which two prompts are kept together.
    pub near_duplicate_threshold: Threshold,
    /// Folder the parts are written to.
    pub output_dir: PathBuf,
}

impl SplitOptions {
    /// 10% validation, 10% test, seed 0, the default threshold, written to `output_dir`.
    pub fn new(output_dir: impl Into<PathBuf>) -> Self {
        SplitOptions {
            validation: 0.1,
            test: 0.1,
            seed: 0,
            near_duplicate_threshold: Threshold::DEFAULT,
            output_dir: output_dir.into(),
        }
    }
}

/// One written part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitPart {
    /// Where it was written.
    pub path: PathBuf,
    /// Input line numbers it holds, in order.
    pub lines: Vec<usize>,
}

/// What `split` wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitResult {
    /// `<stem>.train.jsonl`.
    pub train: SplitPart,
    /// `<stem>.validation.jsonl` (always written, possibly empty when the share is 0).
    pub validation: SplitPart,
    /// `<stem>.test.jsonl` (always written, possibly empty when the share is 0).
    pub test: SplitPart,
    /// Groups of more than one record kept together, as input line numbers.
    pub groups: Vec<Vec<usize>>,
    /// Advice, such as a validation share outside 10–20%.
    pub warnings: Vec<String>,
}

/// Splits the JSONL file at `path` as `options` say and writes the three parts. Refuses, before writing anything,
/// when an output already exists.
pub fn split(path: &Path, options: &SplitOptions) -> Result<SplitResult, DataError> {
    check_shares(path, options)?;
    let outputs = output_paths(path, &options.output_dir)?;
    if let Some(existing) = outputs.iter().find(|p| p.exists()) {
        return Err(InputError::in_file(
            existing,
            "already exists; bedrock-eval does not overwrite split outputs: remove it or choose another folder",
        )
        .into());
    }
    let records = load_records(path)?;
    let groups = near_duplicate_groups(&records, options.near_duplicate_threshold);
    let parts = assign(&groups, records.len(), options);
    std::fs::create_dir_all(&options.output_dir).map_err(|source| DataError::Write {
        path: options.output_dir.clone(),
        source,
    })?;
    let [train_path, validation_path, test_path] = &outputs;
    let [train, validation, test] = &parts;
    let train = write_part(&records, train, train_path)?;
    let validation = write_part(&records, validation, validation_path)?;
    let test = write_part(&records, test, test_path)?;
    let mut warnings = Vec::new();
    let (low, high) = RECOMMENDED_VALIDATION;
    if options.validation < low || options.validation > high {
        warnings.push(format!(
            "validation share {:.0}% is outside the recommended {:.0}–{:.0}%",
            options.validation * 100.0,
            low * 100.0,
            high * 100.0
        ));
    }
    let line_groups: Vec<Vec<usize>> = groups
        .iter()
        .filter(|g| g.len() > 1)
        .map(|g| g.iter().map(|&i| records[i].line).collect())
        .collect();
    Ok(SplitResult {
        train,
        validation,
        test,
        groups: line_groups,
        warnings,
    })
}

fn check_shares(path: &Path, options: &SplitOptions) -> Result<(), InputError> {
    for (name, share) in [("validation", options.validation), ("test", options.test)] {
        if !(0.0..1.0).contains(&share) {
            return Err(InputError::in_file(path, format!("{name} share must be in [0, 1), not {share}")).field(name));
        }
    }
    if options.validation + options.test >= 1.0 {
        return Err(InputError::in_file(
            path,
            format!(
                "validation ({}) and test ({}) shares leave nothing to train on; keep their sum below 1",
                options.validation, options.test
            ),
        ));
    }
    Ok(())
}

/// `<stem>.train.jsonl`, `<stem>.validation.jsonl`, `<stem>.test.jsonl` in `dir`.
fn output_paths(path: &Path, dir: &Path) -> Result<[PathBuf; 3], InputError> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| InputError::in_file(path, "cannot name the outputs: the file name is not UTF-8"))?;
    Ok(["train", "validation", "test"].map(|part| dir.join(format!("{stem}.{part}.jsonl"))))
}

/// Groups of record indices (each sorted, groups ordered by first index) whose prompts are equal after
/// normalisation or near duplicates.
pub fn near_duplicate_groups(records: &[Record], threshold: Threshold) -> Vec<Vec<usize>> {
    let mut sets = DisjointSets::new(records.len());
    let inputs: Vec<String> = records.iter().map(Record::input_text).collect();
    let mut first_of: HashMap<String, usize> = HashMap::new();
    for (index, input) in inputs.iter().enumerate() {
        let first = *first_of.entry(normalise(input)).or_insert(index);
        sets.union(first, index);
    }
    let shingle_sets = shingle_sets(&inputs.iter().map(String::as_str).collect::<Vec<_>>());
    let mut index = LshIndex::new(threshold);
    for (i, set) in shingle_sets.iter().enumerate() {
        let keys = index.band_keys(set);
        index.for_each_candidate(&keys, |j| {
            // Already together: no need to compare.
            if sets.find(i) != sets.find(j) && jaccard(&shingle_sets[j], set) >= threshold.value() {
                sets.union(i, j);
            }
            ControlFlow::Continue(())
        });
        index.insert(i, &keys);
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for index in 0..records.len() {
        groups.entry(sets.find(index)).or_default().push(index);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by_key(|g| g[0]);
    groups
}

/// Record indices for [train, validation, test]. Groups, shuffled by the seed, go to validation while it is short of
/// its target, then to test, then to train; a group that would overshoot a target by more than the shortfall it
/// fills moves on to the next part.
fn assign(groups: &[Vec<usize>], total: usize, options: &SplitOptions) -> [Vec<usize>; 3] {
    let mut order: Vec<&Vec<usize>> = groups.iter().collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(options.seed));
    let targets = [
        (options.validation * total as f64).round() as usize,
        (options.test * total as f64).round() as usize,
    ];
    let mut held = [Vec::new(), Vec::new()];
    let mut train = Vec::new();
    for group in order {
        let part = (0..2).find(|&p| {
            let (have, want) = (held[p].len(), targets[p]);
            have < want && (have + group.len()).saturating_sub(want) <= want - have
        });
        match part {
            Some(p) => held[p].extend(group),
            None => train.extend(group),
        }
    }
    let [mut validation, mut test] = held;
    train.sort_unstable();
    validation.sort_unstable();
    test.sort_unstable();
    [train, validation, test]
}

fn write_part(records: &[Record], indices: &[usize], path: &Path) -> Result<SplitPart, DataError> {
    let write_error = |source| DataError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut text = String::new();
    for &i in indices {
        text.push_str(&records[i].raw);
        text.push('\n');
    }
    // create_new: never replace a file that appeared since the check above.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(write_error)?;
    file.write_all(text.as_bytes()).map_err(write_error)?;
    Ok(SplitPart {
        path: path.to_path_buf(),
        lines: indices.iter().map(|&i| records[i].line).collect(),
    })
}

/// Union-find with path halving and union by size.
struct DisjointSets {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> Self {
        DisjointSets {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(validation: f64, test: f64, seed: u64) -> SplitOptions {
        SplitOptions {
            validation,
            test,
            seed,
            ..SplitOptions::new("out")
        }
    }

    #[test]
    fn union_find_merges_transitively() {
        let mut sets = DisjointSets::new(5);
        sets.union(0, 3);
        sets.union(3, 4);
        assert_eq!(sets.find(4), sets.find(0));
        assert_ne!(sets.find(1), sets.find(0));
    }

    #[test]
    fn assignment_meets_targets_with_single_groups_and_is_seeded() {
        let groups: Vec<Vec<usize>> = (0..100).map(|i| vec![i]).collect();
        let parts = assign(&groups, 100, &options(0.15, 0.1, 7));
        assert_eq!(parts.iter().map(Vec::len).collect::<Vec<_>>(), vec![75, 15, 10]);
        assert_eq!(parts, assign(&groups, 100, &options(0.15, 0.1, 7)));
        assert_ne!(parts, assign(&groups, 100, &options(0.15, 0.1, 8)));
        let mut all: Vec<usize> = parts.concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_group_larger_than_a_target_goes_to_train() {
        let mut groups: Vec<Vec<usize>> = vec![(0..30).collect()];
        groups.extend((30..100).map(|i| vec![i]));
        for seed in 0..20 {
            let [train, validation, test] = assign(&groups, 100, &options(0.1, 0.1, seed));
            assert!(train.contains(&0) && train.contains(&29), "seed {seed}");
            assert_eq!((validation.len(), test.len()), (10, 10));
        }
    }

    #[test]
    fn shares_are_checked() {
        let path = Path::new("d.jsonl");
        assert!(check_shares(path, &options(1.0, 0.0, 0)).is_err());
        assert!(check_shares(path, &options(-0.1, 0.0, 0)).is_err());
        assert!(check_shares(path, &options(0.5, 0.5, 0))
            .unwrap_err()
            .message
            .contains("nothing to train on"));
        assert!(check_shares(path, &options(0.0, 0.0, 0)).is_ok());
    }
}
