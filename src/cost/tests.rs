//! The worked example of `docs/cost-model.md`, reproduced to the cent, and the edge cases.

use std::collections::BTreeMap;

use super::*;
use crate::suite::schema::Volumes;

/// The docs' suite: 100,000 requests a month (and 10 million for the sensitivity table), 730 hours.
fn section() -> CostSection {
    CostSection {
        monthly_requests: Volumes::Many(vec![100_000.0, 10_000_000.0]),
        hours_per_month: 730.0,
        peak_factor: 1.0,
        prices: BTreeMap::new(),
        custom: BTreeMap::new(),
    }
}

fn lite() -> Serving {
    Serving::PerToken {
        input_per_million: 0.06,
        output_per_million: 0.24,
        storage_per_month: 0.0,
    }
}

fn provisioned(tokens_per_minute_per_unit: Option<f64>) -> Serving {
    Serving::Provisioned {
        model_units: 1,
        commitment: Commitment::None,
        per_unit_hour: 23.5,
        storage_per_month: 1.95,
        tokens_per_minute_per_unit,
    }
}

fn usage(replies: usize, input_per_request: u64, output_per_request: u64) -> Usage {
    Usage {
        replies,
        input_tokens: input_per_request * replies as u64,
        output_tokens: output_per_request * replies as u64,
    }
}

fn inputs(tpm: Option<f64>) -> Vec<ConfigInput<'static>> {
    vec![
        ConfigInput {
            config: "prompt",
            serving: lite(),
            usage: usage(66, 150, 80),
            quality: Some((
                35.4,
                Some(Interval {
                    lower: 32.4,
                    upper: 38.3,
                }),
            )),
        },
        ConfigInput {
            config: "few-shot",
            serving: lite(),
            usage: usage(66, 770, 95),
            quality: Some((
                62.6,
                Some(Interval {
                    lower: 57.8,
                    upper: 67.4,
                }),
            )),
        },
        ConfigInput {
            config: "fine-tuned",
            serving: provisioned(tpm),
            usage: usage(66, 50, 120),
            quality: Some((
                83.0,
                Some(Interval {
                    lower: 78.2,
                    upper: 87.8,
                }),
            )),
        },
    ]
}

fn cents(value: f64) -> String {
    format!("{value:.2}")
}

#[test]
fn the_worked_example_to_the_cent() {
    let costs = config_costs(&inputs(None), "prompt", &section());
    let [prompt, few_shot, tuned] = &costs[..] else {
        panic!()
    };
    // prompt: (150 × 0.06 + 80 × 0.24) / 1e6 = $0.0000282 per request.
    assert!((prompt.variable_per_request.unwrap() - 0.0000282).abs() < 1e-15);
    assert_eq!(cents(prompt.at_volumes[0].monthly_cost), "2.82");
    assert_eq!(format!("{:.4}", prompt.at_volumes[0].per_thousand), "0.0282");
    // few-shot: (770 × 0.06 + 95 × 0.24) / 1e6 = $0.000069 per request.
    assert_eq!(cents(few_shot.at_volumes[0].monthly_cost), "6.90");
    assert_eq!(cents(few_shot.at_volumes[1].monthly_cost), "690.00");
    // fine-tuned: 1 unit × $23.50 × 730 h + $1.95 storage = $17,156.95 a month at any volume.
    assert_eq!(cents(tuned.fixed_per_month.unwrap()), "17156.95");
    assert_eq!(cents(tuned.at_volumes[0].monthly_cost), "17156.95");
    assert_eq!(cents(tuned.at_volumes[0].per_thousand), "171.57");
    assert_eq!(format!("{:.4}", tuned.at_volumes[1].per_thousand), "1.7157");
    // Cost per quality point: $0.0282 per 1,000 ÷ 35.4 points, interval from the quality interval.
    assert_eq!(format!("{:.6}", prompt.per_quality_point.unwrap()), "0.000797");
    let interval = prompt.per_quality_point_interval.unwrap();
    assert_eq!(
        format!("{:.6} {:.6}", interval.lower, interval.upper),
        "0.000736 0.000870"
    );
    // Incremental: few-shot pays ($0.069 − $0.0282) per 1,000 for 27.2 more points.
    assert_eq!(format!("{:.6}", few_shot.incremental_per_point.unwrap()), "0.001500");
    assert_eq!(prompt.incremental_per_point, None);

    // Break-even against prompt: $17,156.95 ÷ $0.0000282 = 608,402,482.3 → above 608,402,483 requests a month.
    let evens = break_evens(&costs, &section());
    assert_eq!(evens.len(), 2);
    assert_eq!(evens[0].on_demand, "prompt");
    assert_eq!(evens[0].summary, "above 608,402,483 requests/month");
    assert_eq!(evens[1].summary, "above 248,651,450 requests/month");
}

#[test]
fn capacity_running_out_first_is_never() {
    // 10,000 tokens a minute per unit and 170 tokens a request: 1 unit serves 2,576,470.6 requests a month, far
    // below the 608 million the break-even needs; more units add cost as fast as capacity, so never.
    let costs = config_costs(&inputs(Some(10_000.0)), "prompt", &section());
    assert_eq!(costs[2].at_volumes[1].model_units_needed, Some(4));
    let evens = break_evens(&costs, &section());
    assert_eq!(evens[0].volume, None);
    assert_eq!(format!("{:.1}", evens[0].capacity.unwrap()), "2576470.6");
    assert!(
        evens[0]
            .summary
            .starts_with("never: capacity runs out first (1 unit(s) serve 2,576,471"),
        "{}",
        evens[0].summary
    );
}

#[test]
fn a_cheap_unit_breaks_even_within_capacity() {
    let mut cheap = inputs(Some(1_000_000.0));
    cheap[2].serving = Serving::Provisioned {
        model_units: 1,
        commitment: Commitment::SixMonths,
        per_unit_hour: 0.05,
        storage_per_month: 0.0,
        tokens_per_minute_per_unit: Some(1_000_000.0),
    };
    let costs = config_costs(&cheap, "prompt", &section());
    let evens = break_evens(&costs, &section());
    // $0.05 × 730 = $36.50 ÷ $0.0000282 = 1,294,326.2 requests, within 1 unit's 257,647,058.8.
    assert_eq!(evens[0].summary, "above 1,294,327 requests/month");
    assert!((evens[0].volume.unwrap() - 36.5 / 0.0000282).abs() < 1e-6);
}

#[test]
fn unpriced_configs_get_no_cost_never_zero() {
    let catalogue = Catalogue::builtin();
    let serving = serving(ConfigKind::Prompt, "mystery", "acme.unknown-model-v1", None, &catalogue);
    assert!(matches!(&serving, Serving::Unpriced { reason } if reason.contains("acme.unknown-model-v1")));
    let input = ConfigInput {
        config: "mystery",
        serving,
        usage: usage(10, 100, 100),
        quality: Some((50.0, None)),
    };
    let costs = config_costs(std::slice::from_ref(&input), "mystery", &section());
    assert!(costs[0].at_volumes.is_empty() && costs[0].per_quality_point.is_none());
    let run = run_cost(&[input], None, &catalogue);
    assert_eq!(run.generation[0].1, None);
    assert_eq!(run.total_priced, 0.0);
    // A provisioned custom model without units or without a price is unpriced, with the reason.
    let arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefghijkl";
    let no_units = CustomServing::default();
    let s = super::serving(ConfigKind::Custom, "tuned", arn, Some(&no_units), &catalogue);
    assert!(
        matches!(&s, Serving::Unpriced { reason } if reason.contains("model_units")),
        "{s:?}"
    );
}

#[test]
fn run_cost_adds_generation_and_judge() {
    let catalogue = Catalogue::builtin();
    let judge = Usage {
        replies: 10,
        input_tokens: 1_000_000,
        output_tokens: 100_000,
    };
    let run = run_cost(&inputs(None), Some(("amazon.nova-pro-v1:0", judge)), &catalogue);
    // prompt 66 × $0.0000282, few-shot 66 × $0.000069, fine-tuned nothing per token; judge 1M × 0.80 + 0.1M × 3.20.
    assert_eq!(format!("{:.7}", run.generation[0].1.unwrap()), "0.0018612");
    assert_eq!(format!("{:.6}", run.generation[1].1.unwrap()), "0.004554");
    assert_eq!(run.generation[2].1, Some(0.0));
    assert_eq!(format!("{:.2}", run.judge.unwrap()), "1.12");
    assert!((run.total_priced - (0.0018612 + 0.004554 + 1.12)).abs() < 1e-9);
}
