//! Plain-text helpers for the simulated models: content terms and similarity, product-like phrases, the name a
//! customer signs with, sentences, and the token estimator.

use std::collections::{BTreeMap, BTreeSet};

/// Words too common to say what a message is about; left out of similarity.
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before",
    "but", "by", "can", "could", "did", "do", "does", "doing", "don", "for", "from", "get", "got", "had", "has",
    "have", "hello", "help", "hey", "hi", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "my", "no",
    "not", "now", "of", "on", "or", "our", "please", "so", "some", "still", "than", "thank", "thanks", "that", "the",
    "their", "them", "then", "there", "these", "they", "this", "to", "too", "up", "us", "very", "was", "we", "were",
    "what", "when", "which", "why", "will", "with", "would", "you", "your", "ll", "ve", "re", "s", "t", "m", "d",
];

/// Capitalised words that start sentences or sign letters rather than name a product.
const NOT_PRODUCT_WORDS: &[&str] = &[
    "after",
    "also",
    "any",
    "best",
    "but",
    "can",
    "cheers",
    "could",
    "dear",
    "does",
    "every",
    "good",
    "greetings",
    "hello",
    "help",
    "hey",
    "hi",
    "how",
    "however",
    "i",
    "i'm",
    "i've",
    "i'd",
    "if",
    "is",
    "it",
    "it's",
    "just",
    "last",
    "many",
    "my",
    "now",
    "ok",
    "okay",
    "our",
    "please",
    "regards",
    "since",
    "sincerely",
    "so",
    "still",
    "thank",
    "thanks",
    "that",
    "the",
    "then",
    "there",
    "this",
    "today",
    "unfortunately",
    "we",
    "what",
    "when",
    "why",
    "yesterday",
    "you",
    "your",
    "and",
    "or",
    "a",
    "an",
    "on",
    "in",
    "at",
    "to",
    "for",
    "of",
    "with",
];

/// Lines that close a message rather than sign a name (`Thanks,` alone).
const VALEDICTIONS: &[&str] = &[
    "thanks",
    "thank you",
    "thanks so much",
    "many thanks",
    "cheers",
    "best",
    "best regards",
    "kind regards",
    "regards",
    "sincerely",
    "thx",
    "ty",
    "warm regards",
    "all the best",
];

/// Lowercased, lightly stemmed content words of `text`, without stop words.
pub fn content_terms(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .filter(|w| w.chars().count() > 1 || w.chars().all(|c| c.is_ascii_digit()))
        .map(|w| stem(&w))
        .collect()
}

/// Strips the commonest English suffixes so `restarting`, `restarted` and `restarts` meet.
fn stem(word: &str) -> String {
    let len = word.chars().count();
    for (suffix, keep) in [("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")] {
        if len > suffix.len() + 2 && word.ends_with(suffix) && !word.ends_with("ss") {
            return format!("{}{keep}", &word[..word.len() - suffix.len()]);
        }
    }
    word.to_string()
}

/// Documents to compare a query against, with their document frequencies.
///
/// Similarity is a cosine over binary term vectors weighted by a smoothed inverse document frequency
/// (`1 + ln((N + 1) / (df + 1))`, as in scikit-learn), so terms every document shares count little.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    documents: Vec<BTreeSet<String>>,
    document_frequency: BTreeMap<String, usize>,
}

impl Corpus {
    /// A corpus of the given documents' terms.
    pub fn new(documents: Vec<BTreeSet<String>>) -> Self {
        let mut document_frequency = BTreeMap::new();
        for terms in &documents {
            for term in terms {
                *document_frequency.entry(term.clone()).or_insert(0) += 1;
            }
        }
        Corpus {
            documents,
            document_frequency,
        }
    }

    fn idf(&self, term: &str) -> f64 {
        let n = self.documents.len() as f64;
        let df = self.document_frequency.get(term).copied().unwrap_or(0) as f64;
        1.0 + ((n + 1.0) / (df + 1.0)).ln()
    }

    /// Similarity in [0, 1] between `query` and document `index`.
    pub fn similarity(&self, query: &BTreeSet<String>, index: usize) -> f64 {
        let Some(document) = self.documents.get(index) else {
            return 0.0;
        };
        let norm = |terms: &BTreeSet<String>| terms.iter().map(|t| self.idf(t).powi(2)).sum::<f64>().sqrt();
        let shared: f64 = query.intersection(document).map(|t| self.idf(t).powi(2)).sum();
        let denominator = norm(query) * norm(document);
        if denominator == 0.0 {
            0.0
        } else {
            (shared / denominator).clamp(0.0, 1.0)
        }
    }

    /// The most similar document (the first one on ties) and its similarity.
    pub fn nearest(&self, query: &BTreeSet<String>) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for index in 0..self.documents.len() {
            let similarity = self.similarity(query, index);
            if best.is_none_or(|(_, b)| similarity > b) {
                best = Some((index, similarity));
            }
        }
        best
    }
}

/// One whitespace-separated word with the punctuation around it removed.
struct Word<'a> {
    core: &'a str,
    starts_sentence: bool,
    ends_phrase: bool,
}

fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut starts_sentence = true;
        for raw in line.split_whitespace() {
            let core = raw
                .trim_start_matches(|c: char| "(\"'“‘[".contains(c))
                .trim_end_matches(|c: char| ",.;:!?)\"'”’]".contains(c));
            let ends_sentence = raw
                .trim_end_matches(['"', '”', ')', '\'', '’'])
                .ends_with(['.', '!', '?']);
            let ends_phrase = raw.ends_with([',', '.', ';', ':', '!', '?', ')', '"', '”']);
            out.push(Word {
                core,
                starts_sentence,
                ends_phrase,
            });
            starts_sentence = ends_sentence;
        }
    }
    out
}

fn is_capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

fn has_digit(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
}

fn has_inner_capital(word: &str) -> bool {
    word.chars().skip(1).any(char::is_uppercase)
}

/// Product-like phrases in `text`, in order of first appearance: runs of capitalised words (with model numbers
/// such as `Cam 2` or `2.4 GHz`), leaving out sentence starters, greetings and the `excluded` words (a name).
pub fn product_phrases(text: &str, excluded: &[&str]) -> Vec<String> {
    let words = words(text);
    let mut phrases: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut current_starts_sentence = false;
    let flush = |current: &mut Vec<&str>, starts_sentence: bool, phrases: &mut Vec<String>| {
        if current.is_empty() {
            return;
        }
        let single_plain = current.len() == 1 && !has_digit(current[0]) && !has_inner_capital(current[0]);
        let only_digits = current.iter().all(|w| !w.chars().any(char::is_alphabetic));
        if !((single_plain && starts_sentence) || only_digits) {
            let phrase = current.join(" ");
            if !phrases.contains(&phrase) {
                phrases.push(phrase);
            }
        }
        current.clear();
    };
    for (i, word) in words.iter().enumerate() {
        let lower = word.core.to_lowercase();
        let blocked = word.core.is_empty()
            || NOT_PRODUCT_WORDS.contains(&lower.as_str())
            || excluded.iter().any(|e| e.eq_ignore_ascii_case(word.core));
        let next_is_capital = words.get(i + 1).is_some_and(|n| is_capitalised(n.core));
        let numeric = word.core.chars().next().is_some_and(|c| c.is_ascii_digit());
        let joins = !blocked
            && (is_capitalised(word.core)
                || (numeric && !current.is_empty())
                || (numeric && next_is_capital && !word.ends_phrase));
        if joins {
            if current.is_empty() {
                current_starts_sentence = word.starts_sentence;
            }
            current.push(word.core);
            if word.ends_phrase {
                flush(&mut current, current_starts_sentence, &mut phrases);
            }
        } else {
            flush(&mut current, current_starts_sentence, &mut phrases);
        }
    }
    flush(&mut current, current_starts_sentence, &mut phrases);
    phrases
}

/// The first name a customer signs a message with (`Thanks,\nMaria`, `— Sam Lee`, `Cheers, Ana`), if any.
pub fn signed_name(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    if let Some(at) = lower.find("my name is ") {
        let rest = &text[at + "my name is ".len()..];
        if let Some(name) = rest
            .split_whitespace()
            .next()
            .map(|w| w.trim_matches(|c: char| !c.is_alphabetic()))
        {
            if is_capitalised(name) {
                return Some(name.to_string());
            }
        }
    }
    let last = text.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    let last = last.trim_start_matches(['-', '—', '–', '~', ' ']);
    let lower = last.to_lowercase();
    let rest = VALEDICTIONS
        .iter()
        .filter(|v| lower.starts_with(*v))
        .map(|v| last[v.len()..].trim_start_matches([',', '!', '.', ' ']))
        .min_by_key(|rest| rest.len())
        .unwrap_or(last);
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let looks_like_name = (1..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            is_capitalised(p)
                && p.len() <= 20
                && p.chars()
                    .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '.')
        });
    let first = parts.first()?.trim_end_matches('.');
    let is_valediction = VALEDICTIONS.contains(&rest.to_lowercase().trim_end_matches([',', '!', '.']));
    (looks_like_name && !is_valediction && !NOT_PRODUCT_WORDS.contains(&first.to_lowercase().as_str()))
        .then(|| first.to_string())
}

/// Splits text into sentences at `.`, `!` or `?` followed by whitespace, and at line breaks.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut start = 0;
        let bytes: Vec<(usize, char)> = line.char_indices().collect();
        for (i, &(at, c)) in bytes.iter().enumerate() {
            let next_is_space = bytes.get(i + 1).is_some_and(|&(_, n)| n.is_whitespace());
            if matches!(c, '.' | '!' | '?') && next_is_space {
                let end = at + c.len_utf8();
                push_trimmed(&mut out, &line[start..end]);
                start = end;
            }
        }
        push_trimmed(&mut out, &line[start..]);
    }
    out
}

fn push_trimmed(out: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if !text.is_empty() {
        out.push(text.to_string());
    }
}

/// Rewrites a customer's first-person sentence in the second person (`my router` → `your router`).
pub fn second_person(sentence: &str) -> String {
    let swapped: Vec<String> = sentence
        .split(' ')
        .map(|word| {
            let core_end = word.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '\'').len();
            let (core, tail) = word.split_at(core_end);
            let replacement = match core.to_lowercase().as_str() {
                "i" => "you",
                "i'm" | "im" => "you're",
                "i've" => "you've",
                "i'd" => "you'd",
                "i'll" => "you'll",
                "my" => "your",
                "me" => "you",
                "mine" => "yours",
                "myself" => "yourself",
                "we" => "you",
                "our" => "your",
                "us" => "you",
                "am" => "are",
                _ => return word.to_string(),
            };
            format!("{replacement}{tail}")
        })
        .collect();
    swapped.join(" ")
}

/// Estimated tokens in `text`: one per four characters, and at least one per word.
///
/// Tokenizers of the models Bedrock serves average roughly four characters of English per token; counting words
/// as a floor keeps short, punctuation-heavy text from looking free.
pub fn estimate_tokens(text: &str) -> u32 {
    let by_chars = text.chars().count().div_ceil(4);
    let by_words = text.split_whitespace().count();
    u32::try_from(by_chars.max(by_words)).unwrap_or(u32::MAX)
}

/// The longest prefix of `text` whose estimate fits in `max_tokens`, cut at a word boundary when one fits.
pub fn truncate_to_tokens(text: &str, max_tokens: u32) -> &str {
    if estimate_tokens(text) <= max_tokens {
        return text;
    }
    let mut fitting = "";
    for (at, _) in text.char_indices().filter(|&(_, c)| c.is_whitespace()) {
        let prefix = text[..at].trim_end();
        if estimate_tokens(prefix) > max_tokens {
            break;
        }
        fitting = prefix;
    }
    if fitting.is_empty() {
        let chars = usize::try_from(max_tokens).unwrap_or(usize::MAX).saturating_mul(4);
        let end = text.char_indices().nth(chars).map_or(text.len(), |(at, _)| at);
        return &text[..end];
    }
    fitting
}
