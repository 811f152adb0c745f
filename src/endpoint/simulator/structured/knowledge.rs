//! What a simulated model knows about a structured task: the shape and allowed values a system prompt asks for,
//! and the answers of the examples it learns from (demonstrations, or a custom model's training data), indexed for
//! similarity, with the words it associates with each value.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use super::super::text::{content_terms, Corpus};

static QUOTED_KEY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""([A-Za-z_][A-Za-z0-9_]*)"\s*:"#).expect("valid"));
static FIELD_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*(?:[-*•]\s*)?"?([A-Za-z_][A-Za-z0-9_]*)"?\s*:\s*(.+)$"#).expect("valid"));
static VALUE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""([^"\n]+)"(?:\s*\(([^)\n]*)\))?"#).expect("valid"));
static LABEL_LIST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bone (?:word|label|of)\b[^:\n]*:\s*([^.\n]+)").expect("valid"));

/// Most words in an answer that still reads as a label.
const LABEL_WORDS: usize = 3;
/// Longest answer, in characters, that still reads as a label.
const LABEL_CHARS: usize = 40;

/// What the answer looks like.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A JSON object with these keys, in this order.
    Json(Vec<String>),
    /// One label.
    Label,
}

/// A value a field can take, with the words that point to it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Candidate {
    pub(super) value: String,
    pub(super) cues: BTreeSet<String>,
}

/// The values a field can take.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Field {
    pub(super) candidates: Vec<Candidate>,
}

impl Field {
    pub(super) fn add(&mut self, value: &str, hint: &str) {
        let cues: BTreeSet<String> = content_terms(&format!("{value} {}", hint.replace('_', " ")));
        match self.candidates.iter_mut().find(|c| c.value == value) {
            Some(candidate) => candidate.cues.extend(cues),
            None => self.candidates.push(Candidate {
                value: value.to_string(),
                cues,
            }),
        }
    }
}

/// The key a label task's single field is filed under.
pub(super) const LABEL_KEY: &str = "";

/// What a system prompt asks for: the shape of the answer and, per field, the values it allows and their hints.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSchema {
    pub(super) shape: Shape,
    pub(super) fields: BTreeMap<String, Field>,
}

impl PromptSchema {
    /// Reads a system prompt; `None` when it asks for neither JSON with named keys nor one of a list of labels.
    ///
    /// JSON: the prompt says "JSON" and names keys, either in a JSON-like template (`{"category": …}`) or one per
    /// line (`- "category": one of "billing" (charges, refunds), "outage" (offline, down)`), where each quoted value
    /// may carry hint words in parentheses. Labels: "one word: a, b or c" / "one of: a, b, c".
    pub fn read(system: &str) -> Option<PromptSchema> {
        if system.contains("JSON") {
            let mut keys: Vec<String> = Vec::new();
            let mut fields: BTreeMap<String, Field> = BTreeMap::new();
            for line in system.lines() {
                if let Some(captures) = FIELD_LINE.captures(line) {
                    let values: Vec<_> = VALUE.captures_iter(&captures[2]).collect();
                    if values.len() >= 2 {
                        let key = captures[1].to_string();
                        let field = fields.entry(key.clone()).or_default();
                        for value in values {
                            field.add(&value[1], value.get(2).map_or("", |m| m.as_str()));
                        }
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                        continue;
                    }
                }
                for key in QUOTED_KEY.captures_iter(line) {
                    if !keys.contains(&key[1].to_string()) {
                        keys.push(key[1].to_string());
                    }
                }
            }
            return (!keys.is_empty()).then_some(PromptSchema {
                shape: Shape::Json(keys),
                fields,
            });
        }
        let list = LABEL_LIST.captures(system)?;
        let mut field = Field::default();
        for value in list[1].split([',', '|', '/']).flat_map(|v| v.split(" or ")) {
            let value = value.trim().trim_matches(|c: char| c == '"' || c == '\'' || c == '`');
            if !value.is_empty() && value.split_whitespace().count() <= LABEL_WORDS {
                field.add(value, "");
            }
        }
        (field.candidates.len() >= 2).then(|| PromptSchema {
            shape: Shape::Label,
            fields: BTreeMap::from([(LABEL_KEY.to_string(), field)]),
        })
    }
}

/// An answer learned from: a JSON object's values (as text) by key, or one label.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Json(Vec<(String, String)>),
    Label(String),
}

impl Answer {
    fn value(&self, key: &str) -> Option<&str> {
        match self {
            Answer::Json(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()),
            Answer::Label(label) => Some(label.as_str()).filter(|_| key == LABEL_KEY),
        }
    }
}

fn read_answer(text: &str) -> Option<Answer> {
    let text = text.trim();
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(text) {
        let pairs = object
            .into_iter()
            .map(|(k, v)| {
                let value = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, value)
            })
            .collect();
        return Some(Answer::Json(pairs));
    }
    let is_label = !text.is_empty()
        && text.chars().count() <= LABEL_CHARS
        && text.split_whitespace().count() <= LABEL_WORDS
        && !text.contains('\n');
    is_label.then(|| Answer::Label(text.to_string()))
}

/// A word is learned as pointing to a value when at least this many examples with the value have it…
const CUE_SUPPORT: usize = 2;
/// …and at least this share of all the examples that have it give that value.
const CUE_PURITY: f64 = 0.8;

/// Example exchanges whose answers are all JSON objects or all labels, indexed for similarity.
#[derive(Debug, Clone)]
pub struct Examples {
    pub(super) shape: Shape,
    answers: Vec<Answer>,
    corpus: Corpus,
    /// Per key, the values the examples give (in order of first appearance), each with its own words and the
    /// words learned for it.
    fields: BTreeMap<String, Field>,
}

impl Examples {
    /// Learns from (input, answer) pairs; `None` unless every answer is a JSON object, or every one a short label.
    pub fn learn<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Examples> {
        let mut answers = Vec::new();
        let mut terms = Vec::new();
        for (input, answer) in pairs {
            answers.push(read_answer(answer)?);
            terms.push(content_terms(input));
        }
        let shape = match answers.first()? {
            Answer::Json(pairs) => Shape::Json(pairs.iter().map(|(k, _)| k.clone()).collect()),
            Answer::Label(_) => Shape::Label,
        };
        let uniform = answers.iter().all(|a| {
            matches!(
                (a, &shape),
                (Answer::Json(_), Shape::Json(_)) | (Answer::Label(_), Shape::Label)
            )
        });
        if !uniform {
            return None;
        }
        let keys = match &shape {
            Shape::Json(keys) => keys.clone(),
            Shape::Label => vec![LABEL_KEY.to_string()],
        };
        let fields = keys
            .into_iter()
            .map(|key| {
                let learned = learned_cues(&answers, &terms, &key);
                let mut field = Field::default();
                for answer in &answers {
                    if let Some(value) = answer.value(&key) {
                        field.add(value, "");
                    }
                }
                for candidate in &mut field.candidates {
                    candidate
                        .cues
                        .extend(learned.get(&candidate.value).into_iter().flatten().cloned());
                }
                (key, field)
            })
            .collect();
        Some(Examples {
            shape,
            answers,
            corpus: Corpus::new(terms),
            fields,
        })
    }

    /// The values `key` takes in the examples, with their words; `None` for a key they never give.
    pub(super) fn field(&self, key: &str) -> Option<&Field> {
        self.fields.get(key)
    }

    /// The `neighbours` examples most similar to `query` (index and similarity), most similar first, the earlier
    /// example first on ties.
    pub(super) fn nearest(&self, query: &BTreeSet<String>, neighbours: usize) -> Vec<(usize, f64)> {
        let mut scored: Vec<(usize, f64)> = (0..self.answers.len())
            .map(|i| (i, self.corpus.similarity(query, i)))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(neighbours);
        scored
    }

    /// Each value of `key` weighted by the similarity of the `nearest` examples that give it.
    pub(super) fn votes(&self, key: &str, nearest: &[(usize, f64)]) -> BTreeMap<String, f64> {
        let mut votes = BTreeMap::new();
        for &(i, similarity) in nearest {
            if let Some(value) = self.answers[i].value(key) {
                *votes.entry(value.to_string()).or_insert(0.0) += similarity;
            }
        }
        votes
    }
}

/// The words of the inputs that point to each value of `key`: found with it in at least [`CUE_SUPPORT`] examples,
/// and giving it in at least [`CUE_PURITY`] of the examples they appear in — what a model trained on the examples
/// associates with each value (a product's nicknames, a category's typical words).
fn learned_cues(answers: &[Answer], inputs: &[BTreeSet<String>], key: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut with_value: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut overall: BTreeMap<&str, usize> = BTreeMap::new();
    for (answer, terms) in answers.iter().zip(inputs) {
        let Some(value) = answer.value(key) else { continue };
        for term in terms {
            *with_value.entry((term.as_str(), value)).or_default() += 1;
            *overall.entry(term.as_str()).or_default() += 1;
        }
    }
    let mut cues: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for ((term, value), count) in with_value {
        let share = count as f64 / overall[term] as f64;
        if count >= CUE_SUPPORT && share >= CUE_PURITY {
            cues.entry(value.to_string()).or_default().insert(term.to_string());
        }
    }
    cues
}
