//! Structured and classification tasks: a JSON object or a single label asked for, instead of a support reply.
//!
//! A request is such a task when its system prompt says so (it asks for JSON and lists the keys, or for one of a
//! list of labels), or when the examples the model learns from — its demonstrations, or the data a custom model was
//! tuned on — have JSON objects or short labels as answers. The three kinds of model then answer the way such models
//! do, deterministically from the request:
//! - a **base model with only a system prompt** follows the prompt's format loosely: it picks each value from the
//!   words the prompt gives for it, gets some wrong, and now and then fences the JSON, puts prose around it, drops a
//!   key or writes a label its own way ([`PROMPTED`]);
//! - a **base model shown demonstrations** copies their format and votes each value among the demonstrations by how
//!   similar their inputs are to this one, helped by the prompt's hints ([`FEW_SHOT`]);
//! - a **fine-tuned model** answers in its training data's format, each value voted by its nearest training
//!   examples ([`FINE_TUNED`]).
//!
//! Support replies never reach this module: without a structured schema, the support-reply models answer.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use rand::Rng;
use regex::Regex;

use super::text::{content_terms, Corpus};

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
struct Candidate {
    value: String,
    cues: BTreeSet<String>,
}

/// The values a field can take.
#[derive(Debug, Clone, Default, PartialEq)]
struct Field {
    candidates: Vec<Candidate>,
}

impl Field {
    fn add(&mut self, value: &str, hint: &str) {
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
const LABEL_KEY: &str = "";

/// What a system prompt asks for: the shape of the answer and, per field, the values it allows and their hints.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSchema {
    shape: Shape,
    fields: BTreeMap<String, Field>,
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
    shape: Shape,
    answers: Vec<Answer>,
    inputs: Vec<BTreeSet<String>>,
    corpus: Corpus,
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
        uniform.then(|| Examples {
            shape,
            answers,
            corpus: Corpus::new(terms.clone()),
            inputs: terms,
        })
    }

    /// The words of the inputs that point to each value of `key`: found with it in at least [`CUE_SUPPORT`]
    /// examples, and giving it in at least [`CUE_PURITY`] of the examples they appear in — what a model trained on
    /// the examples associates with each value (a product's nicknames, a category's typical words).
    fn learned_cues(&self, key: &str) -> BTreeMap<String, BTreeSet<String>> {
        let mut with_value: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut overall: BTreeMap<&str, usize> = BTreeMap::new();
        for (answer, terms) in self.answers.iter().zip(&self.inputs) {
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

    /// Each value of `key` weighted by the similarity of the `neighbours` examples most similar to `query` that give
    /// it.
    fn votes(&self, key: &str, query: &BTreeSet<String>, neighbours: usize) -> BTreeMap<String, f64> {
        let mut scored: Vec<(f64, usize)> = (0..self.answers.len())
            .map(|i| (self.corpus.similarity(query, i), i))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut votes = BTreeMap::new();
        for (similarity, i) in scored.into_iter().take(neighbours) {
            if let Some(value) = self.answers[i].value(key) {
                *votes.entry(value.to_string()).or_insert(0.0) += similarity;
            }
        }
        votes
    }

    /// Every value `key` takes, in order of first appearance.
    fn values(&self, key: &str) -> Vec<String> {
        let mut values: Vec<String> = Vec::new();
        for answer in &self.answers {
            if let Some(value) = answer.value(key).filter(|v| !values.iter().any(|seen| seen == v)) {
                values.push(value.to_string());
            }
        }
        values
    }
}

/// How a kind of model answers a structured task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Habits {
    /// How many of the most similar examples vote on each value.
    pub neighbours: usize,
    /// Weight of the examples' votes.
    pub example_weight: f64,
    /// Weight of the words the prompt (or the value itself) gives for a value.
    pub hint_weight: f64,
    /// Chance of a wrong value in a field.
    pub mistake_rate: f64,
    /// Chance of wrapping the answer in a Markdown fence with a sentence before it.
    pub fence_rate: f64,
    /// Chance of prose around an unfenced answer (which makes it unreadable as JSON).
    pub prose_rate: f64,
    /// Chance of leaving a key out.
    pub missing_key_rate: f64,
    /// Chance of writing a value its own way (capitalised, spaces for underscores).
    pub restyle_rate: f64,
}

/// A base model with a system prompt only.
pub const PROMPTED: Habits = Habits {
    neighbours: 0,
    example_weight: 0.0,
    hint_weight: 1.0,
    mistake_rate: 0.12,
    fence_rate: 0.2,
    prose_rate: 0.1,
    missing_key_rate: 0.08,
    restyle_rate: 0.15,
};
/// A base model shown demonstrations.
pub const FEW_SHOT: Habits = Habits {
    neighbours: usize::MAX,
    example_weight: 1.0,
    hint_weight: 1.0,
    mistake_rate: 0.06,
    fence_rate: 0.03,
    prose_rate: 0.0,
    missing_key_rate: 0.0,
    restyle_rate: 0.0,
};
/// A model fine-tuned on examples.
pub const FINE_TUNED: Habits = Habits {
    neighbours: 7,
    example_weight: 1.0,
    hint_weight: 1.2,
    mistake_rate: 0.03,
    fence_rate: 0.0,
    prose_rate: 0.0,
    missing_key_rate: 0.0,
    restyle_rate: 0.0,
};

/// Each candidate's hint score: how many of its cue words the query has, over the square root of its cues.
fn hint_votes(field: &Field, query: &BTreeSet<String>) -> BTreeMap<String, f64> {
    field
        .candidates
        .iter()
        .map(|c| {
            let shared = c.cues.intersection(query).count() as f64;
            (c.value.clone(), shared / (c.cues.len().max(1) as f64).sqrt())
        })
        .collect()
}

/// Scales votes so the largest is 1 (all zero stays zero).
fn normalised(votes: BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    let top = votes.values().copied().fold(0.0, f64::max);
    votes
        .into_iter()
        .map(|(k, v)| (k, if top > 0.0 { v / top } else { 0.0 }))
        .collect()
}

/// Chooses one value of `key`: the best-voted candidate, or, at the mistake rate, another one.
fn choose<R: Rng>(
    key: &str,
    candidates: &[String],
    votes: &BTreeMap<String, f64>,
    query: &str,
    habits: &Habits,
    rng: &mut R,
) -> String {
    let Some(best) = candidates
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| {
            let (va, vb) = (
                votes.get(*a).copied().unwrap_or(0.0),
                votes.get(*b).copied().unwrap_or(0.0),
            );
            va.total_cmp(&vb).then(j.cmp(i))
        })
        .map(|(_, v)| v.clone())
    else {
        // Nothing to choose from: the first content word of the input, as a model naming the field itself would.
        let fallback = query
            .split(|c: char| !c.is_alphanumeric())
            .find(|w| content_terms(w).len() == 1 && w.len() > 3)
            .unwrap_or(key);
        return fallback.to_lowercase();
    };
    if candidates.len() > 1 && rng.random::<f64>() < habits.mistake_rate {
        let others: Vec<&String> = candidates.iter().filter(|c| **c != best).collect();
        return others[rng.random_range(0..others.len())].clone();
    }
    best
}

fn restyle(value: &str) -> String {
    let spaced = value.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

fn render_json(pairs: &[(String, String)]) -> String {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}: {}",
                serde_json::Value::from(k.as_str()),
                serde_json::Value::from(v.as_str())
            )
        })
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// The answer to `query`: a JSON object or a label in the shape the examples (else the prompt) give, each value
/// chosen from the examples' votes and the prompt's hints, then written with the model's habits.
pub fn structured_answer<R: Rng>(
    query: &str,
    schema: Option<&PromptSchema>,
    examples: Option<&Examples>,
    habits: &Habits,
    rng: &mut R,
) -> Option<String> {
    let shape = examples
        .map(|e| e.shape.clone())
        .or_else(|| schema.map(|s| s.shape.clone()))?;
    let terms = content_terms(query);
    let keys: Vec<String> = match &shape {
        Shape::Json(keys) => keys.clone(),
        Shape::Label => vec![LABEL_KEY.to_string()],
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for key in &keys {
        let hinted = schema.and_then(|s| s.fields.get(key)).cloned().unwrap_or_default();
        let mut field = hinted;
        if let Some(examples) = examples {
            let learned = examples.learned_cues(key);
            for value in examples.values(key) {
                field.add(&value, "");
                if let (Some(cues), Some(candidate)) = (
                    learned.get(&value),
                    field.candidates.iter_mut().find(|c| c.value == value),
                ) {
                    candidate.cues.extend(cues.iter().cloned());
                }
            }
        }
        let candidates: Vec<String> = field.candidates.iter().map(|c| c.value.clone()).collect();
        let mut votes = normalised(hint_votes(&field, &terms));
        votes.values_mut().for_each(|v| *v *= habits.hint_weight);
        if let Some(examples) = examples {
            for (value, vote) in normalised(examples.votes(key, &terms, habits.neighbours)) {
                *votes.entry(value).or_insert(0.0) += habits.example_weight * vote;
            }
        }
        let mut value = choose(key, &candidates, &votes, query, habits, rng);
        if rng.random::<f64>() < habits.restyle_rate {
            value = restyle(&value);
        }
        pairs.push((key.clone(), value));
    }
    let text = match shape {
        Shape::Label => {
            let label = pairs.remove(0).1;
            if rng.random::<f64>() < habits.prose_rate {
                format!("The label is {label}.")
            } else {
                label
            }
        }
        Shape::Json(_) => {
            if pairs.len() > 1 && rng.random::<f64>() < habits.missing_key_rate {
                pairs.remove(rng.random_range(0..pairs.len()));
            }
            let json = render_json(&pairs);
            let roll = rng.random::<f64>();
            if roll < habits.fence_rate {
                format!("Here is the triage:\n\n```json\n{json}\n```")
            } else if roll < habits.fence_rate + habits.prose_rate {
                format!("Sure! Based on the ticket, I would classify it as follows: {json} Let me know if you need anything else.")
            } else {
                json
            }
        }
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const PROMPT: &str = r#"You triage tickets. Answer with one JSON object with exactly these keys:
- "category": one of "billing" (charges, refunds), "outage" (offline, down, unreachable)
- "urgency": one of "high" (urgent, immediately), "low" (no rush, whenever)
Answer with the JSON object only."#;

    #[test]
    fn a_system_prompt_gives_the_shape_values_and_hints() {
        let schema = PromptSchema::read(PROMPT).unwrap();
        assert_eq!(schema.shape, Shape::Json(vec!["category".into(), "urgency".into()]));
        let values: Vec<&str> = schema.fields["category"]
            .candidates
            .iter()
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(values, ["billing", "outage"]);
        assert!(schema.fields["category"].candidates[1].cues.contains("offline"));
        let inline = PromptSchema::read(r#"Answer with one JSON object: {"category": ..., "urgency": ...}."#).unwrap();
        assert_eq!(inline.shape, Shape::Json(vec!["category".into(), "urgency".into()]));
        let labels = PromptSchema::read("Classify it. Answer with one word: billing, outage, login or bug.").unwrap();
        assert_eq!(labels.shape, Shape::Label);
        assert_eq!(labels.fields[LABEL_KEY].candidates.len(), 4);
        // A support prompt is no structured task.
        assert_eq!(
            PromptSchema::read("Greet them by name (\"Hi NAME,\"), then give the fix as numbered steps."),
            None
        );
    }

    #[test]
    fn examples_are_json_objects_or_labels_never_replies() {
        assert!(Examples::learn([("a", r#"{"x": "1"}"#), ("b", r#"{"x": "2"}"#)]).is_some());
        assert!(Examples::learn([("a", "billing"), ("b", "feature request")]).is_some());
        assert!(Examples::learn([("a", "billing"), ("b", r#"{"x": "2"}"#)]).is_none());
        assert!(Examples::learn([("a", "Hi Aiko,\n\nRestart the hub and try again.\n\n— Kestrel Support")]).is_none());
    }

    #[test]
    fn hints_and_neighbours_pick_the_values_deterministically() {
        let schema = PromptSchema::read(PROMPT).unwrap();
        let careful = Habits {
            mistake_rate: 0.0,
            fence_rate: 0.0,
            prose_rate: 0.0,
            missing_key_rate: 0.0,
            restyle_rate: 0.0,
            ..PROMPTED
        };
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let answer = structured_answer(
            "The hub is offline, please fix it immediately",
            Some(&schema),
            None,
            &careful,
            &mut rng,
        );
        assert_eq!(answer.as_deref(), Some(r#"{"category": "outage", "urgency": "high"}"#));

        let examples = Examples::learn([
            (
                "my card was charged twice",
                r#"{"category": "billing", "urgency": "low"}"#,
            ),
            ("the camera went dark", r#"{"category": "outage", "urgency": "high"}"#),
        ])
        .unwrap();
        let tuned = Habits {
            mistake_rate: 0.0,
            ..FINE_TUNED
        };
        let answer = structured_answer(
            "charged twice on my card again",
            None,
            Some(&examples),
            &tuned,
            &mut rng,
        );
        assert_eq!(answer.as_deref(), Some(r#"{"category": "billing", "urgency": "low"}"#));
        let again = structured_answer(
            "charged twice on my card again",
            None,
            Some(&examples),
            &tuned,
            &mut rng,
        );
        assert_eq!(answer, again);
    }
}
