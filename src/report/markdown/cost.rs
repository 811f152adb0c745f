//! The cost parts of `report.md`: the recommendation at the top, cost per config and per quality point, a custom
//! config's serving options side by side, the fine-tuning job, break-evens, and the run's own spend.

use super::super::costs::CostReport;
use super::super::table::{markdown_cell, markdown_code_cell, markdown_message, markdown_table};
use super::super::ReportData;
use super::NOT_ENOUGH;
use crate::cost::{round_volume, ConfigCost, CostAtVolume, Serving, Training};

/// Money, with thousands separators and cents (sub-cent amounts with four significant decimals).
pub fn money(currency: &str, value: f64) -> String {
    let symbol = if currency == "USD" {
        "$".to_string()
    } else {
        format!("{currency} ")
    };
    let sign = if value < 0.0 { "-" } else { "" };
    if value != 0.0 && value.abs() < 0.01 {
        let digits = format!("{:.6}", value.abs());
        return format!("{sign}{symbol}{}", digits.trim_end_matches('0'));
    }
    let cents = format!("{:.2}", value.abs());
    let (whole, fraction) = cents.split_once('.').unwrap_or((&cents, "00"));
    let grouped = round_volume(whole.parse::<f64>().unwrap_or(0.0));
    format!("{sign}{symbol}{grouped}.{fraction}")
}

/// "at 100,000 requests a month" (the suite's), or "at the default 100,000 requests a month (no `cost.monthly_requests`)".
pub(super) fn volume_words(cost: &CostReport) -> String {
    let volume = round_volume(cost.volumes.first().copied().unwrap_or(0.0));
    if cost.volumes_stated {
        format!("{volume} requests a month")
    } else {
        format!("the default {volume} requests a month (set `cost.monthly_requests` for yours)")
    }
}

pub(super) fn cost_sentence(cost: &CostReport) -> String {
    let monthly: Vec<String> = cost
        .configs
        .iter()
        .filter_map(|c| {
            Some(format!(
                "{} {}",
                markdown_cell(&c.config),
                money(&cost.currency, c.main()?.monthly_cost)
            ))
        })
        .collect();
    let mut out = String::new();
    if !monthly.is_empty() {
        out.push_str(&format!(
            "\nAt {} the configs cost {} a month.",
            volume_words(cost),
            monthly.join(", ")
        ));
    }
    for b in &cost.break_evens {
        out.push_str(&format!(
            " {} becomes cheaper than {}: {}.",
            markdown_cell(&b.custom),
            markdown_cell(&b.on_demand),
            markdown_cell(&b.summary)
        ));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn billing(serving: &Serving) -> String {
    match serving {
        Serving::PerToken { storage_per_month, .. } if *storage_per_month > 0.0 => "per token + storage".to_string(),
        Serving::PerToken { .. } => "per token".to_string(),
        Serving::Provisioned {
            model_units,
            commitment,
            ..
        } => format!(
            "Provisioned Throughput, {model_units}+ unit(s), {}",
            crate::cost::serving::term_words(*commitment)
        ),
        Serving::Imported { custom_model_units, .. } => {
            format!("Custom Model Import, {custom_model_units} CMU per copy")
        }
        Serving::Unpriced { .. } => "unpriced".to_string(),
    }
}

/// "$1,234.00 (2 units)".
fn at_cell(currency: &str, at: Option<&CostAtVolume>, missing: &str) -> String {
    match at {
        Some(a) => match a.model_units {
            Some(units) => format!(
                "{} ({units} unit{})",
                money(currency, a.monthly_cost),
                if units == 1 { "" } else { "s" }
            ),
            None => money(currency, a.monthly_cost),
        },
        None => missing.to_string(),
    }
}

pub(super) fn cost_section(data: &ReportData) -> String {
    let cost = &data.cost;
    let currency = cost.currency.as_str();
    let mut out = format!(
        "\n## Cost\n\nAt {} ({} hours of Provisioned Throughput a month, peak factor {}, one-time costs spread over {} \
         months), from the tokens each config used in this run. Cost per quality point is the cost per 1,000 requests \
         ÷ mean quality points (interval from the quality interval); incremental is the extra cost per 1,000 requests \
         for each extra quality point over the baseline. See `docs/cost-model.md`.\n\n",
        volume_words(cost),
        cost.hours_per_month,
        cost.peak_factor,
        cost.amortize_months
    );
    let rows: Vec<Vec<String>> = cost
        .configs
        .iter()
        .map(|c| {
            let at = c.main();
            let missing = if c.serving.is_priced() { NOT_ENOUGH } else { "unpriced" };
            let na = || missing.to_string();
            vec![
                markdown_cell(&c.config),
                billing(&c.serving),
                c.tokens_per_request.map_or_else(na, |t| {
                    let cached = if t.cache_read + t.cache_write > 0.0 {
                        format!(
                            " (+ {:.0} read / {:.0} written from cache)",
                            t.cache_read, t.cache_write
                        )
                    } else {
                        String::new()
                    };
                    format!("{:.0} / {:.0}{cached}", t.input, t.output)
                }),
                at.map_or_else(na, |a| money(currency, a.per_request)),
                at.map_or_else(na, |a| money(currency, a.per_thousand)),
                at_cell(currency, at, missing),
                c.per_quality_point.map_or_else(na, |v| money(currency, v)),
                c.per_quality_point_interval.map_or_else(na, |i| {
                    format!("{} to {}", money(currency, i.lower), money(currency, i.upper))
                }),
                c.incremental_per_point
                    .map_or_else(|| "—".to_string(), |v| money(currency, v)),
            ]
        })
        .collect();
    out.push_str(&markdown_table(
        &[
            "config",
            "billing",
            "tokens in / out per request",
            "per request",
            "per 1,000 requests",
            "per month",
            "per quality point",
            &super::statistics::ci_label(data),
            "incremental per extra point",
        ],
        &rows,
    ));
    if cost.volumes.len() > 1 {
        out.push_str("\nMonthly cost at each volume (units: what the volume needs at the peak factor):\n\n");
        let mut header = vec!["config".to_string()];
        header.extend(cost.volumes.iter().map(|v| format!("{} req/month", round_volume(*v))));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows: Vec<Vec<String>> = cost
            .configs
            .iter()
            .map(|c| {
                let mut row = vec![markdown_cell(&c.config)];
                row.extend(c.at_volumes.iter().map(|a| at_cell(currency, a.as_ref(), NOT_ENOUGH)));
                row
            })
            .collect();
        out.push_str(&markdown_table(&header, &rows));
    }
    for c in cost.configs.iter().filter(|c| c.is_custom()) {
        out.push_str(&serving_options(cost, c));
        out.push_str(&training(cost, c));
    }
    if !cost.break_evens.is_empty() {
        out.push_str(
            "\nBreak-even volumes (each custom config as configured, and on its cheapest serving option, against the \
             per-token configs):\n\n",
        );
        for b in &cost.break_evens {
            out.push_str(&format!(
                "- {} vs {}: {}\n",
                markdown_cell(&b.custom),
                markdown_cell(&b.on_demand),
                markdown_cell(&b.summary)
            ));
        }
    }
    for warning in &cost.warnings {
        out.push_str(&format!("\n> **Unpriced.** {}\n", markdown_message(warning)));
    }
    out.push_str(&prices_table(cost));
    out.push_str(&suite_prices(data));
    out.push_str(
        "\n![Monthly cost against volume, break-evens marked](cost-volume.svg)\n\n\
         ![Cost per 1,000 requests against quality, with the frontier](cost-quality.svg)\n",
    );
    out
}

/// A custom config's serving options side by side, the cheapest at each volume in bold.
fn serving_options(cost: &CostReport, c: &ConfigCost) -> String {
    let currency = cost.currency.as_str();
    let mut out = format!(
        "\nServing options for **{}** (monthly cost; **bold**: cheapest at that volume; units scale with volume only \
         where capacity is stated):\n\n",
        markdown_cell(&c.config)
    );
    let mut header = vec!["option".to_string()];
    header.extend(cost.volumes.iter().map(|v| format!("{} req/month", round_volume(*v))));
    header.push("note".to_string());
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = c
        .options
        .iter()
        .map(|o| {
            let label = if o.option.configured {
                format!("{} (configured)", o.option.label)
            } else {
                o.option.label.clone()
            };
            let mut row = vec![markdown_cell(&label)];
            row.extend(o.at_volumes.iter().zip(&o.cheapest).map(|(at, cheapest)| {
                let missing = if o.option.serving.is_priced() {
                    "beyond capacity"
                } else {
                    "unpriced"
                };
                let cell = at_cell(currency, at.as_ref(), missing);
                if *cheapest {
                    format!("**{cell}**")
                } else {
                    cell
                }
            }));
            row.push(match &o.option.serving {
                Serving::Unpriced { reason, keys } => {
                    markdown_message(&crate::cost::estimate::unpriced_note(reason, keys))
                }
                _ => String::new(),
            });
            row
        })
        .collect();
    out.push_str(&markdown_table(&header, &rows));
    out
}

/// The fine-tuning job: its cost, amortization and payback.
fn training(cost: &CostReport, c: &ConfigCost) -> String {
    let currency = cost.currency.as_str();
    let Some(Training::Priced {
        tokens,
        epochs,
        per_million_tokens,
        cost: job,
        amortize_months,
        per_month,
    }) = &c.training
    else {
        return String::new();
    };
    let payback = match &c.payback {
        Some(p) => match p.months {
            Some(months) => format!(
                " It pays for itself in {months:.1} months against {} at this volume.",
                markdown_cell(&p.against)
            ),
            None => format!(
                " It never pays for itself at this volume: serving it costs no less than {}.",
                markdown_cell(&p.against)
            ),
        },
        None => String::new(),
    };
    format!(
        "\nFine-tuning job of **{}**: {} tokens × {epochs} epoch(s) × {} per million = {}, spread over {} months = {} a \
         month, included in its figures above.{payback}\n",
        markdown_cell(&c.config),
        round_volume(*tokens as f64),
        money(currency, *per_million_tokens),
        money(currency, *job),
        amortize_months,
        money(currency, *per_month)
    )
}

/// The prices the suite set rather than the catalogue, so a reviewer knows which figures are the team's own.
fn suite_prices(data: &ReportData) -> String {
    let Some(section) = &data.suite.file.cost else {
        return String::new();
    };
    let set: Vec<String> = section
        .prices
        .iter()
        .map(|(model, row)| {
            let fields: Vec<&str> = row.prices().into_iter().map(|(field, _)| field).collect();
            format!("`{}`: {}", markdown_cell(model), fields.join(", "))
        })
        .collect();
    if set.is_empty() {
        return String::new();
    }
    format!(
        "\nSet by the suite's `cost.prices`, not read from the catalogue: {}.\n",
        set.join("; ")
    )
}

fn prices_table(cost: &CostReport) -> String {
    let mut out = String::from("\nPrices used (per million tokens, per model unit-hour):\n\n");
    let rows: Vec<Vec<String>> = cost
        .prices
        .iter()
        .map(|p| {
            let per_million = |v: Option<f64>| v.map_or_else(|| "—".to_string(), |v| format!("{v}"));
            let hourly: Vec<String> = p
                .provisioned_per_unit_hour
                .iter()
                .map(|(term, price)| format!("{}: {price}", term.as_str()))
                .collect();
            vec![
                markdown_code_cell(&p.model),
                per_million(p.input_per_million),
                per_million(p.output_per_million),
                format!(
                    "{} / {}",
                    per_million(p.cache_read_input_per_million),
                    per_million(p.cache_write_input_per_million)
                ),
                if hourly.is_empty() {
                    "—".to_string()
                } else {
                    markdown_cell(&hourly.join(", "))
                },
                per_million(p.training_per_million_tokens),
                markdown_cell(p.source.as_deref().unwrap_or("")),
                markdown_cell(p.read_on.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    if let Some(import) = &cost.custom_model_import {
        out.push_str(&format!(
            "\nCustom Model Import: ${} per Custom Model Unit per minute (5-minute windows), ${} per unit per month of \
             storage ({}, read {}; a config's `cost.custom.<config>.per_cmu_minute` overrides it).\n",
            import.per_cmu_minute,
            import.storage_per_cmu_month,
            markdown_cell(&import.source),
            markdown_cell(&import.read_on)
        ));
    }
    out.push_str(&markdown_table(
        &[
            "model",
            "input",
            "output",
            "cache read / write",
            "per model unit-hour",
            "training",
            "source",
            "read on",
        ],
        &rows,
    ));
    out
}

pub(super) fn run_cost_section(data: &ReportData) -> String {
    let run = &data.run_cost;
    let currency = data.cost.currency.as_str();
    let mut out = String::from(
        "\n## This run's cost\n\nWhat the calls of this run cost at per-token prices (the evaluation's own spend).\n\n",
    );
    let mut rows: Vec<Vec<String>> = run
        .generation
        .iter()
        .map(|(config, cost, note)| {
            vec![
                markdown_cell(config),
                cost.map_or_else(|| "unpriced".to_string(), |c| money(currency, c)),
                markdown_cell(note.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    if let Some(judge) = &data.suite.file.judge {
        rows.push(vec![
            format!("judge ({})", markdown_code_cell(&judge.model)),
            run.judge.map_or_else(|| "unpriced".to_string(), |c| money(currency, c)),
            String::new(),
        ]);
    }
    rows.push(vec![
        "**total (priced parts)**".to_string(),
        money(currency, run.total_priced),
        String::new(),
    ]);
    out.push_str(&markdown_table(&["part", "cost", "note"], &rows));
    out
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn money_has_its_sign_before_the_currency_and_cents_or_four_significant_decimals() {
        assert_eq!(money("USD", 44167.0), "$44,167.00");
        assert_eq!(money("USD", -1234.5), "-$1,234.50");
        assert_eq!(money("USD", 0.000221), "$0.000221");
        assert_eq!(money("USD", -0.000221), "-$0.000221");
        assert_eq!(money("USD", 0.0), "$0.00");
        assert_eq!(money("EUR", -0.5), "-EUR 0.50");
    }
}
