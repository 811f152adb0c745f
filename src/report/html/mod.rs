//! `report.html`: one self-contained page a reviewer can browse — the verdict, the charts, sortable tables, and every
//! example with each config's reply side by side.
//!
//! As in hyperfine's HTML export, the template, style and scripts are real files beside this one, compiled in with
//! `include_str!`; the data goes in as one JSON value. Nothing is loaded from anywhere: the charts are `data:` images,
//! and a Content-Security-Policy allows only our own script and style (by hash) and `data:` images, so the page
//! cannot reach the network and text that slipped into markup still could not run. Text from the suite, the data
//! and the models is never markup: it sits in the JSON with `<`, `>`, `&`, U+2028 and U+2029 escaped, and the script
//! puts it on the page with `textContent` only.

mod examples;

use std::io::Write;

use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ReportData;
pub(crate) use examples::{ExampleViews, ReplyView, Scratch};

const TEMPLATE: &str = include_str!("page.html");
const STYLE: &str = include_str!("style.css");
/// Installed first: records script errors on `<html data-script-errors>` so a test (or a reader) can see them.
const ERRORS_SCRIPT: &str = include_str!("errors.js");
/// Helpers both pages use: building elements, sortable tables, word diffs, the URL fragment's state.
const COMMON_SCRIPT: &str = include_str!("common.js");
const REPORT_SCRIPT: &str = include_str!("report.js");

/// The file the report page is written to.
pub const REPORT_FILE: &str = "report.html";

/// A chart embedded in the page, as a `data:` image (an `<img>` cannot run script, whatever the SVG holds).
#[derive(Debug, Serialize)]
pub(crate) struct Chart {
    /// The chart's file beside the page.
    pub file: String,
    /// `data:image/svg+xml;base64,…`.
    pub src: String,
}

impl Chart {
    /// The chart in `file`, from its bytes.
    pub(crate) fn svg(file: &str, bytes: &[u8]) -> Chart {
        Chart {
            file: file.to_string(),
            src: format!(
                "data:image/svg+xml;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            ),
        }
    }
}

/// A rubric criterion as the page shows it.
#[derive(Debug, Serialize)]
struct CriterionView<'a> {
    id: &'a str,
    description: &'a str,
}

/// Everything `report.html` shows, as one JSON value, but for its last member, `examples` (every held-out example
/// with its replies), which is streamed in after it (see [`examples::ExampleViews`]).
#[derive(Serialize)]
struct ReportPage<'a> {
    /// `report.json`, as written beside the page: the verdict, the tables and anything added to it later.
    report: serde_json::Value,
    /// The rubric's criteria in order, with their descriptions.
    criteria: Vec<CriterionView<'a>>,
    /// The charts written beside the page.
    charts: Vec<Chart>,
    /// When the page holds only some of the examples (a large run): how many, of how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    examples_shown: Option<ExamplesShown>,
    /// Left empty here: the examples go in from their scratch file.
    examples: [(); 0],
}

/// How many of the held-out examples the page holds, when not all (see [`examples::PAGE_EXAMPLES`]).
#[derive(Serialize)]
struct ExamplesShown {
    shown: usize,
    total: usize,
}

/// Writes `report.html` to `out`, from the report's data, the files written with it (`report.json` and the SVG
/// charts) and the examples' list the scoring pass wrote.
pub(crate) fn write_report_html(
    out: &mut impl Write,
    data: &ReportData,
    files: &[(&str, Vec<u8>)],
    examples: &mut Scratch,
) -> std::io::Result<()> {
    let report_json = files
        .iter()
        .find(|(name, _)| *name == "report.json")
        .ok_or_else(|| std::io::Error::other("report.html needs report.json, which was not built"))?;
    let page = ReportPage {
        report: serde_json::from_slice(&report_json.1).map_err(std::io::Error::other)?,
        criteria: data
            .suite
            .rubric
            .criteria
            .iter()
            .map(|c| CriterionView {
                id: &c.id,
                description: &c.description,
            })
            .collect(),
        charts: files
            .iter()
            .filter(|(name, _)| name.ends_with(".svg"))
            .map(|(name, bytes)| Chart::svg(name, bytes))
            .collect(),
        examples_shown: examples.shown.map(|(shown, total)| ExamplesShown { shown, total }),
        examples: [],
    };
    let json = serde_json::to_string(&page).map_err(std::io::Error::other)?;
    let before_examples = json
        .strip_suffix("[]}")
        .ok_or_else(|| std::io::Error::other("the page's data does not end with its examples"))?;
    let (head, tail) = page_parts("Evaluation report", REPORT_SCRIPT);
    out.write_all(head.as_bytes())?;
    out.write_all(script_json(before_examples).as_bytes())?;
    examples.copy_to(out)?;
    out.write_all(b"}")?;
    out.write_all(tail.as_bytes())
}

/// The page around its data: what goes before the JSON the script reads, and what after. The data goes in last
/// and between the two, so no placeholder can be looked for inside it.
pub(crate) fn page_parts(title: &str, script: &str) -> (String, String) {
    let script = format!("{COMMON_SCRIPT}\n{script}");
    let csp = format!(
        "default-src 'none'; script-src {} {}; style-src {}; img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(ERRORS_SCRIPT),
        csp_hash(&script),
        csp_hash(STYLE)
    );
    let page = TEMPLATE
        .replace("{{CSP}}", &csp)
        .replace("{{TITLE}}", title)
        .replace("{{STYLE}}", STYLE)
        .replace("{{ERRORS_SCRIPT}}", ERRORS_SCRIPT)
        .replace("{{SCRIPT}}", &script);
    let (head, tail) = page.split_once("{{DATA}}").unwrap_or((page.as_str(), ""));
    (head.to_string(), tail.to_string())
}

/// `value` to `decimals` places: the pages show one or two, and shorter numbers keep the files small.
pub(crate) fn rounded(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// A CSP source allowing exactly this inline script or style.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// JSON safe inside `<script type="application/json">`: `<`, `>` and `&` (so nothing can close the element or open
/// a comment) and U+2028/U+2029 are written as `\u` escapes. Outside strings JSON has none of these characters, so
/// every replacement lands inside a string, where the escape means the same character.
pub(crate) fn script_json(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    let mut copied = 0;
    // Byte by byte, copying the runs between escapes whole: every byte looked for is ASCII or the lead byte of
    // U+2028/U+2029 (E2 80 A8/A9), so each cut falls between characters.
    for (i, &byte) in bytes.iter().enumerate() {
        let (escape, width) = match byte {
            b'<' => ("\\u003c", 1),
            b'>' => ("\\u003e", 1),
            b'&' => ("\\u0026", 1),
            0xE2 if bytes.get(i + 1) == Some(&0x80) && bytes.get(i + 2) == Some(&0xA8) => ("\\u2028", 3),
            0xE2 if bytes.get(i + 1) == Some(&0x80) && bytes.get(i + 2) == Some(&0xA9) => ("\\u2029", 3),
            _ => continue,
        };
        out.push_str(&json[copied..i]);
        out.push_str(escape);
        copied = i + width;
    }
    out.push_str(&json[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_json_cannot_close_its_script_element_and_reads_back_the_same() {
        let hostile = "</script><script>alert(1)</script><!-- & \u{2028}\u{2029} <img src=x onerror=alert(2)>";
        let json = serde_json::to_string(&serde_json::json!({ "reply": hostile })).unwrap();
        let embedded = script_json(&json);
        for forbidden in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!embedded.contains(forbidden), "{forbidden:?} in {embedded}");
        }
        let back: serde_json::Value = serde_json::from_str(&embedded).unwrap();
        assert_eq!(back["reply"], hostile);
    }

    #[test]
    fn the_page_allows_only_its_own_scripts_and_style() {
        let (head, tail) = page_parts("t", "console.log(1);");
        let html = format!("{head}{}{tail}", script_json("{\"x\":\"</script>\"}"));
        let csp = html
            .split("Content-Security-Policy\" content=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(html.matches("'sha256-").count(), 3, "{csp}");
        assert!(html.contains("{\"x\":\"\\u003c/script\\u003e\"}"));
        // Our own files must not end the elements they are put in.
        for (name, text) in [
            ("style.css", STYLE),
            ("errors.js", ERRORS_SCRIPT),
            ("common.js", COMMON_SCRIPT),
            ("report.js", REPORT_SCRIPT),
        ] {
            let lower = text.to_ascii_lowercase();
            assert!(
                !lower.contains("</script") && !lower.contains("</style") && !lower.contains("<!--"),
                "{name}"
            );
            assert!(!text.contains("{{"), "{name} holds a placeholder");
        }
    }
}
