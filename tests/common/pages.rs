//! What the browser tests read from a run and from its pages: `examples.csv`'s rows, and the examples a page shows.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use crate::browser::Dom;

/// One row of `examples.csv`.
pub struct Row {
    pub example: String,
    pub config: String,
    pub quality: Option<f64>,
    pub criteria: BTreeMap<String, Option<f64>>,
    pub output: String,
}

/// The rows of a run's `examples.csv`.
pub fn examples_csv(run_dir: &Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(run_dir.join("examples.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            let field = |name: &str| record.get(headers.iter().position(|h| h == name).unwrap()).unwrap();
            let number = |text: &str| (!text.is_empty()).then(|| text.parse::<f64>().unwrap());
            Row {
                example: field("example_id").to_string(),
                config: field("config").to_string(),
                quality: number(field("quality")),
                criteria: headers
                    .iter()
                    .zip(record.iter())
                    .filter_map(|(h, v)| Some((h.strip_prefix("criterion:")?.to_string(), number(v))))
                    .collect(),
                output: field("output").to_string(),
            }
        })
        .collect()
}

/// The quality of `example` under `config`.
pub fn quality(rows: &[Row], example: &str, config: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.example == example && r.config == config)
        .and_then(|r| r.quality)
}

/// The example ids in the order the page shows them (held-out order).
pub fn examples_in_order(rows: &[Row]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for row in rows {
        if !ids.contains(&row.example) {
            ids.push(row.example.clone());
        }
    }
    ids
}

/// How many examples the page says match its filters.
pub fn matching(dom: &Dom) -> usize {
    let count = dom.one("#example-count");
    count.value().attr("data-matching").unwrap().parse().unwrap()
}

/// The ids of the examples the page shows, in order.
pub fn cards(dom: &Dom) -> Vec<String> {
    dom.select("article.example")
        .iter()
        .map(|card| card.value().attr("data-example-id").unwrap().to_string())
        .collect()
}

/// The configs of an example card's reply columns, in order.
pub fn columns(card: scraper::ElementRef<'_>) -> Vec<String> {
    let selector = scraper::Selector::parse(".reply-column").unwrap();
    card.select(&selector)
        .map(|c| c.value().attr("data-config").unwrap().to_string())
        .collect()
}
