//! The cost sections of `report.md`: cost per config and per quality point, break-even, the run's own spend.

use super::super::costs::CostReport;
use super::super::table::{markdown_cell, markdown_table};
use super::super::ReportData;
use super::NOT_ENOUGH;
use crate::cost::{round_volume, Serving};

/// Money, with thousands separators and cents (sub-cent amounts with four significant decimals).
pub fn money(currency: &str, value: f64) -> String {
    let symbol = if currency == "USD" {
        "$".to_string()
    } else {
        format!("{currency} ")
    };
    if value != 0.0 && value.abs() < 0.01 {
        return format!("{symbol}{value:.6}").trim_end_matches('0').to_string();
    }
    let cents = format!("{:.2}", value.abs());
    let (whole, fraction) = cents.split_once('.').unwrap_or((&cents, "00"));
    let grouped = round_volume(whole.parse::<f64>().unwrap_or(0.0));
    format!("{}{symbol}{grouped}.{fraction}", if value < 0.0 { "-" } else { "" })
}

pub(super) fn cost_sentence(cost: &CostReport) -> String {
    let Some(volume) = cost.volumes.first() else {
        return String::new();
    };
    let monthly: Vec<String> = cost
        .configs
        .iter()
        .filter_map(|c| {
            Some(format!(
                "{} {}",
                markdown_cell(&c.config),
                money(&cost.currency, c.at_volumes.first()?.monthly_cost)
            ))
        })
        .collect();
    let mut out = String::new();
    if !monthly.is_empty() {
        out.push_str(&format!(
            "\nAt {} requests a month the configs cost {} a month.",
            round_volume(*volume),
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
        } => {
            format!(
                "Provisioned Throughput, {model_units} unit(s), commitment {}",
                commitment.as_str()
            )
        }
        Serving::Unpriced { .. } => "unpriced".to_string(),
    }
}

pub(super) fn cost_section(data: &ReportData) -> String {
    let Some(cost) = &data.cost else { return String::new() };
    let currency = cost.currency.as_str();
    let Some(main) = cost.volumes.first() else {
        return String::new();
    };
    let mut out = format!(
        "\n## Cost\n\nAt the suite's volume of {} requests a month ({} hours of Provisioned Throughput a month), from \
         the tokens each config used in this run. Cost per quality point is the cost per 1,000 requests ÷ mean quality \
         points (interval from the quality interval); incremental is the extra cost per 1,000 requests for each extra \
         quality point over the baseline. See `docs/cost-model.md`.\n\n",
        round_volume(*main),
        cost.hours_per_month
    );
    let rows: Vec<Vec<String>> = cost
        .configs
        .iter()
        .map(|c| {
            let at = c.at_volumes.first();
            let na = || NOT_ENOUGH.to_string();
            vec![
                markdown_cell(&c.config),
                billing(&c.serving),
                c.tokens_per_request
                    .map_or_else(na, |(i, o)| format!("{i:.0} / {o:.0}")),
                at.map_or_else(na, |a| money(currency, a.per_request)),
                at.map_or_else(na, |a| money(currency, a.per_thousand)),
                at.map_or_else(na, |a| money(currency, a.monthly_cost)),
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
        out.push_str("\nMonthly cost at each volume of the suite:\n\n");
        let mut header = vec!["config".to_string()];
        header.extend(cost.volumes.iter().map(|v| format!("{} req/month", round_volume(*v))));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows: Vec<Vec<String>> = cost
            .configs
            .iter()
            .map(|c| {
                let mut row = vec![markdown_cell(&c.config)];
                row.extend(cost.volumes.iter().enumerate().map(|(i, _)| {
                    c.at_volumes.get(i).map_or_else(
                        || NOT_ENOUGH.to_string(),
                        |a| match a.model_units_needed {
                            Some(units) => format!("{} ({units} units needed)", money(currency, a.monthly_cost)),
                            None => money(currency, a.monthly_cost),
                        },
                    )
                }));
                row
            })
            .collect();
        out.push_str(&markdown_table(&header, &rows));
    }
    if !cost.break_evens.is_empty() {
        out.push_str("\nBreak-even volumes (Provisioned Throughput against per-token configs):\n\n");
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
        out.push_str(&format!("\n> **Unpriced.** {}\n", markdown_cell(warning)));
    }
    out.push_str("\nPrices used:\n\n");
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
                format!("`{}`", markdown_cell(&p.model)),
                per_million(p.input_per_million),
                per_million(p.output_per_million),
                if hourly.is_empty() {
                    "—".to_string()
                } else {
                    markdown_cell(&hourly.join(", "))
                },
                markdown_cell(p.source.as_deref().unwrap_or("")),
                markdown_cell(p.read_on.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    out.push_str(&markdown_table(
        &[
            "model",
            "input / 1M tokens",
            "output / 1M tokens",
            "per model unit-hour",
            "source",
            "read on",
        ],
        &rows,
    ));
    out.push_str(
        "\n![Monthly cost against volume, break-evens marked](cost-volume.svg)\n\n\
         ![Cost per 1,000 requests against quality, with the frontier](cost-quality.svg)\n",
    );
    out
}

pub(super) fn run_cost_section(data: &ReportData) -> String {
    let run = &data.run_cost;
    let currency = data.cost.as_ref().map_or("USD", |c| c.currency.as_str());
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
            format!("judge (`{}`)", markdown_cell(&judge.model)),
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
