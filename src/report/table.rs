//! Escaping shared by the writers: CSV against spreadsheet formula injection, Markdown against markup, raw HTML
//! and table breakage, so text from a suite, the data or a model stays text.

/// A CSV cell that a spreadsheet will not evaluate: text starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return is prefixed with a single quote (OWASP's advice). Numbers we format ourselves are not passed through here.
pub fn csv_text(text: &str) -> String {
    let mut out = String::new();
    push_csv_text(&mut out, text);
    out
}

/// Appends [`csv_text`]'s text to `out`.
pub fn push_csv_text(out: &mut String, text: &str) {
    if let Some('=' | '+' | '-' | '@' | '\t' | '\r') = text.chars().next() {
        out.push('\'');
    }
    out.push_str(text);
}

/// Text from a suite, a dataset or a model as Markdown inline content that renders as the same text: every
/// character that could start markup — emphasis, code, links and images, raw HTML and autolinks, entities,
/// strikethrough, table pipes — is backslash-escaped (CommonMark lets any ASCII punctuation be escaped), and control
/// characters become spaces. An `_` inside a word is left alone: it cannot emphasise there, and names read better.
pub fn markdown_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '&' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '_' => {
                let inside_word = i > 0
                    && chars[i - 1].is_alphanumeric()
                    && chars.get(i + 1).is_some_and(|next| next.is_alphanumeric());
                if !inside_word {
                    out.push('\\');
                }
                out.push(c);
            }
            '\n' => out.push('\n'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A Markdown table cell: the text escaped as [`markdown_text`], line breaks as `<br>`, so the text stays intact and
/// in its cell.
pub fn markdown_cell(text: &str) -> String {
    markdown_text(&text.replace("\r\n", "\n").replace('\r', "\n")).replace('\n', "<br>")
}

/// Prose from a suite (a description) as Markdown paragraphs: each line escaped as [`markdown_text`] and stripped
/// of what would make it a block of its own (a heading, quote, list item, code block, rule or HTML block), blank
/// lines kept as paragraph breaks.
pub fn markdown_paragraphs(text: &str) -> String {
    text.trim()
        .lines()
        .map(|line| {
            let line = markdown_text(line.trim());
            // What starts a block and markdown_text leaves alone: `#` headings, `-` and `+` list items or rules,
            // `1.` and `1)` ordered lists, `=` setext underlines. Quotes, HTML, fences and `*` are escaped already,
            // and trimming the line keeps it from being indented code.
            let digits = line.chars().take_while(char::is_ascii_digit).count();
            match line.chars().next() {
                Some('#' | '-' | '+' | '=') => format!("\\{line}"),
                Some(_) if digits > 0 && matches!(line[digits..].chars().next(), Some('.' | ')')) => {
                    format!("{}\\{}", &line[..digits], &line[digits..])
                }
                _ => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Text as an inline code span in prose: a fence of backticks longer than any run inside it, padded when the text
/// starts or ends with a backtick, on one line. Nothing in a code span is markup, HTML included.
pub fn markdown_code(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// One of the tool's own messages (a warning, a hint) as Markdown: its `` `key` `` spans become code spans and
/// everything else is escaped as [`markdown_cell`]. Names quoted inside a message come from the suite or the data,
/// so a backtick inside one can at most turn text into inert code: code spans hold no markup.
pub fn markdown_message(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let Some(close) = rest[open + 1..].find('`') else { break };
        out.push_str(&markdown_cell(&rest[..open]));
        out.push_str(&markdown_code(&rest[open + 1..open + 1 + close]));
        rest = &rest[open + close + 2..];
    }
    out.push_str(&markdown_cell(rest));
    out
}

/// [`markdown_code`] in a table cell, where a pipe must be escaped even inside a code span (GFM splits the row
/// into cells before it reads code spans, and takes `\|` back to `|`).
pub fn markdown_code_cell(text: &str) -> String {
    markdown_code(text).replace('|', "\\|")
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
    let mut text = String::new();
    push_number(&mut text, value, decimals);
    text
}

/// Appends [`number`]'s text to `out`: exactly what `format!("{v:.decimals$}")` writes, without its machinery for the
/// common case (a report writes millions of scores between 0 and 1).
pub fn push_number(out: &mut String, value: Option<f64>, decimals: usize) {
    let Some(value) = value else { return };
    match fixed_digits(value, decimals) {
        Some(scaled) => {
            let scale = 10u64.pow(decimals as u32);
            push_integer(out, scaled / scale);
            if decimals > 0 {
                // The point and the fraction's digits, zero-padded to `decimals` (at most six).
                let mut fraction = [b'.', b'0', b'0', b'0', b'0', b'0', b'0'];
                let mut rest = scaled % scale;
                for digit in fraction[1..=decimals].iter_mut().rev() {
                    *digit = b'0' + (rest % 10) as u8;
                    rest /= 10;
                }
                out.push_str(ascii(&fraction[..=decimals]));
            }
        }
        None => {
            use std::fmt::Write;
            let _ = write!(out, "{value:.decimals$}");
        }
    }
}

/// `value × 10^decimals` rounded to the nearest integer, when that is certainly the integer the exact decimal
/// expansion of `value` rounds to: a positive value below 2^40 once scaled (where the product is off by at most
/// 2^-13), with at most six decimals, not within 10^-3 of a tie. Otherwise `None` (the formatter decides).
fn fixed_digits(value: f64, decimals: usize) -> Option<u64> {
    if decimals > 6 || !value.is_finite() || !value.is_sign_positive() {
        return None;
    }
    let scaled = value * 10f64.powi(decimals as i32);
    if scaled >= (1u64 << 40) as f64 || ((scaled - scaled.floor()) - 0.5).abs() < 1e-3 {
        return None;
    }
    Some(scaled.round() as u64)
}

/// Appends an unsigned integer's decimal digits to `out`.
pub fn push_integer(out: &mut String, value: impl Into<u64>) {
    let mut value: u64 = value.into();
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.push_str(ascii(&digits[start..]));
}

/// Digits (ASCII) as text.
fn ascii(digits: &[u8]) -> &str {
    std::str::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_the_formatter_prints_them() {
        let mut values: Vec<f64> = (0..=40_000).map(|k| f64::from(k) / 20_000.0).collect();
        values.extend((0..=4096).map(|k| f64::from(k) / 4096.0)); // exact binary ties: 1/32 is 0.03125
        values.extend((1..2000).map(|k| 1.0 / f64::from(k)));
        values.extend([
            0.0,
            -0.0,
            -0.00001,
            -1.5,
            0.49999,
            0.99995,
            0.999_949_999,
            9.999_95,
            1e-12,
            123_456.789_012_5,
            1.1e9,
            1e300,
            5e-324,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            2.5,
            0.125,
            0.000_05,
        ]);
        // A deterministic spread of doubles of every magnitude.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state >> 2);
            values.extend([v, v.fract(), (state % 1_000_000) as f64 / 1e5]);
        }
        for value in values {
            for decimals in 0..=8 {
                assert_eq!(
                    number(Some(value), decimals),
                    format!("{value:.decimals$}"),
                    "{value:e} to {decimals}"
                );
            }
        }
        assert_eq!(number(None, 4), "");
    }

    #[test]
    fn formula_starts_are_neutralised() {
        for text in ["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_text(text).starts_with('\''), "{text}");
        }
        assert_eq!(csv_text("Hi Aiko,"), "Hi Aiko,");
    }

    #[test]
    fn messages_keep_their_code_spans_and_escape_the_rest() {
        assert_eq!(
            markdown_message("<b>x</b> is unpriced: set `cost.custom.<b>x</b>.base_model`."),
            "\\<b\\>x\\</b\\> is unpriced: set `cost.custom.<b>x</b>.base_model`."
        );
        // A backtick inside a quoted name cannot open markup: an unpaired one is escaped text.
        assert_eq!(markdown_message("a`b"), "a\\`b");
        assert_eq!(
            markdown_message("set `<img src=x onerror=y>`"),
            "set `<img src=x onerror=y>`"
        );
    }

    #[test]
    fn markdown_keeps_pipes_and_lines_in_the_cell() {
        assert_eq!(markdown_cell("a | b\nc"), "a \\| b<br>c");
    }

    #[test]
    fn markup_in_text_is_escaped_and_names_stay_readable() {
        assert_eq!(markdown_text("<script>"), "\\<script\\>");
        assert_eq!(
            markdown_text("*a* [b](c) `d` &amp; ~e~"),
            "\\*a\\* \\[b\\](c) \\`d\\` \\&amp; \\~e\\~"
        );
        assert_eq!(markdown_text("few_shot_k3 _x_"), "few_shot_k3 \\_x\\_");
        assert_eq!(markdown_text("a\u{0}b\u{1b}c"), "a b c");
    }

    #[test]
    fn prose_lines_cannot_start_blocks() {
        assert_eq!(
            markdown_paragraphs("  # not a heading\n- nor a list\n\n1. nor this\n    nor code\n==="),
            "\\# not a heading\n\\- nor a list\n\n1\\. nor this\nnor code\n\\==="
        );
    }

    #[test]
    fn code_spans_outlast_backticks_inside() {
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x`"), "`` `x` ``");
        assert_eq!(markdown_code_cell("a|b"), "`a\\|b`");
    }
}
