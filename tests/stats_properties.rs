//! Property tests of every public statistics function: on random, degenerate (all equal, one distinct value, ±1e-300,
//! 1e300, n = 0…3, heavy ties) and adversarial inputs, each returns — no panic, no loop (every iterative routine is
//! capped, and one that reaches its cap says so with `DidNotConverge`) — and what it returns is finite numbers,
//! an explicit `None`, or an explicit error. Bad input (a level outside (0, 1), unequal lengths) is an input error;
//! nothing else is.

use bedrock_eval::stats::{
    agreement, bca_interval_from_distribution, bootstrap_mean_bca, clustered_standard_error, compare_paired,
    decide_family, holm_adjust, mcnemar_exact, mcnemar_from_counts, min_detectable_difference,
    min_detectable_effect_size, minimum_pairs_for_verdict, paired_bootstrap_mean_difference, paired_differences,
    paired_t_power, paired_t_test, quantile_linear, required_sample_size, sign_test, summarize, verdict,
    weighted_kappa, wilcoxon_signed_rank, wilson_interval, BootstrapSettings, Interval, KappaWeights, StatsError,
};
use proptest::prelude::*;

/// A Debug rendering with no NaN and no infinity in it: every number the result holds is finite.
fn assert_finite(what: &str, debug: String) {
    let bad = regex::Regex::new(r"(^|[\s(\[:,])-?(inf|NaN)\b").expect("a valid pattern");
    assert!(!bad.is_match(&debug), "{what} holds a non-finite number: {debug}");
}

/// Ok(finite) passes; an error must be "not available" (a capped routine, an overflow), never bad input.
fn assert_answer<T: std::fmt::Debug>(what: &str, result: Result<T, StatsError>) {
    match result {
        Ok(value) => assert_finite(what, format!("{value:?}")),
        Err(e) => assert!(e.is_not_available(), "{what}: valid input gave {e}"),
    }
}

/// Values at the edges of what a score can be, and beyond.
const EDGES: [f64; 10] = [0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 1.0, -1.0, 5e-324, 100.0];

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -100.0..100.0f64,
        2 => prop::sample::select(EDGES.to_vec()),
        1 => -1e300..1e300f64,
        1 => (-300i32..300).prop_map(|e| 10f64.powi(e)),
    ]
}

/// A sample: random values, all equal, one distinct value among equal ones, heavy ties, or tiny n.
fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec(value(), 0..40),
        (value(), 0..40usize).prop_map(|(v, n)| vec![v; n]),
        (value(), value(), 1..40usize).prop_map(|(v, w, n)| {
            let mut s = vec![v; n];
            s[n / 2] = w;
            s
        }),
        prop::collection::vec(prop::sample::select(vec![0.0, 1.0, 2.0, 1e300]), 0..40),
        prop::collection::vec(value(), 0..4),
    ]
}

/// Two samples of one length, the second often a shift, a copy or rounding noise of the first.
fn pairs() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    sample().prop_flat_map(|a| {
        let n = a.len();
        let shifted = a.clone();
        let same = a.clone();
        let noisy = a.clone();
        prop_oneof![
            prop::collection::vec(value(), n).prop_map({
                let a = a.clone();
                move |b| (a.clone(), b)
            }),
            value().prop_map(move |d| (shifted.clone(), shifted.iter().map(|x| x + d).collect())),
            Just((same.clone(), same)),
            Just((
                noisy.iter().map(|x| x * 100.0 / 11.0).collect(),
                noisy.iter().map(|x| (x + 1.0) * 100.0 / 11.0).collect(),
            )),
        ]
    })
}

fn level() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => prop::sample::select(vec![0.95, 0.9, 0.99, 0.5]),
        1 => 1e-12..(1.0 - 1e-12),
    ]
}

fn settings(resamples: usize, seed: u64, confidence_level: f64) -> BootstrapSettings {
    BootstrapSettings {
        resamples,
        seed,
        confidence_level,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn one_sample_statistics(values in sample(), level in level(), q in -0.5..1.5f64) {
        assert_answer("summarize", summarize(&values, level));
        assert_finite("quantile", format!("{:?}", quantile_linear(&values, q)));
        assert_answer("bootstrap", bootstrap_mean_bca(&values, &settings(64, 3, level)));
        let distribution: Vec<f64> = values.iter().rev().copied().collect();
        assert_answer("bca", bca_interval_from_distribution(&values, &distribution, level));
        let clusters: Vec<usize> = (0..values.len()).map(|i| i % 3).collect();
        assert_answer("clustered", clustered_standard_error(&values, &clusters));
    }

    #[test]
    fn paired_statistics((a, b) in pairs(), level in level()) {
        assert_answer("paired differences", paired_differences(&a, &b));
        let compared = compare_paired(&a, &b, level);
        assert_answer("compare_paired", compared.clone());
        assert_answer("paired bootstrap", paired_bootstrap_mean_difference(&a, &b, &settings(64, 1, level)));
        if let Ok(differences) = paired_differences(&a, &b) {
            assert_answer("t-test", paired_t_test(&differences, level));
            assert_answer("wilcoxon", wilcoxon_signed_rank(&differences));
            assert_answer("sign test", sign_test(&differences));
        }
        if let Ok(c) = compared {
            let decisions = decide_family(&[&c, &c], 1.0 - level, 0.5).expect("a valid alpha");
            assert_finite("decisions", format!("{decisions:?}"));
            for d in decisions {
                assert!(d.power_alpha > 0.0 && d.power_alpha <= 1.0 - level);
                assert!(d.p_holm.is_none() || c.n >= minimum_pairs_for_verdict(1.0 - level));
            }
        }
        let pass_a: Vec<bool> = a.iter().map(|x| *x > 0.5).collect();
        let pass_b: Vec<bool> = b.iter().map(|x| *x > 0.5).collect();
        assert_answer("mcnemar", mcnemar_exact(&pass_a, &pass_b));
        let bounded = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x.clamp(-1e300, 1e300)).collect() };
        assert_answer("agreement", agreement(&bounded(&a), &bounded(&b)));
        assert_answer("kappa", weighted_kappa(&bounded(&a), &bounded(&b), KappaWeights::Quadratic));
    }

    #[test]
    fn power_answers(
        dz in prop_oneof![0.0..5.0f64, prop::sample::select(vec![0.0, 1e-300, 1e-9, 3e15, 1e300])],
        n in prop_oneof![0..200usize, prop::sample::select(vec![2, 3, 10_000_000])],
        alpha in prop_oneof![prop::sample::select(vec![0.05, 0.025, 0.005, 0.1]), 1e-6..0.5f64],
        power in prop_oneof![Just(0.8), 0.01..0.99f64],
        sd in prop_oneof![0.0..50.0f64, prop::sample::select(vec![0.0, 2.5e-14, 1e-300, 1e300])],
    ) {
        assert_answer("power", paired_t_power(dz, n, alpha));
        if n <= 100_000 {
            assert_answer("detectable d_z", min_detectable_effect_size(n, alpha, power));
            assert_answer("detectable difference", min_detectable_difference(n, sd, alpha, power));
        }
        assert_answer("n needed", required_sample_size(dz * 10.0, sd, alpha, power));
    }

    #[test]
    fn counts_and_adjustments(
        k in 0..500u64, extra in 0..500u64, b in 0..400usize, c in 0..400usize,
        p in prop::collection::vec(prop_oneof![0.0..=1.0f64, prop::sample::select(vec![0.0, 1.0, 1e-300])], 0..30),
        level in level(),
    ) {
        assert_answer("wilson", wilson_interval(k, k + extra, level));
        assert_finite("mcnemar counts", format!("{:?}", mcnemar_from_counts(b, c)));
        let adjusted = holm_adjust(&p).expect("valid p-values");
        assert!(adjusted.iter().zip(&p).all(|(a, p)| (0.0..=1.0).contains(a) && a >= p));
        let interval = Some(Interval { lower: -1.0, upper: 1.0 });
        let _ = verdict(p.first().copied(), interval, 1.0 - level, 0.0);
        assert!(minimum_pairs_for_verdict(1.0 - level) >= 2);
    }
}

#[test]
fn bad_input_is_an_input_error_not_a_panic() {
    assert!(matches!(
        summarize(&[1.0, f64::NAN], 0.95),
        Err(StatsError::NonFinite { .. })
    ));
    assert!(matches!(
        compare_paired(&[1.0], &[], 0.95),
        Err(StatsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        paired_t_power(0.5, 10, 1.0),
        Err(StatsError::InvalidParameter { .. })
    ));
    // Scores so large that their difference overflows: the difference is not available.
    let overflow = compare_paired(&[-1.7e308, 0.0], &[1.7e308, 0.0], 0.95);
    assert!(matches!(overflow, Err(StatsError::OutOfRange { .. })), "{overflow:?}");
}

#[test]
fn capped_routines_say_they_gave_up() {
    // Beyond its term cap the noncentral t series declines at once rather than summing for hours; the power
    // function falls back on its closed-form bound where that settles the answer, and says n/a where it cannot.
    let hard = min_detectable_effect_size(2, 1e-9, 0.8);
    assert!(
        matches!(hard, Err(StatsError::DidNotConverge { .. })) || matches!(hard, Ok(Some(d)) if d.is_finite()),
        "{hard:?}"
    );
    let message = StatsError::DidNotConverge {
        routine: "the noncentral t series",
        iterations: 6_000,
    }
    .to_string();
    assert_eq!(
        message,
        "n/a: the noncentral t series did not converge within 6000 iterations"
    );
}
