//! `cargo bench --bench analysis`: times the decision report's statistics on synthetic scores, 100,000 and 1,000
//! examples × 5 configs with 10,000 bootstrap resamples (target: under 2 s in total at 100,000, on 2 cores).
//!
//! The workload is what the report computes: per config `summarize` and `bootstrap_mean_bca` of the quality scores;
//! per pair of configs (all 10: 4 against the baseline and the 6 others) `compare_paired`,
//! `paired_bootstrap_mean_difference` and `mcnemar_exact` on pass/fail. Each size runs three times and the run with
//! the median total is printed.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bedrock_eval::stats::{
    bootstrap_mean_bca, compare_paired, mcnemar_exact, paired_bootstrap_mean_difference, summarize, BootstrapSettings,
    DEFAULT_CONFIDENCE_LEVEL,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Rubric criteria as (weight, steps): a score in `steps` equal steps from 0 to 1. Three judge criteria on a 1–5
/// scale, term coverage out of 3 and out of 5 terms, and two pass/fail checks.
const CRITERIA: [(f64, u32); 7] = [(3.0, 4), (2.0, 4), (2.0, 4), (1.0, 3), (1.0, 5), (1.0, 1), (1.0, 1)];
/// Each config's shift of every criterion's latent score; config 0 is the baseline.
const CONFIG_EFFECTS: [f64; 5] = [0.0, 0.04, 0.06, -0.03, 0.10];
const PASS_THRESHOLD: f64 = 0.6;
const DATA_SEED: u64 = 2_024;
const BOOTSTRAP_SEED: u64 = 20_240_611;
const RESAMPLES: usize = 10_000;
const REPEATS: usize = 3;

/// Per config, per example: quality in [0, 1] and pass/fail.
struct Scores {
    quality: Vec<Vec<f64>>,
    pass: Vec<Vec<bool>>,
}

/// Quality as the weighted mean of criterion scores, computed like `score::weighted_quality`. An example's
/// difficulty and each criterion's difficulty on it are shared by all configs, so their differences correlate.
fn synthetic_scores(examples: usize) -> Scores {
    let mut rng = ChaCha8Rng::seed_from_u64(DATA_SEED);
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
    let mut quality = vec![Vec::with_capacity(examples); CONFIG_EFFECTS.len()];
    for _ in 0..examples {
        let difficulty = normal();
        let criterion_difficulty: Vec<f64> = CRITERIA.iter().map(|_| normal()).collect();
        for (config, effect) in CONFIG_EFFECTS.iter().enumerate() {
            let (mut weighted, mut total_weight) = (0.0, 0.0);
            for (&(weight, steps), shared) in CRITERIA.iter().zip(&criterion_difficulty) {
                let latent = 0.62 - 0.15 * difficulty + 0.12 * shared + 0.12 * normal() + effect;
                let score = (latent.clamp(0.0, 1.0) * f64::from(steps)).round() / f64::from(steps);
                weighted += weight * score;
                total_weight += weight;
            }
            quality[config].push((weighted / total_weight).clamp(0.0, 1.0));
        }
    }
    let pass = quality
        .iter()
        .map(|scores| scores.iter().map(|q| *q >= PASS_THRESHOLD).collect())
        .collect();
    Scores { quality, pass }
}

fn distinct(values: &[f64]) -> usize {
    values.iter().map(|v| v.to_bits()).collect::<HashSet<_>>().len()
}

#[derive(Default, Clone, Copy)]
struct Timings {
    summaries: Duration,
    bootstraps: Duration,
    paired_tests: Duration,
    paired_bootstraps: Duration,
    mcnemar: Duration,
    total: Duration,
}

fn timed<T>(elapsed: &mut Duration, work: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let result = work();
    *elapsed += start.elapsed();
    result
}

/// The report's statistics over all configs and pairs; returns the timings and a checksum that uses every result.
fn analyse(scores: &Scores) -> (Timings, f64) {
    let settings = BootstrapSettings {
        resamples: RESAMPLES,
        ..BootstrapSettings::with_seed(BOOTSTRAP_SEED)
    };
    let mut t = Timings::default();
    let mut checksum = 0.0;
    let start = Instant::now();
    for quality in &scores.quality {
        let summary = timed(&mut t.summaries, || summarize(quality, DEFAULT_CONFIDENCE_LEVEL)).expect("finite");
        let ci = timed(&mut t.bootstraps, || bootstrap_mean_bca(quality, &settings)).expect("finite");
        checksum += summary.mean.unwrap_or(0.0) + ci.interval.map_or(0.0, |i| i.upper - i.lower);
    }
    let configs = scores.quality.len();
    for baseline in 0..configs {
        for candidate in baseline + 1..configs {
            let (b, c) = (&scores.quality[baseline], &scores.quality[candidate]);
            let comparison =
                timed(&mut t.paired_tests, || compare_paired(b, c, DEFAULT_CONFIDENCE_LEVEL)).expect("paired");
            let ci = timed(&mut t.paired_bootstraps, || {
                paired_bootstrap_mean_difference(b, c, &settings)
            })
            .expect("paired");
            let mcnemar = timed(&mut t.mcnemar, || {
                mcnemar_exact(&scores.pass[baseline], &scores.pass[candidate])
            })
            .expect("paired");
            checksum += comparison.t_test.p_value.unwrap_or(0.0)
                + comparison.wilcoxon.p_value.unwrap_or(0.0)
                + ci.interval.map_or(0.0, |i| i.lower)
                + mcnemar.p_value;
        }
    }
    t.total = start.elapsed();
    (t, checksum)
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn main() {
    println!("| examples | summaries (5) | BCa bootstraps (5) | paired tests (10) | paired bootstraps (10) | McNemar (10) | total |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut notes = Vec::new();
    for examples in [1_000, 100_000] {
        let scores = synthetic_scores(examples);
        let mut runs: Vec<(Timings, f64)> = (0..REPEATS).map(|_| analyse(&scores)).collect();
        runs.sort_by_key(|(t, _)| t.total);
        let (t, checksum) = runs[REPEATS / 2];
        assert!(
            runs.iter().all(|(_, c)| *c == checksum),
            "seeded results differ between runs"
        );
        println!(
            "| {examples} | {} ms | {} ms | {} ms | {} ms | {} ms | **{} ms** |",
            ms(t.summaries),
            ms(t.bootstraps),
            ms(t.paired_tests),
            ms(t.paired_bootstraps),
            ms(t.mcnemar),
            ms(t.total)
        );
        let quality_distinct: Vec<usize> = scores.quality.iter().map(|q| distinct(q)).collect();
        let difference: Vec<f64> = scores.quality[0]
            .iter()
            .zip(&scores.quality[1])
            .map(|(b, c)| c - b)
            .collect();
        notes.push(format!(
            "{examples} examples: distinct quality values per config {quality_distinct:?}; distinct differences \
             config 1 − baseline {}; {RESAMPLES} resamples; median of {REPEATS} runs (total {})",
            distinct(&difference),
            runs.iter()
                .map(|(t, _)| format!("{} ms", ms(t.total)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    println!();
    for note in notes {
        println!("{note}");
    }
}
