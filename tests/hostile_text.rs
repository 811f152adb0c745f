//! Hostile text stays text: a suite whose description, config names and example ids, and a model whose replies, are
//! made of HTML and Markdown come out of `report.md` and `compare.md` as the same text, rendered by a real CommonMark
//! parser without one HTML node or link of theirs and with every table intact; and out of `report.html` and
//! `compare.html`, opened in headless Chromium, as text nodes, with no element or script of theirs. And a suite
//! name cannot lead a run outside `--results`.

#[path = "common/browser.rs"]
mod browser;
mod common;

use common::{command, edit, mini_suite, run_local};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

const DESCRIPTION: &str = "<script>alert('description')</script>\n# not a heading\n- not a list item\n\
                           | not | a table |\n|---|---|\n<img src=x onerror=alert('description')>";

/// The mini suite's configs, renamed.
const CONFIGS: [(&str, &str); 3] = [
    ("prompt", "<img src=x onerror=alert('config')>"),
    ("few-shot", "</td></tr></table>*few*"),
    ("fine-tuned", "[tuned](javascript:alert(1))_x_"),
];

const REPLY: &str = "<script>alert('reply')</script> | </td></tr></table> <img src=x onerror=alert('reply')> \
                     **bold** [link](javascript:alert(2)) &amp; `code`";

fn hostile_id(id: &str) -> String {
    format!("</td></tr></table><script>{id}</script>|")
}

/// What a rendered Markdown document holds, as a CommonMark parser (with GitHub's tables) reads it.
#[derive(Default)]
struct Rendered {
    /// Every HTML node: block or inline.
    html: Vec<String>,
    /// Link and image destinations.
    destinations: Vec<String>,
    /// Heading texts.
    headings: Vec<String>,
    /// List item texts.
    items: Vec<String>,
    /// Tables, each as rows of cell texts (the header first).
    tables: Vec<Vec<Vec<String>>>,
    /// All text, in order.
    text: String,
}

fn render(markdown: &str) -> Rendered {
    let mut rendered = Rendered::default();
    // The text of the block being read: a cell, a heading, a list item or a paragraph.
    let mut block = String::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) if html.as_ref() == "<br>" => block.push('\n'),
            Event::Html(html) | Event::InlineHtml(html) => rendered.html.push(html.to_string()),
            Event::Text(text) | Event::Code(text) => block.push_str(&text),
            Event::SoftBreak | Event::HardBreak => block.push('\n'),
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                rendered.destinations.push(dest_url.to_string())
            }
            Event::Start(Tag::Table(_)) => rendered.tables.push(Vec::new()),
            Event::Start(Tag::TableHead | Tag::TableRow) => {
                rendered.tables.last_mut().expect("a row in a table").push(Vec::new())
            }
            Event::End(end) => {
                match end {
                    TagEnd::TableCell => rendered
                        .tables
                        .last_mut()
                        .and_then(|t| t.last_mut())
                        .expect("a cell in a row")
                        .push(block.trim().to_string()),
                    TagEnd::Heading(_) => rendered.headings.push(block.clone()),
                    TagEnd::Item => rendered.items.push(block.clone()),
                    TagEnd::Paragraph => {}
                    _ => continue,
                }
                rendered.text.push_str(&std::mem::take(&mut block));
                rendered.text.push('\n');
            }
            _ => {}
        }
    }
    rendered
}

fn table<'r>(rendered: &'r Rendered, header: &[&str]) -> &'r Vec<Vec<String>> {
    rendered
        .tables
        .iter()
        .find(|t| t.first().is_some_and(|h| h == header))
        .unwrap_or_else(|| panic!("no table headed {header:?}"))
}

/// Everything a hostile value must not do to a rendered document, as a list of what it did.
fn problems(name: &str, rendered: &Rendered) -> Vec<String> {
    let mut problems: Vec<String> = rendered
        .html
        .iter()
        .map(|h| format!("{name}: HTML node {h:?}"))
        .collect();
    problems.extend(
        rendered
            .destinations
            .iter()
            .filter(|d| !(d.ends_with(".svg") || *d == "compare.html") || d.contains(':'))
            .map(|d| format!("{name}: link to {d:?}")),
    );
    for (what, blocks, text) in [
        ("heading", &rendered.headings, "not a heading"),
        ("list item", &rendered.items, "not a list item"),
    ] {
        problems.extend(
            blocks
                .iter()
                .filter(|b| b.contains(text))
                .map(|b| format!("{name}: {what} {b:?}")),
        );
    }
    problems.extend(
        rendered
            .tables
            .iter()
            .filter(|t| t.first().is_some_and(|h| h.iter().any(|c| c == "not")))
            .map(|_| format!("{name}: a table from the description")),
    );
    for table in &rendered.tables {
        let width = table[0].len();
        if let Some(row) = table.iter().find(|row| row.len() != width) {
            problems.push(format!(
                "{name}: a row of {} cells under {width} headers: {row:?}",
                row.len()
            ));
        }
    }
    problems
}

#[test]
fn hostile_names_ids_and_replies_render_as_text_in_the_markdown_and_html_reports() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    for (name, hostile) in CONFIGS {
        edit(
            &suite,
            &format!("  - name: {name}\n"),
            &format!("  - name: {}\n", yaml_string(hostile)),
        );
    }
    edit(
        &suite,
        "baseline: prompt",
        &format!("baseline: {}", yaml_string(CONFIGS[0].1)),
    );
    edit(
        &suite,
        "name: mini\n",
        &format!("name: mini\ndescription: {}\n", yaml_string(DESCRIPTION)),
    );
    let held_out = dir.path().join("held-out.jsonl");
    let mut ids = Vec::new();
    let mut lines = Vec::new();
    for line in std::fs::read_to_string(&held_out).unwrap().lines() {
        let mut example: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = hostile_id(example["id"].as_str().unwrap());
        example["id"] = id.clone().into();
        ids.push(id);
        lines.push(example.to_string());
    }
    std::fs::write(&held_out, lines.join("\n") + "\n").unwrap();

    // A run on the embedded endpoint, through the SDK; then the replies are made hostile and the reports rebuilt.
    let results = dir.path().join("results<img src=x onerror=alert('path')>");
    let run_dir = run_local(&suite, &results);
    let records_path = run_dir.join("records.jsonl");
    let records: Vec<String> = std::fs::read_to_string(&records_path)
        .unwrap()
        .lines()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            if record["output"].is_string() {
                record["output"] = REPLY.into();
            }
            record.to_string()
        })
        .collect();
    std::fs::write(&records_path, records.join("\n") + "\n").unwrap();
    let output = command().arg("report").arg(&run_dir).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let compared = dir.path().join("compared");
    let output = command()
        .arg("compare")
        .arg(&run_dir)
        .arg(&run_dir)
        .arg("--out")
        .arg(&compared)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let report_md = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    let compare_md = std::fs::read_to_string(compared.join("compare.md")).unwrap();
    let report = render(&report_md);
    let compare = render(&compare_md);
    let mut found = problems("report.md", &report);
    found.extend(problems("compare.md", &compare));
    assert!(found.is_empty(), "{}\n\n{report_md}\n\n{compare_md}", found.join("\n"));

    // Every hostile value is there, as the very text it was.
    let text = report.text.replace('\n', " ");
    assert!(
        text.contains(&DESCRIPTION.replace('\n', " ")),
        "the description is not text:\n{report_md}"
    );
    assert!(
        compare.text.contains("alert('path')"),
        "the run's path is not text:\n{compare_md}"
    );
    let mut configs: Vec<String> = CONFIGS.iter().map(|(_, hostile)| hostile.to_string()).collect();
    configs.sort();
    let lowest = table(&report, &["config", "example", "quality", "reply (start)"]);
    assert_eq!(lowest.len(), 1 + 3 * configs.len(), "{report_md}");
    for row in &lowest[1..] {
        assert!(configs.contains(&row[0]), "config cell {:?}", row[0]);
        assert!(ids.contains(&row[1]), "example cell {:?}", row[1]);
        assert_eq!(row[3], REPLY, "{report_md}");
    }
    let sorted_first_cells = |table: &Vec<Vec<String>>| {
        let mut cells: Vec<String> = table[1..]
            .iter()
            .map(|row| row[0].trim_end_matches(" (baseline)").to_string())
            .collect();
        cells.sort();
        cells
    };
    assert_eq!(sorted_first_cells(&report.tables[0]), configs, "{report_md}");
    assert!(report.tables[0][1..]
        .iter()
        .any(|row| row[0] == format!("{} (baseline)", CONFIGS[0].1)));
    assert_eq!(sorted_first_cells(&compare.tables[0]), configs, "{compare_md}");

    // The HTML pages, in a browser: the same values as text, and nothing of theirs became an element or ran.
    let Some(browser) = browser::Browser::find() else {
        return;
    };
    let dom = browser.dom(&run_dir.join("report.html"), "");
    dom.assert_rendered_without_errors();
    let texts = |css: &str| -> Vec<String> { dom.select(css).iter().map(|e| browser::text(*e)).collect() };
    assert_eq!(texts("h1"), ["mini"]);
    assert_eq!(texts("header.top .description"), [DESCRIPTION]);
    let mut shown: Vec<String> = texts("#configs-table tbody .config-name");
    shown.sort();
    assert_eq!(shown, configs);
    let mut cards = texts("article.example h3");
    cards.sort();
    let mut expected_ids = ids.clone();
    expected_ids.sort();
    assert_eq!(cards, expected_ids);
    assert!(texts("pre.text").iter().filter(|t| *t == REPLY).count() >= 3 * ids.len());
    assert_eq!(dom.select("img").len(), dom.select("#charts img").len());
    assert_eq!(dom.select("script").len(), 3);
    let dom = browser.dom(&compared.join("compare.html"), "");
    dom.assert_rendered_without_errors();
    assert!(browser::text(dom.one("header.top .facts")).contains("alert('path')"));
    let mut shown: Vec<String> = dom
        .select("#configs-table tbody .config-name")
        .iter()
        .map(|e| browser::text(*e))
        .collect();
    shown.sort();
    assert_eq!(shown, configs);
    assert_eq!(dom.select("img").len(), 0);
    assert_eq!(dom.select("script").len(), 3);
}

#[test]
fn a_suite_name_that_would_leave_the_results_folder_is_refused() {
    for name in ["..", ".", "'../escape'", "'a/b'", "'a\\b'", "\"tab\\there\""] {
        let dir = tempfile::tempdir().unwrap();
        let suite = mini_suite(dir.path());
        edit(&suite, "name: mini", &format!("name: {name}"));
        let results = dir.path().join("inner/results");
        let output = command()
            .arg("run")
            .arg(&suite)
            .args(["--local", "--results"])
            .arg(&results)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains("suite.yaml:2:7: name: must be one folder name"),
            "{name}: {stderr}"
        );
        let written: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !["suite.yaml", "rubric.yaml", "held-out.jsonl", "train.jsonl"].contains(&n.as_str()))
            .collect();
        assert!(written.is_empty(), "{name}: wrote {written:?}");
    }
}

/// `text` as a double-quoted YAML scalar.
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}
