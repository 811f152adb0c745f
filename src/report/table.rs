//! Cell escaping shared by the writers: CSV against spreadsheet formula injection, Markdown against table breakage.

/// A CSV cell that a spreadsheet will not evaluate: text starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return is prefixed with a single quote (OWASP's advice). Numbers we format ourselves are not passed through here.
pub fn csv_text(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// A Markdown table cell: pipes escaped, line breaks as `<br>`, so the text stays intact and in its cell.
pub fn markdown_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

/// A Markdown table from a header and rows (cells already escaped).
pub fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", header.join(" | "));
    out.push_str(&format!("|{}\n", header.iter().map(|_| "---|").collect::<String>()));
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

/// A number with fixed decimals, or an empty string when there is none.
pub fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(String::new, |v| format!("{v:.decimals$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised() {
        for text in ["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_text(text).starts_with('\''), "{text}");
        }
        assert_eq!(csv_text("Hi Aiko,"), "Hi Aiko,");
    }

    #[test]
    fn markdown_keeps_pipes_and_lines_in_the_cell() {
        assert_eq!(markdown_cell("a | b\nc"), "a \\| b<br>c");
    }
}
