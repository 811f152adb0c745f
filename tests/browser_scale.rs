//! `report.html` at scale: a synthetic run of 1,000 examples × 4 configs on the embedded endpoint keeps the page
//! within its stated size budget, and headless Chromium loads and filters it within the stated times.

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
    let held_out = dir.join("held-out.jsonl");
    let originals: Vec<serde_json::Value> = std::fs::read_to_string(&held_out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let lines: Vec<String> = (0..LARGE_EXAMPLES)
        .map(|i| {
            let mut example = originals[i % originals.len()].clone();
            example["id"] = format!("ex-{i:04}").into();
            let text = &mut example["messages"][0]["content"][0]["text"];
            *text = format!("{}\n\nTicket {i:04}", text.as_str().unwrap()).into();
            example.to_string()
        })
        .collect();
    std::fs::write(&held_out, lines.join("\n") + "\n").unwrap();
    suite
}

/// Length of `value` as the page embeds it: compact JSON with `<`, `>` and `&` as six-byte `\u` escapes, and
/// U+2028 and U+2029 (three bytes in UTF-8) too.
fn json_len(value: &serde_json::Value) -> usize {
    let json = serde_json::to_string(value).unwrap();
    json.len() + 5 * json.matches(['<', '>', '&']).count() + 3 * json.matches(['\u{2028}', '\u{2029}']).count()
}

#[test]
fn report_html_of_a_thousand_examples_by_four_configs_keeps_its_size_budget_and_filters_in_time() {
    let Some(browser) = Browser::find() else { return };
    let dir = tempfile::tempdir().unwrap();
    let suite = large_suite(dir.path());
    let output = command()
        .arg("run")
        .arg(&suite)
        .args(["--local", "--run-id", "r", "--concurrency", "64", "--results"])
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let run_dir = dir.path().join("results/mini/r");
    let page = run_dir.join("report.html");

    // The size budget, from the page's own embedded data.
    let html = std::fs::read_to_string(&page).unwrap();
    let data_json = html
        .split("<script type=\"application/json\" id=\"data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("the page's data");
    let data: serde_json::Value = serde_json::from_str(data_json).unwrap();
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
