//! Bootstrap distributions of a mean: the means of `resamples` samples of n values drawn with replacement.
//!
//! Two samplers, equal in distribution:
//! - **index**: n uniform indices per resample (what scipy does), O(n) per resample;
//! - **counts**: how often each distinct value is drawn is Multinomial(n; cᵢ/n), and the resampled mean is
//!   Σ kᵢvᵢ/n, so a resample costs one draw per distinct value plus about 3√n index draws.
//!
//! The counts are drawn exactly as the first n arrivals of a marked Poisson process. Run the process to time
//! λ = n − 3√n: the counts of each value are then independent Poisson(λcᵢ/n), which have fixed parameters and so
//! can be drawn from precomputed alias tables (rand_distr's `WeightedAliasIndex`, a few ns each — a fresh
//! `Binomial` costs ~90 ns here, too slow for sequential conditional binomials over hundreds of values). If T ≤ n
//! arrivals came, the remaining n − T are ordinary index draws; if T > n (probability ≈ 0.13%), the last T − n
//! arrivals are a uniformly random T − n of the T, so they are removed one at a time without replacement.
//!
//! Values that differ only by floating-point noise (by at most 16·ε·max|value|, 3.6e-15 for scores in [0, 1]) count
//! as one value, represented by their mean: a weighted mean of rubric scores, or a difference of two, reaches the
//! same real number through different roundings, which multiplies the distinct values (five-fold for the
//! differences in `benches/analysis.rs`). It moves each resampled mean by at most that much, below the worst-case
//! rounding error of summing the resampled values; exactly equal values are never altered.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::Distribution;

use super::summary::sorted_copy;

/// Reserve of index draws at the end of each counts resample, in standard deviations of the Poisson total:
/// larger means more index draws, smaller means more resamples that overshoot n and need removals.
const RESERVE_SDS: f64 = 3.0;

/// Values at most this many ε·max|value| apart are one value for the counts sampler.
const MERGE_EPSILONS: f64 = 16.0;

/// Cost of one distinct value in a counts resample, in index draws: measured on the 2-core development machine at
/// 10–12 ns per distinct value (alias draw, scratch write, sum term) against 3.7–4 ns per index draw, for n from
/// 1,000 to 100,000 and 10 to 5,000 distinct values (docs/benchmarks.md, "Statistics at scale").
const COUNT_COST_IN_INDEX_DRAWS: f64 = 3.0;

/// Poisson weights below this fraction of the mode's are left out of a table: the mass dropped is below 1e-16,
/// under the resolution of the alias table's own floating-point weights.
const POISSON_TAIL_CUTOFF: f64 = 1e-18;

/// Which sampler draws a bootstrap distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResampleMethod {
    /// n uniform indices per resample.
    Index,
    /// Multinomial counts of the distinct values per resample.
    Counts,
}

/// The cheaper sampler for `n` values of which `distinct` are distinct: counts when
/// 3·distinct + 3√n < n (per-resample costs in index draws), index otherwise.
pub(crate) fn cheaper_method(n: usize, distinct: usize) -> ResampleMethod {
    let n = n as f64;
    if COUNT_COST_IN_INDEX_DRAWS * distinct as f64 + RESERVE_SDS * n.sqrt() < n {
        ResampleMethod::Counts
    } else {
        ResampleMethod::Index
    }
}

/// `resamples` bootstrap means of `sample` from a ChaCha8 generator seeded with `seed`, by the cheaper sampler.
pub(crate) fn bootstrap_means(sample: &[f64], resamples: usize, seed: u64) -> Vec<f64> {
    let groups = ValueGroups::new(sample);
    let method = cheaper_method(sample.len(), groups.values.len());
    bootstrap_means_by(method, sample, groups, resamples, seed)
}

/// As [`bootstrap_means`], with the sampler chosen by the caller.
#[cfg(test)]
fn bootstrap_means_with(method: ResampleMethod, sample: &[f64], resamples: usize, seed: u64) -> Vec<f64> {
    bootstrap_means_by(method, sample, ValueGroups::new(sample), resamples, seed)
}

fn bootstrap_means_by(
    method: ResampleMethod,
    sample: &[f64],
    groups: ValueGroups,
    resamples: usize,
    seed: u64,
) -> Vec<f64> {
    if sample.is_empty() {
        return Vec::new();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let counts_sampler = match method {
        ResampleMethod::Counts => CountSampler::new(sample, groups, RESERVE_SDS),
        ResampleMethod::Index => None,
    };
    match counts_sampler {
        Some(sampler) => {
            let mut scratch = Scratch::new(&sampler);
            (0..resamples)
                .map(|_| sampler.resample_mean(&mut rng, &mut scratch))
                .collect()
        }
        None => (0..resamples).map(|_| index_resample_mean(sample, &mut rng)).collect(),
    }
}

fn index_resample_mean(sample: &[f64], rng: &mut ChaCha8Rng) -> f64 {
    let n = sample.len();
    (0..n).map(|_| sample[rng.random_range(0..n)]).sum::<f64>() / n as f64
}

/// Samples larger than this many values are looked up through narrow codes ([`Lookup`]): 32,768 values are 256 KiB,
/// about what stays in a core's fast cache beside everything else.
const DIRECT_LOOKUP_MAX: usize = 1 << 15;

/// A sample's values by index, for the index draws that top up a counts resample. Those draws land anywhere in the
/// sample, and in a large sample of 8-byte values most of them miss the cache; when the sample has few exact
/// values, 1- or 2-byte codes into a table of them take an eighth or a quarter of the room. A lookup returns the
/// sample's value bit for bit.
enum Lookup<'a> {
    /// The sample itself: small enough to stay in cache, or too varied for 2-byte codes.
    Direct(&'a [f64]),
    /// At most 256 exact values: `values[codes[i]]` is the sample's value `i`.
    ByteCodes { codes: Vec<u8>, values: Vec<f64> },
    /// At most 65,536 exact values, as above.
    ShortCodes { codes: Vec<u16>, values: Vec<f64> },
}

impl<'a> Lookup<'a> {
    fn new(sample: &'a [f64]) -> Self {
        if sample.len() <= DIRECT_LOOKUP_MAX {
            return Lookup::Direct(sample);
        }
        match exact_codes(sample) {
            // Every code is below 256, so each fits a byte.
            Some((codes, values)) if values.len() <= 256 => Lookup::ByteCodes {
                codes: codes.iter().map(|&code| code as u8).collect(),
                values,
            },
            Some((codes, values)) => Lookup::ShortCodes { codes, values },
            None => Lookup::Direct(sample),
        }
    }

    /// `sum` plus the values at `indices`, added in their order.
    fn add_values(&self, sum: f64, indices: &[usize]) -> f64 {
        match self {
            Lookup::Direct(sample) => indices.iter().fold(sum, |sum, &i| sum + sample[i]),
            Lookup::ByteCodes { codes, values } => {
                indices.iter().fold(sum, |sum, &i| sum + values[usize::from(codes[i])])
            }
            Lookup::ShortCodes { codes, values } => {
                indices.iter().fold(sum, |sum, &i| sum + values[usize::from(codes[i])])
            }
        }
    }
}

/// Each value of `sample` as a code into a table of its exact values (equal bits, so `-0.0` and `0.0` are two), or
/// `None` when it has more than 65,536 of them.
fn exact_codes(sample: &[f64]) -> Option<(Vec<u16>, Vec<f64>)> {
    let mut numbered: rustc_hash::FxHashMap<u64, u16> = rustc_hash::FxHashMap::default();
    let mut values = Vec::new();
    let codes = sample
        .iter()
        .map(|&value| match numbered.entry(value.to_bits()) {
            std::collections::hash_map::Entry::Occupied(code) => Some(*code.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let code = u16::try_from(values.len()).ok()?;
                values.push(value);
                Some(*slot.insert(code))
            }
        })
        .collect::<Option<Vec<u16>>>()?;
    Some((codes, values))
}

/// The distinct values of a sample (noise-level neighbours merged) and how often each occurs.
struct ValueGroups {
    /// Ascending; a merged group is represented by the mean of its members.
    values: Vec<f64>,
    /// Occurrences of each value.
    counts: Vec<u64>,
}

impl ValueGroups {
    fn new(sample: &[f64]) -> Self {
        let sorted = sorted_copy(sample);
        let largest = sorted
            .first()
            .map_or(0.0, |v| v.abs())
            .max(sorted.last().map_or(0.0, |v| v.abs()));
        let tolerance = MERGE_EPSILONS * f64::EPSILON * largest;
        // (first member, Σ(member − first), members): each group spans at most `tolerance` from its smallest member,
        // so a chain of close neighbours cannot drift.
        let mut groups: Vec<(f64, f64, u64)> = Vec::new();
        for &value in &sorted {
            match groups.last_mut() {
                Some((first, offsets, members)) if value - *first <= tolerance => {
                    *offsets += value - *first;
                    *members += 1;
                }
                _ => groups.push((value, 0.0, 1)),
            }
        }
        // first + mean offset: exactly the value itself for a group of equal values.
        let values = groups
            .iter()
            .map(|&(first, offsets, members)| first + offsets / members as f64)
            .collect();
        let counts = groups.iter().map(|&(_, _, members)| members).collect();
        ValueGroups { values, counts }
    }
}

/// Draws the multinomial counts of the distinct values through a Poisson process (see the module docs).
struct CountSampler<'a> {
    n: usize,
    lookup: Lookup<'a>,
    values: Vec<f64>,
    poisson: Vec<PoissonTable>,
}

impl<'a> CountSampler<'a> {
    /// `None` when an alias table cannot be built (not for finite, non-empty samples).
    fn new(sample: &'a [f64], groups: ValueGroups, reserve_sds: f64) -> Option<Self> {
        let n = sample.len() as f64;
        let horizon = (n - reserve_sds * n.sqrt()).max(0.0);
        let poisson = groups
            .counts
            .iter()
            .map(|&count| PoissonTable::new(horizon * count as f64 / n))
            .collect::<Option<Vec<_>>>()?;
        Some(CountSampler {
            n: sample.len(),
            lookup: Lookup::new(sample),
            values: groups.values,
            poisson,
        })
    }

    /// One resampled mean; `scratch` is reused from resample to resample.
    fn resample_mean(&self, rng: &mut ChaCha8Rng, scratch: &mut Scratch) -> f64 {
        let Scratch { counts, indices } = scratch;
        let n = self.n as u64;
        let mut arrived = 0;
        for (count, table) in counts.iter_mut().zip(&self.poisson) {
            *count = table.sample(rng);
            arrived += *count;
        }
        if arrived > n {
            remove_uniformly(counts, arrived, n, rng);
        }
        let sum: f64 = counts.iter().zip(&self.values).map(|(&k, v)| k as f64 * v).sum();
        // The top-up's indices are drawn first and their values added after, in the same order: the same sum,
        // without a draw waiting on each value's load.
        indices.clear();
        indices.extend((arrived..n).map(|_| rng.random_range(0..self.n)));
        self.lookup.add_values(sum, indices) / n as f64
    }
}

/// A counts resample's working space: a count per distinct value, and the top-up's index draws.
struct Scratch {
    counts: Vec<u64>,
    indices: Vec<usize>,
}

impl Scratch {
    fn new(sampler: &CountSampler) -> Self {
        Scratch {
            counts: vec![0; sampler.values.len()],
            indices: Vec::new(),
        }
    }
}

/// Removes `arrived − n` draws chosen uniformly without replacement from the drawn multiset.
fn remove_uniformly(counts: &mut [u64], mut arrived: u64, n: u64, rng: &mut ChaCha8Rng) {
    while arrived > n {
        let mut position = rng.random_range(0..arrived);
        for count in counts.iter_mut() {
            if position < *count {
                *count -= 1;
                break;
            }
            position -= *count;
        }
        arrived -= 1;
    }
}

/// Poisson(μ) as an alias table over [lowest, lowest + len), weights built outwards from the mode by the ratio
/// p(k + 1)/p(k) = μ/(k + 1), so no factorials or normalising constants are needed.
struct PoissonTable {
    lowest: u64,
    alias: Option<WeightedAliasIndex<f64>>,
}

impl PoissonTable {
    fn new(mean: f64) -> Option<Self> {
        if mean <= 0.0 {
            return Some(PoissonTable { lowest: 0, alias: None });
        }
        let mode = mean.floor() as u64;
        let mut above = Vec::new();
        let (mut k, mut weight) = (mode, 1.0);
        while weight >= POISSON_TAIL_CUTOFF {
            above.push(weight);
            k += 1;
            weight *= mean / k as f64;
        }
        let mut below = Vec::new();
        let (mut k, mut weight) = (mode, 1.0);
        while k > 0 {
            weight *= k as f64 / mean;
            k -= 1;
            if weight < POISSON_TAIL_CUTOFF {
                break;
            }
            below.push(weight);
        }
        let lowest = mode - below.len() as u64;
        below.reverse();
        below.extend(above);
        let alias = WeightedAliasIndex::new(below).ok()?;
        Some(PoissonTable {
            lowest,
            alias: Some(alias),
        })
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> u64 {
        match &self.alias {
            Some(alias) => self.lowest + alias.sample(rng) as u64,
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean and sample SD.
    fn moments(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt())
    }

    /// Both samplers against the exact bootstrap mean x̄ and SD σ/√n (σ with ddof = 0), within five Monte-Carlo
    /// standard errors: SE(mean) = SD/√B, SE(SD) ≈ SD·√((κ − 1)/(4B)) with κ ≈ 3 for a near-normal distribution.
    fn assert_both_samplers_match_theory(sample: &[f64], resamples: usize) {
        let n = sample.len() as f64;
        let mean = sample.iter().sum::<f64>() / n;
        let plug_in_var = sample.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let sd = (plug_in_var / n).sqrt();
        for (method, seed) in [(ResampleMethod::Index, 11), (ResampleMethod::Counts, 12)] {
            let means = bootstrap_means_with(method, sample, resamples, seed);
            let (got_mean, got_sd) = moments(&means);
            let b = resamples as f64;
            assert!(
                (got_mean - mean).abs() <= 5.0 * sd / b.sqrt(),
                "{method:?}: bootstrap mean {got_mean} vs {mean}"
            );
            assert!(
                (got_sd - sd).abs() <= 5.0 * sd * (0.5 / b).sqrt(),
                "{method:?}: bootstrap sd {got_sd} vs {sd}"
            );
        }
    }

    fn seeded_scores(n: usize, levels: u32, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let level = rng.random_range(0..=levels).min(rng.random_range(0..=levels));
                f64::from(level) / f64::from(levels)
            })
            .collect()
    }

    #[test]
    fn counts_and_index_agree_with_ties() {
        // 600 skewed scores on 13 levels.
        assert_both_samplers_match_theory(&seeded_scores(600, 12, 1), 10_000);
    }

    #[test]
    fn counts_and_index_agree_on_distinct_values() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let sample: Vec<f64> = (0..300).map(|_| rng.random::<f64>().powi(3)).collect();
        assert_eq!(ValueGroups::new(&sample).values.len(), 300);
        assert_both_samplers_match_theory(&sample, 10_000);
    }

    #[test]
    fn counts_sampler_is_exactly_multinomial_including_overshoot() {
        // Sample {0, 0, 1, 10}: the counts (k₀, k₁, k₂) of a resample are Multinomial(4; ½, ¼, ¼), and the
        // resampled sum k₁ + 10k₂ identifies them. With no reserve (λ = n) about a third of the resamples overshoot
        // (removals) and about four in ten fall short (index top-ups), so every branch is exercised.
        let sample = [0.0, 0.0, 1.0, 10.0];
        let sampler = CountSampler::new(&sample, ValueGroups::new(&sample), 0.0).expect("tables");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut scratch = Scratch::new(&sampler);
        let draws = 64_000;
        let mut observed = std::collections::BTreeMap::new();
        for _ in 0..draws {
            let sum = (4.0 * sampler.resample_mean(&mut rng, &mut scratch)).round() as u64;
            *observed.entry((sum % 10, sum / 10)).or_insert(0u64) += 1;
        }
        let factorial = [1.0, 1.0, 2.0, 6.0, 24.0];
        let mut expected_cells = 0;
        for k1 in 0..=4usize {
            for k2 in 0..=(4 - k1) {
                let k0 = 4 - k1 - k2;
                let p = factorial[4] / (factorial[k0] * factorial[k1] * factorial[k2])
                    * 0.5f64.powi(k0 as i32)
                    * 0.25f64.powi((k1 + k2) as i32);
                let got = observed.get(&(k1 as u64, k2 as u64)).copied().unwrap_or(0) as f64;
                let (mean, sd) = (p * draws as f64, (p * (1.0 - p) * draws as f64).sqrt());
                assert!(
                    (got - mean).abs() <= 5.0 * sd,
                    "k1 = {k1}, k2 = {k2}: {got} resamples, expected {mean:.0} ± {sd:.0}"
                );
                expected_cells += 1;
            }
        }
        assert_eq!(observed.len(), expected_cells, "no impossible outcome: {observed:?}");
    }

    #[test]
    fn narrow_codes_give_the_same_resamples_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let n = DIRECT_LOOKUP_MAX + 5_000;
        let few = seeded_scores(n, 12, 6);
        let many: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.random_range(0..1_000u32)) / 999.0)
            .collect();
        // Both zeros, and noise-level neighbours that the counts merge but the lookup must not.
        let mut signed = few.clone();
        signed[..6].copy_from_slice(&[-0.0, 0.0, 0.7 - 0.6, 0.2 - 0.1, -0.0, 0.0]);
        let spread: Vec<f64> = (0..70_000).map(|_| rng.random::<f64>()).collect();
        // Just as many exact values as a byte can number, and one more.
        let levels = |count: usize| -> Vec<f64> { (0..n).map(|i| (i % count) as f64 / 300.0).collect() };
        let (fills_a_byte, overflows_a_byte) = (levels(256), levels(257));
        for (sample, expected) in [
            (&few, "bytes"),
            (&signed, "bytes"),
            (&fills_a_byte, "bytes"),
            (&overflows_a_byte, "shorts"),
            (&many, "shorts"),
            (&spread, "direct"),
        ] {
            let sampler = CountSampler::new(sample, ValueGroups::new(sample), RESERVE_SDS).expect("tables");
            let kind = match sampler.lookup {
                Lookup::Direct(_) => "direct",
                Lookup::ByteCodes { .. } => "bytes",
                Lookup::ShortCodes { .. } => "shorts",
            };
            assert_eq!(kind, expected);
            // −0.0 + x is x, bit for bit, for every x (−0.0 included).
            let mismatch = (0..n).find(|&i| sampler.lookup.add_values(-0.0, &[i]).to_bits() != sample[i].to_bits());
            assert_eq!(mismatch, None, "{expected}");
            let direct = CountSampler {
                lookup: Lookup::Direct(sample),
                ..CountSampler::new(sample, ValueGroups::new(sample), RESERVE_SDS).expect("tables")
            };
            let (mut coded_rng, mut direct_rng) = (ChaCha8Rng::seed_from_u64(7), ChaCha8Rng::seed_from_u64(7));
            let (mut coded_scratch, mut direct_scratch) = (Scratch::new(&sampler), Scratch::new(&direct));
            for _ in 0..200 {
                let coded = sampler.resample_mean(&mut coded_rng, &mut coded_scratch);
                let plain = direct.resample_mean(&mut direct_rng, &mut direct_scratch);
                assert_eq!(coded.to_bits(), plain.to_bits(), "{expected}");
            }
        }
    }

    #[test]
    fn noise_level_neighbours_merge_and_exact_values_stay_exact() {
        let a = 0.7 - 0.6; // 0.09999999999999998
        let b = 0.2 - 0.1; // 0.1
        let groups = ValueGroups::new(&[b, a, b, 0.3, 0.3, 0.3]);
        assert_eq!(groups.counts, vec![3, 3]);
        assert_eq!(groups.values[1], 0.3);
        assert!((groups.values[0] - 0.1).abs() < 1e-16);
    }

    #[test]
    fn poisson_table_has_the_poisson_mean_and_variance() {
        for mean in [0.3, 4.5, 250.0] {
            let table = PoissonTable::new(mean).expect("table");
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let draws: Vec<f64> = (0..40_000).map(|_| table.sample(&mut rng) as f64).collect();
            let (got_mean, got_sd) = moments(&draws);
            assert!(
                (got_mean - mean).abs() <= 5.0 * (mean / 40_000.0).sqrt(),
                "mean {got_mean} vs {mean}"
            );
            assert!(
                (got_sd * got_sd / mean - 1.0).abs() < 0.05,
                "variance {} vs {mean}",
                got_sd * got_sd
            );
        }
    }

    #[test]
    fn the_rule_picks_counts_only_when_values_repeat_enough() {
        assert_eq!(cheaper_method(100_000, 600), ResampleMethod::Counts);
        assert_eq!(cheaper_method(100_000, 40_000), ResampleMethod::Index);
        assert_eq!(cheaper_method(60, 9), ResampleMethod::Counts);
        assert_eq!(cheaper_method(60, 13), ResampleMethod::Index);
        assert_eq!(cheaper_method(1, 1), ResampleMethod::Index);
    }
}
