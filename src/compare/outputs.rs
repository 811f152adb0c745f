//! The comparison's outputs for people and CI: `compare.md`, `compare.csv`, `compare.json`, JUnit XML.

use std::path::{Path, PathBuf};

use super::{Change, Comparison, RunSide};
use crate::report;

fn number(value: Option<f64>, decimals: usize) -> String {
    report::table::number(value, decimals)
}

/// `compare.md`: the verdict per config first.
pub fn compare_md(c: &Comparison) -> String {
    use report::table::{markdown_cell, markdown_code, markdown_table};
    let mut out = format!(
        "# Comparison\n\nBase run {} → new run {}. A config **regressed** when its mean quality fell by more than \
         {} quality points with a Holm-adjusted paired t-test p below {} (the exact sign test's when every change is \
         the same number), each example compared on the criteria scored in both runs.\n\n",
        markdown_code(&c.base_run.display().to_string()),
        markdown_code(&c.new_run.display().to_string()),
        c.max_drop,
        c.alpha
    );
    let regressed: Vec<&str> = c
        .configs
        .iter()
        .filter(|x| x.change == Change::Regressed)
        .map(|x| x.config.as_str())
        .collect();
    out.push_str(&if regressed.is_empty() {
        "**Nothing regressed.**\n".to_string()
    } else {
        format!(
            "**Regressed: {}.**\n",
            regressed
                .iter()
                .map(|r| markdown_cell(r))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    out.push_str(&format!(
        "\nEvery example that regressed or improved, with both runs' replies side by side: [{0}]({0}).\n",
        crate::compare_html::COMPARE_FILE
    ));
    if !c.warnings.is_empty() {
        out.push_str("\nWarnings:\n\n");
        for w in &c.warnings {
            out.push_str(&format!("- {}\n", markdown_cell(w)));
        }
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = c
        .configs
        .iter()
        .map(|x| {
            let p = x.paired.as_ref();
            vec![
                markdown_cell(&x.config),
                x.change.label().to_string(),
                x.pairs.to_string(),
                number(x.base_mean, 1),
                number(x.new_mean, 1),
                p.and_then(|p| p.mean_difference)
                    .map_or_else(String::new, |d| format!("{d:+.1}")),
                p.and_then(|p| p.t_test.confidence_interval)
                    .map_or_else(String::new, |i| format!("{:+.1} to {:+.1}", i.lower, i.upper)),
                x.p_holm.map_or_else(String::new, |p| {
                    if p < 0.001 {
                        "< 0.001".into()
                    } else {
                        format!("{p:.3}")
                    }
                }),
                match (x.pass_rate_base, x.pass_rate_new) {
                    (Some(a), Some(b)) => format!("{:.1} → {:.1}", a * 100.0, b * 100.0),
                    _ => String::new(),
                },
                match (x.cost_base, x.cost_new) {
                    (Some(a), Some(b)) => format!("{a:.4} → {b:.4}"),
                    _ => String::new(),
                },
                markdown_cell(&x.reason),
            ]
        })
        .collect();
    out.push_str(&markdown_table(
        &[
            "config",
            "verdict",
            "pairs",
            "base",
            "new",
            "Δ points",
            &format!("{}% CI", report::level_percent(1.0 - c.alpha)),
            "p (Holm)",
            "pass rate %",
            "cost / 1,000 req",
            "why",
        ],
        &rows,
    ));
    out
}

/// `compare.csv`: one row per config.
pub fn compare_csv(c: &Comparison) -> std::io::Result<Vec<u8>> {
    use report::table::csv_text;
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "config",
        "change",
        "pairs",
        "base_only",
        "new_only",
        "base_mean",
        "new_mean",
        "mean_change",
        "ci_low",
        "ci_high",
        "ci_bootstrap_low",
        "ci_bootstrap_high",
        "p_t",
        "p_holm",
        "pass_rate_base",
        "pass_rate_new",
        "cost_per_1000_base",
        "cost_per_1000_new",
        "tokens_per_request_base",
        "tokens_per_request_new",
        "reason",
        "pairs_on_common_criteria",
        "pairs_excluded",
        "verdict_test",
        "left_out_of_holm",
        "confidence_level",
    ])?;
    for x in &c.configs {
        let p = x.paired.as_ref();
        writer.write_record([
            csv_text(&x.config),
            x.change.label().to_string(),
            x.pairs.to_string(),
            x.base_only.to_string(),
            x.new_only.to_string(),
            number(x.base_mean, 4),
            number(x.new_mean, 4),
            number(p.and_then(|p| p.mean_difference), 4),
            number(p.and_then(|p| p.t_test.confidence_interval).map(|i| i.lower), 4),
            number(p.and_then(|p| p.t_test.confidence_interval).map(|i| i.upper), 4),
            number(x.bootstrap.map(|i| i.lower), 4),
            number(x.bootstrap.map(|i| i.upper), 4),
            p.and_then(|p| p.t_test.p_value)
                .map_or_else(String::new, |v| format!("{v:e}")),
            x.p_holm.map_or_else(String::new, |v| format!("{v:e}")),
            number(x.pass_rate_base, 4),
            number(x.pass_rate_new, 4),
            number(x.cost_base, 6),
            number(x.cost_new, 6),
            number(x.tokens_base, 1),
            number(x.tokens_new, 1),
            csv_text(&x.reason),
            x.pairs_on_common_criteria.to_string(),
            x.pairs_excluded.to_string(),
            x.verdict_test.as_ref().map_or_else(String::new, report::snake_case),
            x.left_out_of_holm.as_ref().map_or_else(String::new, report::snake_case),
            (1.0 - c.alpha).to_string(),
        ])?;
    }
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// `text` as XML character data or an attribute value: markup characters escaped, and characters XML 1.0 does not
/// allow at all (control characters other than tab, newline and carriage return; U+FFFE, U+FFFF) replaced by U+FFFD,
/// so a hostile config name or reason cannot make the JUnit file unreadable to a CI server.
fn xml(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: one test case per config; a regression is a failure carrying the numbers.
pub fn junit_xml(c: &Comparison, suite: &str) -> String {
    let failures = c.configs.iter().filter(|x| x.change == Change::Regressed).count();
    let skipped = c.configs.iter().filter(|x| x.change == Change::NotCompared).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"bedrock-eval compare\" tests=\"{n}\" \
         failures=\"{failures}\">\n  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" \
         skipped=\"{skipped}\">\n",
        xml(suite),
        n = c.configs.len()
    );
    for x in &c.configs {
        out.push_str(&format!(
            "    <testcase classname=\"bedrock-eval.{}\" name=\"{}\"",
            xml(suite),
            xml(&x.config)
        ));
        match x.change {
            Change::Regressed => out.push_str(&format!(
                ">\n      <failure message=\"{} regressed: {}\" type=\"regression\">{}</failure>\n    </testcase>\n",
                xml(&x.config),
                xml(&x.reason),
                xml(&format!(
                    "base mean {} → new mean {} quality points over {} paired examples; adjusted p {}; tolerance {} points",
                    number(x.base_mean, 2),
                    number(x.new_mean, 2),
                    x.pairs,
                    x.p_holm.map_or("n/a".to_string(), |p| format!("{p:e}")),
                    c.max_drop
                ))
            )),
            Change::NotCompared => out.push_str(&format!(
                ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                xml(&x.reason)
            )),
            _ => out.push_str(&format!(">\n      <system-out>{}: {}</system-out>\n    </testcase>\n", x.change.label(), xml(&x.reason))),
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Writes `compare.md`, `compare.csv`, `compare.json`, `compare-junit.xml` and `compare.html` (which shows the
/// two runs' replies) into `dir`.
pub fn write_outputs(c: &Comparison, base: &RunSide, new: &RunSide, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    crate::files::create_dir_all(dir)?;
    let suite = &new.metadata.suite;
    let mut json = serde_json::to_vec_pretty(c)?;
    json.push(b'\n');
    let files = [
        ("compare.md", compare_md(c).into_bytes()),
        ("compare.csv", compare_csv(c)?),
        ("compare.json", json),
        ("compare-junit.xml", junit_xml(c, suite).into_bytes()),
    ];
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        crate::files::write_atomically(&path, &bytes)?;
        written.push(path);
    }
    // The page holds the replies of every example that changed: written as they are read back.
    let mut page = crate::files::PendingFile::create(&dir.join(crate::compare_html::COMPARE_FILE))?;
    crate::compare_html::write_compare_html(&mut page, c, base, new)?;
    written.push(page.path().to_path_buf());
    page.finish()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_escapes_markup_and_replaces_characters_xml_forbids() {
        assert_eq!(
            xml("a<b>&\"c'\u{0}\u{1b}[31m\tok\u{FFFF}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}\u{FFFD}[31m\tok\u{FFFD}"
        );
    }
}
