//! Text handling for the deterministic criteria: normalisation, term matching, tokens, F1, ROUGE-L, JSON extraction.

use unicode_normalization::UnicodeNormalization;

use super::rubric::Matching;

/// `text` prepared for matching: NFKC-normalised and case-folded as `matching` says.
pub fn prepare(text: &str, matching: Matching) -> String {
    // ASCII is its own NFKC form, and its only case folding is A–Z to a–z: the common case, done directly (the full
    // Unicode path costs most of a large report's scoring time).
    if text.is_ascii() {
        return if matching.case_sensitive {
            text.to_string()
        } else {
            text.to_ascii_lowercase()
        };
    }
    // Most replies are already in NFKC (a dash or a curly quote is): the quick check says so without rebuilding them.
    let normalized = matching.normalize_unicode
        && unicode_normalization::is_nfkc_quick(text.chars()) != unicode_normalization::IsNormalized::Yes;
    let text: std::borrow::Cow<str> = if normalized {
        text.nfkc().collect::<String>().into()
    } else {
        text.into()
    };
    if matching.case_sensitive {
        text.into_owned()
    } else {
        case_fold(&text)
    }
}

/// Unicode's default (full) case folding, as `caseless` does it: a mapping per character with no context, so runs
/// of ASCII are lowered directly and only the other characters go through its table.
fn case_fold(text: &str) -> String {
    use caseless::Caseless;
    let mut folded = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = rest.bytes().position(|b| !b.is_ascii()).unwrap_or(rest.len());
        let start = folded.len();
        folded.push_str(&rest[..ascii]);
        folded[start..].make_ascii_lowercase();
        rest = &rest[ascii..];
        if let Some(c) = rest.chars().next() {
            folded.extend(std::iter::once(c).default_case_fold());
            rest = &rest[c.len_utf8()..];
        }
    }
    folded
}

/// A reply and its forms prepared for matching, each made the first time a criterion asks for it.
pub struct PreparedForms<'a> {
    text: &'a str,
    forms: Vec<(Matching, String)>,
}

impl<'a> PreparedForms<'a> {
    /// `text`, with no form prepared yet.
    pub fn new(text: &'a str) -> Self {
        PreparedForms {
            text,
            forms: Vec::new(),
        }
    }

    /// The text as it is.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The text as [`prepare`] makes it for `matching`.
    pub fn get(&mut self, matching: Matching) -> &str {
        let index = match self.forms.iter().position(|(m, _)| *m == matching) {
            Some(index) => index,
            None => {
                self.forms.push((matching, prepare(self.text, matching)));
                self.forms.len() - 1
            }
        };
        &self.forms[index].1
    }
}

/// How many words `text` has: `text.split_whitespace().count()`, a byte at a time and without a branch on the
/// ASCII letters and spaces that alternate in prose (a character is classed by its first byte; the bytes that
/// continue it leave the state as it is).
pub fn count_words(text: &str) -> usize {
    /// Per byte: 0 not a space, 1 a space (`char::is_whitespace` on ASCII: space, and tab to carriage return,
    /// vertical tab included), 2 a continuation byte, 3 the first byte of a character past ASCII.
    const CLASS: [u8; 256] = {
        let mut class = [0u8; 256];
        let mut byte = 0;
        while byte < 256 {
            class[byte] = match byte as u8 {
                b' ' | b'\t'..=b'\r' => 1,
                0..=0x7f => 0,
                0x80..=0xbf => 2,
                _ => 3,
            };
            byte += 1;
        }
        class
    };
    let (mut words, mut after_space) = (0, true);
    for (i, &byte) in text.as_bytes().iter().enumerate() {
        let class = CLASS[usize::from(byte)];
        let mut space = class == 1;
        if class >= 2 {
            space = if class == 2 {
                after_space
            } else {
                text[i..].chars().next().is_some_and(char::is_whitespace)
            };
        }
        words += usize::from(after_space & !space);
        after_space = space;
    }
    words
}

/// Whether the prepared `needle` occurs in the prepared `haystack` (as a whole word when asked).
pub fn contains(haystack: &str, needle: &str, whole_words: bool) -> bool {
    if !whole_words {
        return haystack.contains(needle);
    }
    let joins = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    haystack.match_indices(needle).any(|(start, _)| {
        let before = haystack[..start].chars().next_back();
        let after = haystack[start + needle.len()..].chars().next();
        !joins(before) && !joins(after)
    })
}

/// Tokens for reference comparisons: NFKC, case-folded, split on anything not a letter or digit.
pub fn normalised_tokens(text: &str) -> Vec<String> {
    let folding = Matching {
        case_sensitive: false,
        normalize_unicode: true,
        whole_words: false,
    };
    prepare(text, folding)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// F1 of two token bags (SQuAD's definition): 1 when both are empty.
pub fn token_f1(candidate: &[String], reference: &[String]) -> f64 {
    if candidate.is_empty() && reference.is_empty() {
        return 1.0;
    }
    let mut counts = std::collections::HashMap::new();
    for token in reference {
        *counts.entry(token.as_str()).or_insert(0i64) += 1;
    }
    let mut overlap = 0i64;
    for token in candidate {
        if let Some(count) = counts.get_mut(token.as_str()) {
            if *count > 0 {
                *count -= 1;
                overlap += 1;
            }
        }
    }
    if overlap == 0 {
        return 0.0;
    }
    let precision = overlap as f64 / candidate.len() as f64;
    let recall = overlap as f64 / reference.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

/// ROUGE-L F-measure (β = 1): from the longest common subsequence of the two token sequences.
pub fn rouge_l(candidate: &[String], reference: &[String]) -> f64 {
    if candidate.is_empty() && reference.is_empty() {
        return 1.0;
    }
    if candidate.is_empty() || reference.is_empty() {
        return 0.0;
    }
    // One row of the LCS table at a time: O(n·m) time, O(m) memory.
    let mut previous = vec![0usize; reference.len() + 1];
    let mut current = vec![0usize; reference.len() + 1];
    for token in candidate {
        for (j, other) in reference.iter().enumerate() {
            current[j + 1] = if token == other {
                previous[j] + 1
            } else {
                current[j].max(previous[j + 1])
            };
        }
        std::mem::swap(&mut previous, &mut current);
    }
    let lcs = previous[reference.len()] as f64;
    if lcs == 0.0 {
        return 0.0;
    }
    let precision = lcs / candidate.len() as f64;
    let recall = lcs / reference.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

/// The JSON value in an output: the whole output, or (when allowed) the first Markdown code fence that parses.
pub fn extract_json(output: &str, allow_fenced: bool) -> Option<serde_json::Value> {
    if let Ok(value) = serde_json::from_str(output.trim()) {
        return Some(value);
    }
    if !allow_fenced {
        return None;
    }
    let mut rest = output;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        // Skip an info string such as `json` up to the end of the line.
        let body_start = after.find('\n').map_or(after.len(), |i| i + 1);
        let body = &after[body_start..];
        let Some(end) = body.find("```") else { break };
        if let Ok(value) = serde_json::from_str(body[..end].trim()) {
            return Some(value);
        }
        rest = &body[end + 3..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        normalised_tokens(text)
    }

    #[test]
    fn the_shortcuts_fold_as_the_full_unicode_path() {
        let folding = Matching {
            case_sensitive: false,
            normalize_unicode: true,
            whole_words: false,
        };
        let full = |text: &str| caseless::default_case_fold_str(&text.nfkc().collect::<String>());
        // Every character of the first planes' scripts, alone and after a letter (combining marks compose with it),
        // and texts that are already in NFKC beside ones that are not.
        let mut texts: Vec<String> = (0x80u32..0x3400)
            .chain(0xAC00..0xAC40)
            .chain(0xFB00..0xFFFF)
            .filter_map(char::from_u32)
            .flat_map(|c| [c.to_string(), format!("Ab{c}Z"), format!("e{c}\u{301}")])
            .collect();
        texts.push("Reset the Kestrel Hub — step 1, “then” 2. ÉCOLE Straße ǅ ﬃ Ⅻ ｶ".to_string());
        for text in &texts {
            assert_eq!(prepare(text, folding), full(text), "{text:?}");
        }
    }

    #[test]
    fn full_case_folding_and_nfkc() {
        let folding = Matching {
            case_sensitive: false,
            normalize_unicode: true,
            whole_words: false,
        };
        assert_eq!(prepare("STRASSE", folding), prepare("straße", folding));
        assert_eq!(prepare("ﬁle", folding), "file");
        assert_eq!(prepare("ＡＢＣ", folding), "abc");
        // The ASCII shortcut folds exactly as the full path does.
        let ascii: String = (0u8..128).map(char::from).collect();
        let full = caseless::default_case_fold_str(&ascii.nfkc().collect::<String>());
        assert_eq!(prepare(&ascii, folding), full);
        let exact = Matching {
            case_sensitive: true,
            normalize_unicode: false,
            whole_words: false,
        };
        assert_ne!(prepare("ﬁle", exact), "file");
    }

    #[test]
    fn words_are_counted_as_split_whitespace_counts_them() {
        // Every character of the first planes (Unicode's whitespace among them: NEL, NBSP, the em space, the line
        // separator, the ideographic space), alone, between words, and in runs.
        let texts = (0u32..0x3400)
            .chain(0xFEFF..0xFF01)
            .filter_map(char::from_u32)
            .flat_map(|c| {
                [
                    c.to_string(),
                    format!("one{c}two"),
                    format!("{c}{c} a\u{0b}b\u{85}c{c}"),
                ]
            });
        let more = ["", " ", "Hi there,\n\n1. Reset — then 2.\r\n\t— Kestrel Support "];
        for text in texts.chain(more.map(String::from)) {
            assert_eq!(count_words(&text), text.split_whitespace().count(), "{text:?}");
        }
    }

    #[test]
    fn prepared_forms_are_made_once_per_matching_and_as_prepare_makes_them() {
        let text = "Hi THERE — Straße ﬁle";
        let mut forms = PreparedForms::new(text);
        let modes = [(false, true), (true, false), (false, false), (true, true)];
        for _ in 0..2 {
            for (case_sensitive, normalize_unicode) in modes {
                let matching = Matching {
                    case_sensitive,
                    normalize_unicode,
                    whole_words: false,
                };
                assert_eq!(forms.get(matching), prepare(text, matching));
            }
        }
        assert_eq!(forms.forms.len(), modes.len());
        assert_eq!(forms.text(), text);
    }

    #[test]
    fn whole_word_matching() {
        assert!(contains("as an ai, i", "ai", true));
        assert!(!contains("paid in full", "ai", true));
        assert!(contains("paid in full", "ai", false));
        assert!(contains("kestrel hub.", "kestrel hub", true));
        assert!(!contains("", "x", false));
    }

    #[test]
    fn f1_and_rouge_l_known_values() {
        let reference = tokens("the cat sat on the mat");
        assert_eq!(token_f1(&tokens("the cat sat on the mat"), &reference), 1.0);
        // Overlap {the, cat, the, mat} = 4 of 5 candidate and 6 reference tokens.
        let f1 = token_f1(&tokens("the cat ate the mat"), &reference);
        let expected = 2.0 * (4.0 / 5.0) * (4.0 / 6.0) / (4.0 / 5.0 + 4.0 / 6.0);
        assert!((f1 - expected).abs() < 1e-12, "{f1}");
        // LCS of "the cat ate the mat" and "the cat sat on the mat" is "the cat the mat" (4).
        let rouge = rouge_l(&tokens("the cat ate the mat"), &reference);
        assert!((rouge - expected).abs() < 1e-12, "{rouge}");
        assert_eq!(rouge_l(&[], &reference), 0.0);
        assert_eq!(token_f1(&[], &[]), 1.0);
    }

    #[test]
    fn json_plain_and_fenced() {
        assert_eq!(extract_json(" {\"a\": 1} ", false), Some(serde_json::json!({"a": 1})));
        let fenced = "Here you go:\n```json\n{\"a\": [1, 2]}\n```\nThanks";
        assert_eq!(extract_json(fenced, true), Some(serde_json::json!({"a": [1, 2]})));
        assert_eq!(extract_json(fenced, false), None);
        let second = "```\nnot json\n```\n```json\n{\"b\": true}\n```";
        assert_eq!(extract_json(second, true), Some(serde_json::json!({"b": true})));
        assert_eq!(extract_json("```json\n{broken\n```", true), None);
        assert_eq!(extract_json("", true), None);
    }
}
