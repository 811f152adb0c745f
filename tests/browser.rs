//! `report.html` and `compare.html` in a real browser: headless Chromium opens the pages written from the example
//! run (with a reply made hostile), and the tests read the DOM after the page's script ran — every example counted
//! and shown with each config's (or each run's) reply side by side, the filters (taken from the URL's fragment)
//! giving the examples `examples.csv` says they should, sortable tables, word diffs that rebuild both texts, the
//! hostile reply shown as text and nothing of it run, no script error — and screenshots that are not blank.
//! (`browser_scale.rs` holds report.html to its size budget and stated times at 1,000 examples × 4 configs.)

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "common/pages.rs"]
mod pages;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use browser::{text, text_without, Browser, Dom};
use common::{command, example_suite, rewrite_records, run_local};
use pages::{cards, columns, examples_csv, examples_in_order, matching, quality, Row};

/// A reply that would run script, load an image, and break out of its element and a table, were it markup.
const HOSTILE_REPLY: &str = "<script>document.documentElement.setAttribute('data-injected','script')</script>\
    <img src=x onerror=\"document.documentElement.setAttribute('data-injected','img')\"></script>\
    </td></tr></table></pre></div> hostile-marker &amp; \u{2028}end";

/// The example suite's configs, in order, and its baseline.
const CONFIGS: [&str; 4] = ["prompt", "few-shot", "few-shot-cached", "fine-tuned"];

/// The example suite's run on the embedded endpoint, made once for the tests of this file (in Cargo's temporary
/// folder for them), with one few-shot reply made hostile and the reports rebuilt; and that reply's example.
fn example_run() -> &'static (PathBuf, String) {
    static RUN: OnceLock<(PathBuf, String)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-example-run");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let suite = example_suite(&dir, "");
        let run_dir = run_local(&suite, &dir.join("results"));
        let mut hostile_example = String::new();
        rewrite_records(&run_dir, |record| {
            if hostile_example.is_empty() && record["config"] == "few-shot" && record["output"].is_string() {
                hostile_example = record["example_id"].as_str().unwrap().to_string();
                record["output"] = HOSTILE_REPLY.into();
            }
        });
        let output = command().arg("report").arg(&run_dir).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        (run_dir, hostile_example)
    })
}

#[test]
fn report_html_shows_the_example_run_side_by_side_filters_it_and_keeps_a_hostile_reply_as_text() {
    let Some(browser) = Browser::find() else { return };
    let (run_dir, hostile_example) = example_run();
    let page = run_dir.join("report.html");
    let rows = examples_csv(run_dir);
    let ids = examples_in_order(&rows);
    assert_eq!(ids.len(), 66);

    // Unfiltered: every example counted, the first 20 shown, each with every config's replies side by side.
    let dom = browser.dom(&page, "");
    dom.assert_rendered_without_errors();
    let count = dom.one("#example-count");
    assert_eq!(count.value().attr("data-total"), Some("66"));
    assert_eq!(matching(&dom), 66);
    assert_eq!(cards(&dom), ids[..20].to_vec());
    let first = dom.select("article.example")[0];
    assert_eq!(columns(first), CONFIGS);
    for config in CONFIGS {
        let reply = dom.one(&format!(
            "article.example[data-example-id=\"{}\"] .reply-column[data-config=\"{config}\"] pre.text",
            ids[0]
        ));
        let expected = rows.iter().find(|r| r.example == ids[0] && r.config == config).unwrap();
        assert_eq!(text(reply), expected.output, "{config}");
    }
    let sections: Vec<String> = dom
        .select("#app > section")
        .iter()
        .map(|s| s.value().id().unwrap().to_string())
        .collect();
    assert_eq!(
        sections,
        ["verdict", "charts", "configs", "comparisons", "examples", "details"]
    );
    // The verdict, one sentence per config against the baseline, from report.json.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap()).unwrap();
    let comparisons: Vec<&serde_json::Value> = report["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["family"] == "baseline")
        .collect();
    assert_eq!(dom.select("#verdict ul.verdicts li").len(), comparisons.len());
    for comparison in comparisons {
        let candidate = comparison["candidate"].as_str().unwrap();
        let sentence = text(dom.one(&format!("#verdict li[data-candidate=\"{candidate}\"]")));
        let verdict = match comparison["verdict"].as_str().unwrap() {
            "significant_within_margin" => "significant but within margin".to_string(),
            other => other.replace('_', " "),
        };
        let wins = comparison["paired"]["wins"].as_u64().unwrap();
        assert!(sentence.starts_with(&format!("{candidate} {verdict} ")), "{sentence}");
        assert!(sentence.contains(&format!("; {wins} win")), "{sentence}");
    }
    let charts: Vec<&str> = dom
        .select("#charts img")
        .iter()
        .map(|i| i.value().attr("src").unwrap())
        .collect();
    assert_eq!(charts.len(), 4);
    assert!(charts.iter().all(|src| src.starts_with("data:image/svg+xml;base64,")));

    // A config and "lost to the baseline": exactly the examples where few-shot scored below prompt.
    let lost: Vec<String> = ids
        .iter()
        .filter(
            |id| match (quality(&rows, id, "few-shot"), quality(&rows, id, "prompt")) {
                (Some(candidate), Some(baseline)) => candidate < baseline,
                _ => false,
            },
        )
        .cloned()
        .collect();
    assert!(!lost.is_empty() && lost.len() < 20, "{lost:?}");
    let dom = browser.dom(&page, "config=few-shot&lost=1");
    dom.assert_rendered_without_errors();
    assert_eq!(matching(&dom), lost.len());
    assert_eq!(cards(&dom), lost);
    for card in dom.select("article.example") {
        assert_eq!(columns(card), ["prompt", "few-shot"]);
    }
    assert_eq!(
        dom.select(".reply-column[data-config=\"few-shot\"] .reply-head .delta.lost")
            .len(),
        lost.len()
    );
    assert_eq!(
        dom.one("#filter-config option[selected]").value().attr("value"),
        Some("few-shot")
    );

    // A failing criterion of one config: the examples where fine-tuned did not score full marks on right_fix.
    let failing: Vec<String> = ids
        .iter()
        .filter(|id| {
            rows.iter()
                .find(|r| &&r.example == id && r.config == "fine-tuned")
                .and_then(|r| r.criteria["right_fix"])
                .is_some_and(|score| score < 1.0)
        })
        .cloned()
        .collect();
    assert!(!failing.is_empty());
    let dom = browser.dom(&page, "config=fine-tuned&fail=right_fix");
    dom.assert_rendered_without_errors();
    assert_eq!(matching(&dom), failing.len());
    assert_eq!(cards(&dom), failing[..failing.len().min(20)].to_vec());

    // The search finds the hostile reply, which is on the page as the very text it is, and ran nothing.
    let dom = browser.dom(&page, "q=HOSTILE-marker");
    dom.assert_rendered_without_errors();
    assert_eq!(cards(&dom), std::slice::from_ref(hostile_example));
    let reply = dom.one(".reply-column[data-config=\"few-shot\"] pre.text");
    assert_eq!(text(reply), HOSTILE_REPLY);
    assert_eq!(dom.root_attribute("data-injected"), None);
    assert_eq!(dom.select("img").len(), dom.select("#charts img").len());
    assert_eq!(dom.select("script").len(), 3, "only the page's own scripts");
    assert_eq!(dom.select("table").len(), dom.select("#app table").len());
    let dom = browser.dom(&page, "q=no+such+words+anywhere");
    assert_eq!(matching(&dom), 0);
    assert!(text(dom.one("#example-count")).starts_with("No example matches"));

    // Word diffs against the reference: each rebuilds the reply without its deletions and the reference without its
    // insertions.
    let dom = browser.dom(&page, "diff=1&config=prompt");
    dom.assert_rendered_without_errors();
    let card = dom.select("article.example")[0];
    let diff_selector = scraper::Selector::parse("pre.diff").unwrap();
    let reference_selector = scraper::Selector::parse(".reference pre.text").unwrap();
    let diff = card.select(&diff_selector).next().expect("a word diff");
    let reference = text(card.select(&reference_selector).next().unwrap());
    let reply = rows
        .iter()
        .find(|r| r.example == ids[0] && r.config == "prompt")
        .unwrap();
    assert_eq!(text_without(diff, "del"), reply.output);
    assert_eq!(text_without(diff, "ins"), reference);
    assert!(diff.value().attr("data-added").unwrap().parse::<usize>().unwrap() > 0);
    assert!(diff.value().attr("data-removed").unwrap().parse::<usize>().unwrap() > 0);

    // Sortable tables, their order kept in the fragment: configs by quality, highest first.
    let dom = browser.dom(&page, "configs-table=quality+%28points%29%2Cdesc&page=2");
    dom.assert_rendered_without_errors();
    let order: Vec<String> = dom
        .select("#configs-table tbody tr td:first-child .config-name")
        .iter()
        .map(|c| text(*c))
        .collect();
    assert_eq!(order, ["fine-tuned", "few-shot", "few-shot-cached", "prompt"]);
    assert_eq!(
        dom.one("#configs-table th[aria-sort]").value().attr("aria-sort"),
        Some("descending")
    );
    assert_eq!(
        cards(&dom),
        ids[20..40].to_vec(),
        "the page number is in the fragment too"
    );

    // What a reviewer sees is not blank.
    browser.assert_screenshot_not_blank(&page);
}

/// A reply that misses nearly every criterion of the example rubric.
const GENERIC_REPLY: &str = "Hello, please restart the device.";

/// The reply of `example` under `config` in `rows`.
fn reply<'r>(rows: &'r [Row], example: &str, config: &str) -> &'r str {
    &rows
        .iter()
        .find(|r| r.example == example && r.config == config)
        .unwrap()
        .output
}

#[test]
fn compare_html_lists_what_regressed_and_improved_with_both_runs_replies_side_by_side() {
    let Some(browser) = Browser::find() else { return };
    let (base_dir, _) = example_run();
    let base_rows = examples_csv(base_dir);
    let ids = examples_in_order(&base_rows);

    // A second run: the same records but for a few replies, some worse, one better, one hostile.
    let dir = tempfile::tempdir().unwrap();
    let new_dir = dir.path().join("new");
    std::fs::create_dir(&new_dir).unwrap();
    for entry in std::fs::read_dir(base_dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), new_dir.join(entry.file_name())).unwrap();
    }
    let better = reply(&base_rows, &ids[5], "fine-tuned").to_string();
    rewrite_records(&new_dir, |record| {
        let (id, config) = (
            record["example_id"].as_str().unwrap(),
            record["config"].as_str().unwrap(),
        );
        let replacement = match config {
            "fine-tuned" if ids[1..4].iter().any(|i| i == id) => GENERIC_REPLY,
            "prompt" if id == ids[5] => &better,
            "few-shot" if id == ids[6] => HOSTILE_REPLY,
            _ => return,
        };
        record["output"] = replacement.into();
    });
    let output = command().arg("report").arg(&new_dir).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let out = dir.path().join("compared");
    let output = command()
        .arg("compare")
        .arg(base_dir)
        .arg(&new_dir)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let compare_md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(compare_md.contains("[compare.html](compare.html)"), "{compare_md}");
    let page = out.join("compare.html");

    // What changed, from the two runs' examples.csv: per config (in name order, as compared), the drops from the
    // largest, then the gains from the largest.
    let new_rows = examples_csv(&new_dir);
    let mut configs = CONFIGS.to_vec();
    configs.sort();
    let mut expected: Vec<(String, String, f64)> = Vec::new();
    for config in &configs {
        let mut changed: Vec<(String, String, f64)> = ids
            .iter()
            .filter_map(|id| {
                let delta = 100.0 * (quality(&new_rows, id, config)? - quality(&base_rows, id, config)?);
                (delta.abs() > 1e-9).then(|| (config.to_string(), id.clone(), delta))
            })
            .collect();
        changed.sort_by(|a, b| {
            (a.2 > 0.0)
                .cmp(&(b.2 > 0.0))
                .then(a.2.abs().total_cmp(&b.2.abs()).reverse())
                .then(a.1.cmp(&b.1))
        });
        expected.extend(changed);
    }
    let planted = |config: &str, id: &str, drop: bool| {
        expected
            .iter()
            .any(|(c, i, d)| c == config && i == id && (*d < 0.0) == drop)
    };
    assert!(
        planted("fine-tuned", &ids[1], true) && planted("prompt", &ids[5], false) && planted("few-shot", &ids[6], true),
        "{expected:?}"
    );
    let card_keys = |dom: &Dom| -> Vec<(String, String)> {
        dom.select("article.example")
            .iter()
            .map(|c| {
                (
                    c.value().attr("data-config").unwrap().to_string(),
                    c.value().attr("data-example-id").unwrap().to_string(),
                )
            })
            .collect()
    };
    let keys = |filter: &dyn Fn(&(String, String, f64)) -> bool| -> Vec<(String, String)> {
        expected
            .iter()
            .filter(|e| filter(e))
            .map(|(c, i, _)| (c.clone(), i.clone()))
            .collect()
    };

    let dom = browser.dom(&page, "");
    dom.assert_rendered_without_errors();
    assert_eq!(matching(&dom), expected.len());
    assert_eq!(card_keys(&dom), keys(&|_| true));
    let verdicts: Vec<String> = dom
        .select("#configs-table tbody tr td:first-child")
        .iter()
        .map(|c| text(*c))
        .collect();
    assert_eq!(verdicts, configs);
    // Both runs' replies side by side.
    let card = format!(
        "article.example[data-config=\"fine-tuned\"][data-example-id=\"{}\"]",
        ids[1]
    );
    assert_eq!(
        text(dom.one(&format!("{card} .reply-column[data-run=\"base\"] pre.text"))),
        reply(&base_rows, &ids[1], "fine-tuned")
    );
    assert_eq!(
        text(dom.one(&format!("{card} .reply-column[data-run=\"new\"] pre.text"))),
        GENERIC_REPLY
    );

    let dom = browser.dom(&page, "change=regressed");
    dom.assert_rendered_without_errors();
    assert_eq!(card_keys(&dom), keys(&|e| e.2 < 0.0));
    let dom = browser.dom(&page, "config=prompt&change=improved");
    dom.assert_rendered_without_errors();
    assert_eq!(card_keys(&dom), keys(&|e| e.0 == "prompt" && e.2 > 0.0));
    assert!(card_keys(&dom).contains(&("prompt".to_string(), ids[5].clone())));

    // The hostile reply is text, and ran nothing.
    let dom = browser.dom(&page, "q=hostile-marker");
    dom.assert_rendered_without_errors();
    assert_eq!(card_keys(&dom), [("few-shot".to_string(), ids[6].clone())]);
    assert_eq!(text(dom.one(".reply-column[data-run=\"new\"] pre.text")), HOSTILE_REPLY);
    assert_eq!(dom.root_attribute("data-injected"), None);
    assert_eq!(dom.select("img").len(), 0);
    assert_eq!(dom.select("script").len(), 3, "only the page's own scripts");

    // The word diff of the new reply against the base run's rebuilds both.
    let dom = browser.dom(&page, &format!("diff=1&config=fine-tuned&q={}", ids[1]));
    dom.assert_rendered_without_errors();
    let diff = dom.one(".reply-column[data-run=\"new\"] pre.diff");
    assert_eq!(text_without(diff, "del"), GENERIC_REPLY);
    assert_eq!(text_without(diff, "ins"), reply(&base_rows, &ids[1], "fine-tuned"));

    browser.assert_screenshot_not_blank(&page);
}

#[test]
fn report_html_labels_its_intervals_at_the_runs_level() {
    let Some(browser) = Browser::find() else { return };
    let (run_dir, _) = example_run();
    // The same run reported at α = 0.1 (as `run --alpha 0.1` records it): every interval is 90%.
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-alpha-run/support-tone/r");
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(run_dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
    }
    let mut metadata = common::run_json(&copy);
    metadata["launch"]["alpha"] = 0.1.into();
    std::fs::write(copy.join("run.json"), metadata.to_string()).unwrap();
    let output = command().arg("report").arg(&copy).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let dom = browser.dom(&copy.join("report.html"), "");
    dom.assert_rendered_without_errors();
    let headers: Vec<String> = dom
        .select("#configs-table th, #comparisons-table th")
        .iter()
        .map(|c| text(*c))
        .collect();
    assert!(headers.iter().any(|h| h.starts_with("90% CI (t)")), "{headers:?}");
    assert!(!headers.iter().any(|h| h.contains("95%")), "{headers:?}");
    let verdicts: Vec<String> = dom.select("ul.verdicts li").iter().map(|c| text(*c)).collect();
    assert!(
        !verdicts.is_empty() && verdicts.iter().all(|v| v.contains("(90% CI ")),
        "{verdicts:?}"
    );
}
