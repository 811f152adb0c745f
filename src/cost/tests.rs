//! The worked example of `docs/cost-model.md`, reproduced to the cent, and the edge cases.

use super::configs::Payback;
use super::recommend::{recommend, Standing};
use super::*;
use crate::stats::Interval;
use crate::suite::schema::{ConfigKind, CustomServing};

/// The docs' month: 1,000,000 requests (and 10,000,000 for the sensitivity table), 730 hours, peak factor 2,
/// one-time costs over 12 months.
fn params() -> CostParams {
    CostParams {
        volumes: vec![1_000_000.0, 10_000_000.0],
        volumes_stated: true,
        month: Month {
            hours: 730.0,
            peak_factor: 2.0,
        },
        amortize_months: 12.0,
    }
}

fn lite() -> Serving {
    Serving::PerToken {
        input_per_million: 0.06,
        output_per_million: 0.24,
        cache_read_per_million: Some(0.015),
        cache_write_per_million: Some(0.075),
        storage_per_month: 0.0,
    }
}

fn provisioned(per_unit_hour: f64, commitment: Commitment) -> Serving {
    Serving::Provisioned {
        model_units: 1,
        commitment,
        per_unit_hour,
        storage_per_month: 1.95,
        capacity: Capacity {
            tokens_per_minute_per_unit: Some(20_000.0),
            requests_per_minute_per_unit: None,
        },
    }
}

fn deployment() -> Serving {
    Serving::PerToken {
        input_per_million: 0.06,
        output_per_million: 0.24,
        cache_read_per_million: None,
        cache_write_per_million: None,
        storage_per_month: 1.95,
    }
}

fn imported() -> Serving {
    Serving::Imported {
        custom_model_units: 2,
        per_cmu_minute: 0.05718,
        storage_per_month: 3.90,
        capacity: Capacity {
            tokens_per_minute_per_unit: None,
            requests_per_minute_per_unit: Some(400.0),
        },
    }
}

fn usage(replies: u64, input: u64, output: u64, cache_read: u64, cache_write: u64) -> Usage {
    Usage {
        replies: replies as usize,
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: cache_read,
        cache_write_tokens: cache_write,
    }
}

fn quality(mean: f64, lower: f64, upper: f64) -> Option<(f64, Option<Interval>)> {
    Some((mean, Some(Interval { lower, upper })))
}

fn option(label: &str, configured: bool, serving: Serving) -> ServingOption {
    ServingOption {
        label: label.into(),
        configured,
        serving,
    }
}

/// The training job of the docs: 1,500,000 tokens × 2 epochs × an illustrative $8 per million = $24.
fn job() -> Training {
    Training::priced(1_500_000, 2, 8.0, 12.0)
}

fn inputs() -> Vec<ConfigInput<'static>> {
    vec![
        ConfigInput {
            config: "prompt",
            serving: lite(),
            options: Vec::new(),
            usage: usage(64, 150 * 64, 80 * 64, 0, 0),
            quality: quality(35.4, 32.4, 38.3),
            training: None,
        },
        // 64 replies: one wrote the 640-token prefix to the cache, 63 read it; 130 other input tokens each.
        ConfigInput {
            config: "few-shot-cached",
            serving: lite(),
            options: Vec::new(),
            usage: usage(64, 130 * 64, 95 * 64, 640 * 63, 640),
            quality: quality(62.6, 57.8, 67.4),
            training: None,
        },
        ConfigInput {
            config: "fine-tuned",
            serving: provisioned(60.50, Commitment::None),
            options: vec![
                option(
                    "Provisioned Throughput, no commitment",
                    true,
                    provisioned(60.50, Commitment::None),
                ),
                option(
                    "Provisioned Throughput, 6-months commitment",
                    false,
                    provisioned(30.25, Commitment::SixMonths),
                ),
                option("on-demand custom-model deployment", false, deployment()),
            ],
            usage: usage(64, 50 * 64, 120 * 64, 0, 0),
            quality: quality(83.0, 78.2, 87.8),
            training: Some(job()),
        },
        ConfigInput {
            config: "fine-tuned-on-demand",
            serving: deployment(),
            options: vec![option("on-demand custom-model deployment", true, deployment())],
            usage: usage(64, 50 * 64, 120 * 64, 0, 0),
            quality: quality(82.0, 77.0, 87.0),
            training: Some(job()),
        },
        ConfigInput {
            config: "imported",
            serving: imported(),
            options: vec![option("Custom Model Import", true, imported())],
            usage: usage(64, 60 * 64, 110 * 64, 0, 0),
            quality: quality(70.0, 65.0, 75.0),
            training: None,
        },
    ]
}

fn cents(value: f64) -> String {
    format!("{value:.2}")
}

fn monthly(cost: &ConfigCost, i: usize) -> String {
    cents(cost.at_volumes[i].unwrap().monthly_cost)
}

#[test]
fn the_worked_example_to_the_cent() {
    let costs = config_costs(&inputs(), "few-shot-cached", &params());
    let [prompt, cached, tuned, on_demand, imported] = &costs[..] else {
        panic!()
    };
    // prompt: (150 × 0.06 + 80 × 0.24) / 1e6 = $0.0000282 a request.
    assert!((prompt.variable_per_request.unwrap() - 0.0000282).abs() < 1e-15);
    assert_eq!(
        (monthly(prompt, 0), monthly(prompt, 1)),
        ("28.20".into(), "282.00".into())
    );
    assert_eq!(format!("{:.4}", prompt.main().unwrap().per_thousand), "0.0282");
    assert_eq!(format!("{:.6}", prompt.per_quality_point.unwrap()), "0.000797");

    // Cached few-shot: (130 × 0.06 + 10 × 0.075 + 630 × 0.015 + 95 × 0.24) / 1e6 = $0.0000408 a request.
    let t = cached.tokens_per_request.unwrap();
    assert_eq!(
        (t.input, t.cache_write, t.cache_read, t.output),
        (130.0, 10.0, 630.0, 95.0)
    );
    assert!((cached.variable_per_request.unwrap() - 0.0000408).abs() < 1e-15);
    assert_eq!(monthly(cached, 0), "40.80");

    // Provisioned Throughput: one unit serves 20,000 ÷ 170 × 60 × 730 ÷ 2 = 2,576,470.6 requests a month.
    assert_eq!(format!("{:.1}", tuned.per_unit_capacity.unwrap()), "2576470.6");
    // 1 unit × $60.50 × 730 + $1.95 storage + $24 ÷ 12 of training = $44,168.95 at 1,000,000.
    assert_eq!(monthly(tuned, 0), "44168.95");
    assert_eq!(tuned.main().unwrap().model_units, Some(1));
    // 10,000,000 requests need ⌈3.88⌉ = 4 units: 4 × $44,165 + $1.95 + $2 = $176,663.95.
    assert_eq!(tuned.at_volumes[1].unwrap().model_units, Some(4));
    assert_eq!(monthly(tuned, 1), "176663.95");
    // Its options side by side: the on-demand deployment is cheapest at both volumes.
    let options: Vec<(String, String)> = tuned
        .options
        .iter()
        .map(|o| {
            (
                cents(o.at_volumes[0].unwrap().monthly_cost),
                cents(o.at_volumes[1].unwrap().monthly_cost),
            )
        })
        .collect();
    assert_eq!(
        options,
        [
            ("44168.95".into(), "176663.95".into()),
            // 6 months: 1 × $30.25 × 730 + $3.95 = $22,086.45; 4 units: $88,333.95.
            ("22086.45".into(), "88333.95".into()),
            // Deployment: 1,000,000 × $0.0000318 + $1.95 + $2 = $35.75; 10,000,000: $321.95.
            ("35.75".into(), "321.95".into()),
        ]
    );
    assert_eq!(
        tuned.options.iter().map(|o| o.cheapest.clone()).collect::<Vec<_>>(),
        [vec![false, false], vec![false, false], vec![true, true]]
    );

    // The on-demand deployment as a config of its own: $35.75, and its $24 job pays for itself against the
    // baseline ($40.80) in 24 ÷ (40.80 − 33.75) = 3.4 months.
    assert_eq!(monthly(on_demand, 0), "35.75");
    let Some(Payback { against, months }) = &on_demand.payback else {
        panic!()
    };
    assert_eq!(
        (against.as_str(), format!("{:.2}", months.unwrap())),
        ("few-shot-cached", "3.40".into())
    );
    assert_eq!(tuned.payback.as_ref().unwrap().months, None);

    // Custom Model Import: 2 CMU × $0.05718 × 5 minutes = $0.5718 a window; 1,000,000 requests keep all 8,760
    // windows of the month active: $5,008.968 + $3.90 storage = $5,012.87. 10,000,000 need 2 copies (one serves
    // 400 × 60 × 730 ÷ 2 = 8,760,000): $10,021.84.
    assert_eq!(monthly(imported, 0), "5012.87");
    assert_eq!(monthly(imported, 1), "10021.84");
    assert_eq!(imported.at_volumes[1].unwrap().model_units, Some(2));
    let curve = imported.curve.as_ref().unwrap();
    // 5,000 requests a month: 5,000 windows at most, $2,859 + $3.90.
    assert_eq!(cents(curve.monthly(5_000.0).unwrap()), "2862.90");
}

#[test]
fn break_evens_are_stated_only_within_capacity() {
    let costs = config_costs(&inputs(), "few-shot-cached", &params());
    let evens = break_evens(&costs, &params());
    let find = |custom: &str, other: &str| {
        evens
            .iter()
            .find(|b| b.custom == custom && b.on_demand == other)
            .unwrap_or_else(|| panic!("{custom} vs {other}: {evens:#?}"))
    };
    // Each unit costs $44,165 for 2.58 million requests, far more per request than prompt pays: never.
    let pt = find("fine-tuned", "prompt");
    assert_eq!(pt.volume, None);
    assert!(
        pt.summary
            .starts_with("never: it costs more than prompt at every volume up to what 1,000 model units"),
        "{}",
        pt.summary
    );
    // Its cheapest option, the deployment, against the cached few-shot: $3.95 ÷ ($0.0000408 − $0.0000318) =
    // 438,888.9 → above 438,889 requests a month; against prompt it costs more per request.
    let od = find("fine-tuned (on-demand custom-model deployment)", "few-shot-cached");
    assert_eq!(od.summary, "above 438,889 requests/month");
    assert!(find("fine-tuned (on-demand custom-model deployment)", "prompt")
        .summary
        .starts_with("never: it costs more per request"));
}

#[test]
fn a_cheap_unit_breaks_even_on_the_units_it_names() {
    // $0.05 an hour, 1,000,000 tokens a minute: one unit serves 128,823,529 requests a month; the break-even against
    // prompt is $36.50 + $1.95 + $2 = $40.45 ÷ $0.0000282 = 1,434,397.2 → above 1,434,398, within one unit.
    let mut cheap = inputs();
    cheap[2].serving = Serving::Provisioned {
        model_units: 1,
        commitment: Commitment::SixMonths,
        per_unit_hour: 0.05,
        storage_per_month: 1.95,
        capacity: Capacity {
            tokens_per_minute_per_unit: Some(1_000_000.0),
            requests_per_minute_per_unit: None,
        },
    };
    cheap[2].options = vec![option("Provisioned Throughput", true, cheap[2].serving.clone())];
    let costs = config_costs(&cheap, "prompt", &params());
    let evens = break_evens(&costs, &params());
    let even = evens
        .iter()
        .find(|b| b.custom == "fine-tuned" && b.on_demand == "prompt")
        .unwrap();
    assert_eq!(
        even.summary,
        "above 1,434,398 requests/month on 1 model unit (one serves 128,823,530 requests/month at peak factor 2)"
    );
    assert_eq!(even.units, Some(1));
    assert!((even.volume.unwrap() - 40.45 / 0.0000282).abs() < 1e-3);
}

#[test]
fn without_capacity_the_break_even_says_what_it_assumes() {
    let mut unknown = inputs();
    unknown[2].serving = Serving::Provisioned {
        model_units: 2,
        commitment: Commitment::None,
        per_unit_hour: 0.05,
        storage_per_month: 0.0,
        capacity: Capacity::default(),
    };
    unknown[2].training = None;
    unknown[2].options = vec![option("Provisioned Throughput", true, unknown[2].serving.clone())];
    let costs = config_costs(&unknown, "prompt", &params());
    let even = break_evens(&costs, &params())
        .into_iter()
        .find(|b| b.custom == "fine-tuned" && b.on_demand == "prompt")
        .unwrap();
    // 2 × $0.05 × 730 = $73 ÷ $0.0000282 = 2,588,652.5.
    assert!(
        even.summary
            .starts_with("above 2,588,653 requests/month at 2 model units, if they can serve it"),
        "{}",
        even.summary
    );
    assert!(even
        .summary
        .contains("cost.custom.fine-tuned.tokens_per_minute_per_unit"));
}

#[test]
fn the_recommendation_is_the_cheapest_config_not_significantly_worse() {
    let costs = config_costs(&inputs(), "few-shot-cached", &params());
    let standing = |config: &str, quality: f64, eligible: bool| Standing {
        config: config.into(),
        quality: Some(quality),
        eligible,
    };
    let standings = [
        standing("prompt", 35.4, false),
        standing("few-shot-cached", 62.6, false),
        standing("fine-tuned", 83.0, true),
        standing("fine-tuned-on-demand", 82.0, true),
        standing("imported", 70.0, false),
    ];
    let r = recommend(&costs, &standings, &params()).unwrap();
    // fine-tuned at its cheapest option ($35.75, the deployment) ties the on-demand config; the first in suite
    // order wins a tie.
    assert_eq!(r.best, "fine-tuned");
    assert_eq!((r.pick.as_str(), cents(r.monthly_cost)), ("fine-tuned", "35.75".into()));
    assert_eq!(r.pick_serving.as_deref(), Some("on-demand custom-model deployment"));
    assert_eq!(
        r.runner_up.as_ref().map(|(c, m)| (c.as_str(), cents(*m))),
        Some(("fine-tuned-on-demand", "35.75".into()))
    );
    assert_eq!(r.significantly_worse, ["prompt", "few-shot-cached", "imported"]);
    // Let the cached few-shot in: it is cheaper up to 438,889 requests a month only, so at 1,000,000 the pick stays.
    let mut open = standings.clone();
    open[1].eligible = true;
    let r = recommend(&costs, &open, &params()).unwrap();
    assert_eq!(r.pick, "fine-tuned");
}

#[test]
fn unpriced_configs_get_no_cost_never_zero_and_name_their_keys() {
    let catalogue = Catalogue::builtin();
    let serving = serving(ConfigKind::Prompt, "mystery", "acme.unknown-model-v1", None, &catalogue);
    let Serving::Unpriced { reason, keys } = &serving else {
        panic!("{serving:?}")
    };
    assert!(reason.contains("acme.unknown-model-v1"));
    assert_eq!(keys[0], "cost.prices.acme.unknown-model-v1.input_per_million");
    let input = ConfigInput {
        config: "mystery",
        serving,
        options: Vec::new(),
        usage: usage(10, 1000, 1000, 0, 0),
        quality: Some((50.0, None)),
        training: None,
    };
    let costs = config_costs(std::slice::from_ref(&input), "mystery", &params());
    assert!(costs[0].main().is_none() && costs[0].per_quality_point.is_none());
    let run = run_cost(&[input], None, &catalogue);
    assert_eq!(run.generation[0].1, None);
    assert_eq!(run.total_priced, 0.0);
    // A provisioned custom model without units, without a base model, or without storage is unpriced, with keys.
    let arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefghijkl";
    let keys = |custom: &CustomServing| match super::serving(ConfigKind::Custom, "tuned", arn, Some(custom), &catalogue)
    {
        Serving::Unpriced { keys, .. } => keys,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        keys(&CustomServing::default()),
        [
            "cost.custom.tuned.base_model",
            "cost.prices.<base model>.provisioned_per_unit_hour.none"
        ]
    );
    let lite = CustomServing {
        base_model: Some("amazon.nova-lite-v1:0".into()),
        ..CustomServing::default()
    };
    assert_eq!(keys(&lite), ["cost.custom.tuned.model_units"]);
    let units = CustomServing {
        model_units: Some(1),
        ..lite.clone()
    };
    assert_eq!(keys(&units), ["cost.custom.tuned.storage_per_month"]);
    // An imported model is Custom Model Import, not Provisioned Throughput.
    let imported_arn = "arn:aws:bedrock:us-east-1:123456789012:imported-model/abcdefghijkl";
    assert!(!is_provisioned(ConfigKind::Custom, imported_arn));
    let cmu = CustomServing {
        custom_model_units: Some(2),
        ..CustomServing::default()
    };
    assert_eq!(
        super::serving(ConfigKind::Custom, "imp", imported_arn, Some(&cmu), &catalogue),
        Serving::Imported {
            custom_model_units: 2,
            per_cmu_minute: catalogue.custom_model_import.per_cmu_minute,
            storage_per_month: 2.0 * catalogue.custom_model_import.storage_per_cmu_month,
            capacity: Capacity::default(),
        }
    );
}

#[test]
fn cache_tokens_without_a_rate_are_never_free() {
    let no_write_rate = Serving::PerToken {
        input_per_million: 0.06,
        output_per_million: 0.24,
        cache_read_per_million: Some(0.015),
        cache_write_per_million: None,
        storage_per_month: 0.0,
    };
    let tokens = TokensPerRequest {
        input: 100.0,
        output: 10.0,
        cache_read: 500.0,
        cache_write: 5.0,
    };
    assert_eq!(model::per_token_cost(&no_write_rate, &tokens), None);
    let no_writes = TokensPerRequest {
        cache_write: 0.0,
        ..tokens
    };
    assert!(model::per_token_cost(&no_write_rate, &no_writes).is_some());
}

#[test]
fn run_cost_adds_generation_and_judge() {
    let catalogue = Catalogue::builtin();
    let judge = Usage {
        replies: 10,
        input_tokens: 1_000_000,
        output_tokens: 100_000,
        ..Usage::default()
    };
    let run = run_cost(&inputs(), Some(("amazon.nova-pro-v1:0", judge)), &catalogue);
    // prompt 64 × $0.0000282, cached few-shot 64 × $0.0000408; provisioned and imported nothing per token;
    // judge 1M × 0.80 + 0.1M × 3.20.
    assert_eq!(format!("{:.7}", run.generation[0].1.unwrap()), "0.0018048");
    assert_eq!(format!("{:.7}", run.generation[1].1.unwrap()), "0.0026112");
    assert_eq!(run.generation[2].1, Some(0.0));
    assert_eq!(format!("{:.2}", run.judge.unwrap()), "1.12");
}
