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

mod knowledge;

use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;

use super::text::content_terms;
pub use knowledge::{Examples, PromptSchema, Shape};
use knowledge::{Field, LABEL_KEY};

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
    let nearest = examples
        .map(|e| e.nearest(&terms, habits.neighbours))
        .unwrap_or_default();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for key in &keys {
        let mut field = schema.and_then(|s| s.fields.get(key)).cloned().unwrap_or_default();
        for learned in examples
            .and_then(|e| e.field(key))
            .map_or(&[][..], |f| f.candidates.as_slice())
        {
            field.add(&learned.value, "");
            if let Some(candidate) = field.candidates.iter_mut().find(|c| c.value == learned.value) {
                candidate.cues.extend(learned.cues.iter().cloned());
            }
        }
        let candidates: Vec<String> = field.candidates.iter().map(|c| c.value.clone()).collect();
        let mut votes = normalised(hint_votes(&field, &terms));
        votes.values_mut().for_each(|v| *v *= habits.hint_weight);
        if let Some(examples) = examples {
            for (value, vote) in normalised(examples.votes(key, &nearest)) {
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
