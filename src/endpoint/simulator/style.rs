//! What a simulated model picks up from example answers (a house style) and from a system prompt (instructions).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use super::text::{content_terms, product_phrases, sentences, signed_name};

static NUMBERED_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*\d{1,2}[.)]\s+(\S.*)$").expect("valid"));
static BULLET_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*[-*•]\s+(\S.*)$").expect("valid"));
static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""([^"\n]+)"|“([^”\n]+)”"#).expect("valid"));
static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{[^}]*\}|\[[^\]]*\]|<[^>]*>|\b[A-Z][A-Z_]{2,}\b").expect("valid"));

/// The placeholder for the customer's first name in a learned template.
pub const NAME_SLOT: &str = "{name}";

/// One example exchange: a customer message and the answer given to it, with what similarity needs.
#[derive(Debug, Clone)]
pub struct Demonstration {
    /// The customer's message.
    pub prompt: String,
    /// The answer it got.
    pub answer: String,
    /// Content terms of the message.
    pub terms: BTreeSet<String>,
    /// The first name the customer signed with, if any.
    pub customer_name: Option<String>,
    /// Product-like phrases in the message.
    pub products: Vec<String>,
}

impl Demonstration {
    /// Reads one exchange.
    pub fn new(prompt: &str, answer: &str) -> Self {
        let customer_name = signed_name(prompt);
        let excluded: Vec<&str> = customer_name.iter().map(String::as_str).collect();
        Demonstration {
            prompt: prompt.to_string(),
            answer: answer.to_string(),
            terms: content_terms(prompt),
            products: product_phrases(prompt, &excluded),
            customer_name,
        }
    }

    fn lines(&self) -> Vec<&str> {
        self.answer.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
    }

    /// A line with this exchange's customer name replaced by the name slot.
    fn templated(&self, line: &str) -> String {
        match &self.customer_name {
            Some(name) => replace_word(line, name, NAME_SLOT),
            None => line.to_string(),
        }
    }
}

/// The parts of an answer: the opening sentences, the fix (steps), and what follows it, without greeting and close.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerParts {
    /// Sentences before the fix (acknowledging the problem).
    pub preamble: Vec<String>,
    /// The fix, one step per entry, without numbering.
    pub steps: Vec<String>,
    /// Lines between the fix and the closing.
    pub postamble: Vec<String>,
}

/// The house style shared by a set of example answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HouseStyle {
    /// Greeting template (`Hi {name},`) used by at least half of the answers.
    pub greeting: Option<String>,
    /// Closing block (its lines with their line breaks) that ends at least half of the answers.
    pub closing: Option<String>,
    closing_lines: Vec<String>,
    /// Whether at least half of the answers give numbered steps.
    pub numbered: bool,
    /// Whether at least half of the answers say sorry.
    pub apologetic: bool,
}

/// Whether a line opens a letter (`Hi Maria,`, `Hello there!`, `Dear customer,`).
pub fn is_greeting_line(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    let first = first.trim_end_matches([',', '!', '.', ':']).to_lowercase();
    line.split_whitespace().count() <= 7
        && ["hi", "hello", "hey", "dear", "greetings", "good", "howdy"].contains(&first.as_str())
}

fn is_step_line(line: &str) -> bool {
    NUMBERED_LINE.is_match(line) || BULLET_LINE.is_match(line)
}

fn step_text(line: &str) -> Option<String> {
    NUMBERED_LINE
        .captures(line)
        .or_else(|| BULLET_LINE.captures(line))
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim().to_string())
}

/// How many of `n` examples must share a trait for it to count as the house style.
fn quorum(n: usize) -> usize {
    if n <= 1 {
        1
    } else {
        n.div_ceil(2).max(2)
    }
}

/// The most common key and its count; the earliest seen wins ties.
fn most_common(keys: impl Iterator<Item = String>) -> Option<(String, usize)> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (order, key) in keys.enumerate() {
        counts.entry(key).or_insert((0, order)).0 += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(b.1 .1.cmp(&a.1 .1)))
        .map(|(key, (count, _))| (key, count))
}

impl HouseStyle {
    /// Learns the style the answers of `examples` share.
    pub fn learn(examples: &[Demonstration]) -> HouseStyle {
        let n = examples.len();
        if n == 0 {
            return HouseStyle::default();
        }
        let needed = quorum(n);
        let greeting = most_common(examples.iter().filter_map(|d| {
            let first = *d.lines().first()?;
            is_greeting_line(first).then(|| d.templated(first))
        }))
        .filter(|(_, count)| *count >= needed)
        .map(|(template, _)| template);
        let (closing_lines, closing) = learn_closing(examples, needed);
        let numbered = examples
            .iter()
            .filter(|d| d.lines().iter().filter(|l| is_step_line(l)).count() >= 2)
            .count();
        let apologetic = examples
            .iter()
            .filter(|d| {
                let lower = d.answer.to_lowercase();
                lower.contains("sorry") || lower.contains("apolog")
            })
            .count();
        HouseStyle {
            greeting,
            closing,
            closing_lines,
            numbered: numbered > 0 && numbered * 2 >= n,
            apologetic: apologetic > 0 && apologetic * 2 >= n,
        }
    }

    /// Splits one example answer into its parts, leaving out its greeting and closing.
    pub fn parts(&self, example: &Demonstration) -> AnswerParts {
        let mut lines: Vec<&str> = example.lines();
        if lines.first().is_some_and(|l| is_greeting_line(l)) {
            lines.remove(0);
        }
        let tail: Vec<String> = lines
            .iter()
            .rev()
            .take(self.closing_lines.len())
            .rev()
            .map(|l| example.templated(l))
            .collect();
        if !self.closing_lines.is_empty() && tail == self.closing_lines {
            lines.truncate(lines.len() - self.closing_lines.len());
        } else {
            for _ in 0..2 {
                if lines.len() > 1 && lines.last().is_some_and(|l| is_sign_off_line(l)) {
                    lines.pop();
                }
            }
        }
        let first_step = lines.iter().position(|l| is_step_line(l));
        let last_step = lines.iter().rposition(|l| is_step_line(l));
        match (first_step, last_step) {
            (Some(first), Some(last)) => AnswerParts {
                preamble: lines[..first].iter().map(|l| l.to_string()).collect(),
                steps: lines[first..=last]
                    .iter()
                    .map(|l| step_text(l).unwrap_or_else(|| l.to_string()))
                    .collect(),
                postamble: lines[last + 1..].iter().map(|l| l.to_string()).collect(),
            },
            _ => {
                let mut body = sentences(&lines.join("\n"));
                let preamble = if body.is_empty() {
                    Vec::new()
                } else {
                    vec![body.remove(0)]
                };
                AnswerParts {
                    preamble,
                    steps: body,
                    postamble: Vec::new(),
                }
            }
        }
    }
}

/// A short line that signs a letter off rather than says something (`Best,`, `— The Support Team`).
fn is_sign_off_line(line: &str) -> bool {
    line.split_whitespace().count() <= 5 && !line.ends_with(['.', '?', ':']) && !is_step_line(line)
}

/// The closing lines shared by a quorum of answers (longest such tail), and the text block that holds them.
fn learn_closing(examples: &[Demonstration], needed: usize) -> (Vec<String>, Option<String>) {
    let mut best: Vec<String> = Vec::new();
    for length in 1..=4 {
        let tails = examples.iter().filter_map(|d| {
            let lines = d.lines();
            let body_lines = lines
                .len()
                .saturating_sub(usize::from(lines.first().is_some_and(|l| is_greeting_line(l))));
            (body_lines > length).then(|| {
                lines[lines.len() - length..]
                    .iter()
                    .map(|l| d.templated(l))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        });
        let Some((key, count)) = most_common(tails) else { break };
        let lines: Vec<String> = key.lines().map(str::to_string).collect();
        // With a single example nothing is "shared", so only short sign-off lines count as its closing.
        let acceptable = needed > 1 || lines.iter().all(|l| is_sign_off_line(l));
        if count < needed || !acceptable || lines.iter().any(|l| is_step_line(l)) {
            break;
        }
        best = lines;
    }
    if best.is_empty() {
        return (best, None);
    }
    let block = examples.iter().find_map(|d| {
        let lines = d.lines();
        let tail: Vec<String> = lines
            .iter()
            .rev()
            .take(best.len())
            .rev()
            .map(|l| d.templated(l))
            .collect();
        (tail == best).then(|| {
            let first = lines[lines.len() - best.len()];
            let at = d.answer.rfind(first).unwrap_or(0);
            d.templated(d.answer[at..].trim_end())
        })
    });
    (best, block)
}

/// Replaces whole-word occurrences of `word` in `text`.
pub fn replace_word(text: &str, word: &str, replacement: &str) -> String {
    if word.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before_ok = rest[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after_ok = rest[at + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { replacement } else { word });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// What a system prompt asks for, as far as a simulated model follows it: quoted phrases to greet with, to close
/// with, to include or never to write, and whether to number the steps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Instructions {
    /// A quoted greeting (`Greet them ("Hi NAME,")`).
    pub greeting: Option<String>,
    /// Quoted closing lines in the order given (`End with "…" and sign off with "…"`).
    pub closing: Vec<String>,
    /// Other quoted phrases to include.
    pub include: Vec<String>,
    /// Quoted phrases the prompt forbids (`Never write "…"`).
    pub banned: Vec<String>,
    /// Whether the prompt asks for numbered steps.
    pub numbered: bool,
}

impl Instructions {
    /// Reads the quoted phrases of a system prompt; each one's role comes from the words just before it.
    pub fn read(system: &str) -> Instructions {
        let mut instructions = Instructions {
            numbered: system.to_lowercase().contains("numbered"),
            ..Default::default()
        };
        let mut previous_end = 0;
        for captures in QUOTED.captures_iter(system) {
            let (Some(whole), Some(phrase)) = (captures.get(0), captures.get(1).or_else(|| captures.get(2))) else {
                continue;
            };
            let before = &system[previous_end..whole.start()];
            previous_end = whole.end();
            let context = before
                .rfind(['.', '!', '?', '\n'])
                .map_or(before, |at| &before[at + 1..])
                .to_lowercase();
            let context_words: Vec<&str> = context.split(|c: char| !c.is_alphanumeric() && c != '\'').collect();
            let has_word = |words: &[&str]| context_words.iter().any(|w| words.contains(w));
            let has_phrase = |phrases: &[&str]| phrases.iter().any(|p| context.contains(p));
            let phrase = phrase.as_str().trim().to_string();
            if has_word(&["never", "avoid", "don't", "dont", "not", "no", "without", "refrain"]) {
                instructions.banned.push(phrase);
            } else if has_phrase(&[
                "greet",
                "start with",
                "begin with",
                "open with",
                "opening",
                "salutation",
            ]) {
                instructions.greeting.get_or_insert(phrase);
            } else if has_phrase(&[
                "end with",
                "sign off",
                "sign-off",
                "signoff",
                "close with",
                "closing",
                "finish with",
            ]) {
                instructions.closing.push(phrase);
            } else {
                instructions.include.push(phrase);
            }
        }
        instructions
    }
}

/// Fills the placeholders of a template: anything naming a name (`NAME`, `{name}`, `[First Name]`) gets the
/// customer's first name (or `there`), anything naming a product gets the product.
pub fn fill(template: &str, name: Option<&str>, product: Option<&str>) -> String {
    PLACEHOLDER
        .replace_all(template, |captures: &regex::Captures<'_>| {
            let slot = captures[0].to_lowercase();
            if slot.contains("name") {
                name.unwrap_or("there").to_string()
            } else if slot.contains("product") {
                product.unwrap_or("device").to_string()
            } else {
                captures[0].to_string()
            }
        })
        .into_owned()
}
