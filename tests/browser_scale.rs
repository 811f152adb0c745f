//! `report.html` at scale: a synthetic run of 1,000 examples × 4 configs on the embedded endpoint keeps the page
//! within its stated size budget, and headless Chromium loads and filters it within the stated times; a run of more
//! examples than the page holds keeps the most telling of them.

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "common/pages.rs"]
mod pages;

use std::path::Path;

use browser::{Browser, Dom};
use common::command;
use pages::{cards, examples_csv, examples_in_order, matching, quality};

/// Examples and configs of the synthetic run that sizes the page.
const LARGE_EXAMPLES: usize = 1000;
const LARGE_CONFIGS: usize = 4;

/// The stated budget of `report.html` (docs/report-format.md): beyond the texts themselves (ids, inputs,
/// references, replies and judge reasons, as JSON strings) and the charts (base64 of the SVG files), at most this
/// much for the page's own script, style and summary…
const PAGE_BYTES: usize = 128 * 1024;
/// …this much per example…
const BYTES_PER_EXAMPLE: usize = 64;
/// …and this much per reply, plus [`BYTES_PER_CRITERION`] for each criterion of the rubric.
const BYTES_PER_REPLY: usize = 80;
const BYTES_PER_CRITERION: usize = 12;
/// The stated time at 1,000 examples × 4 configs, generous for a shared machine: the page is ready (parsed,
/// filtered, drawn) within this many milliseconds of navigation…
const READY_MS: f64 = 5000.0;
/// …and one filtering and redrawing takes at most this long.
const FILTER_MS: f64 = 1000.0;

/// The mini suite with a fourth config and `LARGE_EXAMPLES` held-out examples (its eight, each made distinct).
fn large_suite(dir: &Path) -> std::path::PathBuf {
    let suite = common::mini_suite(dir);
    common::edit(
        &suite,
        "baseline: prompt",
        "  - name: prompt-brief\n    kind: prompt\n    model: amazon.nova-lite-v1:0\n    system: You are a support \
         agent for Kestrel Home. Be brief.\n    inference:\n      max_tokens: 300\n      temperature: 0\nbaseline: prompt",
    );
    with_examples(dir, LARGE_EXAMPLES);
    suite
}

/// Rewrites the held-out file in `dir` to `count` examples: its own, repeated, each made distinct.
fn with_examples(dir: &Path, count: usize) {
    let held_out = dir.join("held-out.jsonl");
    let originals: Vec<serde_json::Value> = std::fs::read_to_string(&held_out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let lines: Vec<String> = (0..count)
        .map(|i| {
            let mut example = originals[i % originals.len()].clone();
            example["id"] = format!("ex-{i:04}").into();
            let text = &mut example["messages"][0]["content"][0]["text"];
            *text = format!("{}\n\nTicket {i:04}", text.as_str().unwrap()).into();
            example.to_string()
        })
        .collect();
    std::fs::write(&held_out, lines.join("\n") + "\n").unwrap();
}

/// Runs `suite` on the embedded endpoint at concurrency 64 as run `r` under `dir`'s `results`; returns the run folder.
fn run_at_concurrency_64(suite: &Path, dir: &Path) -> std::path::PathBuf {
    let output = command()
        .arg("run")
        .arg(suite)
        .args(["--local", "--run-id", "r", "--concurrency", "64", "--results"])
        .arg(dir.join("results"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    dir.join("results/mini/r")
}

/// The data `report.html` embeds for its script.
fn page_data(page: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(page).unwrap();
    let data_json = html
        .split("<script type=\"application/json\" id=\"data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("the page's data");
    serde_json::from_str(data_json).unwrap()
}

/// How many examples the page holds at most (`report::html::examples::PAGE_EXAMPLES`, docs/report-format.md).
const PAGE_EXAMPLES: usize = 5000;

#[test]
fn a_run_of_more_examples_than_the_page_holds_keeps_the_most_telling_in_order_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let suite = common::mini_suite(dir.path());
    let total = PAGE_EXAMPLES + 3;
    with_examples(dir.path(), total);
    let run_dir = run_at_concurrency_64(&suite, dir.path());
    let data = page_data(&run_dir.join("report.html"));
    assert_eq!(
        data["examples_shown"],
        serde_json::json!({"shown": PAGE_EXAMPLES, "total": total})
    );
    let shown: Vec<&str> = data["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(shown.len(), PAGE_EXAMPLES);
    assert!(shown.windows(2).all(|w| w[0] < w[1]), "the page keeps held-out order");

    // Every example is still in examples.csv; those left off the page differ least from the baseline.
    let rows = examples_csv(&run_dir);
    let ids = examples_in_order(&rows);
    assert_eq!(ids.len(), total);
    assert_eq!(rows.len(), total * 3);
    let spread = |id: &str| {
        let base = quality(&rows, id, "prompt").unwrap() * 100.0;
        ["few-shot", "fine-tuned"]
            .iter()
            .map(|c| (quality(&rows, id, c).unwrap() * 100.0 - base).abs())
            .fold(0.0, f64::max)
    };
    let least_shown = shown.iter().map(|id| spread(id)).fold(f64::INFINITY, f64::min);
    let left_off: Vec<&String> = ids.iter().filter(|id| !shown.contains(&id.as_str())).collect();
    assert_eq!(left_off.len(), 3);
    for id in left_off {
        assert!(
            spread(id) <= least_shown + 0.01,
            "{id} differs by {} points, more than a shown one",
            spread(id)
        );
    }
}

fn json_len(value: &serde_json::Value) -> usize {
    let json = serde_json::to_string(value).unwrap();
    json.len() + 5 * json.matches(['<', '>', '&']).count() + 3 * json.matches(['\u{2028}', '\u{2029}']).count()
}

#[test]
fn report_html_of_a_thousand_examples_by_four_configs_keeps_its_size_budget_and_filters_in_time() {
    let Some(browser) = Browser::find() else { return };
    let dir = tempfile::tempdir().unwrap();
    let suite = large_suite(dir.path());
    let run_dir = run_at_concurrency_64(&suite, dir.path());
    let page = run_dir.join("report.html");

    // The size budget, from the page's own embedded data.
    let html = std::fs::read_to_string(&page).unwrap();
    let data = page_data(&page);
    let examples = data["examples"].as_array().unwrap();
    let criteria = data["criteria"].as_array().unwrap().len();
    assert_eq!(examples.len(), LARGE_EXAMPLES);
    let replies: usize = examples.iter().map(|e| e["replies"].as_array().unwrap().len()).sum();
    assert_eq!(replies, LARGE_EXAMPLES * LARGE_CONFIGS);
    let mut texts = 0;
    for example in examples {
        texts += json_len(&example["id"]) + json_len(&example["input"]) + json_len(&example["reference"]);
        for reply in example["replies"].as_array().unwrap() {
            texts += json_len(&reply["text"]) + reply.get("reasons").map_or(0, json_len);
        }
    }
    let examples_len = json_len(&data["examples"]);
    let charts_len = json_len(&data["charts"]);
    let page_len = html.len() - examples_len - charts_len;
    assert!(page_len <= PAGE_BYTES, "the page itself is {page_len} bytes");
    let structure = examples_len - texts;
    let allowed = LARGE_EXAMPLES * BYTES_PER_EXAMPLE + replies * (BYTES_PER_REPLY + criteria * BYTES_PER_CRITERION);
    assert!(
        structure <= allowed,
        "{structure} bytes of structure around the texts, over the budget of {allowed}"
    );

    // Loaded, all examples counted, within the stated time.
    let dom = browser.dom(&page, "");
    dom.assert_rendered_without_errors();
    assert_eq!(dom.one("#example-count").value().attr("data-total"), Some("1000"));
    assert_eq!(matching(&dom), LARGE_EXAMPLES);
    assert_eq!(dom.select("article.example").len(), 20);
    let timing = |dom: &Dom, name: &str| -> f64 {
        dom.root_attribute(&format!("data-{name}-ms"))
            .unwrap_or_else(|| panic!("no data-{name}-ms"))
            .parse()
            .unwrap()
    };
    assert!(
        timing(&dom, "ready") <= READY_MS,
        "ready after {} ms",
        timing(&dom, "ready")
    );

    // Filtered: the count examples.csv gives, within the stated time; the search finds one ticket among 1,000.
    let rows = examples_csv(&run_dir);
    let lost = examples_in_order(&rows)
        .iter()
        .filter(
            |id| match (quality(&rows, id, "few-shot"), quality(&rows, id, "prompt")) {
                (Some(candidate), Some(baseline)) => candidate < baseline,
                _ => false,
            },
        )
        .count();
    let dom = browser.dom(&page, "config=few-shot&lost=1");
    dom.assert_rendered_without_errors();
    assert_eq!(matching(&dom), lost);
    assert!(
        timing(&dom, "filter") <= FILTER_MS,
        "filtered in {} ms",
        timing(&dom, "filter")
    );
    assert!(
        timing(&dom, "ready") <= READY_MS,
        "ready after {} ms",
        timing(&dom, "ready")
    );
    let dom = browser.dom(&page, "q=ticket+0420&order=delta");
    dom.assert_rendered_without_errors();
    assert_eq!(cards(&dom), ["ex-0420"]);
    assert!(
        timing(&dom, "filter") <= FILTER_MS,
        "filtered in {} ms",
        timing(&dom, "filter")
    );
}
