//! Checks `bedrock_eval::stats` against golden values from scipy and statsmodels
//! (`tests/fixtures/stats/golden.json`, written by `tests/fixtures/stats/make_golden.py`).
//!
//! Tolerances:
//! - closed-form results (t-test, Wilcoxon, sign test, McNemar, Wilson, Holm, power, Spearman, kappa, summaries,
//!   BCa on a given bootstrap distribution): 1e-9 relative, or 1e-12 absolute near zero;
//! - solved power quantities (minimum detectable d_z, required n): 1e-9 relative against a brentq root of
//!   statsmodels' power function solved to 1e-15, and 1e-4 relative against statsmodels' own `solve_power`, whose
//!   root finder stops early (up to 2.2e-5 relative off its own power function in these cases);
//! - seeded bootstrap intervals (our ChaCha8 draws versus numpy's): each endpoint within 0.25 bootstrap standard
//!   errors of scipy's, which for these [0, 1] scores with 10,000 resamples is at most 0.0075 absolute. The
//!   Monte-Carlo error of a BCa endpoint at B = 10,000 is about 0.05 standard errors, so 0.25 is five of those.

use std::path::Path;

use bedrock_eval::stats::{
    agreement, bca_interval_from_distribution, bootstrap_mean_bca, clustered_standard_error, compare_paired,
    holm_adjust, mcnemar_exact, mcnemar_from_counts, min_detectable_effect_size, paired_bootstrap_mean_difference,
    paired_t_power, quantile_linear, required_sample_size, summarize, weighted_kappa, wilson_interval,
    BootstrapSettings, KappaWeights, WilcoxonMethod,
};
use serde_json::Value;

const RELATIVE: f64 = 1e-9;
const ABSOLUTE_NEAR_ZERO: f64 = 1e-12;
/// statsmodels' `solve_power` is itself only this close to the root of its power function.
const SOLVE_POWER_RELATIVE: f64 = 1e-4;
const BOOTSTRAP_SE_FRACTION: f64 = 0.25;
const BOOTSTRAP_SEED: u64 = 20_240_611;

fn golden() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stats/golden.json");
    let text = std::fs::read_to_string(&path).expect("golden.json is committed next to make_golden.py");
    serde_json::from_str(&text).expect("golden.json is valid JSON")
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("golden field {key} is a number: {v}"))
}

fn opt(v: &Value, key: &str) -> Option<f64> {
    v[key].as_f64()
}

fn floats(v: &Value, key: &str) -> Vec<f64> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("golden field {key} is an array"))
        .iter()
        .map(|x| x.as_f64().expect("numeric array"))
        .collect()
}

fn bools(v: &Value, key: &str) -> Vec<bool> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("golden field {key} is an array"))
        .iter()
        .map(|x| x.as_bool().expect("boolean array"))
        .collect()
}

fn cases<'a>(g: &'a Value, key: &str) -> &'a Vec<Value> {
    g[key]
        .as_array()
        .unwrap_or_else(|| panic!("golden section {key} is an array"))
}

fn assert_close(what: &str, actual: f64, expected: f64) {
    let tolerance = (RELATIVE * expected.abs()).max(ABSOLUTE_NEAR_ZERO);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: got {actual:e}, scipy/statsmodels {expected:e} (difference {:e})",
        (actual - expected).abs()
    );
}

fn assert_close_opt(what: &str, actual: Option<f64>, expected: Option<f64>) {
    match (actual, expected) {
        (Some(a), Some(e)) => assert_close(what, a, e),
        (None, None) => {}
        _ => panic!("{what}: got {actual:?}, expected {expected:?}"),
    }
}

#[test]
fn golden_file_records_reference_versions() {
    let g = golden();
    let versions = &g["generator"]["versions"];
    assert!(versions["scipy"].as_str().is_some_and(|v| v.starts_with("1.")));
    assert!(versions["statsmodels"].as_str().is_some());
    assert_eq!(g["generator"]["bootstrap_seed"].as_u64(), Some(BOOTSTRAP_SEED));
}

#[test]
fn summaries_match_numpy_and_scipy() {
    let g = golden();
    for case in cases(&g, "summaries") {
        let name = case["name"].as_str().expect("name");
        let sample = floats(case, "sample");
        let s = summarize(&sample, 0.95).expect("valid sample");
        assert_eq!(s.n as u64, case["n"].as_u64().expect("n"));
        assert_close_opt(&format!("{name} mean"), s.mean, opt(case, "mean"));
        assert_close_opt(&format!("{name} sd"), s.sd, opt(case, "sd"));
        assert_close_opt(&format!("{name} se"), s.standard_error, opt(case, "standard_error"));
        let ci = s.mean_ci.expect("n >= 2");
        assert_close(&format!("{name} ci lower"), ci.lower, num(case, "ci_lower"));
        assert_close(&format!("{name} ci upper"), ci.upper, num(case, "ci_upper"));
        assert_close_opt(&format!("{name} min"), s.min, opt(case, "min"));
        assert_close_opt(&format!("{name} median"), s.median, opt(case, "median"));
        assert_close_opt(&format!("{name} p95"), s.p95, opt(case, "p95"));
        assert_close_opt(&format!("{name} max"), s.max, opt(case, "max"));
        for pair in case["quantiles"].as_array().expect("quantiles") {
            let q = pair[0].as_f64().expect("level");
            let expected = pair[1].as_f64().expect("value");
            assert_close_opt(&format!("{name} q{q}"), quantile_linear(&sample, q), Some(expected));
        }
    }
}

fn check_paired_case(case: &Value) {
    let name = case["name"].as_str().expect("name");
    let baseline = floats(case, "baseline");
    let candidate = floats(case, "candidate");
    let c = compare_paired(&baseline, &candidate, 0.95).expect("valid pairs");
    assert_eq!(c.n as u64, case["n"].as_u64().expect("n"), "{name}");
    assert_close_opt(&format!("{name} mean"), c.mean_difference, opt(case, "mean_difference"));
    assert_close_opt(&format!("{name} sd"), c.sd_difference, opt(case, "sd_difference"));

    let t = &case["t_test"];
    assert_eq!(c.t_test.df.map(|d| d as f64), opt(t, "df"), "{name} df");
    assert_close_opt(&format!("{name} t"), c.t_test.t_statistic, opt(t, "statistic"));
    let ci = c.t_test.confidence_interval.expect("n >= 2");
    assert_close(&format!("{name} t ci lower"), ci.lower, num(t, "ci_lower"));
    assert_close(&format!("{name} t ci upper"), ci.upper, num(t, "ci_upper"));
    if c.all_differences_zero {
        // Documented choice: "no difference observed" is None, where scipy gives NaN.
        assert_eq!(c.t_test.p_value, None, "{name}");
    } else {
        assert_close_opt(&format!("{name} t p"), c.t_test.p_value, opt(t, "p_value"));
    }

    let w = &case["wilcoxon"];
    let expected_method = match w["method"].as_str().expect("method") {
        "exact" => WilcoxonMethod::Exact,
        "exact_permutation" => WilcoxonMethod::ExactPermutation,
        _ => WilcoxonMethod::NormalApproximation,
    };
    assert_eq!(c.wilcoxon.method, expected_method, "{name} wilcoxon method");
    if c.all_differences_zero {
        // Documented choice: nothing was ranked, so no statistic (scipy reports 0).
        assert_eq!(c.wilcoxon.statistic, None, "{name}");
    } else {
        assert_close_opt(&format!("{name} W"), c.wilcoxon.statistic, opt(w, "statistic"));
        assert_close_opt(&format!("{name} R+"), c.wilcoxon.r_plus, opt(w, "r_plus"));
        assert_close_opt(&format!("{name} R-"), c.wilcoxon.r_minus, opt(w, "r_minus"));
    }
    assert_close_opt(
        &format!("{name} |z|"),
        c.wilcoxon.z.map(f64::abs),
        opt(w, "z").map(f64::abs),
    );
    assert_close_opt(
        &format!("{name} rank-biserial"),
        c.wilcoxon.rank_biserial,
        opt(w, "rank_biserial"),
    );
    if c.all_differences_zero {
        // Documented choice: None where scipy gives 1 (n <= 13) or NaN (n > 13).
        assert_eq!(c.wilcoxon.p_value, None, "{name}");
    } else {
        assert_close_opt(&format!("{name} wilcoxon p"), c.wilcoxon.p_value, opt(w, "p_value"));
    }

    let s = &case["sign_test"];
    assert_eq!(c.sign_test.positive as u64, s["positive"].as_u64().expect("positive"));
    assert_eq!(c.sign_test.negative as u64, s["negative"].as_u64().expect("negative"));
    assert_close_opt(&format!("{name} sign p"), c.sign_test.p_value, opt(s, "p_value"));

    assert_close_opt(&format!("{name} d_z"), c.effect_size_dz, opt(case, "effect_size_dz"));
    assert_close_opt(&format!("{name} g_z"), c.hedges_gz, opt(case, "hedges_gz"));
    assert_eq!(c.wins as u64, case["wins"].as_u64().expect("wins"));
    assert_eq!(c.ties as u64, case["ties"].as_u64().expect("ties"));
    assert_eq!(c.losses as u64, case["losses"].as_u64().expect("losses"));
}

#[test]
fn paired_comparisons_match_scipy() {
    let g = golden();
    for case in cases(&g, "paired") {
        check_paired_case(case);
    }
}

#[test]
fn degenerate_paired_cases_follow_the_documented_choices() {
    let g = golden();
    for case in cases(&g, "degenerate_paired") {
        check_paired_case(case);
    }
    let constant = &cases(&g, "degenerate_paired")[1];
    let c = compare_paired(&floats(constant, "baseline"), &floats(constant, "candidate"), 0.95).expect("valid pairs");
    // scipy: t = inf, p = 0; we keep p = 0 and leave t out rather than serialise an infinity.
    assert_eq!(c.t_test.t_statistic, None);
    assert_eq!(c.t_test.p_value, Some(0.0));
}

#[test]
fn bca_on_scipys_own_distribution_matches_exactly() {
    let g = golden();
    for case in cases(&g, "bca_from_distribution") {
        let name = case["name"].as_str().expect("name");
        let interval = bca_interval_from_distribution(
            &floats(case, "sample"),
            &floats(case, "distribution"),
            num(case, "confidence_level"),
        )
        .expect("valid input")
        .expect("defined interval");
        assert_close(&format!("{name} lower"), interval.lower, num(case, "ci_lower"));
        assert_close(&format!("{name} upper"), interval.upper, num(case, "ci_upper"));
    }
}

#[test]
fn seeded_bootstrap_agrees_with_scipy_up_to_monte_carlo_error_and_reproduces() {
    let g = golden();
    for case in cases(&g, "bootstrap") {
        let name = case["name"].as_str().expect("name");
        let settings = BootstrapSettings {
            resamples: case["resamples"].as_u64().expect("resamples") as usize,
            seed: BOOTSTRAP_SEED,
            confidence_level: num(case, "confidence_level"),
        };
        let run = || {
            match case["kind"].as_str() {
                Some("paired") => {
                    paired_bootstrap_mean_difference(&floats(case, "baseline"), &floats(case, "candidate"), &settings)
                }
                _ => bootstrap_mean_bca(&floats(case, "baseline"), &settings),
            }
            .expect("valid input")
        };
        let ours = run();
        assert_eq!(ours, run(), "{name}: same seed, same result");
        let interval = ours.interval.expect("defined interval");
        let scipy_se = num(case, "standard_error");
        let tolerance = BOOTSTRAP_SE_FRACTION * scipy_se;
        for (end, got, expected) in [
            ("lower", interval.lower, num(case, "ci_lower")),
            ("upper", interval.upper, num(case, "ci_upper")),
        ] {
            assert!(
                (got - expected).abs() <= tolerance,
                "{name} {end}: got {got}, scipy {expected}, tolerance {tolerance}"
            );
        }
        let se = ours.standard_error.expect("defined");
        assert!(
            (se - scipy_se).abs() <= 0.05 * scipy_se,
            "{name} bootstrap se {se} vs {scipy_se}"
        );
    }
}

#[test]
fn wilson_matches_statsmodels() {
    let g = golden();
    for case in cases(&g, "wilson") {
        let (k, n) = (
            case["successes"].as_u64().expect("k"),
            case["trials"].as_u64().expect("n"),
        );
        let ci = wilson_interval(k, n, num(case, "confidence_level"))
            .expect("valid")
            .expect("n > 0");
        let expected = floats(case, "ci");
        assert_close(&format!("wilson {k}/{n} lower"), ci.lower, expected[0]);
        assert_close(&format!("wilson {k}/{n} upper"), ci.upper, expected[1]);
    }
}

fn check_mcnemar(what: &str, m: &bedrock_eval::stats::McNemar, case: &Value) {
    assert_eq!(
        m.baseline_only as u64,
        case["baseline_only"].as_u64().expect("b"),
        "{what}"
    );
    assert_eq!(
        m.candidate_only as u64,
        case["candidate_only"].as_u64().expect("c"),
        "{what}"
    );
    assert_close(&format!("{what} p"), m.p_value, num(case, "p_value"));
    assert_close(&format!("{what} mid-p"), m.mid_p_value, num(case, "mid_p_value"));
    assert_close_opt(&format!("{what} chi2"), m.chi_square, opt(case, "chi_square"));
    assert_close_opt(
        &format!("{what} chi2 p"),
        m.chi_square_p_value,
        opt(case, "chi_square_p_value"),
    );
}

#[test]
fn mcnemar_matches_statsmodels() {
    let g = golden();
    for case in cases(&g, "mcnemar_counts") {
        let b = case["baseline_only"].as_u64().expect("b") as usize;
        let c = case["candidate_only"].as_u64().expect("c") as usize;
        check_mcnemar(&format!("mcnemar b={b} c={c}"), &mcnemar_from_counts(b, c), case);
    }
    let pairs = &g["mcnemar_pairs"];
    let m = mcnemar_exact(&bools(pairs, "baseline_pass"), &bools(pairs, "candidate_pass")).expect("valid");
    check_mcnemar("mcnemar from pass/fail pairs", &m, pairs);
    assert_eq!(m.both_pass + m.baseline_only + m.candidate_only + m.neither, 50);
}

#[test]
fn holm_matches_statsmodels() {
    let g = golden();
    let holm = &g["holm"];
    let adjusted = holm_adjust(&floats(holm, "p_values")).expect("valid p-values");
    for (i, (got, expected)) in adjusted.iter().zip(floats(holm, "adjusted")).enumerate() {
        assert_close(&format!("holm[{i}]"), *got, expected);
    }
}

#[test]
fn power_matches_statsmodels() {
    let g = golden();
    let power = &g["power"];
    let alpha = num(power, "alpha");
    let target = num(power, "target_power");
    for case in cases(power, "power") {
        let (dz, n) = (num(case, "effect_size_dz"), case["n"].as_u64().expect("n") as usize);
        let got = paired_t_power(dz, n, alpha).expect("valid").expect("n >= 2");
        assert_close(&format!("power d={dz} n={n}"), got, num(case, "power"));
    }
    for case in cases(power, "min_detectable") {
        let n = case["n"].as_u64().expect("n") as usize;
        let got = min_detectable_effect_size(n, alpha, target)
            .expect("valid")
            .expect("n >= 2");
        assert_close(&format!("detectable d_z n={n}"), got, num(case, "effect_size_dz"));
        let solved = num(case, "statsmodels_solve_power");
        assert!(
            (got - solved).abs() <= SOLVE_POWER_RELATIVE * solved,
            "n={n}: {got} vs solve_power {solved}"
        );
    }
    for case in cases(power, "required_n") {
        let dz = num(case, "effect_size_dz");
        let got = required_sample_size(dz, 1.0, alpha, target)
            .expect("valid")
            .expect("reachable");
        assert_close(
            &format!("required n d={dz}"),
            got.n_fractional,
            num(case, "n_fractional"),
        );
        assert_eq!(got.n as u64, case["n_required"].as_u64().expect("n_required"), "d={dz}");
        let solved = num(case, "statsmodels_solve_power");
        assert!(
            (got.n_fractional - solved).abs() <= SOLVE_POWER_RELATIVE * solved,
            "d={dz}: vs solve_power {solved}"
        );
    }
}

#[test]
fn agreement_matches_scipy_and_statsmodels() {
    let g = golden();
    for case in cases(&g, "agreement") {
        let name = case["name"].as_str().expect("name");
        let (human, judge) = (floats(case, "human"), floats(case, "judge"));
        let a = agreement(&human, &judge).expect("valid");
        assert_close_opt(&format!("{name} rho"), a.spearman.rho, opt(case, "spearman_rho"));
        assert_close_opt(
            &format!("{name} rho p"),
            a.spearman.p_value,
            opt(case, "spearman_p_value"),
        );
        assert_close_opt(
            &format!("{name} kappa linear"),
            a.kappa_linear,
            opt(case, "kappa_linear"),
        );
        assert_close_opt(
            &format!("{name} kappa quadratic"),
            a.kappa_quadratic,
            opt(case, "kappa_quadratic"),
        );
        let unweighted = weighted_kappa(&human, &judge, KappaWeights::Unweighted).expect("valid");
        assert_close_opt(&format!("{name} kappa"), unweighted, opt(case, "kappa_unweighted"));
        assert_close_opt(
            &format!("{name} mean |d|"),
            a.mean_absolute_difference,
            opt(case, "mean_absolute_difference"),
        );
    }
}

#[test]
fn clustered_standard_error_matches_the_formula() {
    let g = golden();
    let case = &g["clustered"];
    let ids: Vec<u64> = case["cluster_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_u64().expect("id"))
        .collect();
    let se = clustered_standard_error(&floats(case, "scores"), &ids)
        .expect("valid")
        .expect("several clusters");
    assert_close("clustered se", se, num(case, "standard_error"));
}

/// One value or one pair: where scipy returns NaN (no spread), ours is `None`; two values or pairs: every closed
/// form defined and equal to scipy's (df = 1).
#[test]
fn the_smallest_samples_give_none_where_scipy_gives_nan() {
    let g = golden();
    let summaries = cases(&g, "small_summary");
    for case in summaries {
        let name = case["name"].as_str().expect("name");
        let s = summarize(&floats(case, "sample"), 0.95).expect("valid sample");
        assert_close_opt(&format!("{name} mean"), s.mean, opt(case, "mean"));
        assert_close_opt(&format!("{name} sd"), s.sd, opt(case, "sd"));
        assert_close_opt(&format!("{name} se"), s.standard_error, opt(case, "standard_error"));
        assert_close_opt(
            &format!("{name} ci lower"),
            s.mean_ci.map(|i| i.lower),
            opt(case, "ci_lower"),
        );
        assert_close_opt(
            &format!("{name} ci upper"),
            s.mean_ci.map(|i| i.upper),
            opt(case, "ci_upper"),
        );
        assert_close_opt(&format!("{name} median"), s.median, opt(case, "median"));
    }
    let paired = cases(&g, "small_paired");
    let one = &paired[0];
    let c = compare_paired(&floats(one, "baseline"), &floats(one, "candidate"), 0.95).expect("valid pairs");
    assert_close_opt("one pair mean", c.mean_difference, opt(one, "mean_difference"));
    assert_eq!(opt(&one["t_test"], "p_value"), None, "scipy gives NaN for one pair");
    assert_eq!(
        (c.sd_difference, c.t_test.p_value, c.t_test.confidence_interval),
        (None, None, None)
    );
    assert_close_opt(
        "one pair wilcoxon p",
        c.wilcoxon.p_value,
        opt(&one["wilcoxon"], "p_value"),
    );
    assert_close_opt(
        "one pair sign p",
        c.sign_test.p_value,
        opt(&one["sign_test"], "p_value"),
    );
    check_paired_case(&paired[1]);
}
