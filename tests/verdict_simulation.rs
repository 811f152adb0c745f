//! Seeded simulations of the verdict, through the same analysis every report runs (`report::analysis`):
//!
//! - **A/A**: three configs with no real difference; the rate of "better"/"worse" verdicts must stay at or below α.
//! - **Planted +10**: a baseline and two candidates each 10 quality points better, n = 60; the power the report gives
//!   (at α/m, the Holm level the verdict faces) must be within 5 points of the observed rate of "better" verdicts.
//!
//! Ignored by default (a thousand analyses each); run with
//! `cargo test --test verdict_simulation -- --ignored --nocapture` and see `docs/report-format.md` for the figures.

use bedrock_eval::report::analysis::{analyse_replies, AnalysisOptions, ConfigReplies, Design, ExampleReplies};
use bedrock_eval::score::common_criteria::ScoredReply;
use bedrock_eval::score::Rubric;
use bedrock_eval::stats::{BootstrapSettings, Verdict};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const REPLICATIONS: usize = 1_000;
const EXAMPLES: usize = 60;
const ALPHA: f64 = 0.05;
/// Spread of an example's difficulty, shared by every config (so differences correlate), in quality points.
const DIFFICULTY_SD: f64 = 15.0;
/// Each reply's own noise, in quality points.
const REPLY_SD: f64 = 18.0;

/// A one-criterion rubric: a reply's quality is its criterion score.
fn rubric(dir: &std::path::Path) -> Rubric {
    let path = dir.join("rubric.yaml");
    std::fs::write(
        &path,
        "name: simulated\npass_threshold: 0.6\ncriteria:\n  - id: score\n    kind: regex\n    pattern: '.'\n    \
         description: Stands for the whole rubric.\n",
    )
    .unwrap();
    Rubric::load(&path).unwrap()
}

/// One simulated run: per example a shared difficulty, per config its effect and its own noise, clamped to 0–100.
fn simulated_run(rng: &mut ChaCha8Rng, effects: &[(&str, f64)]) -> Vec<ConfigReplies> {
    let difficulty = Normal::new(50.0, DIFFICULTY_SD).unwrap();
    let noise = Normal::new(0.0, REPLY_SD).unwrap();
    let mut configs: Vec<ConfigReplies> = effects
        .iter()
        .map(|(name, _)| ConfigReplies {
            config: name.to_string(),
            examples: ExampleReplies::new(),
        })
        .collect();
    for example in 0..EXAMPLES {
        let base = difficulty.sample(rng);
        for (config, (_, effect)) in configs.iter_mut().zip(effects) {
            let quality = ((base + effect + noise.sample(rng)).clamp(0.0, 100.0)) / 100.0;
            config
                .examples
                .insert(example, vec![ScoredReply::new([Some(quality)], quality)]);
        }
    }
    configs
}

fn options(target_difference: Option<f64>) -> AnalysisOptions {
    AnalysisOptions {
        alpha: ALPHA,
        margin: 0.0,
        power: 0.8,
        // The verdict does not read the bootstrap: a few resamples keep a thousand analyses quick.
        bootstrap: BootstrapSettings {
            resamples: 50,
            seed: 0,
            confidence_level: 1.0 - ALPHA,
        },
        target_difference,
        minimum_pairs: bedrock_eval::stats::minimum_pairs_for_verdict(ALPHA),
    }
}

/// Binomial standard error of a rate over the replications.
fn standard_error(rate: f64) -> f64 {
    (rate * (1.0 - rate) / REPLICATIONS as f64).sqrt()
}

#[test]
#[ignore = "a thousand analyses: run with --ignored, see docs/report-format.md"]
fn a_a_false_positive_rate_stays_at_or_below_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let rubric = rubric(dir.path());
    let design = Design {
        rubric: &rubric,
        baseline: "baseline",
        repeats: 1,
        held_out: EXAMPLES,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let (mut comparisons, mut false_verdicts, mut runs_with_any) = (0usize, 0usize, 0usize);
    for _ in 0..REPLICATIONS {
        let run = simulated_run(&mut rng, &[("baseline", 0.0), ("a", 0.0), ("b", 0.0)]);
        let analysis = analyse_replies(&design, &run, &[], &options(None)).unwrap();
        let decided: Vec<bool> = analysis
            .comparisons
            .iter()
            .filter(|c| c.family == "baseline")
            .map(|c| matches!(c.verdict, Verdict::Better | Verdict::Worse))
            .collect();
        comparisons += decided.len();
        false_verdicts += decided.iter().filter(|d| **d).count();
        runs_with_any += usize::from(decided.iter().any(|d| *d));
    }
    let per_comparison = false_verdicts as f64 / comparisons as f64;
    let familywise = runs_with_any as f64 / REPLICATIONS as f64;
    println!(
        "A/A, {REPLICATIONS} runs of {EXAMPLES} examples, 2 comparisons against the baseline, α = {ALPHA}: \
         false better/worse per comparison {:.1}% (± {:.1}), runs with any {:.1}% (± {:.1})",
        100.0 * per_comparison,
        100.0 * standard_error(per_comparison),
        100.0 * familywise,
        100.0 * standard_error(familywise)
    );
    assert!(familywise <= ALPHA + 2.0 * standard_error(ALPHA), "{familywise}");
    assert!(per_comparison <= ALPHA, "{per_comparison}");
}

#[test]
#[ignore = "a thousand analyses: run with --ignored, see docs/report-format.md"]
fn reported_power_matches_the_rate_of_better_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let rubric = rubric(dir.path());
    let design = Design {
        rubric: &rubric,
        baseline: "baseline",
        repeats: 1,
        held_out: EXAMPLES,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let (mut better, mut reported, mut comparisons) = (0usize, 0.0, 0usize);
    let mut unadjusted = 0.0;
    for _ in 0..REPLICATIONS {
        let run = simulated_run(&mut rng, &[("baseline", 0.0), ("a", 10.0), ("b", 10.0)]);
        let analysis = analyse_replies(&design, &run, &[], &options(Some(10.0))).unwrap();
        for c in analysis.comparisons.iter().filter(|c| c.family == "baseline") {
            comparisons += 1;
            better += usize::from(c.verdict == Verdict::Better);
            reported += c.power.expect("a power for the planted difference");
            let sd = c.paired.sd_difference.unwrap();
            unadjusted += bedrock_eval::stats::paired_t_power(10.0 / sd, c.paired.n, ALPHA)
                .unwrap()
                .unwrap();
        }
    }
    let observed = better as f64 / comparisons as f64;
    let predicted = reported / comparisons as f64;
    println!(
        "planted +10 points, {REPLICATIONS} runs of {EXAMPLES} examples, 2 candidates: \"better\" in {:.1}% \
         (± {:.1}) of comparisons; reported power (at α/2) {:.1}% on average; at the unadjusted α it would be {:.1}%",
        100.0 * observed,
        100.0 * standard_error(observed),
        100.0 * predicted,
        100.0 * unadjusted / comparisons as f64
    );
    assert!((observed - predicted).abs() <= 0.05, "{observed} vs {predicted}");
}
